package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
	"github.com/zkdp/zkdp/trainer"
)

// Sentinel errors of the stages.
var (
	// ErrCommitmentChanged: training did not start from the published params hash, D or S.
	ErrCommitmentChanged = errors.New("pipeline: the trained run does not start from the published commitments")
	// ErrBeaconInConfig: a config beacon exists before S is published, so it cannot be the protocol's beacon.
	ErrBeaconInConfig = errors.New("pipeline: the config gives a beacon, but the pipeline fixes the beacon after publishing the seed commitment (use zkdp train --beacon for a beacon fixed elsewhere)")
	// ErrNoBeacon: training was reached without a beacon in the transcript.
	ErrNoBeacon = errors.New("pipeline: the transcript has no beacon")
	// ErrPrivacyMismatch: epsilon recomputed from the public params differs from the trainer's report.
	ErrPrivacyMismatch = errors.New("pipeline: epsilon recomputed from public files differs from the report")
)

// BeaconSelfDrawn is the transcript's beacon_source when the pipeline drew
// the beacon itself (the trainer writes the same words).
const BeaconSelfDrawn = run.BeaconSelfDrawn

// Stage names.
const (
	StageCommit   = "commit"
	StageRegister = "register"
	StageTrain    = "train"
	StagePrivacy  = "privacy"
	StageProve    = "prove"
	StageInfer    = "infer"
	StageVerify   = "verify"
	StageChain    = "chain"
	StageSummary  = "summary"
)

// Stages is the pipeline in protocol order: publish the commitments,
// register them so that the registry fixes the beacon, train with that
// beacon, recompute epsilon from public files, prove every step and a few
// inferences, verify everything off-chain, then on-chain (submit the steps,
// finalize M_T, verify the inferences), and summarize. The chain stages share
// one connection (the in-process simulated chain unless config chain.rpc
// names another); close releases it.
func Stages() (stages []Stage, close func()) {
	cs := &chainSession{}
	return []Stage{
		{StageCommit, commitStage},
		{StageRegister, cs.register},
		{StageTrain, trainStage},
		{StagePrivacy, privacyStage},
		{StageProve, proveStage},
		{StageInfer, infer},
		{StageVerify, verifyStage},
		{StageChain, cs.verifyOnChain},
		{StageSummary, summaryStage},
	}, cs.close
}

// CommitResult is the commit stage's record: what was published.
type CommitResult struct {
	ParamsHash     string `json:"params_hash"`
	DatasetRoot    string `json:"dataset_root"`
	SeedCommitment string `json:"seed_commitment"`
}

// commitStage fixes the secret seed (private/, 0600) and the split seed,
// then publishes the params, D and S in the transcript, with no beacon (W_0
// and M_0 derive from the beacon).
// A rerun reuses a seed already written: once S may have been seen, drawing
// another seed would be grinding.
func commitStage(_ context.Context, s *State) error {
	cfg, d := s.Config, s.Dir
	if cfg.Beacon != "" {
		return ErrBeaconInConfig
	}
	seed, src, reused, err := trainer.FixSeeds(d, cfg.Data, cfg.Seed)
	if err != nil {
		return err
	}
	if reused {
		s.log().Info("reusing the secret seed already fixed", "file", d.Private(run.SecretFile))
	}
	secret := run.Secret{Seed: commit.Hex(seed)}
	if cfg.Seed != nil {
		s.log().Warn("the secret seed derives from the config's seed: it is reproducible and therefore NOT secret; use this run for experiments only")
	}
	setup, err := setupOf(s, secret, src)
	if err != nil {
		return err
	}
	pub, err := trainer.Publish(setup, s.log())
	if err != nil {
		return err
	}
	if err := run.WriteJSON(d.Public(run.ParamsFile), pub.Params, run.PublicMode); err != nil {
		return err
	}
	if err := run.WriteJSON(d.Public(run.TranscriptFile), pub.Transcript, run.PublicMode); err != nil {
		return err
	}
	tr := pub.Transcript
	s.log().Info("published before the beacon", "params_hash", tr.ParamsHash, "dataset_root", tr.DatasetRoot,
		"seed_commitment", tr.SeedCommitment)
	return s.SetResult(CommitResult{ParamsHash: tr.ParamsHash, DatasetRoot: tr.DatasetRoot, SeedCommitment: tr.SeedCommitment})
}

