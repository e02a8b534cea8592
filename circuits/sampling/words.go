package sampling

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/commitment"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/dp"
)

// ErrParams is returned for gadget parameters that make no sense.
var ErrParams = errors.New("sampling: invalid parameters")

// Words returns the n PRF words of stream `stream` under key, as dp.Words:
// block j = commitment.Squeeze(H(TagWords); key, stream<<32 | j), and each
// of its 15 elements gives two words, the little-endian 64-bit limbs 0 and
// 1 of its canonical integer. Each word is range-checked to 64 bits.
//
// Cost per block of 30 words (R1CS, measured in TestConstraintCounts): the
// width-16 permutation (about 555) and 15 canonical splits (two 64-bit, two
// 126-bit and one 128-bit range check and an IsZero each).
func Words(api frontend.API, key frontend.Variable, stream uint64, n int, opts ...Option) ([]frontend.Variable, error) {
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
			lo, hi, err := sp.split(e)
			if err != nil {
				return nil, err
			}
			out = append(out, lo, hi)
		}
	}
	return out[:n], nil
}

// splitter decomposes a field element into its canonical 64-bit limbs.
type splitter struct {
	api      frontend.API
	rc       frontend.Rangechecker
	restBits int      // bits of the part above 2^128: p.BitLen() - 128
	pHi      *big.Int // floor(p / 2^128)
	pLoM1    *big.Int // (p mod 2^128) - 1
}

func newSplitter(api frontend.API, rc frontend.Rangechecker) (*splitter, error) {
	p := api.Compiler().Field()
	if p.BitLen() <= 129 {
		return nil, fmt.Errorf("%w: a %d-bit field cannot hold two 64-bit words and a rest", ErrParams, p.BitLen())
	}
	pHi := new(big.Int).Rsh(p, 128)
	pLo := new(big.Int).Sub(p, new(big.Int).Lsh(pHi, 128))
	return &splitter{
		api:      api,
		rc:       rc,
		restBits: p.BitLen() - 128,
		pHi:      pHi,
		// p is an odd prime above 2^128, so p mod 2^128 >= 1.
		pLoM1: pLo.Sub(pLo, big.NewInt(1)),
	}, nil
}

// split returns the limbs 0 and 1 of v's canonical integer.
//
// The hint gives l0, l1, rest with v = l0 + 2^64 l1 + 2^128 rest in the field
// and l0, l1 < 2^64, rest < 2^restBits (range checks). That alone allows the
// integer V = l0 + 2^64 l1 + 2^128 rest to be v + p (V < 2^254 leaves room
// for it), which would give wrong words. So we also prove V < p, comparing
// with p = pHi 2^128 + pLo: rest <= pHi (a range check of pHi - rest), and if
// rest == pHi then low = l0 + 2^64 l1 < pLo (a 128-bit range check of
// pLo - 1 - low, multiplied by the rest == pHi flag). If rest < pHi then
// V <= (pHi-1) 2^128 + 2^128 - 1 < p; otherwise V < pHi 2^128 + pLo = p.
// With 0 <= V < p and V = v mod p, V is v's canonical integer. (The cheaper
// rest <= pHi - 1 would reject the 2^-128 fraction of honest blocks with
// rest == pHi.)
func (s *splitter) split(v frontend.Variable) (lo, hi frontend.Variable, err error) {
	api := s.api
	limbs, err := api.Compiler().NewHint(splitHint, 3, v)
	if err != nil {
		return nil, nil, fmt.Errorf("sampling: split hint: %w", err)
	}
	l0, l1, rest := limbs[0], limbs[1], limbs[2]
	s.rc.Check(l0, 64)
	s.rc.Check(l1, 64)
	s.rc.Check(rest, s.restBits)
	low := api.Add(l0, api.Mul(l1, new(big.Int).Lsh(big.NewInt(1), 64)))
	api.AssertIsEqual(v, api.Add(low, api.Mul(rest, new(big.Int).Lsh(big.NewInt(1), 128))))

	// V < p.
	d := api.Sub(s.pHi, rest)
	s.rc.Check(d, s.restBits) // rest <= pHi; pHi < 2^restBits, and rest > pHi wraps to ~p
	top := api.IsZero(d)
	s.rc.Check(api.Mul(top, api.Sub(s.pLoM1, low)), 128)
	return l0, l1, nil
}
