// Package stepproof proves and verifies the steps of a training run: it
// turns a run directory (package run) into one Groth16 proof per step with
// the step circuit (circuits/step), and checks them from public files only.
//
// The prover reads private/ (seed, batches, weights, data source) and writes
// only public files: public/step.vk, public/circuit.json and
// public/proofs/step-NNNNN.{proof,public,json}.
package stepproof

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"os"
	"path/filepath"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/step"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
)

// Files of the public proof material.
const (
	VerifyingKeyFile = "step.vk"
	CircuitFile      = "circuit.json"
)

// Sentinel errors.
var (
	// ErrDatasetMismatch: the reloaded rows do not commit to the run's D.
	ErrDatasetMismatch = errors.New("stepproof: the reloaded dataset does not match the run's dataset root")
	// ErrChain: the transcript's commitments do not chain or do not match a proof.
	ErrChain = errors.New("stepproof: broken commitment chain")
	// ErrInitialModel: the transcript's M_0 is not H(W_0) of the public
	// initial model that the params and the beacon define.
	ErrInitialModel = errors.New("stepproof: M_0 is not the commitment of the run's public initial model")
	// ErrCircuit: the verifying key is not the one of the circuit the params define.
	ErrCircuit = errors.New("stepproof: the verifying key does not belong to this run's circuit")
	// ErrProof: a step proof does not verify.
	ErrProof = errors.New("stepproof: a step proof does not verify")
	// ErrUntrustedKey: public/step.vk is not a key the verifier trusts (see
	// prover.KeyTrust): it is prover.ErrUntrustedKey.
	ErrUntrustedKey = prover.ErrUntrustedKey
	// ErrTooLarge: the run's step circuit is too large to compile on one machine.
	ErrTooLarge = errors.New("stepproof: step circuit too large to prove on one machine")
)

// MaxConstraints bounds EstimateConstraints of a provable step: compiling
// takes about 1.1 KiB per constraint, and setup and proving about twice
// that (14.0 GiB peak measured for the MNIST MLP's 6.4M at an expected
// batch of 256), so 16M is what a host with some tens of GiB can still do.
// Beyond it, compilation would only run out of memory after a long wait.
const MaxConstraints = 16_000_000

// EstimateConstraints is an upper estimate of a step circuit's R1CS size
// from its shape, without compiling it: per batch slot its row opening
// (about 190 a Merkle level, 20 a feature), its products checked by random
// evaluation (about 3 per input and output unit a layer) and its softmax
// (about 60 a class); per parameter about 120 (a PRF word and a noise
// sample, the update, both model commitments, W_0's check); and the noise
// table. Deliberately generous: it only has to refuse what cannot compile
// (the MNIST MLP at batch 256 estimates 13M against 6.4M measured).
func EstimateConstraints(p run.Params) int {
	depth := bits.Len(uint(max(p.Rows, 1) - 1))
	perSlot := 190*depth + 20*p.Widths[0] + 60*p.Widths[len(p.Widths)-1]
	for l := 0; l+1 < len(p.Widths); l++ {
		perSlot += 3 * (p.Widths[l] + p.Widths[l+1])
	}
	return p.MaxBatch*perSlot + 120*fixedpoint.NumParams(p.Widths) + int(2*p.NoiseTail+1)
}

// CircuitInfo is public/circuit.json.
type CircuitInfo struct {
	Hash        string `json:"circuit_hash"`
	Constraints int    `json:"constraints"`
	Setup       string `json:"setup"`
}

// Spec is the step circuit's specification, from public parameters only.
func Spec(p run.Params) (step.Spec, error) {
	sampler, noise, err := p.Mechanism().Samplers()
	if err != nil {
		return step.Spec{}, fmt.Errorf("stepproof: rebuilding the samplers: %w", err)
	}
	depth := 0
	for 1<<depth < p.Rows {
		depth++
	}
	initBits, err := p.InitBits()
	if err != nil {
		return step.Spec{}, fmt.Errorf("stepproof: %w", err)
	}
	return step.Spec{Widths: p.Widths, Params: p.Step, Rows: p.Rows, MaxBatch: p.MaxBatch, Depth: depth, Membership: p.Membership(),
		Thresholds: sampler.Thresholds, CDF: noise.CDF, Tail: noise.Tail, NoiseCoeffs: noise.Combination(), Steps: p.Steps, InitBits: initBits,
		Continued: p.Parent != nil}, nil
}

