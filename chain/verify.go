package chain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"text/tabwriter"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
)

// ReportFile is the on-chain report, under public/.
const ReportFile = "chain.json"

// ErrBeaconMismatch: the run was registered on-chain with another beacon
// than the one it was trained with.
var ErrBeaconMismatch = errors.New("chain: the run's on-chain beacon is not the beacon it was trained with")

// Tx is one transaction of a report.
type Tx struct {
	Name     string `json:"name"`
	Hash     string `json:"hash,omitempty"`
	GasUsed  uint64 `json:"gas_used"`
	Accepted bool   `json:"accepted"`
	Reason   string `json:"reason,omitempty"` // the decoded revert, when rejected
}

func txOf(name string, r *types.Receipt, err error) Tx {
	t := Tx{Name: name, Accepted: err == nil}
	if r != nil {
		t.Hash, t.GasUsed = r.TxHash.Hex(), r.GasUsed
	}
	if err != nil {
		t.Reason = err.Error()
	}
	return t
}

// Report is public/chain.json.
type Report struct {
	Chain         string `json:"chain"` // "simulated" or the RPC URL
	ChainID       string `json:"chain_id"`
	Sender        string `json:"sender"`
	Registry      string `json:"registry"`
	StepVerifier  string `json:"step_verifier"`
	RunID         string `json:"run_id"`
	BeaconGiven   bool   `json:"beacon_given"` // the chain did not fix the beacon
	Beacon        string `json:"beacon"`
	RunCommitment string `json:"run_commitment"`
	// ParentRunID is the registry's id of the finalized run whose model
	// this run continues (params.parent); empty for a fresh run.
	ParentRunID string `json:"parent_run_id,omitempty"`
	// StepVerifierCodeHash is the runtime code hash of the trusted step
	// key's verifier, which the registry binds the run to.
	StepVerifierCodeHash string `json:"step_verifier_code_hash"`
	// KeyTrust is where the step key's trust came from (prover.Trust):
	// "development" proves nothing to a third party.
	KeyTrust      string `json:"key_trust"`
	StepsAccepted int    `json:"steps_accepted"`
	Steps         int    `json:"steps"`
	Finalized     bool   `json:"finalized"`
	Model         string `json:"model"` // M_T as registered
	// RunsForDataset counts every run registered on the run's dataset root
	// in this registry: each counts toward the data's privacy budget.
	RunsForDataset uint64 `json:"runs_for_dataset"`
	// InferenceVerifiers are the inference verifiers used, by proof name.
	InferenceVerifiers map[string]string `json:"inference_verifiers,omitempty"`
	Transactions       []Tx              `json:"transactions"`
}

// InferenceProof names one inference proof's files (package prover formats).
type InferenceProof struct {
	Name                                  string
	Claim, VerifyingKey, Proof, PublicWit string
	FixedBinding                          bool
}

// VerifyOptions tune VerifyRun.
type VerifyOptions struct {
	// Registry reuses a deployed registry; zero: the one in a previous
	// chain.json of this chain if it still has code, else a new one.
	Registry common.Address
	// Inference lists inference proofs to verify against the final model.
	Inference []InferenceProof
	// Trust is the rule by which the step key (and, without Derive, the
	// inference keys) are trusted: every verifier deployed or reused runs
	// exactly the code exported from a trusted key.
	Trust prover.KeyTrust
	// ReportPath is where the report is written; empty: the run's
	// public/chain.json. A run taken on-chain only as another run's parent
	// keeps its own report.
	ReportPath string
	Logger     *slog.Logger
}

