package pipeline

import (
	"fmt"
	"path/filepath"

	"github.com/zkdp/zkdp/chain"
	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
	"github.com/zkdp/zkdp/trainer"
)

// SummaryFile is the summary's name in the run directory.
const SummaryFile = "summary.json"

// Summary is what a finished pipeline run amounts to, from its files and
// its state file.
type Summary struct {
	Dir          string  `json:"dir"`
	Dataset      string  `json:"dataset"`
	Model        string  `json:"model"`
	RowBound     int     `json:"row_bound"` // the public bound N_pub on the training rows; the real count is private
	Epsilon      float64 `json:"epsilon"`
	Delta        float64 `json:"delta"`
	Accountant   string  `json:"accountant"`
	TestAccuracy float64 `json:"test_accuracy"`
	// ParentRun is the run commitment of the run whose released model this
	// run continues (--from), ParentRunID its id in the registry, and
	// Lineage the composed guarantee of the records shared with it (nil
	// with --disjoint-rows).
	ParentRun     string                  `json:"parent_run_commitment,omitempty"`
	ParentRunID   string                  `json:"parent_run_id,omitempty"`
	Lineage       *trainer.LineagePrivacy `json:"lineage_privacy,omitempty"`
	AuditReady    bool                    `json:"audit_ready"`
	BeaconSource  string                  `json:"beacon_source"`
	Steps         int                     `json:"steps"`
	StepsVerified int                     `json:"steps_verified"`
	Constraints   int                     `json:"constraints"`
	// StepKeyTrust and InferenceKeyTrust say where the verifying keys'
	// trust came from (prover.Trust): a development key proves nothing to a
	// third party.
	StepKeyTrust      string `json:"step_key_trust"`
	InferenceKeyTrust string `json:"inference_key_trust,omitempty"`
	// DevKeys: some key was the prover's own (prover.TrustDev).
	DevKeys           bool    `json:"dev_keys"`
	ProvingSeconds    float64 `json:"proving_seconds"` // the prove stage's wall time over every attempt (key setup included)
	ProofSeconds      float64 `json:"proof_seconds"`   // groth16 proving of the latest attempt's new proofs
	ProofBytes        int64   `json:"proof_bytes"`     // one step proof
	PublicInputBytes  int64   `json:"public_input_bytes"`
	VerifyingKeyBytes int64   `json:"verifying_key_bytes"`
	// Inference proofs (the infer stage) and the on-chain run (the chain stage).
	InferenceCircuits []string   `json:"inference_circuits"`
	Chain             string     `json:"chain"`
	Registry          string     `json:"registry"`
	StepsAccepted     int        `json:"steps_accepted_on_chain"`
	Finalized         bool       `json:"finalized_on_chain"`
	RunsForDataset    uint64     `json:"runs_for_dataset"` // runs registered on D, each counting toward its privacy budget
	Transactions      []chain.Tx `json:"transactions"`     // registration, then chain.json's: gas and outcome of each
	Stages            []Record   `json:"stages"`
	// Artifacts maps what to where, relative to Dir.
	Artifacts []Artifact `json:"artifacts"`
}

// Artifact is one output of the run.
type Artifact struct {
	What string `json:"what"`
	Path string `json:"path"`
}

// Summarize reads the summary of the run in s from its files.
func Summarize(s *State) (Summary, error) {
	d := s.Dir
	var rep trainer.Report
	if err := run.ReadJSON(d.Path(run.ReportFile), &rep); err != nil {
		return Summary{}, err
	}
	var ver VerifyResult
	if _, err := s.Result(StageVerify, &ver); err != nil {
		return Summary{}, err
	}
	var prove ProveResult
	if _, err := s.Result(StageProve, &prove); err != nil {
		return Summary{}, err
	}
	sum := Summary{Dir: d.Root, Dataset: rep.Dataset, Model: rep.Model, RowBound: rep.RowBound, Epsilon: rep.Epsilon,
		Delta: rep.Delta, Accountant: rep.Privacy.Accountant, TestAccuracy: rep.TestAccuracy,
		AuditReady: rep.AuditReady, BeaconSource: rep.BeaconSource, Steps: rep.Steps, StepsVerified: ver.Steps,
		Constraints: ver.Constraints, StepKeyTrust: ver.KeyTrust, ProofSeconds: prove.ProofSeconds,
		ParentRun: rep.ParentRun, Lineage: rep.Lineage,
		VerifyingKeyBytes: fileSize(d.Public(stepproof.VerifyingKeyFile))}
	var inf InferResult
	if _, err := s.Result(StageInfer, &inf); err != nil {
		return Summary{}, err
	}
	sum.InferenceKeyTrust = inf.KeyTrust
	sum.DevKeys = ver.KeyTrust == prover.TrustDev.String() || inf.KeyTrust == prover.TrustDev.String()
	for _, c := range inf.Claims {
		sum.InferenceCircuits = append(sum.InferenceCircuits, fmt.Sprintf("%s (%d constraints): %s", c.Circuit, c.Constraints, c.Proof))
	}
	var reg RegisterResult
	if _, err := s.Result(StageRegister, &reg); err != nil {
		return Summary{}, err
	}
	var ch ChainResult
	if _, err := s.Result(StageChain, &ch); err != nil {
		return Summary{}, err
	}
	sum.Chain, sum.Registry, sum.StepsAccepted, sum.Finalized, sum.RunsForDataset = ch.Chain, ch.Registry, ch.StepsAccepted, ch.Finalized, ch.RunsForDataset
	sum.ParentRunID = ch.ParentRunID
	sum.Transactions = append(append(sum.Transactions, reg.Transactions...), ch.Transactions...)
	if r := s.File.Lookup(StageProve); r != nil {
		sum.ProvingSeconds = r.Seconds
	}
	if rep.Steps > 0 {
		first := d.Public(filepath.Join(run.ProofsDir, fmt.Sprintf("step-%05d.proof", 0)))
		sum.ProofBytes, sum.PublicInputBytes = fileSize(first), fileSize(prover.PublicPath(first))
	}
	for _, r := range s.File.Stages {
		if r.Name != StageSummary {
			sum.Stages = append(sum.Stages, r)
		}
	}
	sum.Artifacts = []Artifact{
		{"report (accuracy, epsilon, notes)", run.ReportFile},
		{"plots (loss, accuracy, epsilon)", run.PlotsDir},
		{"public parameters", filepath.Join(run.PublicDir, run.ParamsFile)},
		{"transcript (params hash, D, S, beacon, M_0..M_T)", filepath.Join(run.PublicDir, run.TranscriptFile)},
		{"released model", filepath.Join(run.PublicDir, run.ModelFile)},
		{"step proofs and public inputs", filepath.Join(run.PublicDir, run.ProofsDir)},
		{"verifying key", filepath.Join(run.PublicDir, stepproof.VerifyingKeyFile)},
		{"inference claims, proofs and keys", filepath.Join(run.PublicDir, inferproof.Dir)},
		{"on-chain report (gas per transaction)", filepath.Join(run.PublicDir, chain.ReportFile)},
		{"secret seed, batches, weights (0600)", run.PrivateDir},
		{"pipeline state", StateFile},
		{"this summary", SummaryFile},
	}
	return sum, nil
}
