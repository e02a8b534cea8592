package sampling

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
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
}

func (c *wordsCircuit) Define(api frontend.API) error {
	ws, err := Words(api, c.Key, c.stream, len(c.Words))
	if err != nil {
		return err
	}
	if c.noOut {
		return nil
	}
	for i := range ws {
		api.AssertIsEqual(ws[i], c.Words[i])
	}
	return nil
}

func wordsAssignment(key fr.Element, stream uint64, n int) *wordsCircuit {
	native := dp.Words(key, stream, n)
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
		valid := wordsAssignment(key, tc.stream, tc.n)
		wrongWord := wordsAssignment(key, tc.stream, tc.n)
		wrongWord.Words[tc.n-1] = new(big.Int).Add(new(big.Int).SetUint64(dp.Words(key, tc.stream, tc.n)[tc.n-1]), big.NewInt(1))
		otherStream := wordsAssignment(key, tc.stream+1, tc.n)
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
			checkOpts(test.WithValidAssignment(wordsAssignment(key, dp.StreamNoise, 4)))...)
	}
}

// nonCanonicalSplit is splitHint for v + p when that fits in 254 bits: the
// limbs and rest pass their range checks, the sum is v in the field, and only
// the V < p comparison rejects it.
func nonCanonicalSplit(f *big.Int, in, out []*big.Int) error {
	v := new(big.Int).Add(in[0], f)
	if v.BitLen() > 254 {
		return splitHint(f, in, out)
	}
	return splitHint(f, []*big.Int{v}, out)
}

func TestWordsHintRejected(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// Find a key whose first block has a non-canonical twin below 2^254.
	var key fr.Element
	for {
		key = randElement(rng)
		var idx fr.Element
		idx.SetUint64(dp.StreamSampling << 32)
		block := commit.Squeeze(commit.Hash(commit.TagWords), []fr.Element{key, idx})[0]
		var bi big.Int
		block.BigInt(&bi)
		if bi.Add(&bi, fr.Modulus()).BitLen() <= 254 {
			break
		}
	}
	circuit := &wordsCircuit{Words: make([]frontend.Variable, 2), stream: dp.StreamSampling, noOut: true}
	assignment := wordsAssignment(key, dp.StreamSampling, 2)
	t.Run("non-canonical", func(t *testing.T) {
		assertHintRejected(t, circuit, assignment, splitHint, nonCanonicalSplit)
	})
	for k := range 3 {
		t.Run("limb", func(t *testing.T) {
			assertHintRejected(t, circuit, assignment, splitHint, tamper(splitHint, k, 1))
		})
	}
}