// Compile builds the step circuit that the public params define, and its
// hash (the key cache's and a ceremony's address, and circuit.json's).
func Compile(p run.Params) (constraint.ConstraintSystem, string, error) {
	_, ccs, hash, err := compile(p)
	return ccs, hash, err
}

// compile builds the run's step circuit.
func compile(p run.Params) (step.Spec, constraint.ConstraintSystem, string, error) {
	if n := EstimateConstraints(p); n > MaxConstraints {
		return step.Spec{}, nil, "", fmt.Errorf("%w: max batch %d and %d parameters make about %d constraints (at most %d)",
			ErrTooLarge, p.MaxBatch, fixedpoint.NumParams(p.Widths), n, MaxConstraints)
	}
	spec, err := Spec(p)
	if err != nil {
		return spec, nil, "", err
	}
	c, err := step.New(spec)
	if err != nil {
		return spec, nil, "", err
	}
	ccs, err := prover.Compile(c)
	if err != nil {
		return spec, nil, "", err
	}
	hash, err := prover.CircuitHash(ccs)
	return spec, ccs, hash, err
}

// Public is what every party reads of a run: params, transcript and the
// field elements the step proofs' public inputs are made of.
type Public struct {
	Dir                         *run.Dir
	Params                      run.Params
	Transcript                  run.Transcript
	ParamsHash                  fr.Element
	DatasetRoot, SeedCommitment fr.Element
	Beacon                      fr.Element
	Models                      []fr.Element // M_0..M_T
}

// ReadPublic reads a run's public files and checks that the transcript
// commits to the params, holds T+1 model commitments, and starts from the
// public W_0 (M_0 = H(W_0(params, beacon))).
func ReadPublic(root string) (*Public, error) {
	d, err := run.Open(root)
	if err != nil {
		return nil, err
	}
	pub := &Public{Dir: d}
	if pub.Params, err = d.ReadParams(); err != nil {
		return nil, err
	}
	if err := run.ReadJSON(d.Public(run.TranscriptFile), &pub.Transcript); err != nil {
		return nil, err
	}
	tr := pub.Transcript
	if pub.ParamsHash, err = pub.Params.Hash(); err != nil {
		return nil, err
	}
	if commit.Hex(pub.ParamsHash) != tr.ParamsHash {
		return nil, fmt.Errorf("%w: params.json hashes to %s, the transcript says %s", ErrChain, commit.Hex(pub.ParamsHash), tr.ParamsHash)
	}
	for _, field := range []struct {
		name string
		hex  string
		dst  *fr.Element
	}{{"dataset_root", tr.DatasetRoot, &pub.DatasetRoot}, {"seed_commitment", tr.SeedCommitment, &pub.SeedCommitment}, {"beacon", tr.Beacon, &pub.Beacon}} {
		if *field.dst, err = commit.ParseHex(field.hex); err != nil {
			return nil, fmt.Errorf("%w: %s: %s: %w", run.ErrMalformed, d.Public(run.TranscriptFile), field.name, err)
		}
	}
	if len(tr.ModelCommitments) != pub.Params.Steps+1 {
		return nil, fmt.Errorf("%w: %d model commitments for %d steps", ErrChain, len(tr.ModelCommitments), pub.Params.Steps)
	}
	for i, h := range tr.ModelCommitments {
		m, err := commit.ParseHex(h)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: model_commitments[%d]: %w", run.ErrMalformed, d.Public(run.TranscriptFile), i, err)
		}
		pub.Models = append(pub.Models, m)
	}
	m0, err := InitialCommitment(pub.Params, pub.Beacon)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Public(run.ParamsFile), err)
	}
	if m0 != pub.Models[0] {
		return nil, fmt.Errorf("%w: the params and beacon give %s, the transcript says %s", ErrInitialModel, commit.Hex(m0), tr.ModelCommitments[0])
	}
	return pub, nil
}

