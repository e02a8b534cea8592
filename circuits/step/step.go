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
// (dp.InitialWeights): a private W_0 could carry data into the release. A
// run that continues a released model (Spec.Continued) instead says, at t =
// 0, that M_t is the M_0 its run commitment binds: the earlier run's public
// M_T, named in its params.
//
// The public inputs are four field elements: the run commitment
// Hash(TagRun, params hash, D, S, beacon, T), with M_0 appended for a
// continued run, the step t, M_t and M_{t+1}. A
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
	"slices"

	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/arith"
	"github.com/zkdp/zkdp/circuits/commitment"
	"github.com/zkdp/zkdp/circuits/lookup"
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
	Depth       int                   // Merkle depth of D (MembershipMerkle)
	Membership  commit.Membership     // D's format: a tree, or a flat sponge over the padded dataset
	Thresholds  []uint64              // the Poisson gap table (dp.PoissonSampler)
	CDF         []uint64              // the noise table of |z| (dp.DiscreteGaussian), Tail+1 entries
	Tail        int64
	NoiseCoeffs []int64 // each noise sample's combination of table samples (dp.DiscreteGaussian.Combination)
	Steps       int     // T: every proof asserts t < T
	InitBits    []uint  // per layer, the width of W_0's uniform weights (dp.InitBits); 0: the layer starts at zero
	// Continued: W_0 is a released model (the earlier run's W_T), bound by
	// its commitment M_0 in the run commitment, not drawn from the PRF.
	Continued bool
}

// Validate checks the shapes.
func (s Spec) Validate() error {
	switch {
	case len(s.Widths) < 2:
		return fmt.Errorf("%w: widths %v", ErrSpec, s.Widths)
	case s.Rows < 1 || s.MaxBatch < 1 || len(s.Thresholds) != s.Rows:
		return fmt.Errorf("%w: rows %d, max batch %d, %d thresholds", ErrSpec, s.Rows, s.MaxBatch, len(s.Thresholds))
	case s.Membership == commit.MembershipMerkle && 1<<s.Depth < s.Rows:
		return fmt.Errorf("%w: depth %d cannot hold %d rows", ErrSpec, s.Depth, s.Rows)
	case s.Membership != commit.MembershipMerkle && s.Membership != commit.MembershipFlat && s.Membership != commit.MembershipLeaves:
		return fmt.Errorf("%w: membership %v", ErrSpec, s.Membership)
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
	Reals                                           []frontend.Variable   // B rows' real flags (committed under D): 0 for a padding row of the row bound
	// MembershipMerkle: each slot's leaf opening.
	Paths [][]frontend.Variable // B Merkle paths
	Salts []frontend.Variable   // B rows' secret salts (in their leaves); also MembershipLeaves
	// MembershipFlat: the whole padded dataset, N_pub packed rows
	// (data.PackedSlot), and its one salt (a one-element slice).
	// MembershipLeaves: the N_pub leaves, as one-element rows.
	Dataset     [][]frontend.Variable
	DatasetSalt []frontend.Variable
	// Continued: M_0, the released model's commitment (a one-element slice).
	InitialModel []frontend.Variable

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
		c.Reals = append(c.Reals, nil)
		if spec.Membership == commit.MembershipMerkle {
			c.Paths = append(c.Paths, make([]frontend.Variable, spec.Depth))
		}
		if spec.Membership != commit.MembershipFlat {
			c.Salts = append(c.Salts, nil)
		}
	}
	if k := tableRowLen(spec); k > 0 {
		for range spec.Rows {
			c.Dataset = append(c.Dataset, make([]frontend.Variable, k))
		}
	}
	if spec.Membership == commit.MembershipFlat {
		c.DatasetSalt = make([]frontend.Variable, 1)
	}
	if spec.Continued {
		c.InitialModel = make([]frontend.Variable, 1)
	}
	return c, nil
}

// tableRowLen is the length of a row of the dataset table the circuit
// rehashes: a packed row (flat), one leaf (leaves), or 0: no table (Merkle).
func tableRowLen(spec Spec) int {
	switch spec.Membership {
	case commit.MembershipFlat:
		return commit.PackedRowLen(spec.Widths[0], spec.Params.DataBits())
	case commit.MembershipLeaves:
		return 1
	}
	return 0
}

