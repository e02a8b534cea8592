// Package step is the DP-SGD step circuit: a proof of step t says that the
// prover knows the seed s, the batch rows and W_t such that (DESIGN.md §1)
//
//  1. H(s) = S, and every random choice comes from PRF(s, b, t);
//  2. the batch is exactly the Poisson(q) sample that the PRF selects, padded
//     to the public maximum, and every batch row is the row at its index
//     under the dataset root D;
//  3. each example's gradient at W_t is computed in the fixed-point semantics
//     and clipped to norm C exactly;
//  4. the noise is the discrete Gaussian that the PRF words give through the
//     public table;
//  5. W_{t+1} = W_t - lr/(q N_pub) (sum of clipped gradients + noise), with
//     M_t = H(W_t) and M_{t+1} = H(W_{t+1}).
//
// It also says that t < T (T, the run's step count, is a constant of the
// circuit and is in the run commitment) and, at t = 0, that W_0 is the
// public initial model that the params hash and the beacon define
// (dp.InitialWeights): a private W_0 could carry data into the release.
//
// The public inputs are four field elements: the run commitment
// Hash(TagRun, params hash, D, S, beacon, T), the step t, M_t and M_{t+1}. A
// verifier on the EVM pays about 6,700 gas per public input, but a single
// statement hash over all seven items would need a Solidity Poseidon2 per
// step; with these four the registry hashes the run once and then only
// compares stored values per step. The public constants (shapes, fixed-point
// format, sampler tables) are part of the circuit, so the verifying key
// commits to them.
package step

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"

	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/rangecheck"

	"github.com/zkdp/zkdp/circuits/arith"
	"github.com/zkdp/zkdp/circuits/commitment"
	"github.com/zkdp/zkdp/circuits/sampling"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
)

// ErrSpec is returned for an inconsistent circuit specification.
var ErrSpec = errors.New("step: invalid specification")

// Spec is everything public that fixes the circuit's shape and constants.
type Spec struct {
	Widths      []int                 // [features, hidden..., classes]
	Params      fixedpoint.StepParams // format, clip norm, step size
	Rows        int                   // N_pub, the public row bound (never the real N)
	MaxBatch    int                   // B
	Depth       int                   // Merkle depth of D
	Thresholds  []uint64              // the Poisson gap table (dp.PoissonSampler)
	CDF         []uint64              // the noise table of |z| (dp.DiscreteGaussian), Tail+1 entries
	Tail        int64
	NoiseCoeffs []int64 // each noise sample's combination of table samples (dp.DiscreteGaussian.Combination)
	Steps       int     // T: every proof asserts t < T
	InitBits    []uint  // per layer, the width of W_0's uniform weights (dp.InitBits); 0: the layer starts at zero
}

// Validate checks the shapes.
func (s Spec) Validate() error {
	switch {
	case len(s.Widths) < 2:
		return fmt.Errorf("%w: widths %v", ErrSpec, s.Widths)
	case s.Rows < 1 || s.MaxBatch < 1 || len(s.Thresholds) != s.Rows:
		return fmt.Errorf("%w: rows %d, max batch %d, %d thresholds", ErrSpec, s.Rows, s.MaxBatch, len(s.Thresholds))
	case 1<<s.Depth < s.Rows:
		return fmt.Errorf("%w: depth %d cannot hold %d rows", ErrSpec, s.Depth, s.Rows)
	case len(s.NoiseCoeffs) == 0:
		return fmt.Errorf("%w: no noise combination", ErrSpec)
	case int64(len(s.CDF)) != s.Tail+1:
		return fmt.Errorf("%w: noise table of %d entries for tail %d", ErrSpec, len(s.CDF), s.Tail)
	case s.Steps < 1 || s.Steps >= 1<<31:
		return fmt.Errorf("%w: %d steps", ErrSpec, s.Steps)
	case len(s.InitBits) != len(s.Widths)-1 || s.InitBits[len(s.InitBits)-1] != 0:
		return fmt.Errorf("%w: initial weight bits %v for widths %v (the head starts at zero)", ErrSpec, s.InitBits, s.Widths)
	}
	for _, k := range s.InitBits {
		if k > s.Params.WeightBits {
			return fmt.Errorf("%w: initial weights of %d bits exceed the weight bound %d", ErrSpec, k, s.Params.WeightBits)
		}
	}
	return s.Params.Format.Validate()
}

