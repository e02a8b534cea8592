package inference

import (
	"fmt"
	"math/rand/v2"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/lookup"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/fixedpoint"
)

// Result is the native inference of one input: what the circuit proves.
type Result struct {
	Class  int
	Logits []int64
}

// Infer runs the quantized forward pass natively, exactly as the circuit.
func Infer(f fixedpoint.Format, widths []int, weights []int64, x []int64) (Result, error) {
	m, err := fixedpoint.Unflatten(widths, weights)
	if err != nil {
		return Result{}, err
	}
	n := &fixedpoint.Native{}
	logits := fixedpoint.Forward[int64](n, f, m, x).Logits
	if err := n.Err(); err != nil {
		return Result{}, err
	}
	best := 0
	for k, z := range logits {
		if z > logits[best] {
			best = k
		}
	}
	return Result{Class: best, Logits: logits}, nil
}

// InputHash is a hashed input's public hash, H(TagInput, x, salt):
// commit.HashPackedSalted at the format's input bound.
func InputHash(f fixedpoint.Format, x []int64, salt fr.Element) (fr.Element, error) {
	return commit.HashPackedSalted(commit.TagInput, x, f.InputBits, salt)
}

// NewSalt draws an input's salt from crypto/rand.
func NewSalt() (fr.Element, error) {
	var s fr.Element
	if _, err := s.SetRandom(); err != nil {
		return s, fmt.Errorf("inference: drawing a salt: %w", err)
	}
	return s, nil
}

// Assign builds the assignment for inputs xs under weights (the committed or
// the fixed model), with the native results. Hashed visibility takes one
// salt per input (salts is ignored otherwise).
func Assign(spec Spec, weights []int64, xs [][]int64, salts []fr.Element) (*Circuit, []Result, error) {
	if len(xs) != spec.Batch {
		return nil, nil, fmt.Errorf("%w: %d inputs for a batch of %d", ErrSpec, len(xs), spec.Batch)
	}
	if spec.Visibility == Hashed && len(salts) != len(xs) {
		return nil, nil, fmt.Errorf("%w: %d salts for %d hashed inputs", ErrSpec, len(salts), len(xs))
	}
	c := &Circuit{}
	if spec.Binding == Committed {
		m, err := commit.HashPacked(commit.TagModel, weights, spec.Format.WeightBits)
		if err != nil {
			return nil, nil, fmt.Errorf("inference: model commitment: %w", err)
		}
		c.ModelCommitment = []frontend.Variable{m}
		widths := WeightLimbWidths(spec)
		for i, w := range weights {
			// HashPacked accepted w, so w + 2^WeightBits fits the limbs.
			limbs, err := lookup.Limbs(w+int64(1)<<spec.Format.WeightBits, widths)
			if err != nil {
				return nil, nil, fmt.Errorf("inference: weight %d: %w", i, err)
			}
			c.WeightLimbs = append(c.WeightLimbs, Vars(limbs)...)
		}
	}
	var results []Result
	for i, x := range xs {
		if len(x) != spec.Widths[0] {
			return nil, nil, fmt.Errorf("%w: an input of %d features for a model of %d", ErrSpec, len(x), spec.Widths[0])
		}
		r, err := Infer(spec.Format, spec.Widths, weights, x)
		if err != nil {
			return nil, nil, err
		}
		results = append(results, r)
		c.Classes = append(c.Classes, r.Class)
		if spec.Logits {
			c.Logits = append(c.Logits, Vars(r.Logits))
		}
		switch spec.Visibility {
		case Public:
			c.Inputs = append(c.Inputs, Vars(x))
		case Hashed:
			h, err := InputHash(spec.Format, x, salts[i])
			if err != nil {
				return nil, nil, fmt.Errorf("inference: input hash: %w", err)
			}
			c.InputHashes = append(c.InputHashes, h)
			c.InputSalts = append(c.InputSalts, salts[i])
			c.PrivateInputs = append(c.PrivateInputs, Vars(x))
		default:
			c.PrivateInputs = append(c.PrivateInputs, Vars(x))
		}
	}
	return c, results, nil
}

// Vars turns integers into circuit values, for assignments.
func Vars(v []int64) []frontend.Variable {
	out := make([]frontend.Variable, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

// SampleWeights returns seeded random weights for a model of the given
// widths, none of them zero: a fixed circuit's size depends on its weights
// only through the zero ones (which cost nothing), so sizes measured with
// these stand for any trained model.
func SampleWeights(widths []int, f fixedpoint.Format) []int64 {
	rng := rand.New(rand.NewPCG(1, 1))
	w := make([]int64, fixedpoint.NumParams(widths))
	for i := range w {
		w[i] = int64(rng.NormFloat64()*0.8*float64(f.One())) | 1
	}
	return w
}