// VerifyRun takes a proven run directory on-chain: it deploys (or reuses)
// the registry and the step verifier, registers the run if it is not yet
// (with the beacon it was trained with: marked beaconGiven; bound to the
// code hash of the verifier of the trusted step key), checks that the run's
// verifiers run the code exported from trusted keys (ErrVerifierCode
// otherwise), submits every
// step proof not yet accepted, finalizes, verifies the inference proofs, and
// writes public/chain.json (or opts.ReportPath). On a rejected transaction the report records it
// (with the decoded reason) and the error is returned.
func VerifyRun(ctx context.Context, c *Chain, dir string, opts VerifyOptions) (*Report, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	pub, err := stepproof.ReadPublic(dir)
	if err != nil {
		return nil, err
	}
	d := pub.Dir
	rep := &Report{Chain: c.Name, ChainID: c.ChainID.String(), Sender: c.From.Hex(), Steps: pub.Params.Steps,
		InferenceVerifiers: map[string]string{}}
	reportPath := opts.ReportPath
	if reportPath == "" {
		reportPath = d.Public(ReportFile)
	}
	var prev Report
	if c.sim == nil {
		if err := run.ReadJSON(reportPath, &prev); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("ignoring the previous chain report", "err", err)
		}
		if prev.ChainID != rep.ChainID || prev.Chain != rep.Chain {
			prev = Report{}
		}
	}
	finish := func(err error) (*Report, error) {
		if werr := run.WriteJSON(reportPath, rep, run.PublicMode); werr != nil {
			return rep, errors.Join(err, werr)
		}
		return rep, err
	}
	record := func(name string, r *types.Receipt, err error) error {
		rep.Transactions = append(rep.Transactions, txOf(name, r, err))
		if err == nil {
			log.Info("transaction", "name", name, "gas", r.GasUsed)
		}
		return err
	}

	// The trusted step key and its verifier's code.
	stepVK, stepTrust, err := stepproof.TrustedKey(dir, opts.Trust)
	if err != nil {
		return finish(err)
	}
	rep.KeyTrust = stepTrust.String()
	stepCode, codeHash, err := VerifierCode(ctx, stepVK)
	if err != nil {
		return finish(err)
	}
	rep.StepVerifierCodeHash = codeHash.Hex()

	// The registry.
	regAddr := opts.Registry
	if regAddr == (common.Address{}) && prev.Registry != "" {
		if ok, _ := c.HasCode(ctx, common.HexToAddress(prev.Registry)); ok {
			regAddr = common.HexToAddress(prev.Registry)
		}
	}
	var reg *Registry
	if regAddr != (common.Address{}) {
		if reg, err = AtRegistry(ctx, c, regAddr); err != nil {
			return finish(err)
		}
	} else {
		var rcpt *types.Receipt
		reg, rcpt, err = DeployRegistry(ctx, c)
		if err := record("deploy ZkdpRegistry", rcpt, err); err != nil {
			return finish(err)
		}
	}
	rep.Registry = reg.Address.Hex()

	// The run.
	key := RunKey{ParamsHash: pub.ParamsHash, DatasetRoot: pub.DatasetRoot, SeedCommitment: pub.SeedCommitment, Steps: uint32(pub.Params.Steps),
		StepVerifierCodeHash: codeHash}
	if key.Parent, err = reg.ParentOf(ctx, pub.Params); err != nil {
		return finish(err)
	}
	if key.Parent != nil {
		rep.ParentRunID = "0x" + key.Parent.Text(16)
	}
	runID, err := reg.RunID(ctx, c.From, key)
	if err != nil {
		return finish(err)
	}
	rep.RunID = "0x" + runID.Text(16)
	info, err := reg.Run(ctx, runID)
	if err != nil {
		return finish(err)
	}
	switch Status(info.Status) {
	case StatusNone:
		name := "registerRunWithBeacon"
		if key.Parent != nil {
			name = "registerContinuedRunWithBeacon"
		}
		_, rcpt, err := reg.RegisterRunWithBeacon(ctx, key, pub.Beacon)
		if err := record(name, rcpt, err); err != nil {
			return finish(err)
		}
	case StatusAwaitingBeacon:
		return finish(fmt.Errorf("%w: run %s is registered but its beacon is not fixed yet: fix it (zkdp chain register does) and train with it", ErrBeaconMismatch, rep.RunID))
	}
	if info, err = reg.Run(ctx, runID); err != nil {
		return finish(err)
	}
	rep.BeaconGiven, rep.Beacon, rep.RunCommitment = info.BeaconGiven, hexBig(info.Beacon), hexBig(info.RunCommitment)
	if info.Beacon.Cmp(Big(pub.Beacon)) != 0 {
		return finish(fmt.Errorf("%w: on-chain %s, transcript %s", ErrBeaconMismatch, rep.Beacon, pub.Transcript.Beacon))
	}
	if common.Hash(info.StepVerifierCodeHash) != codeHash {
		return finish(fmt.Errorf("%w: run %s is bound to step verifier code %s, the trusted key's verifier is %s",
			ErrVerifierCode, rep.RunID, common.Hash(info.StepVerifierCodeHash).Hex(), codeHash.Hex()))
	}
	if parent := info.ParentRunId; (key.Parent == nil) != (parent.Sign() == 0) || (key.Parent != nil && parent.Cmp(key.Parent) != 0) {
		return finish(fmt.Errorf("%w: run %s is registered as continuing run %#x, the params' parent is %s", ErrParent, rep.RunID, parent, rep.ParentRunID))
	}
	if int(info.Steps) != pub.Params.Steps {
		return finish(fmt.Errorf("chain: run %s is registered with %d steps, the params say %d", rep.RunID, info.Steps, pub.Params.Steps))
	}

	// The step verifier.
	if info.StepVerifier == (common.Address{}) {
		addr := common.Address{}
		if prev.StepVerifier != "" {
			if checkCode(ctx, c, common.HexToAddress(prev.StepVerifier), stepCode) == nil {
				addr = common.HexToAddress(prev.StepVerifier)
			}
		}
		if addr == (common.Address{}) {
			v, _, err := DeployVerifier(ctx, c, stepVK)
			if err := record("deploy step Verifier", v.Receipt, err); err != nil {
				return finish(err)
			}
			addr = v.Address
		}
		rcpt, err := reg.SetStepVerifier(ctx, runID, addr)
		if err := record("setStepVerifier", rcpt, err); err != nil {
			return finish(err)
		}
		info.StepVerifier = addr
	}
	rep.StepVerifier = info.StepVerifier.Hex()
	if err := checkCode(ctx, c, info.StepVerifier, stepCode); err != nil {
		return finish(fmt.Errorf("step verifier: %w", err))
	}

	// The steps.
	for t := int(info.NextStep); t < pub.Params.Steps && Status(info.Status) == StatusTraining; t++ {
		proof, input, err := ProofFiles(stepproof.ProofPath(d, t))
		if err != nil {
			return finish(fmt.Errorf("step %d: %w", t, err))
		}
		if len(input) != 4 {
			return finish(fmt.Errorf("step %d: %d public inputs, the step circuit has 4", t, len(input)))
		}
		rcpt, err := reg.SubmitStep(ctx, runID, proof, [4]*big.Int(input))
		if err := record(fmt.Sprintf("submitStep %d", t), rcpt, err); err != nil {
			return finish(fmt.Errorf("step %d: %w", t, err))
		}
	}
	if info, err = reg.Run(ctx, runID); err != nil {
		return finish(err)
	}
	if Status(info.Status) == StatusTraining {
		rcpt, err := reg.Finalize(ctx, runID)
		if err := record("finalize", rcpt, err); err != nil {
			return finish(err)
		}
		if info, err = reg.Run(ctx, runID); err != nil {
			return finish(err)
		}
	}
	rep.StepsAccepted, rep.Finalized, rep.Model = int(info.NextStep), Status(info.Status) == StatusFinalized, hexBig(info.Head)
	if rep.RunsForDataset, err = reg.RunsPerDataset(ctx, pub.DatasetRoot); err != nil {
		return finish(err)
	}
	if want := pub.Models[len(pub.Models)-1]; info.Head.Cmp(Big(want)) != 0 {
		return finish(fmt.Errorf("chain: the registered model %s is not the transcript's M_T %s", rep.Model, commit.Hex(want)))
	}

	// Inference proofs against the final model.
	inferTrust := prover.KeyTrust{Pinned: opts.Trust.Pinned, Dev: opts.Trust.Dev}
	for _, ip := range opts.Inference {
		vk, _, err := inferproof.TrustedKey(dir, ip.Claim, inferTrust)
		if err != nil {
			return finish(fmt.Errorf("inference %s: %w", ip.Name, err))
		}
		addr, txs, err := SubmitInferenceFiles(ctx, reg, runID, ip.VerifyingKey, ip.Proof, ip.PublicWit, ip.FixedBinding, common.Address{})
		if err == nil {
			err = CheckVerifierCode(ctx, c, addr, vk)
		}
		for i := range txs {
			txs[i].Name += " " + ip.Name
		}
		rep.Transactions = append(rep.Transactions, txs...)
		if err != nil {
			return finish(fmt.Errorf("inference %s: %w", ip.Name, err))
		}
		rep.InferenceVerifiers[ip.Name] = addr.Hex()
	}
	return finish(nil)
}

