package inference

import (
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/fixedpoint"
)

func randomCase(rng *rand.Rand, widths []int, batch int) ([]int64, [][]int64) {
	f := fixedpoint.DefaultFormat()
	w := make([]int64, fixedpoint.NumParams(widths))
	for i := range w {
		w[i] = int64(rng.NormFloat64() * 0.8 * float64(f.One()))
	}
	var xs [][]int64
	for range batch {
		x := make([]int64, widths[0])
		for j := range x {
			x[j] = int64((rng.Float64()*2 - 1) * float64(f.One()))
		}
		xs = append(xs, x)
	}
	return w, xs
}

// salts returns n distinct fixed salts.
func salts(n int) []fr.Element {
	out := make([]fr.Element, n)
	for i := range out {
		out[i].SetUint64(uint64(1000 + i))
	}
	return out
}

// A hashed input's public hash is salted: the same input under two salts
// hashes apart, and whoever lacks the salt cannot test a guess of the input
// (the unsalted hash of the right input, or its hash under another salt,
// is not the published one).
func TestInputHashIsSalted(t *testing.T) {
	f := fixedpoint.DefaultFormat()
	x := []int64{f.One(), 0, -f.One()} // a low-entropy input: easy to guess
	s := salts(2)
	h0, err := InputHash(f, x, s[0])
	if err != nil {
		t.Fatal(err)
	}
	h1, _ := InputHash(f, x, s[1])
	if h0.Equal(&h1) {
		t.Fatal("the same input under two salts has the same hash")
	}
	unsalted, _ := commit.HashPacked(commit.TagInput, x, f.InputBits)
	if unsalted.Equal(&h0) {
		t.Fatal("the unsalted hash of the input reproduces its salted hash")
	}
	fresh, err := NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	if guess, _ := InputHash(f, x, fresh); guess.Equal(&h0) {
		t.Fatal("a guessed salt reproduces the hash")
	}
	again, _ := InputHash(f, x, s[0])
	if !again.Equal(&h0) {
		t.Fatal("the hash is not a function of the input and its salt")
	}
}

func opts() []test.TestingOption {
	return []test.TestingOption{test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16),
		test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks()}
}

// Every binding and visibility, logistic regression and a hidden layer: the
// native inference is accepted, and a changed output, input, weight or
// commitment is rejected.
func TestInferenceAllModes(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(21, 22))
	for _, widths := range [][]int{{6, 3}, {5, 4, 3}} {
		for _, binding := range []Binding{Committed, Fixed} {
			for _, vis := range []Visibility{Public, Private, Hashed} {
				w, xs := randomCase(rng, widths, 3)
				spec := Spec{Widths: widths, Format: fixedpoint.DefaultFormat(), Batch: 3, Binding: binding, Visibility: vis, Logits: true}
				if binding == Fixed {
					spec.Weights = w
				}
				circuit, err := New(spec)
				if err != nil {
					t.Fatal(err)
				}
				valid, res, err := Assign(spec, w, xs, salts(len(xs)))
				if err != nil {
					t.Fatal(err)
				}
				var invalid []test.TestingOption
				wrongClass, _, _ := Assign(spec, w, xs, salts(len(xs)))
				wrongClass.Classes[1] = (res[1].Class + 1) % widths[len(widths)-1]
				invalid = append(invalid, test.WithInvalidAssignment(wrongClass))
				wrongLogit, _, _ := Assign(spec, w, xs, salts(len(xs)))
				wrongLogit.Logits[0][0] = res[0].Logits[0] + 1
				invalid = append(invalid, test.WithInvalidAssignment(wrongLogit))
				// Another input with the claimed outputs of the first.
				other := append([][]int64{}, xs...)
				other[2] = append([]int64{}, xs[2]...)
				other[2][0] += 1000
				wrongInput, _, _ := Assign(spec, w, other, salts(len(other)))
				wrongInput.Classes, wrongInput.Logits = valid.Classes, valid.Logits
				invalid = append(invalid, test.WithInvalidAssignment(wrongInput))
				if vis == Hashed {
					wrongHash, _, _ := Assign(spec, w, xs, salts(len(xs)))
					wrongHash.InputHashes[0] = wrongInput.InputHashes[2]
					invalid = append(invalid, test.WithInvalidAssignment(wrongHash))
					// The right input and hash with another salt.
					wrongSalt, _, _ := Assign(spec, w, xs, salts(len(xs)))
					wrongSalt.InputSalts[1] = salts(len(xs) + 1)[len(xs)]
					invalid = append(invalid, test.WithInvalidAssignment(wrongSalt))
				}
				if binding == Committed {
					// A changed weight under the original commitment.
					w2 := append([]int64{}, w...)
					w2[1]++
					wrongWeight, _, _ := Assign(spec, w2, xs, salts(len(xs)))
					wrongWeight.ModelCommitment = valid.ModelCommitment
					wrongWeight.Classes, wrongWeight.Logits = valid.Classes, valid.Logits
					invalid = append(invalid, test.WithInvalidAssignment(wrongWeight))
					// The original weights under another commitment.
					other, _, _ := Assign(spec, w2, xs, salts(len(xs)))
					wrongCommit, _, _ := Assign(spec, w, xs, salts(len(xs)))
					wrongCommit.ModelCommitment = other.ModelCommitment
					invalid = append(invalid, test.WithInvalidAssignment(wrongCommit))
				}
				assert.CheckCircuit(circuit, append(append([]test.TestingOption{test.WithValidAssignment(valid)}, invalid...), opts()...)...)
			}
		}
	}
}

