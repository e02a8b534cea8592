package run

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
)

// Params are the public parameters of a run: everything a verifier needs to
// rebuild the step circuit and recompute epsilon.
type Params struct {
	Version         int                   `json:"version"`
	Dataset         string                `json:"dataset"`
	Rows            int                   `json:"rows"` // N, the committed training rows
	Features        int                   `json:"features"`
	Classes         int                   `json:"classes"`
	Widths          []int                 `json:"widths"`
	Steps           int                   `json:"steps"`
	SamplingRate    float64               `json:"sampling_rate"`
	ExpectedBatch   float64               `json:"expected_batch_size"` // qN, public; never the real batch size
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
}

// maxWidth bounds a layer's width, as the trainer's config does.
const maxWidth = 4096

// Validate checks that p is a consistent set of parameters of this format
// version before anything is built from it: params.json comes from the
// prover, and a verifier compiles its circuit from it. Every error wraps
// ErrMalformed and names the field.
func (p Params) Validate() error {
	var errs []error
	check := func(ok bool, field, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
		}
	}
	positive := func(x float64) bool { return x > 0 && !math.IsInf(x, 1) }
	check(p.Version == CurrentVersion, "version", "%d, this zkdp reads version %d", p.Version, CurrentVersion)
	check(p.Dataset != "", "dataset", "empty")
	check(p.Rows >= 1, "rows", "%d, want at least 1", p.Rows)
	check(len(p.Widths) >= 2, "widths", "%v, want inputs, hidden layers and classes", p.Widths)
	for i, w := range p.Widths {
		check(w >= 1 && w <= maxWidth, fmt.Sprintf("widths[%d]", i), "%d, want [1, %d]", w, maxWidth)
	}
	if len(p.Widths) >= 2 {
		check(p.Features == p.Widths[0], "features", "%d, but widths start with %d", p.Features, p.Widths[0])
		check(p.Classes == p.Widths[len(p.Widths)-1], "classes", "%d, but widths end with %d", p.Classes, p.Widths[len(p.Widths)-1])
	}
	check(p.Steps >= 1, "steps", "%d, want at least 1", p.Steps)
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
	check(p.NoiseTail >= 0, "noise_tail", "%d, want non-negative", p.NoiseTail)
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: params: %w", ErrMalformed, errors.Join(errs...))
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
	return dp.InitialWeights(p.Widths, bits, dp.InitKey(h, beacon)), nil
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
