package run

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/backbone"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
)

// Params are the public parameters of a run: everything a verifier needs to
// rebuild the step circuit and recompute epsilon.
type Params struct {
	Version int    `json:"version"`
	Dataset string `json:"dataset"`
	Rows    int    `json:"rows"` // N_pub, the public bound the committed rows are padded to; never the real count

	Features        int                   `json:"features"`
	Classes         int                   `json:"classes"`
	Widths          []int                 `json:"widths"`
	Steps           int                   `json:"steps"`
	SamplingRate    float64               `json:"sampling_rate"`
	ExpectedBatch   float64               `json:"expected_batch_size"` // q N_pub, public; never the real batch size
	MaxBatch        int                   `json:"max_batch_size"`      // public padding of every batch
	NoiseMultiplier float64               `json:"noise_multiplier"`
	ClipNorm        float64               `json:"clip_norm"`
	LearningRate    float64               `json:"learning_rate"`
	InitScale       float64               `json:"init_scale"`       // W_0's hidden-layer range in units of the He-uniform bound (dp.InitBits)
	Delta           float64               `json:"delta"`            // the configured delta; the claim never exceeds it
	DeltaAccountant float64               `json:"delta_accountant"` // the part the accountant runs at; the rest covers the samplers
	Accountant      string                `json:"accountant"`
	Step            fixedpoint.StepParams `json:"fixed_point"`
	NoiseScale      float64               `json:"noise_scale_lattice"` // sigma * 2^lattice_bits
	NoiseTail       int64                 `json:"noise_tail"`
	Adjacency       string                `json:"adjacency"` // the neighbouring datasets the guarantee holds for (dp.AdjacencyAddRemove)
	// Backbone names the public feature stage that produced the committed
	// features from the records (data.backbone, or a corpus's word vectors);
	// absent for none, so the params of a run without one hash as before.
	Backbone *backbone.Identity `json:"backbone,omitempty"`
	// RecordRows is the rows of one record, the privacy unit (a sentence's
	// token slots); unset: one row per record.
	RecordRows int `json:"record_rows,omitempty"`
	// Parent is the released run this one continues (zkdp train --from):
	// its W_T is this run's W_0. Absent for a fresh run, so the params of
	// one hash as before.
	Parent *Parent `json:"parent,omitempty"`
}

// Parent names the released run a continued run starts from, so that its
// lineage can be followed and its privacy composed from public files.
type Parent struct {
	// Params are the earlier run's public parameters (their hash is its
	// params hash; a parent's own parent is within).
	Params Params `json:"params"`
	// RunCommitment is the earlier run's step proofs' first public input:
	// which run (with its D, S and beacon) released the model.
	RunCommitment string `json:"run_commitment"`
	// Model is the earlier run's M_T, this run's M_0: the step circuit
	// binds it in the run commitment and starts from it.
	Model string `json:"model"`
	// SharesRows says that this run's records may include the earlier
	// run's: the accountant then composes both runs for those records. D is
	// salted per run, so the commitments cannot tell; it is declared.
	SharesRows bool `json:"shares_rows"`
}

// Released is a run's released model, checked against its public files
// (stepproof.ReadReleased), that a new run continues (zkdp train --from).
type Released struct {
	// Parent is what the new run's params name: the run's params, run
	// commitment and M_T. SharesRows is the new run's to set.
	Parent  Parent
	Weights []int64 // W_T, flattened
}

// MaxLineage bounds a run's chain of parents (params.json is the
// prover's: each level is validated and hashed).
const MaxLineage = 64

// Size bounds of the parameters a verifier accepts. params.json comes from
// the prover, and a verifier allocates from it (the Poisson table has one
// entry per row, the noise vector one word per parameter, the transcript one
// commitment per step, the circuit's Merkle path one node per level), so
// every size is bounded before anything is built. Each is far above the
// shipped configs (MNIST: 60,000 rows, 44,530 parameters).
const (
	maxWidth  = 4096    // a layer's width, as the trainer's config bounds it
	MaxLayers = 16      // layers of the model, so len(widths) <= MaxLayers+1
	MaxRows   = 1 << 22 // rows N: a Merkle depth of at most 22, a 32 MiB Poisson table
	MaxParams = 1 << 22 // the model's parameters, noised each step
	MaxSteps  = 1 << 20 // steps T
)