// InitialCommitment is the M_0 that the params (and the beacon) fix: a
// continued run's is its parent's M_T, named in the params; a fresh run's
// is H(W_0) of its public initial model.
func InitialCommitment(p run.Params, beacon fr.Element) (fr.Element, error) {
	if p.Parent != nil {
		return commit.ParseHex(p.Parent.Model)
	}
	w0, err := p.InitialModel(beacon)
	if err != nil {
		return fr.Element{}, err
	}
	m0, err := commit.HashPacked(commit.TagModel, w0, p.Step.WeightBits)
	if err != nil {
		return fr.Element{}, fmt.Errorf("%w: %w", ErrInitialModel, err)
	}
	return m0, nil
}

// RunCommitment is the first public input of every step proof of the run:
// a continued run's binds its M_0 (the parent's M_T, which ReadPublic
// checked is the transcript's M_0).
func (p *Public) RunCommitment() fr.Element {
	if p.Params.Parent != nil {
		return step.ContinuedRunCommitment(p.ParamsHash, p.DatasetRoot, p.SeedCommitment, p.Beacon, p.Params.Steps, p.Models[0])
	}
	return step.RunCommitment(p.ParamsHash, p.DatasetRoot, p.SeedCommitment, p.Beacon, p.Params.Steps)
}

// Statement is step t's public inputs.
func (p *Public) Statement(t int) *step.Circuit {
	return step.Public(p.RunCommitment(), t, p.Models[t], p.Models[t+1])
}

// ProofPath is where step t's proof lives.
func ProofPath(d *run.Dir, t int) string {
	return d.Public(filepath.Join(run.ProofsDir, fmt.Sprintf("step-%05d.proof", t)))
}

// Options tune Prove.
type Options struct {
	Workers  int
	Progress func(done, total int, eta time.Duration)
	Logger   *slog.Logger
	Keys     *prover.KeyCache
	// KeySource, when set, supplies the keys instead of Keys: the sealed
	// keys of a multi-party ceremony (package ceremony).
	KeySource prover.KeySource
	// OffChainOnly proves with gnark's default hash-to-field instead of the
	// Solidity target (Keccak-256): such proofs verify off-chain only. The
	// default makes proofs that the exported verifier contract accepts.
	OffChainOnly bool
	// Remote, when set, proves the steps elsewhere (package fleet): it is
	// called once the circuit and its keys are known and returns the
	// function that proves one step's witness (prover.Options.Prove).
	Remote func(c Circuit) (func(ctx context.Context, name string, full witness.Witness) (groth16.Proof, error), error)
}

// Circuit is what a remote prover needs to know of a run's step circuit:
// the public params that define it, its hash, and the verifying key that
// every proof must verify against. CCS and PK are for provers in this
// process, which share them instead of compiling and loading their own.
type Circuit struct {
	Params   run.Params
	Hash     string
	VK       groth16.VerifyingKey
	Solidity bool
	CCS      constraint.ConstraintSystem
	PK       groth16.ProvingKey
}

