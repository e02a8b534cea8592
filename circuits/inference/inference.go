// Package inference is the inference circuit: it proves that class y (and,
// optionally, the logits) is the quantized forward pass of a model on an
// input, in the fixed-point semantics the trainer used (package fixedpoint).
//
// The model is bound either as committed (weights private, H(W) = M public:
// one circuit serves every model of that shape) or fixed (weights are
// constants of the circuit, so the verifying key commits to the model and
// the circuit is smaller). Each input is public, private, or private with a
// public salted hash H(x, salt), so that a data holder can later reveal or
// match an input without publishing it; the salt, a private witness kept by
// the input's owner, stops anyone from finding a low-entropy input (an age,
// a diagnosis) by hashing candidates. One proof covers k inputs.
//
// A committed model's witness is its weights' limbs (WeightLimbWidths), each
// checked by one lookup (package lookup); the forward pass packs several
// rows' products into one multiplication (arith.WithPackedProducts). Every
// range check of the circuit goes into that one lookup argument.
package inference

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/arith"
	"github.com/zkdp/zkdp/circuits/commitment"
	"github.com/zkdp/zkdp/circuits/lookup"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/fixedpoint"
)

// Binding says how the circuit binds the model.
type Binding int

// The model bindings.
const (
	Committed Binding = iota // weights private; their commitment M is public
	Fixed                    // weights are circuit constants
)

// Visibility says what a verifier learns about the inputs.
type Visibility int

// The input visibilities.
const (
	Public  Visibility = iota // the input itself is public
	Private                   // nothing about the input
	Hashed                    // H(TagInput, x, salt) is public; x and the salt are private
)

// ErrSpec is returned for an inconsistent specification.
var ErrSpec = errors.New("inference: invalid specification")

// Spec fixes the circuit's shape.
type Spec struct {
	Widths     []int
	Format     fixedpoint.Format
	Batch      int
	Binding    Binding
	Visibility Visibility
	Logits     bool    // also make the logits public
	Weights    []int64 // the model, for Fixed binding only
}

// Circuit proves k inferences. Only the fields the spec uses are assigned;
// public fields of an unused kind are left empty.
type Circuit struct {
	ModelCommitment []frontend.Variable   `gnark:",public"` // one element for Committed binding, none for Fixed
	Inputs          [][]frontend.Variable `gnark:",public"` // Public visibility
	InputHashes     []frontend.Variable   `gnark:",public"` // Hashed visibility
	Classes         []frontend.Variable   `gnark:",public"`
	Logits          [][]frontend.Variable `gnark:",public"` // when Spec.Logits

	WeightLimbs   []frontend.Variable   // Committed binding: each weight's limbs (WeightLimbWidths), weight by weight
	PrivateInputs [][]frontend.Variable // Private and Hashed visibility
	InputSalts    []frontend.Variable   // Hashed visibility: each input's secret salt

	spec Spec
}

// New returns the circuit for spec with its slices sized.
func New(spec Spec) (*Circuit, error) {
	if len(spec.Widths) < 2 || spec.Batch < 1 {
		return nil, fmt.Errorf("%w: widths %v, batch %d", ErrSpec, spec.Widths, spec.Batch)
	}
	n := fixedpoint.NumParams(spec.Widths)
	if spec.Binding == Fixed && len(spec.Weights) != n {
		return nil, fmt.Errorf("%w: a fixed model of widths %v needs %d weights, got %d", ErrSpec, spec.Widths, n, len(spec.Weights))
	}
	if err := spec.Format.Validate(); err != nil {
		return nil, err
	}
	c := &Circuit{spec: spec, Classes: make([]frontend.Variable, spec.Batch)}
	if spec.Binding == Committed {
		c.WeightLimbs = make([]frontend.Variable, n*len(WeightLimbWidths(spec)))
		c.ModelCommitment = make([]frontend.Variable, 1)
	}
	d, k := spec.Widths[0], spec.Widths[len(spec.Widths)-1]
	for range spec.Batch {
		switch spec.Visibility {
		case Public:
			c.Inputs = append(c.Inputs, make([]frontend.Variable, d))
		default:
			c.PrivateInputs = append(c.PrivateInputs, make([]frontend.Variable, d))
		}
		if spec.Logits {
			c.Logits = append(c.Logits, make([]frontend.Variable, k))
		}
	}
	if spec.Visibility == Hashed {
		c.InputHashes = make([]frontend.Variable, spec.Batch)
		c.InputSalts = make([]frontend.Variable, spec.Batch)
	}
	return c, nil
}