// Validate checks that p is a consistent set of parameters of this format
// version before anything is built from it: params.json comes from the
// prover, and a verifier compiles its circuit from it. Every size is bounded
// first; then each field the circuit does not read (expected batch size,
// noise scale and tail, and the real-valued clip norm and learning rate
// behind the fixed-point ones) is recomputed from the fields it does, with
// the trainer's functions, so that published hyper-parameters cannot be
// false. Every error wraps ErrMalformed and names the field.
func (p Params) Validate() error {
	if errs := p.validateFields(); len(errs) > 0 {
		return fmt.Errorf("%w: params: %w", ErrMalformed, errors.Join(errs...))
	}
	if errs := p.validateDerived(); len(errs) > 0 {
		return fmt.Errorf("%w: params: %w", ErrMalformed, errors.Join(errs...))
	}
	return nil
}

// validateFields checks each field on its own: ranges and sizes.
func (p Params) validateFields() []error {
	var errs []error
	check := func(ok bool, field, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
		}
	}
	positive := func(x float64) bool { return x > 0 && !math.IsInf(x, 1) }
	check(p.Version == CurrentVersion, "version", "%d, this zkdp reads version %d", p.Version, CurrentVersion)
	check(p.Dataset != "", "dataset", "empty")
	check(p.Rows >= 1 && p.Rows <= MaxRows, "rows", "%d, want [1, %d]", p.Rows, MaxRows)
	widthErrs := validateWidths(p.Widths)
	errs = append(errs, widthErrs...)
	if len(widthErrs) == 0 {
		check(p.Features == p.Widths[0], "features", "%d, but widths start with %d", p.Features, p.Widths[0])
		check(p.Classes == p.Widths[len(p.Widths)-1], "classes", "%d, but widths end with %d", p.Classes, p.Widths[len(p.Widths)-1])
	}
	check(p.Steps >= 1 && p.Steps <= MaxSteps, "steps", "%d, want [1, %d]", p.Steps, MaxSteps)
	check(p.SamplingRate > 0 && p.SamplingRate <= 1, "sampling_rate", "%v, want (0, 1]", p.SamplingRate)
	check(positive(p.ExpectedBatch), "expected_batch_size", "%v, want positive", p.ExpectedBatch)
	check(p.MaxBatch >= 1 && p.MaxBatch <= p.Rows, "max_batch_size", "%d, want [1, rows]", p.MaxBatch)
	check(positive(p.NoiseMultiplier), "noise_multiplier", "%v, want positive", p.NoiseMultiplier)
	check(positive(p.ClipNorm), "clip_norm", "%v, want positive", p.ClipNorm)
	check(positive(p.LearningRate), "learning_rate", "%v, want positive", p.LearningRate)
	check(p.Delta > 0 && p.Delta < 1, "delta", "%v, want (0, 1)", p.Delta)
	check(p.DeltaAccountant > 0 && p.DeltaAccountant <= p.Delta, "delta_accountant", "%v, want (0, delta]", p.DeltaAccountant)
	check(p.Accountant == string(dp.AccountantRDP) || p.Accountant == string(dp.AccountantPRV), "accountant", "%q, want rdp or prv", p.Accountant)
	if err := p.Step.Format.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("fixed_point: %w", err))
	} else if len(p.Widths) >= 2 {
		if _, err := dp.InitBits(p.Widths, p.Step.Format, p.InitScale); err != nil {
			errs = append(errs, fmt.Errorf("init_scale: %w", err))
		}
	}
	check(positive(p.NoiseScale), "noise_scale_lattice", "%v, want positive", p.NoiseScale)
	check(p.NoiseTail >= 0 && p.NoiseTail <= dp.MaxNoiseTail, "noise_tail", "%d, want [0, %d]", p.NoiseTail, dp.MaxNoiseTail)
	check(p.Adjacency == dp.AdjacencyAddRemove, "adjacency", "%q, this zkdp proves %q", p.Adjacency, dp.AdjacencyAddRemove)
	if errs2 := p.validateParent(); len(errs2) > 0 {
		errs = append(errs, errs2...)
	}
	if b := p.Backbone; b != nil {
		check(b.Name != "" && b.Version != "" && b.Config != "", "backbone", "name, version and config are required")
		check(len(b.Hash) == 64 && strings.Trim(b.Hash, "0123456789abcdef") == "", "backbone.hash", "%q, want 64 lower-case hex digits (SHA-256)", b.Hash)
		check(b.Features == p.Features, "backbone.features", "%d, but the model reads %d features", b.Features, p.Features)
	}
	return errs
}