// Prove proves every step of the run in dir that has no valid proof yet.
func Prove(ctx context.Context, dir string, opts Options) (prover.Summary, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	pub, err := ReadPublic(dir)
	if err != nil {
		return prover.Summary{}, err
	}
	d, p := pub.Dir, pub.Params
	var secret run.Secret
	var batches []run.StepBatch
	var source run.DataSource
	for path, v := range map[string]any{d.Private(run.SecretFile): &secret, d.Private(run.BatchesFile): &batches, d.Private(run.DataSourceFile): &source} {
		if err := run.ReadJSON(path, v); err != nil {
			return prover.Summary{}, err
		}
	}
	seed, err := commit.ParseHex(secret.Seed)
	if err != nil {
		return prover.Summary{}, fmt.Errorf("%s: %w", d.Private(run.SecretFile), err)
	}
	weights, err := run.ReadWeights(d.Private(run.WeightsFile), fixedpoint.NumParams(p.Widths))
	if err != nil {
		return prover.Summary{}, err
	}
	if len(weights) != p.Steps+1 || len(batches) != p.Steps {
		return prover.Summary{}, fmt.Errorf("stepproof: private files hold %d models and %d batches for %d steps", len(weights), len(batches), p.Steps)
	}
	ds, err := data.Load(source.Data, source.SplitSeed)
	if err != nil {
		return prover.Summary{}, err
	}
	q, err := data.QuantizeSplit(ds.Train, p.Step.DataBits())
	if err != nil {
		return prover.Summary{}, err
	}
	if q.Len() > p.Rows {
		return prover.Summary{}, fmt.Errorf("%w: %d training rows, params.rows (the public bound) is %d", data.ErrRowBound, q.Len(), p.Rows)
	}
	dataset, err := p.CommitDataset(q, seed)
	if err != nil {
		return prover.Summary{}, err
	}
	if dataset.Root != pub.DatasetRoot {
		return prover.Summary{}, fmt.Errorf("%w: %s vs %s", ErrDatasetMismatch, commit.Hex(dataset.Root), pub.Transcript.DatasetRoot)
	}
	log.Info("compiling the step circuit", "dataset", p.Dataset, "max_batch", p.MaxBatch, "params", len(weights[0]))
	spec, ccs, hash, err := compile(p)
	if err != nil {
		return prover.Summary{}, err
	}
	log.Info("step circuit", "constraints", ccs.GetNbConstraints(), "hash", hash)
	keys, err := prover.ChooseKeySource(opts.KeySource, opts.Keys, log)
	if err != nil {
		return prover.Summary{}, err
	}
	pk, vk, err := keys.Setup(ccs, stepKeyName(p))
	if err != nil {
		return prover.Summary{}, err
	}
	if err := prover.WriteVerifyingKey(d.Public(VerifyingKeyFile), vk); err != nil {
		return prover.Summary{}, err
	}
	info := CircuitInfo{Hash: hash, Constraints: ccs.GetNbConstraints(), Setup: keys.Kind()}
	if err := run.WriteJSON(d.Public(CircuitFile), info, run.PublicMode); err != nil {
		return prover.Summary{}, err
	}
	jobs := make([]prover.Job, p.Steps)
	table := dataset.Table() // the same for every step
	for t := range p.Steps {
		jobs[t] = prover.Job{
			Name: fmt.Sprintf("step-%05d", t),
			Path: ProofPath(d, t),
			Witness: func() (witness.Witness, error) {
				in := step.Input{ParamsHash: pub.ParamsHash, DatasetRoot: pub.DatasetRoot, Beacon: pub.Beacon, Seed: seed, Step: t,
					Before: weights[t], After: weights[t+1], Dataset: table, DatasetSalt: dataset.Salt, InitialModel: pub.Models[0]}
				for _, i := range batches[t].Indices {
					x, label, flag := q.Slot(i) // a padding row of the bound opens with flag 0
					in.Rows, in.Labels, in.Reals = append(in.Rows, x), append(in.Labels, label), append(in.Reals, flag)
					if dataset.Membership != data.MembershipFlat {
						in.Salts = append(in.Salts, dp.RowSalt(seed, i))
					}
					if dataset.Membership != data.MembershipMerkle {
						continue
					}
					path, err := dataset.Tree.Path(i)
					if err != nil {
						return nil, err
					}
					in.Paths = append(in.Paths, path)
				}
				a, err := step.Assign(spec, in)
				if err != nil {
					return nil, err
				}
				return frontend.NewWitness(a, ecc.BN254.ScalarField())
			},
		}
	}
	popts := prover.Options{Workers: opts.Workers, Logger: log, Progress: opts.Progress, SolidityCompatible: !opts.OffChainOnly}
	if opts.Remote != nil {
		if popts.Prove, err = opts.Remote(Circuit{Params: p, Hash: hash, VK: vk, Solidity: popts.SolidityCompatible, CCS: ccs, PK: pk}); err != nil {
			return prover.Summary{}, err
		}
	}
	return prover.ProveAll(ctx, ccs, pk, vk, jobs, popts)
}

// Report says what Verify checked.
type Report struct {
	Steps       int
	Constraints int
	CircuitHash string
	// Trust is where the verifying key's trust came from: under
	// prover.TrustDev the result proves nothing to a third party.
	Trust prover.Trust
	// Parent is the run whose released model a continued run starts from
	// (M_0 is its M_T); its own proofs are that run's to verify.
	Parent *run.Parent
}