// Define states the five parts of the step. The dataset under D has N_pub
// leaves, the real rows and padding rows marked by a real flag in their
// leaf; the batch is sampled over all N_pub and only real rows contribute.
func (c *Circuit) Define(api frontend.API) error {
	s := c.spec
	f := s.Params.Format
	rc := lookup.New(api)
	a := arith.New(api, arith.WithRangechecker(rc))

	// The run commitment binds the run's public items, T (and a continued
	// run's M_0) included; t, M_t and M_{t+1} are public inputs themselves.
	items := []frontend.Variable{c.ParamsHash, c.DatasetRoot, c.SeedCommitment, c.Beacon, s.Steps}
	if s.Continued {
		items = append(items, c.InitialModel[0])
	}
	api.AssertIsEqual(c.RunCommitment, commitment.Hash(api, commit.TagRun, items...))
	// 0 <= t <= T-1: both t and T-1-t in [0, 2^bits(T)); a t >= T (or a
	// "negative" one) makes T-1-t wrap around the field.
	tBits := bits.Len(uint(s.Steps))
	rc.Check(c.Step, tBits)
	rc.Check(api.Sub(s.Steps-1, c.Step), tBits)
	// At t = 0, W_t is the public W_0.
	if s.Continued {
		c.assertContinuedModel(api)
	} else if err := c.assertInitialModel(api, rc); err != nil {
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
	poisson, err := sampling.NewPoisson(api, s.Thresholds, s.Rows, s.MaxBatch, sampling.WithRangechecker(rc))
	if err != nil {
		return err
	}
	words, err := sampling.BoundedWords(api, key, dp.StreamSampling, poisson.NbWords(), sampling.WithRangechecker(rc))
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
	inBatch := make([]frontend.Variable, s.MaxBatch)
	packed := make([][]frontend.Variable, s.MaxBatch)
	for j := range s.MaxBatch {
		pad := batch.Padding[j]
		inBatch[j] = api.Sub(1, pad)
		onehots[j] = oneHot(api, c.Labels[j], classes)
		// Every slot in the batch shows its row under D, flag included, so
		// the flag is the committed one: gating membership on the flag would
		// let a prover drop a real row by claiming flag 0.
		switch s.Membership {
		case commit.MembershipMerkle:
			leaf := commitment.LeafOf(api, c.Rows[j], c.Labels[j], c.Reals[j], c.Salts[j], f.DataBits())
			// A padding slot opens nothing: its index is 0 and its root unchecked.
			index := api.Select(pad, 0, batch.Positions[j])
			root := commitment.MerkleRoot(api, leaf, index, c.Paths[j])
			api.AssertIsEqual(api.Mul(inBatch[j], api.Sub(root, c.DatasetRoot)), 0)
		case commit.MembershipLeaves:
			// LeafOf range-checks the features and makes the flag boolean.
			packed[j] = []frontend.Variable{commitment.LeafOf(api, c.Rows[j], c.Labels[j], c.Reals[j], c.Salts[j], f.DataBits())}
		case commit.MembershipFlat:
			// Pack range-checks the features (the step relies on their
			// bound, as on LeafOf's) and makes the packing injective.
			api.AssertIsBoolean(c.Reals[j])
			packed[j] = commitment.Pack(api, append(append(slices.Clone(c.Rows[j]), c.Labels[j]), c.Reals[j]), f.DataBits()+1)
		}
		// The slot contributes only if its row is real: the sampler runs over
		// the public row bound, and a sampled padding row (flag 0) adds a
		// zero gradient. The flag is boolean, so the mask is too.
		mask[j] = api.Mul(inBatch[j], c.Reals[j])
	}
	// D is the flat commitment of the whole padded dataset, or the sponge
	// of all its leaves, and each slot in the batch holds the row (or the
	// leaf) at its position; a padding slot is not looked up.
	switch s.Membership {
	case commit.MembershipFlat:
		api.AssertIsEqual(commitment.FlatRoot(api, c.Dataset, s.Widths[0]+2, f.DataBits()+1, c.DatasetSalt[0]), c.DatasetRoot)
		commitment.AssertRowsInDataset(api, c.Dataset, batch.Positions, packed, inBatch)
	case commit.MembershipLeaves:
		leaves := make([]frontend.Variable, len(c.Dataset))
		for i, row := range c.Dataset {
			leaves[i] = row[0]
		}
		api.AssertIsEqual(commitment.LeavesRoot(api, leaves), c.DatasetRoot)
		commitment.AssertRowsInDataset(api, c.Dataset, batch.Positions, packed, inBatch)
	}

	// 4. The noise.
	gauss, err := sampling.NewDiscreteGaussian(api, s.CDF, s.Tail, s.NoiseCoeffs, sampling.WithRangechecker(rc))
	if err != nil {
		return err
	}
	noiseWords, err := sampling.BoundedWords(api, key, dp.StreamNoise, len(c.Weights)*gauss.WordsPerSample(), sampling.WithRangechecker(rc))
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
	next, _ := fixedpoint.Step[frontend.Variable](a, s.Params, model, scaledRows(api, c.Rows, f.DataShift()), onehots, mask, noise)
	// Step already range-checked W_{t+1} to the weight bound.
	api.AssertIsEqual(commitment.HashPackedUnchecked(api, commit.TagModel, next.Flatten(), f.WeightBits), c.ModelAfter)
	return nil
}

// assertContinuedModel constrains M_t, at t = 0, to the M_0 in the run
// commitment: the released model this run continues. M_t = H(W_t) (checked
// in Define, with W_t's range), so W_0 is that model's weights.
func (c *Circuit) assertContinuedModel(api frontend.API) {
	api.AssertIsEqual(api.Mul(api.IsZero(c.Step), api.Sub(c.ModelBefore, c.InitialModel[0])), 0)
}

// assertInitialModel constrains W_t to dp.InitialWeights(widths, InitBits,
// InitKey(params hash, beacon)) when t = 0: weight i is isFirst * (W_t[i] -
// init_i) == 0, one constraint for a zero init_i (biases, the head, layers
// of zero bits), plus a share of a PRF word and a k-bit range check for a
// uniform weight. A model without a hidden layer needs no PRF.
func (c *Circuit) assertInitialModel(api frontend.API, rc frontend.Rangechecker) error {
	s := c.spec
	isFirst := api.IsZero(c.Step)
	var words []frontend.Variable
	if n := dp.InitWords(s.Widths, s.InitBits); n > 0 {
		var err error
		key := commitment.Hash(api, commit.TagInit, c.ParamsHash, c.Beacon)
		if words, err = sampling.BoundedWords(api, key, dp.StreamInit, n, sampling.WithRangechecker(rc)); err != nil {
			return err
		}
	}
	pos := 0
	for l := 1; l < len(s.Widths); l++ {
		k := s.InitBits[l-1]
		var chunks []frontend.Variable // of the current word, low bits first
		for range s.Widths[l] * s.Widths[l-1] {
			init := frontend.Variable(0)
			if k > 0 {
				if len(chunks) == 0 {
					var err error
					if chunks, err = splitWord(api, rc, words[0], k); err != nil {
						return err
					}
					words = words[1:]
				}
				init, chunks = api.Sub(chunks[0], uint64(1)<<(k-1)), chunks[1:]
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

// splitWord returns the dp.InitChunks(k) k-bit chunks of a PRF word, low
// bits first: word = sum_i chunk_i 2^(k i) + rest 2^(k c), every chunk and
// the rest range-checked, so that the sum is below 2^64 < p and the split is
// the integer one (an unbounded rest would let any chunks through). That
// also bounds the word to [0, 2^64), as sampling.BoundedWords requires.
func splitWord(api frontend.API, rc frontend.Rangechecker, word frontend.Variable, k uint) ([]frontend.Variable, error) {
	n := dp.InitChunks(k)
	out, err := api.Compiler().NewHint(splitWordHint, n+1, word, k)
	if err != nil {
		return nil, fmt.Errorf("step: split word hint: %w", err)
	}
	sum := frontend.Variable(0)
	for i, chunk := range out[:n] {
		rc.Check(chunk, int(k))
		sum = api.Add(sum, api.Mul(chunk, new(big.Int).Lsh(big.NewInt(1), k*uint(i))))
	}
	rest := out[n]
	if restBits := 64 - k*uint(n); restBits > 0 {
		rc.Check(rest, int(restBits))
		sum = api.Add(sum, api.Mul(rest, new(big.Int).Lsh(big.NewInt(1), k*uint(n))))
	} else {
		api.AssertIsEqual(rest, 0)
	}
	api.AssertIsEqual(word, sum)
	return out[:n], nil
}

func init() { solver.RegisterHint(splitWordHint) }

// splitWordHint: inputs (v, k), outputs InitChunks(k) k-bit chunks of v,
// low first, then the rest v >> (k * chunks).
func splitWordHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) != 2 || !in[1].IsUint64() || in[1].Uint64() < 1 || in[1].Uint64() > 64 || len(out) != dp.InitChunks(uint(in[1].Uint64()))+1 {
		return fmt.Errorf("%w: split word hint wants (v, 1 <= k <= 64) and chunks+1 outputs", ErrSpec)
	}
	k := uint(in[1].Uint64())
	mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), k), big.NewInt(1))
	v := new(big.Int).Set(in[0])
	for i := range out[:len(out)-1] {
		out[i].And(v, mask)
		v.Rsh(v, k)
	}
	out[len(out)-1].Set(v)
	return nil
}

// scaledRows is the rows' features at FracBits: the committed features
// (at DataBits, bounded by their packing) times 2^shift, a constant factor
// that costs no constraint.
func scaledRows(api frontend.API, rows [][]frontend.Variable, shift uint) [][]frontend.Variable {
	if shift == 0 {
		return rows
	}
	out := make([][]frontend.Variable, len(rows))
	for j, row := range rows {
		out[j] = make([]frontend.Variable, len(row))
		for i, x := range row {
			out[j][i] = api.Mul(x, uint64(1)<<shift)
		}
	}
	return out
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