// validateParent checks a continued run's parent: a valid run of the same
// model shape and format (its weights are this run's W_0), named by
// well-formed commitments, at most MaxLineage levels up.
func (p Params) validateParent() []error {
	if p.Parent == nil {
		return nil
	}
	depth := 0
	for q := p.Parent; q != nil; q = q.Params.Parent {
		if depth++; depth > MaxLineage {
			return []error{fmt.Errorf("parent: more than %d levels of parents", MaxLineage)}
		}
	}
	var errs []error
	par := p.Parent
	if err := par.Params.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("parent.params: %w", err))
	}
	// The weights mean the same numbers: the same shape, fractional bits
	// and weight bound (the rest of the format may change with the data).
	pf, f := par.Params.Step.Format, p.Step.Format
	if !slices.Equal(par.Params.Widths, p.Widths) || pf.FracBits != f.FracBits || pf.WeightBits != f.WeightBits {
		errs = append(errs, fmt.Errorf("parent.params: widths %v, frac_bits %d, weight_bits %d, but this run trains widths %v, frac_bits %d, weight_bits %d",
			par.Params.Widths, pf.FracBits, pf.WeightBits, p.Widths, f.FracBits, f.WeightBits))
	}
	for _, field := range []struct{ name, hex string }{{"parent.run_commitment", par.RunCommitment}, {"parent.model", par.Model}} {
		if _, err := commit.ParseHex(field.hex); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field.name, err))
		}
	}
	return errs
}

// Lineage is the runs whose records this run's guarantee covers together:
// the run itself, then each parent as long as the run below it declares
// that it shares rows with it.
func (p Params) Lineage() []Params {
	out := []Params{p}
	for q := p; q.Parent != nil && q.Parent.SharesRows; q = q.Parent.Params {
		out = append(out, q.Parent.Params)
	}
	return out
}

// ComposedPrivacy is the guarantee of a record that every run of the
// lineage saw (dp.Compose of their mechanisms); for a fresh run, or one
// whose records are new, it is the run's own.
func (p Params) ComposedPrivacy() (dp.RunPrivacy, error) {
	var ms []dp.Mechanism
	for _, q := range p.Lineage() {
		ms = append(ms, q.Mechanism())
	}
	return dp.Compose(ms)
}

// validateWidths bounds a model's shape before anything is sized from it:
// layer count, each width, and the parameter count.
func validateWidths(widths []int) []error {
	var errs []error
	if len(widths) < 2 || len(widths) > MaxLayers+1 {
		return []error{fmt.Errorf("widths: %d widths, want inputs, at most %d hidden layers and classes", len(widths), MaxLayers-1)}
	}
	for i, w := range widths {
		if w < 1 || w > maxWidth {
			errs = append(errs, fmt.Errorf("widths[%d]: %d, want [1, %d]", i, w, maxWidth))
		}
	}
	if len(errs) == 0 {
		if n := fixedpoint.NumParams(widths); n > MaxParams {
			errs = append(errs, fmt.Errorf("widths: %v make %d parameters, at most %d", widths, n, MaxParams))
		}
	}
	return errs
}

