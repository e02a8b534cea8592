package run

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
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
	Delta           float64               `json:"delta"`            // the configured delta; the claim never exceeds it
	DeltaAccountant float64               `json:"delta_accountant"` // the part the accountant runs at; the rest covers the samplers
	Accountant      string                `json:"accountant"`
	Step            fixedpoint.StepParams `json:"fixed_point"`
	NoiseScale      float64               `json:"noise_scale_lattice"` // sigma * 2^lattice_bits
	NoiseTail       int64                 `json:"noise_tail"`
}

// Mechanism is the run's privacy mechanism, from its public parameters only.
func (p Params) Mechanism() dp.Mechanism {
	return dp.Mechanism{Rows: p.Rows, Params: fixedpoint.NumParams(p.Widths), SamplingRate: p.SamplingRate,
		NoiseMultiplier: p.NoiseMultiplier, Steps: p.Steps, MaxBatch: p.MaxBatch, Delta: p.Delta,
		DeltaAccountant: p.DeltaAccountant, Accountant: p.Accountant, LatticeBits: p.Step.LatticeBits}
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
		return nil, fmt.Errorf("run: %s: %d bytes is not a whole number of %d-parameter models", path, len(raw), n)
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
