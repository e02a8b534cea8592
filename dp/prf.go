package dp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/commit"
)

// Streams separate the uses of a step's PRF output.
const (
	StreamSampling uint64 = 1 // gaps of the Poisson subsample, one word per batch slot
	StreamNoise    uint64 = 2 // discrete-Gaussian noise, one word per parameter
	StreamInit     uint64 = 3 // W_0's hidden-layer weights, one word per weight, under InitKey (public)
)

// WordsPerElement is how many 64-bit words one PRF output element yields:
// the low 192 bits of its canonical integer e. An element is usable when
// e < UsableBound = floor(p / 2^192) * 2^192; a uniform e, conditioned on
// that, is uniform on a multiple of 2^192, so its words are exactly uniform.
// An element above the bound (probability below 2^192/p < 2^-61) makes
// Words fail: the event depends only on the seed and public values, never on
// the data, so training again with another seed costs no privacy. A circuit
// then proves e's split with two 62-bit range checks of the top part instead
// of a 254-bit canonical comparison.
const WordsPerElement = 3

// WordsPerBlock is how many words one PRF block yields: a block is one
// width-16 Poseidon2 permutation whose 15 rate elements are output (the
// capacity stays hidden).
const WordsPerBlock = commit.SpongeRate * WordsPerElement

// ErrUnusableBlock is returned when a PRF element lies above UsableBound
// (probability below 2^-61 per element): train again with another seed.
var ErrUnusableBlock = errors.New("dp: a PRF element lies above the usable bound (probability below 2^-61): train again with another seed")

// UsableTop is floor(p / 2^(64 WordsPerElement)): an element's bits above its
// words must be below it.
var UsableTop = new(big.Int).Rsh(fr.Modulus(), 64*WordsPerElement)

// wordsIV is a PRF block's sponge capacity.
var wordsIV = commit.Hash(commit.TagWords)

// Seed is the data holder's secret.
type Seed = fr.Element

// NewSeed draws a secret seed from crypto/rand, as production use requires.
func NewSeed() (Seed, error) {
	var s fr.Element
	if _, err := s.SetRandom(); err != nil {
		return s, fmt.Errorf("dp: drawing the secret seed: %w", err)
	}
	return s, nil
}

// SeedFromUint64 is a reproducible seed for the config key `seed`.
func SeedFromUint64(v uint64) Seed {
	return commit.Hash(commit.TagSeed, commit.FromInt64(int64(v>>1)), commit.FromInt64(int64(v&1)))
}

// NewBeacon draws a fresh public beacon; a run with a beacon it drew itself is
// not fit for an audit, since the prover could have ground seeds against it.
func NewBeacon() (fr.Element, error) {
	var b fr.Element
	n, err := rand.Int(rand.Reader, fr.Modulus())
	if err != nil {
		return b, fmt.Errorf("dp: drawing a beacon: %w", err)
	}
	b.SetBigInt(n)
	return b, nil
}

// SeedCommitment is S = H(s).
func SeedCommitment(s Seed) fr.Element { return commit.Hash(commit.TagSeed, s) }

// RowSalt is training row i's secret salt H(s, i): it goes into the row's
// leaf under D, so D reveals nothing about a row to someone who can guess it.
// It derives from the seed, so the data holder keeps nothing new.
func RowSalt(s Seed, i int) fr.Element {
	return commit.Hash(commit.TagSalt, s, commit.FromInt64(int64(i)))
}

// DatasetSalt is the one secret salt H(s) under TagSalt of a flat dataset
// commitment (data.FlatRoot): absorbed after every row, it keeps D from
// revealing rows that can be guessed. RowSalt hashes one element more, so
// the two never coincide.
func DatasetSalt(s Seed) fr.Element { return commit.Hash(commit.TagSalt, s) }

// RowSalts is RowSalt of rows 0..n-1.
func RowSalts(s Seed, n int) []fr.Element {
	out := make([]fr.Element, n)
	for i := range out {
		out[i] = RowSalt(s, i)
	}
	return out
}

// StepKey is PRF(s, b, t): the key all of step t's randomness derives from.
func StepKey(s Seed, beacon fr.Element, step int) fr.Element {
	return commit.Hash(commit.TagPRF, s, beacon, commit.FromInt64(int64(step)))
}

// Words returns n uniform 64-bit words of stream `stream` under key: block j
// is Squeeze(H(TagWords); key, stream*2^32 + j), and its elements'
// canonical integers' little-endian 64-bit limbs 0, 1 and 2, element by
// element, are words 45j..45j+44. Every element the n words draw from must be
// usable (see WordsPerElement); otherwise it returns ErrUnusableBlock.
func Words(key fr.Element, stream uint64, n int) ([]uint64, error) {
	out := make([]uint64, 0, n+WordsPerBlock)
	var bi big.Int
	for j := 0; len(out) < n; j++ {
		var idx fr.Element
		idx.SetUint64(stream<<32 | uint64(j))
		for _, e := range commit.Squeeze(wordsIV, []fr.Element{key, idx}) {
			if len(out) >= n {
				break // an element no word needs is not split
			}
			words, ok := elementWords(e.BigInt(&bi))
			if !ok {
				return nil, fmt.Errorf("%w (stream %d, block %d)", ErrUnusableBlock, stream, j)
			}
			out = append(out, words[:]...)
		}
	}
	return out[:n], nil
}

// elementWords is the words of an element's canonical integer e, and whether
// e is usable (below UsableTop 2^(64 WordsPerElement)).
func elementWords(e *big.Int) (words [WordsPerElement]uint64, ok bool) {
	if new(big.Int).Rsh(e, 64*WordsPerElement).Cmp(UsableTop) >= 0 {
		return words, false
	}
	limbs := e.Bits() // little-endian machine words (64-bit on supported platforms)
	for w := range words {
		if w < len(limbs) {
			words[w] = uint64(limbs[w])
		}
	}
	return words, true
}
