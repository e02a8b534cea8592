package sampling

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/dp"
)

type wordsCircuit struct {
	Key    frontend.Variable
	Words  []frontend.Variable `gnark:",public"`
	stream uint64
	noOut  bool // only run the gadget (hint tests): no output check
	// bounded: BoundedWords, with the words fed to a discrete Gaussian
	// (which bounds them) when gauss is set.
	bounded bool
	gauss   *dp.DiscreteGaussian
}

func (c *wordsCircuit) Define(api frontend.API) error {
	draw := Words
	if c.bounded {
		draw = BoundedWords
	}
	ws, err := draw(api, c.Key, c.stream, len(c.Words))
	if err != nil {
		return err
	}
	if c.gauss != nil {
		g, err := NewDiscreteGaussian(api, c.gauss.CDF, c.gauss.Tail, []int64{1})
		if err != nil {
			return err
		}
		if _, err := g.SampleVector(ws); err != nil {
			return err
		}
	}
	if c.noOut {
		return nil
	}
	for i := range ws {
		api.AssertIsEqual(ws[i], c.Words[i])
	}
	return nil
}

func wordsAssignment(t *testing.T, key fr.Element, stream uint64, n int) *wordsCircuit {
	native := prfWords(t, key, stream, n)
	a := &wordsCircuit{Key: key, Words: make([]frontend.Variable, n)}
	for i, w := range native {
		a.Words[i] = w
	}
	return a
}

func TestWordsMatchNative(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		stream uint64
		n      int
	}{{dp.StreamSampling, 5}, {dp.StreamNoise, 6}, {1<<32 + 7, 3}, {0, 1}, {dp.StreamNoise, dp.WordsPerBlock + 3}} {
		key := randElement(rng)
		valid := wordsAssignment(t, key, tc.stream, tc.n)
		wrongWord := wordsAssignment(t, key, tc.stream, tc.n)
		wrongWord.Words[tc.n-1] = new(big.Int).Add(new(big.Int).SetUint64(prfWords(t, key, tc.stream, tc.n)[tc.n-1]), big.NewInt(1))
		otherStream := wordsAssignment(t, key, tc.stream+1, tc.n)
		assert.CheckCircuit(&wordsCircuit{Words: make([]frontend.Variable, tc.n), stream: tc.stream}, checkOpts(
			test.WithValidAssignment(valid),
			test.WithInvalidAssignment(wrongWord),
			test.WithInvalidAssignment(otherStream))...)
	}
}

func TestWordsEdgeKeys(t *testing.T) {
	// Keys 0 and p-1 and a key whose block has high limbs: still canonical.
	assert := test.NewAssert(t)
	var pm1 fr.Element
	pm1.SetInt64(-1)
	for _, key := range []fr.Element{{}, pm1, commit.FromInt64(math.MaxInt64)} {
		assert.CheckCircuit(&wordsCircuit{Words: make([]frontend.Variable, 4), stream: dp.StreamNoise},
			checkOpts(test.WithValidAssignment(wordsAssignment(t, key, dp.StreamNoise, 4)))...)
	}
}

// nonCanonicalSplit is splitHint for v + p when that fits in 254 bits: the
// words and the top part pass their range checks, the sum is v in the
// field, and only the top part's bound (below dp.UsableTop) rejects it.
func nonCanonicalSplit(f *big.Int, in, out []*big.Int) error {
	v := new(big.Int).Add(in[0], f)
	if v.BitLen() > 254 {
		return splitHint(f, in, out)
	}
	return splitHint(f, []*big.Int{v}, out)
}

// carrySplit is splitHint with 2^64 moved from word k+1 (or the top part)
// into word k: the sum is unchanged, and only word k's bound rejects it.
func carrySplit(k int) solver.Hint {
	return func(f *big.Int, in, out []*big.Int) error {
		if err := splitHint(f, in, out); err != nil {
			return err
		}
		out[k].Add(out[k], new(big.Int).Lsh(big.NewInt(1), 64))
		out[k+1].Sub(out[k+1], big.NewInt(1)).Mod(out[k+1], f)
		return nil
	}
}

// firstBlockKey is a key whose first sampling-stream element has a
// non-canonical twin v + p below 2^254 and non-zero words, so that every
// forgery below has something to move.
func firstBlockKey(rng *rand.Rand) fr.Element {
	for {
		key := randElement(rng)
		var idx fr.Element
		idx.SetUint64(dp.StreamSampling << 32)
		block := commit.Squeeze(commit.Hash(commit.TagWords), []fr.Element{key, idx})[0]
		var bi big.Int
		block.BigInt(&bi)
		if new(big.Int).Add(&bi, fr.Modulus()).BitLen() <= 254 && new(big.Int).Rsh(&bi, 64).Sign() != 0 {
			return key
		}
	}
}

func TestWordsHintRejected(t *testing.T) {
	key := firstBlockKey(rand.New(rand.NewPCG(3, 4)))
	circuit := &wordsCircuit{Words: make([]frontend.Variable, 2), stream: dp.StreamSampling, noOut: true}
	assignment := wordsAssignment(t, key, dp.StreamSampling, 2)
	t.Run("non-canonical", func(t *testing.T) {
		assertHintRejected(t, circuit, assignment, splitHint, nonCanonicalSplit)
	})
	for k := range dp.WordsPerElement + 1 {
		t.Run(fmt.Sprintf("output %d off by one", k), func(t *testing.T) {
			assertHintRejected(t, circuit, assignment, splitHint, tamper(splitHint, k, 1))
		})
	}
	for k := range dp.WordsPerElement {
		t.Run(fmt.Sprintf("carry into word %d", k), func(t *testing.T) {
			assertHintRejected(t, circuit, assignment, splitHint, carrySplit(k))
		})
	}
}

// BoundedWords leaves the taken words' bounds to its caller: a carry into a
// taken word is rejected by a caller that bounds it (a discrete Gaussian),
// and a carry into a word the caller does not take is rejected by
// BoundedWords itself. Without a bounding caller the carry passes, which is
// why BoundedWords is only for the samplers.
func TestBoundedWordsRelyOnTheirCaller(t *testing.T) {
	key := firstBlockKey(rand.New(rand.NewPCG(3, 4)))
	g := mustGaussian(t, 2)
	for _, tc := range []struct {
		name  string
		taken int
		carry int
		gauss bool
	}{
		{"taken word, bounded by the Gaussian", 2, 0, true},
		{"the last taken word, bounded by the Gaussian", 3, 2, true},
		{"a word not taken", 1, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &wordsCircuit{Words: make([]frontend.Variable, tc.taken), stream: dp.StreamSampling, noOut: true, bounded: true}
			if tc.gauss {
				c.gauss = g
			}
			assertHintRejected(t, c, wordsAssignment(t, key, dp.StreamSampling, tc.taken), splitHint, carrySplit(tc.carry))
		})
	}
	t.Run("no bounding caller", func(t *testing.T) {
		c := &wordsCircuit{Words: make([]frontend.Variable, 2), stream: dp.StreamSampling, noOut: true, bounded: true}
		if err := test.IsSolved(c, wordsAssignment(t, key, dp.StreamSampling, 2), fr.Modulus(),
			test.WithReplacementHint(solver.GetHintID(splitHint), carrySplit(0))); err != nil {
			t.Fatalf("the forgery this test relies on is not one: %v", err)
		}
	})
}