// Validate checks that the released model is consistent before anything is
// built from it: a bounded shape, a valid format, one weight per parameter.
// Errors wrap ErrMalformed and name the field.
func (m Model) Validate() error {
	errs := validateWidths(m.Widths)
	if err := m.Format.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("format: %w", err))
	}
	if len(errs) == 0 {
		if n := fixedpoint.NumParams(m.Widths); len(m.Weights) != n {
			errs = append(errs, fmt.Errorf("weights: %d, widths %v need %d", len(m.Weights), m.Widths, n))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: model: %w", ErrMalformed, errors.Join(errs...))
}

// validateDerived recomputes the fields the circuit does not read from
// those it does, as the trainer computed them (dp.Mechanism,
// fixedpoint.NewStepParams), and compares. It runs on fields that passed
// validateFields, so every size it builds from is bounded.
func (p Params) validateDerived() []error {
	var errs []error
	check := func(ok bool, field, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
		}
	}
	m := p.Mechanism()
	check(p.ExpectedBatch == m.ExpectedBatch(), "expected_batch_size", "%v, but sampling_rate %v x rows %d = %v",
		p.ExpectedBatch, p.SamplingRate, p.Rows, m.ExpectedBatch())
	sigma := m.NoiseScale()
	check(p.NoiseScale == sigma, "noise_scale_lattice", "%v, but noise_multiplier %v x 2^lattice_bits (%d) = %v",
		p.NoiseScale, p.NoiseMultiplier, p.Step.LatticeBits, sigma)
	if err := dp.CheckNoiseScale(sigma); err != nil {
		// The table would be too large to build.
		check(false, "noise_multiplier", "%v at %d lattice bits: %v", p.NoiseMultiplier, p.Step.LatticeBits, err)
		return errs
	}
	coeffs := dp.NoiseCoeffs(sigma, m.Params)
	tail := dp.TableTail(sigma, coeffs)
	check(p.NoiseTail == tail, "noise_tail", "%d, but the noise table of scale %v (coefficients %v) is cut at %d", p.NoiseTail, sigma, coeffs, tail)
	bound := dp.NoiseBound(tail, coeffs)
	check(p.Step.NoiseBits == dp.NoiseBits(bound), "fixed_point.noise_bits", "%d, but samples up to %d need %d bits",
		p.Step.NoiseBits, bound, dp.NoiseBits(bound))
	step, err := fixedpoint.NewStepParams(p.Step.Format, p.ClipNorm, p.LearningRate, m.ExpectedBatch(), p.Step.NoiseBits)
	if err != nil {
		check(false, "learning_rate", "with clip_norm %v and expected batch %v: %v", p.ClipNorm, m.ExpectedBatch(), err)
		return errs
	}
	check(p.Step.ClipNorm == step.ClipNorm, "clip_norm", "%v quantizes to %d, but fixed_point.clip_norm_raw is %d",
		p.ClipNorm, step.ClipNorm, p.Step.ClipNorm)
	check(p.Step.StepSize == step.StepSize, "learning_rate", "%v with clip_norm %v and expected batch %v gives step size %d, but fixed_point.step_size_raw is %d",
		p.LearningRate, p.ClipNorm, m.ExpectedBatch(), step.StepSize, p.Step.StepSize)
	return errs
}

// ReadParams reads and validates public/params.json of d.
func (d *Dir) ReadParams() (Params, error) {
	var p Params
	if err := ReadJSON(d.Public(ParamsFile), &p); err != nil {
		return p, err
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("%s: %w", d.Public(ParamsFile), err)
	}
	return p, nil
}

// Mechanism is the run's privacy mechanism, from its public parameters only.
func (p Params) Mechanism() dp.Mechanism {
	return dp.Mechanism{Rows: p.Rows, Params: fixedpoint.NumParams(p.Widths), SamplingRate: p.SamplingRate,
		NoiseMultiplier: p.NoiseMultiplier, Steps: p.Steps, MaxBatch: p.MaxBatch, Delta: p.Delta,
		DeltaAccountant: p.DeltaAccountant, Accountant: p.Accountant, LatticeBits: p.Step.LatticeBits}
}

// Membership is the format of the run's dataset commitment D
// (data.ChooseMembership), from its public parameters only.
func (p Params) Membership() data.Membership {
	return data.ChooseMembership(p.Rows, p.Features, p.Step.DataBits(), p.MaxBatch)
}

// CommitDataset commits to the quantized training rows q, padded to the row
// bound, in the run's membership format with the salts that the seed
// derives: per-row salts (dp.RowSalts) under a tree or a leaves
// commitment, one dataset salt (dp.DatasetSalt) under a flat commitment.
func (p Params) CommitDataset(q *data.Quantized, seed dp.Seed) (*data.Committed, error) {
	switch p.Membership() {
	case data.MembershipFlat:
		return q.CommitFlat(p.Rows, dp.DatasetSalt(seed))
	case data.MembershipLeaves:
		return q.CommitLeaves(dp.RowSalts(seed, p.Rows))
	}
	return q.CommitMerkle(dp.RowSalts(seed, p.Rows))
}

