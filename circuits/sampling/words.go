package sampling

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/commitment"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/dp"
)

// ErrParams is returned for gadget parameters that make no sense.
var ErrParams = errors.New("sampling: invalid parameters")

// Words returns the n PRF words of stream `stream` under key, as dp.Words:
// block j = commitment.Squeeze(H(TagWords); key, stream<<32 | j), and each
// of its 15 elements gives three words, the little-endian 64-bit limbs 0, 1
// and 2 of its canonical integer. Each word is range-checked to 64 bits.
//
// Cost per block of 45 words (R1CS, measured in TestConstraintCounts): the
// width-16 permutation (about 555) and 15 splits (three 64-bit and two 62-bit
// range checks each).
func Words(api frontend.API, key frontend.Variable, stream uint64, n int, opts ...Option) ([]frontend.Variable, error) {
	return words(api, key, stream, n, true, opts)
}

// BoundedWords is Words for a caller that bounds each of the n words to
// [0, 2^64) itself, as every sampler of this package does (Poisson.Sample
// and DiscreteGaussian.SampleVector check their words' intervals, and a
// split into range-checked chunks bounds its word too): their 64-bit range
// checks are not repeated here. The split's soundness rests on those bounds,
// so pass these words to nothing else. Words of the last element that the
// caller does not take are still checked here.
func BoundedWords(api frontend.API, key frontend.Variable, stream uint64, n int, opts ...Option) ([]frontend.Variable, error) {
	return words(api, key, stream, n, false, opts)
}

func words(api frontend.API, key frontend.Variable, stream uint64, n int, checkTaken bool, opts []Option) ([]frontend.Variable, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: %d words", ErrParams, n)
	}
	sp, err := newSplitter(api, newOptions(api, opts).rc)
	if err != nil {
		return nil, err
	}
	ivElem := commit.Hash(commit.TagWords)
	iv := ivElem.BigInt(new(big.Int))
	out := make([]frontend.Variable, 0, n+dp.WordsPerBlock)
	for j := 0; len(out) < n; j++ {
		// The block index is the native uint64 expression, wrap included.
		for _, e := range commitment.Squeeze(api, iv, []frontend.Variable{key, stream<<32 | uint64(j)}) {
			if len(out) >= n {
				break // an element no word needs is not split
			}
			ws, err := sp.split(e)
			if err != nil {
				return nil, err
			}
			for i, w := range ws {
				if checkTaken || len(out)+i >= n {
					sp.rc.Check(w, 64)
				}
			}
			out = append(out, ws...)
		}
	}
	return out[:n], nil
}

// splitter decomposes a usable field element (dp.WordsPerElement) into its
// words and its top part.
type splitter struct {
	api     frontend.API
	rc      frontend.Rangechecker
	topBits int      // bits of dp.UsableTop - 1
	topMax  *big.Int // dp.UsableTop - 1
}

func newSplitter(api frontend.API, rc frontend.Rangechecker) (*splitter, error) {
	if api.Compiler().Field().Cmp(fr.Modulus()) != 0 {
		return nil, fmt.Errorf("%w: PRF words are defined over BN254's scalar field", ErrParams)
	}
	topMax := new(big.Int).Sub(dp.UsableTop, big.NewInt(1))
	return &splitter{api: api, rc: rc, topBits: topMax.BitLen(), topMax: topMax}, nil
}

// split returns the words (limbs 0..WordsPerElement-1) of v's canonical
// integer; the caller bounds each to [0, 2^64).
//
// The hint gives the words w_i and the top part h with v = sum_i w_i 2^(64i)
// + h 2^(64k) in the field. With each w_i < 2^64 and 0 <= h <= UsableTop - 1
// (two range checks: h and UsableTop - 1 - h), the integer V on the right is
// below UsableTop 2^(64k) <= p, so V is v's canonical integer and the words
// are its limbs: no other split satisfies the equation. An honest element
// with h = UsableTop has no split, which dp.Words reports as unusable.
func (s *splitter) split(v frontend.Variable) ([]frontend.Variable, error) {
	api := s.api
	limbs, err := api.Compiler().NewHint(splitHint, dp.WordsPerElement+1, v)
	if err != nil {
		return nil, fmt.Errorf("sampling: split hint: %w", err)
	}
	words, top := limbs[:dp.WordsPerElement], limbs[dp.WordsPerElement]
	s.rc.Check(top, s.topBits)
	s.rc.Check(api.Sub(s.topMax, top), s.topBits)
	sum := frontend.Variable(0)
	for i, w := range words {
		sum = api.Add(sum, api.Mul(w, new(big.Int).Lsh(big.NewInt(1), 64*uint(i))))
	}
	api.AssertIsEqual(v, api.Add(sum, api.Mul(top, new(big.Int).Lsh(big.NewInt(1), 64*dp.WordsPerElement))))
	return words, nil
}