// Ties go to the first index, as the trainer's Predict does.
func TestArgmaxTies(t *testing.T) {
	assert := test.NewAssert(t)
	f := fixedpoint.DefaultFormat()
	// Zero weights: every logit is 0, so the class must be 0.
	widths := []int{2, 3}
	w := make([]int64, fixedpoint.NumParams(widths))
	xs := [][]int64{{f.One(), -f.One()}}
	spec := Spec{Widths: widths, Format: f, Batch: 1, Binding: Fixed, Visibility: Public, Weights: w}
	circuit, _ := New(spec)
	valid, res, err := Assign(spec, w, xs, salts(len(xs)))
	if err != nil || res[0].Class != 0 {
		t.Fatalf("native tie: %v %v", res, err)
	}
	later, _, _ := Assign(spec, w, xs, salts(len(xs)))
	later.Classes[0] = 2
	assert.CheckCircuit(circuit, append([]test.TestingOption{test.WithValidAssignment(valid), test.WithInvalidAssignment(later)}, opts()...)...)
}

// The fixed and committed circuits prove the same outputs: the committed
// circuit's classes and logits, claimed under the fixed circuit, solve it.
func TestFixedAndCommittedAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	widths := []int{7, 3}
	w, xs := randomCase(rng, widths, 4)
	spec := Spec{Widths: widths, Format: fixedpoint.DefaultFormat(), Batch: 4, Binding: Committed, Visibility: Private, Logits: true}
	committed, _, err := Assign(spec, w, xs, salts(len(xs)))
	if err != nil {
		t.Fatal(err)
	}
	circuit, _ := New(spec)
	if err := test.IsSolved(circuit, committed, ecc.BN254.ScalarField()); err != nil {
		t.Fatalf("committed: %v", err)
	}
	spec.Binding, spec.Weights = Fixed, w
	fixed := &Circuit{Classes: committed.Classes, Logits: committed.Logits, PrivateInputs: committed.PrivateInputs}
	circuit, _ = New(spec)
	if err := test.IsSolved(circuit, fixed, ecc.BN254.ScalarField()); err != nil {
		t.Fatalf("the fixed circuit rejects the committed circuit's outputs: %v", err)
	}
}