// InitBits is the width of each layer's initial weights (dp.InitBits).
func (p Params) InitBits() ([]uint, error) { return dp.InitBits(p.Widths, p.Step.Format, p.InitScale) }

// InitialModel is the run's public W_0 (flattened), from the params and the
// beacon alone: dp.InitialWeights under dp.InitKey(params hash, beacon). The
// trainer starts from it and a verifier recomputes it.
func (p Params) InitialModel(beacon fr.Element) ([]int64, error) {
	bits, err := p.InitBits()
	if err != nil {
		return nil, err
	}
	h, err := p.Hash()
	if err != nil {
		return nil, err
	}
	return dp.InitialWeights(p.Widths, bits, dp.InitKey(h, beacon))
}

// Hash commits to the public parameters: Poseidon2 over their JSON encoding
// (deterministic for a struct: fields in declaration order, shortest float
// formatting), packed 31 bytes per field element, then the length.
func (p Params) Hash() (fr.Element, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return fr.Element{}, fmt.Errorf("run: encoding params: %w", err)
	}
	var elems []fr.Element
	for i := 0; i < len(b); i += 31 {
		var e fr.Element
		e.SetBytes(b[i:min(i+31, len(b))])
		elems = append(elems, e)
	}
	elems = append(elems, commit.FromInt64(int64(len(b))))
	return commit.Hash(commit.TagParams, elems...), nil
}

// CurrentVersion is the version of the run format this code writes.
const CurrentVersion = 1

// Transcript is the public commitment chain of a run.
type Transcript struct {
	ParamsHash       string   `json:"params_hash"`
	DatasetRoot      string   `json:"dataset_root"`
	SeedCommitment   string   `json:"seed_commitment"`
	Beacon           string   `json:"beacon"`
	BeaconSource     string   `json:"beacon_source"` // "given" or "self-drawn"
	AuditReady       bool     `json:"audit_ready"`
	ModelCommitments []string `json:"model_commitments"` // M_0..M_T
}

// Model is the released quantized model.
type Model struct {
	Widths     []int             `json:"widths"`
	Format     fixedpoint.Format `json:"format"`
	Weights    []int64           `json:"weights"` // fixedpoint.Model.Flatten order
	Commitment string            `json:"commitment"`
}

// Secret is what only the prover may know.
type Secret struct {
	Seed string `json:"seed"` // hex field element s
}

// DataSource is how a prover reloads the committed rows. It is private: the
// split seed says which rows were trained on.
type DataSource struct {
	Data      data.Config `json:"data"`
	SplitSeed uint64      `json:"split_seed"`
}

// StepBatch is one step's private batch.
type StepBatch struct {
	Step      int   `json:"step"`
	Indices   []int `json:"indices"`
	Truncated bool  `json:"truncated,omitempty"`
}

// WriteWeights stores W_0..W_T (each flattened) as little-endian int64, the
// private witness of every step.
func WriteWeights(path string, weights [][]int64) error {
	if len(weights) == 0 {
		return WriteFile(path, nil, PrivateMode)
	}
	buf := make([]byte, 0, len(weights)*len(weights[0])*8)
	for _, w := range weights {
		for _, v := range w {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
		}
	}
	return WriteFile(path, buf, PrivateMode)
}

// ReadWeights is the inverse of WriteWeights for models of n parameters.
func ReadWeights(path string, n int) ([][]int64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	if n <= 0 || len(raw)%(8*n) != 0 {
		return nil, fmt.Errorf("%w: %s: %d bytes is not a whole number of %d-parameter models", ErrMalformed, path, len(raw), n)
	}
	out := make([][]int64, len(raw)/(8*n))
	for i := range out {
		out[i] = make([]int64, n)
		for j := range out[i] {
			out[i][j] = int64(binary.LittleEndian.Uint64(raw[(i*n+j)*8:]))
		}
	}
	return out, nil
}