// setupOf is the trainer's setup from the config, the fixed seeds and the
// released model the run continues, if any.
func setupOf(s *State, secret run.Secret, src run.DataSource) (trainer.Setup, error) {
	seed, err := commit.ParseHex(secret.Seed)
	if err != nil {
		return trainer.Setup{}, fmt.Errorf("%s: %w", s.Dir.Private(run.SecretFile), err)
	}
	ds, err := data.Load(src.Data, src.SplitSeed)
	if err != nil {
		return trainer.Setup{}, err
	}
	return trainer.Setup{Dataset: ds, Training: s.Config.Training, Format: s.Config.FixedPoint, Seed: seed,
		Source: &src, From: s.From}, nil
}

func readTranscript(d *run.Dir) (run.Transcript, error) {
	var tr run.Transcript
	err := run.ReadJSON(d.Public(run.TranscriptFile), &tr)
	return tr, err
}

// TrainResult is the train stage's record.
type TrainResult struct {
	TestAccuracy    float64 `json:"test_accuracy"` // the released model on the test split
	ModelCommitment string  `json:"model_commitment"`
}

// trainStage trains with the committed seed and the transcript's beacon,
// checks that the run starts from the published commitments, and writes the
// whole run (report, plots, transcript M_0..M_T, private witness).
func trainStage(ctx context.Context, s *State) error {
	d := s.Dir
	var secret run.Secret
	var src run.DataSource
	for path, v := range map[string]any{d.Private(run.SecretFile): &secret, d.Private(run.DataSourceFile): &src} {
		if err := run.ReadJSON(path, v); err != nil {
			return err
		}
	}
	published, err := readTranscript(d)
	if err != nil {
		return err
	}
	if published.Beacon == "" {
		return ErrNoBeacon
	}
	setup, err := setupOf(s, secret, src)
	if err != nil {
		return err
	}
	if setup.Beacon, err = commit.ParseHex(published.Beacon); err != nil {
		return fmt.Errorf("%s: beacon: %w", d.Public(run.TranscriptFile), err)
	}
	setup.BeaconGiven = published.BeaconSource != BeaconSelfDrawn
	res, err := trainer.Train(ctx, setup, trainerOptions(s))
	if err != nil {
		return err
	}
	got := res.Transcript
	if got.ParamsHash != published.ParamsHash || got.DatasetRoot != published.DatasetRoot ||
		got.SeedCommitment != published.SeedCommitment {
		return fmt.Errorf("%w: published %+v, trained from params %s, D %s, S %s", ErrCommitmentChanged, published,
			got.ParamsHash, got.DatasetRoot, got.SeedCommitment)
	}
	res.Transcript.BeaconSource = published.BeaconSource
	res.Transcript.AuditReady = published.AuditReady && s.Config.Seed == nil
	if err := res.Write(d, s.Config.Training.ModelName()); err != nil {
		return err
	}
	return s.SetResult(TrainResult{TestAccuracy: res.TestAccuracy, ModelCommitment: res.Model.Commitment})
}

func trainerOptions(s *State) trainer.Options {
	return trainer.Options{Logger: s.log(), Progress: func(step, total int) { s.progress(StageTrain, step, total) }}
}

// privacyStage recomputes the guarantee from the public params alone, as
// `zkdp privacy --run` does, and checks it against the trainer's report.
func privacyStage(_ context.Context, s *State) error {
	g, err := Guarantee(s.Dir)
	if err != nil {
		return err
	}
	var rep trainer.Report
	if err := run.ReadJSON(s.Dir.Path(run.ReportFile), &rep); err != nil {
		return err
	}
	if g.Epsilon != rep.Epsilon || g.Delta != rep.Delta {
		return fmt.Errorf("%w: (%g, %g) from params.json, (%g, %g) in %s", ErrPrivacyMismatch, g.Epsilon, g.Delta, rep.Epsilon, rep.Delta, run.ReportFile)
	}
	s.log().Info("privacy recomputed from public files", "epsilon", g.Epsilon, "delta", g.Delta, "accountant", g.Accountant)
	return s.SetResult(g)
}