// Define constrains every inference.
func (c *Circuit) Define(api frontend.API) error {
	s := c.spec
	f := s.Format
	weights := make([]frontend.Variable, fixedpoint.NumParams(s.Widths))
	// One lookup argument serves every range check: the weights' limbs and
	// the arithmetic's values share its tables.
	ranges := lookup.New(api)
	opts := []arith.Option{arith.WithRangechecker(ranges)}
	if s.Binding == Committed {
		opts = append(opts, arith.WithPackedProducts()) // the weights are variables: products cost constraints
	}
	a := arith.New(api, opts...)
	if s.Binding == Committed {
		// Each weight is w = Σ limbs·2^k - 2^bits with every limb in its
		// table, so -2^bits <= w < 2^bits: the bound that makes the packing
		// injective (hence the unchecked hash) and that MatVec relies on.
		widths := WeightLimbWidths(s)
		off := new(big.Int).Lsh(big.NewInt(1), f.WeightBits)
		for i := range weights {
			limbs := c.WeightLimbs[i*len(widths) : (i+1)*len(widths)]
			ranges.CheckLimbs(limbs, widths)
			weights[i] = api.Sub(lookup.Recompose(api, limbs, widths), off)
		}
		api.AssertIsEqual(commitment.HashPackedUnchecked(api, commit.TagModel, weights, f.WeightBits), c.ModelCommitment[0])
	} else {
		for i, w := range s.Weights {
			weights[i] = w
		}
	}
	model, err := fixedpoint.Unflatten(s.Widths, weights)
	if err != nil {
		return err
	}
	for j := range s.Batch {
		x := c.PrivateInputs
		if s.Visibility == Public {
			x = c.Inputs
		}
		for _, v := range x[j] {
			fixedpoint.Bound[frontend.Variable](a, v, f.InputBits) // the declared input bound
		}
		if s.Visibility == Hashed {
			// The bound above is the packing's, so the hash needs no checks
			// of its own; the salt is any field element.
			api.AssertIsEqual(commitment.HashPackedSaltedUnchecked(api, commit.TagInput, x[j], f.InputBits, c.InputSalts[j]), c.InputHashes[j])
		}
		logits := fixedpoint.Forward[frontend.Variable](a, f, model, x[j]).Logits
		if s.Logits {
			for k := range logits {
				api.AssertIsEqual(logits[k], c.Logits[j][k])
			}
		}
		assertArgmax(api, a, f, logits, c.Classes[j])
	}
	return nil
}

// WeightLimbWidths is how a committed circuit splits each weight's slot
// value w + 2^WeightBits (WeightBits+1 bits) into private limbs: the split
// that costs the fewest lookup constraints for the model's size.
func WeightLimbWidths(spec Spec) []int {
	return lookup.Split(int(spec.Format.WeightBits)+1, fixedpoint.NumParams(spec.Widths))
}

// assertArgmax constrains class to the first index of the largest logit, as
// the trainer's Predict: logit[class] >= logit[k] for every k, strictly for
// k < class.
func assertArgmax(api frontend.API, a *arith.Arith, f fixedpoint.Format, logits []frontend.Variable, class frontend.Variable) {
	k := len(logits)
	onehot := make([]frontend.Variable, k)
	sum, best := frontend.Variable(0), frontend.Variable(0)
	for i := range onehot {
		onehot[i] = api.IsZero(api.Sub(class, i))
		sum = api.Add(sum, onehot[i])
		best = api.Add(best, api.Mul(onehot[i], logits[i]))
	}
	api.AssertIsEqual(sum, 1) // class is in [0, k)
	after := frontend.Variable(0)
	for i := k - 1; i >= 0; i-- {
		// after = 1 when class > i, i.e. i comes before the class: strict.
		diff := api.Sub(api.Sub(best, logits[i]), after)
		a.AssertNonNegative(diff, f.ActBits+2)
		after = api.Add(after, onehot[i])
	}
}