// Circuit is one DP-SGD step.
type Circuit struct {
	// The public inputs, in this order (the verifier contract's input[0..3]).
	RunCommitment, Step, ModelBefore, ModelAfter frontend.Variable `gnark:",public"`

	ParamsHash, DatasetRoot, SeedCommitment, Beacon frontend.Variable
	Seed                                            frontend.Variable
	Weights                                         []frontend.Variable   // W_t, fixedpoint.Model.Flatten order
	Rows                                            [][]frontend.Variable // B rows of quantized features (zeros in padding slots)
	Labels                                          []frontend.Variable   // B labels
	Paths                                           [][]frontend.Variable // B Merkle paths
	Salts                                           []frontend.Variable   // B rows' secret salts (in their leaves)
	Reals                                           []frontend.Variable   // B rows' real flags (in their leaves): 0 for a padding row of the row bound

	spec Spec
}

// New returns the circuit for spec, with its slices sized for compilation.
func New(spec Spec) (*Circuit, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	c := &Circuit{spec: spec, Weights: make([]frontend.Variable, fixedpoint.NumParams(spec.Widths))}
	for range spec.MaxBatch {
		c.Rows = append(c.Rows, make([]frontend.Variable, spec.Widths[0]))
		c.Labels = append(c.Labels, nil)
		c.Paths = append(c.Paths, make([]frontend.Variable, spec.Depth))
		c.Salts = append(c.Salts, nil)
		c.Reals = append(c.Reals, nil)
	}
	return c, nil
}

// Define states the five parts of the step. The dataset under D has N_pub
// leaves, the real rows and padding rows marked by a real flag in their
// leaf; the batch is sampled over all N_pub and only real rows contribute.
func (c *Circuit) Define(api frontend.API) error {
	s := c.spec
	f := s.Params.Format
	rc := rangecheck.New(api)
	a := arith.New(api, arith.WithRangechecker(rc))

	// The run commitment binds the run's public items, T included; t, M_t
	// and M_{t+1} are public inputs themselves.
	api.AssertIsEqual(c.RunCommitment, commitment.Hash(api, commit.TagRun,
		c.ParamsHash, c.DatasetRoot, c.SeedCommitment, c.Beacon, s.Steps))
	// 0 <= t <= T-1: both t and T-1-t in [0, 2^bits(T)); a t >= T (or a
	// "negative" one) makes T-1-t wrap around the field.
	tBits := bits.Len(uint(s.Steps))
	rc.Check(c.Step, tBits)
	rc.Check(api.Sub(s.Steps-1, c.Step), tBits)
	// At t = 0, W_t is the public W_0.
	if err := c.assertInitialModel(api, rc); err != nil {
		return err
	}

	// 1. The seed and the step's PRF key.
	seedCommitment, err := sampling.SeedCommitment(api, c.Seed)
	if err != nil {
		return err
	}
	api.AssertIsEqual(seedCommitment, c.SeedCommitment)
	key, err := sampling.StepKey(api, c.Seed, c.Beacon, c.Step)
	if err != nil {
		return err
	}

	// 2. The Poisson batch and the rows under D.
	poisson, err := sampling.NewPoisson(api, s.Thresholds, s.Rows, s.MaxBatch)
	if err != nil {
		return err
	}
	words, err := sampling.Words(api, key, dp.StreamSampling, poisson.NbWords())
	if err != nil {
		return err
	}
	batch, err := poisson.Sample(words)
	if err != nil {
		return err
	}
	classes := s.Widths[len(s.Widths)-1]
	onehots := make([][]frontend.Variable, s.MaxBatch)
	mask := make([]frontend.Variable, s.MaxBatch)
	for j := range s.MaxBatch {
		pad := batch.Padding[j]
		inBatch := api.Sub(1, pad)
		onehots[j] = oneHot(api, c.Labels[j], classes)
		leaf := commitment.LeafOf(api, c.Rows[j], c.Labels[j], c.Reals[j], c.Salts[j], f.FracBits)
		// A padding slot opens nothing: its index is 0 and its root unchecked.
		// Every slot in the batch opens its leaf, flag included, so the flag
		// is the committed one: gating the opening on the flag would let a
		// prover drop a real row by claiming flag 0.
		index := api.Select(pad, 0, batch.Positions[j])
		root := commitment.MerkleRoot(api, leaf, index, c.Paths[j])
		api.AssertIsEqual(api.Mul(inBatch, api.Sub(root, c.DatasetRoot)), 0)
		// The slot contributes only if its row is real: the sampler runs over
		// the public row bound, and a sampled padding row (flag 0) adds a
		// zero gradient. LeafOf constrains the flag to be boolean, so the
		// mask is too.
		mask[j] = api.Mul(inBatch, c.Reals[j])
	}

	// 4. The noise.
	gauss, err := sampling.NewDiscreteGaussian(api, s.CDF, s.Tail, s.NoiseCoeffs)
	if err != nil {
		return err
	}
	noiseWords, err := sampling.Words(api, key, dp.StreamNoise, len(c.Weights)*gauss.WordsPerSample())
	if err != nil {
		return err
	}
	noise, err := gauss.SampleVector(noiseWords)
	if err != nil {
		return err
	}

	// 3 and 5. The clipped gradients and the update, by the trainer's code;
	// the model commitments bound W_t (and range-check it) and W_{t+1}.
	api.AssertIsEqual(commitment.HashPacked(api, commit.TagModel, c.Weights, f.WeightBits), c.ModelBefore)
	model, err := fixedpoint.Unflatten(s.Widths, c.Weights)
	if err != nil {
		return err
	}
	next, _ := fixedpoint.Step[frontend.Variable](a, s.Params, model, c.Rows, onehots, mask, noise)
	// Step already range-checked W_{t+1} to the weight bound.
	api.AssertIsEqual(commitment.HashPackedUnchecked(api, commit.TagModel, next.Flatten(), f.WeightBits), c.ModelAfter)
	return nil
}