// Verify checks a run from its public files only: the params hash in the
// transcript, the circuit that the params define (recompiled here: the
// prover's circuit.json must name it), the verifying key public/step.vk
// against trust (a derived or pinned key; the prover's own only under
// trust.Dev, else ErrUntrustedKey), and every step's proof against the
// statement that continues the commitment chain M_0..M_T. The first bad
// step is named.
func Verify(dir string, trust prover.KeyTrust) (Report, error) {
	pub, err := ReadPublic(dir)
	if err != nil {
		return Report{}, err
	}
	d := pub.Dir
	vk, rep, err := trustedKey(pub, trust)
	if err != nil {
		return Report{}, err
	}
	for t := range pub.Params.Steps {
		path := ProofPath(d, t)
		expected, err := frontend.NewWitness(pub.Statement(t), ecc.BN254.ScalarField(), frontend.PublicOnly())
		if err != nil {
			return Report{}, err
		}
		if err := samePublic(path, expected); err != nil {
			return Report{}, fmt.Errorf("step %d: %w", t, err)
		}
		if err := prover.VerifyProofFile(vk, path); err != nil {
			return Report{}, fmt.Errorf("step %d: %w: %w", t, ErrProof, err)
		}
	}
	return rep, nil
}

// TrustedKey returns the run's step verifying key, public/step.vk, if trust
// accepts it for the circuit that the run's params define (see Verify).
func TrustedKey(dir string, trust prover.KeyTrust) (groth16.VerifyingKey, prover.Trust, error) {
	pub, err := ReadPublic(dir)
	if err != nil {
		return nil, 0, err
	}
	vk, rep, err := trustedKey(pub, trust)
	return vk, rep.Trust, err
}

// trustedKey recompiles the run's step circuit, checks circuit.json against
// it and step.vk against trust.
func trustedKey(pub *Public, trust prover.KeyTrust) (groth16.VerifyingKey, Report, error) {
	d := pub.Dir
	var info CircuitInfo
	if err := run.ReadJSON(d.Public(CircuitFile), &info); err != nil {
		return nil, Report{}, err
	}
	_, ccs, hash, err := compile(pub.Params)
	if err != nil {
		return nil, Report{}, err
	}
	if hash != info.Hash {
		return nil, Report{}, fmt.Errorf("%w: the params define circuit %s, the run was proven with %s", ErrCircuit, hash, info.Hash)
	}
	vk, level, err := trust.Check(d.Public(VerifyingKeyFile), ccs, hash)
	if err != nil {
		return nil, Report{}, err
	}
	return vk, Report{Steps: pub.Params.Steps, Constraints: ccs.GetNbConstraints(), CircuitHash: hash, Trust: level, Parent: pub.Params.Parent}, nil
}

// SetupKey returns the verifying key that keys supply for the step circuit
// of params (the one Prove will use): before training, what a registry
// binds the run to.
func SetupKey(p run.Params, keys prover.KeySource) (groth16.VerifyingKey, error) {
	_, ccs, _, err := compile(p)
	if err != nil {
		return nil, err
	}
	_, vk, err := keys.Setup(ccs, stepKeyName(p))
	return vk, err
}

// stepKeyName names a run's step circuit for key sources and logs.
func stepKeyName(p run.Params) string { return "step/" + p.Dataset }

// samePublic checks that a proof's stored public input is the statement the
// transcript implies for its step.
func samePublic(proofPath string, expected witness.Witness) error {
	raw, err := os.ReadFile(prover.PublicPath(proofPath))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProof, err)
	}
	want, err := expected.MarshalBinary()
	if err != nil {
		return err
	}
	if !bytes.Equal(raw, want) {
		return fmt.Errorf("%w: the proof's public input is not the statement of this step (run commitment of params, D, S, beacon; t; M_t; M_t+1)", ErrChain)
	}
	return nil
}

// Size is a step circuit's size.
type Size struct {
	Name                       string  `json:"name"`
	Constraints                int     `json:"constraints"`
	MaxBatch                   int     `json:"max_batch"`
	Params                     int     `json:"params"`
	NoiseTable                 int     `json:"noise_table"`
	ConstraintsPerExampleParam float64 `json:"constraints_per_example_param"`
}

// Measure compiles the step circuit that params define and reports its size.
func Measure(name string, p run.Params) (Size, error) {
	spec, ccs, _, err := compile(p)
	if err != nil {
		return Size{}, err
	}
	n, params := ccs.GetNbConstraints(), fixedpoint.NumParams(p.Widths)
	return Size{Name: name, Constraints: n, MaxBatch: p.MaxBatch, Params: params, NoiseTable: len(spec.CDF),
		ConstraintsPerExampleParam: float64(n) / float64(p.MaxBatch*params)}, nil
}