// Guarantee is a run's (epsilon, delta) from its public params only.
func Guarantee(d *run.Dir) (dp.RunPrivacy, error) {
	p, err := d.ReadParams()
	if err != nil {
		return dp.RunPrivacy{}, err
	}
	return p.Mechanism().Guarantee()
}

// ProveResult is the prove stage's record of its latest attempt.
type ProveResult struct {
	Proven       int     `json:"proven"`  // proofs made by this attempt
	Skipped      int     `json:"skipped"` // verified proofs kept from an earlier attempt
	ProofSeconds float64 `json:"proof_seconds"`
}

// RemoteProver is stepproof.Options.Remote.
type RemoteProver = func(c stepproof.Circuit) (func(ctx context.Context, name string, full witness.Witness) (groth16.Proof, error), error)

// proveStage proves every step (through State.Fleet when set); stepproof.Prove keeps the proofs that
// already verify, so a resumed run redoes none.
func proveStage(ctx context.Context, s *State) error {
	keys, err := s.stepKeys()
	if err != nil {
		return err
	}
	opts := stepproof.Options{Workers: max(s.Workers, 1), Logger: s.log(), KeySource: keys,
		Progress: func(done, total int, _ time.Duration) { s.progress(StageProve, done, total) }}
	if s.Fleet != nil {
		remote, stop, err := s.Fleet(ctx, s.Dir.Root)
		if err != nil {
			return err
		}
		defer stop()
		opts.Remote = remote
	}
	sum, err := stepproof.Prove(ctx, s.Dir.Root, opts)
	var secs float64
	for _, d := range sum.Durations {
		secs += d.Seconds()
	}
	if rerr := s.SetResult(ProveResult{Proven: sum.Proven, Skipped: sum.Skipped, ProofSeconds: secs}); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

// VerifyResult is the verify stage's record.
type VerifyResult struct {
	Steps       int    `json:"steps"`
	Constraints int    `json:"constraints"`
	CircuitHash string `json:"circuit_hash"`
	KeyTrust    string `json:"key_trust"` // prover.Trust of the step key
}

// verifyStage checks every step proof from public files only, against a
// verifying key that s.Trust accepts.
// The pipeline knows the beacon the run had to use: the one the registry
// fixed in the register stage, so the transcript's must be it.
func verifyStage(_ context.Context, s *State) error {
	var reg RegisterResult
	if _, err := s.Result(StageRegister, &reg); err != nil {
		return err
	}
	if reg.Beacon == "" {
		return fmt.Errorf("%w: the register stage recorded no beacon to check the transcript's against", ErrNoBeacon)
	}
	expected, err := commit.ParseHex(reg.Beacon)
	if err != nil {
		return fmt.Errorf("%w %s: stage %q result: beacon: %w", ErrState, s.statePath(), StageRegister, err)
	}
	tr, err := readTranscript(s.Dir)
	if err != nil {
		return err
	}
	if _, err := (run.BeaconCheck{Expected: &expected}).Check(tr); err != nil {
		return fmt.Errorf("%s: %w", s.Dir.Public(run.TranscriptFile), err)
	}
	rep, err := stepproof.Verify(s.Dir.Root, s.Trust)
	if err != nil {
		return err
	}
	s.log().Info("verified from public files", "steps", rep.Steps, "constraints", rep.Constraints, "key", rep.Trust)
	return s.SetResult(VerifyResult{Steps: rep.Steps, Constraints: rep.Constraints, CircuitHash: rep.CircuitHash, KeyTrust: rep.Trust.String()})
}

// summaryStage writes summary.json.
func summaryStage(_ context.Context, s *State) error {
	sum, err := Summarize(s)
	if err != nil {
		return err
	}
	return run.WriteJSON(s.Dir.Path(SummaryFile), sum, run.PublicMode)
}

// fileSize is the size of path, or 0 if it does not exist.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