func hexBig(b *big.Int) string {
	var e fr.Element
	e.SetBigInt(b)
	return commit.Hex(e)
}

// PrintTable writes the report's transactions as a table.
func (r *Report) PrintTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "TRANSACTION\tGAS USED\tACCEPTED\tREASON\n")
	for _, t := range r.Transactions {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%s\n", t.Name, t.GasUsed, t.Accepted, t.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	given := "fixed on-chain"
	if r.BeaconGiven {
		given = "given (not fixed by the chain)"
	}
	note := ""
	if r.KeyTrust == prover.TrustDev.String() {
		note = ": " + prover.DevWarning
	}
	_, err := fmt.Fprintf(w, "run %s on %s (chain id %s): %d/%d steps accepted, finalized %v, beacon %s%s\nregistry %s, step verifier %s (code hash %s, %s key)\n"+
		"runs registered on this dataset: %d (each counts toward its privacy budget)\n",
		r.RunID, r.Chain, r.ChainID, r.StepsAccepted, r.Steps, r.Finalized, given, note, r.Registry, r.StepVerifier, r.StepVerifierCodeHash, r.KeyTrust, r.RunsForDataset)
	if err == nil && r.ParentRunID != "" {
		_, err = fmt.Fprintf(w, "continues the finalized model of run %s (the registry read M_0 from it)\n", r.ParentRunID)
	}
	return err
}