// assertInitialModel constrains W_t to dp.InitialWeights(widths, InitBits,
// InitKey(params hash, beacon)) when t = 0: weight i is isFirst * (W_t[i] -
// init_i) == 0, one constraint for a zero init_i (biases, the head, layers
// of zero bits), plus one PRF word and a bit split for a uniform weight. A
// model without a hidden layer needs no PRF.
func (c *Circuit) assertInitialModel(api frontend.API, rc frontend.Rangechecker) error {
	s := c.spec
	isFirst := api.IsZero(c.Step)
	var words []frontend.Variable
	if n := dp.InitWords(s.Widths, s.InitBits); n > 0 {
		var err error
		key := commitment.Hash(api, commit.TagInit, c.ParamsHash, c.Beacon)
		if words, err = sampling.Words(api, key, dp.StreamInit, n); err != nil {
			return err
		}
	}
	pos := 0
	for l := 1; l < len(s.Widths); l++ {
		k := s.InitBits[l-1]
		for range s.Widths[l] * s.Widths[l-1] {
			init := frontend.Variable(0)
			if k > 0 {
				low, err := lowBits(api, rc, words[0], k)
				if err != nil {
					return err
				}
				init, words = api.Sub(low, uint64(1)<<(k-1)), words[1:]
			}
			api.AssertIsEqual(api.Mul(isFirst, api.Sub(c.Weights[pos], init)), 0)
			pos++
		}
		for range s.Widths[l] {
			api.AssertIsEqual(api.Mul(isFirst, c.Weights[pos]), 0)
			pos++
		}
	}
	return nil
}

// lowBits is word mod 2^k for a word already range-checked to 64 bits (a
// PRF word): word = low + 2^k high with low < 2^k and high < 2^(64-k), both
// range-checked, so that low + 2^k high < 2^64 < p and the split is the
// integer one (an unbounded high would let any low through).
func lowBits(api frontend.API, rc frontend.Rangechecker, word frontend.Variable, k uint) (frontend.Variable, error) {
	out, err := api.Compiler().NewHint(lowBitsHint, 2, word, k)
	if err != nil {
		return nil, fmt.Errorf("step: low bits hint: %w", err)
	}
	low, high := out[0], out[1]
	rc.Check(low, int(k))
	rc.Check(high, 64-int(k))
	api.AssertIsEqual(word, api.Add(low, api.Mul(high, new(big.Int).Lsh(big.NewInt(1), k))))
	return low, nil
}

func init() { solver.RegisterHint(lowBitsHint) }

// lowBitsHint: inputs (v, k), outputs v mod 2^k and v >> k.
func lowBitsHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) != 2 || len(out) != 2 || !in[1].IsUint64() || in[1].Uint64() > 64 {
		return fmt.Errorf("%w: low bits hint wants (v, k <= 64) and 2 outputs", ErrSpec)
	}
	k := uint(in[1].Uint64())
	out[0].And(in[0], new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), k), big.NewInt(1)))
	out[1].Rsh(in[0], k)
	return nil
}

// oneHot constrains y to the one-hot vector of label (which must be < k).
func oneHot(api frontend.API, label frontend.Variable, k int) []frontend.Variable {
	y := make([]frontend.Variable, k)
	sum := frontend.Variable(0)
	for i := range y {
		y[i] = api.IsZero(api.Sub(label, i))
		sum = api.Add(sum, y[i])
	}
	api.AssertIsEqual(sum, 1)
	return y
}
