//go:build prover_checks

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkdp/zkdp/chain"
	"github.com/zkdp/zkdp/pipeline"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
)

// `zkdp pipeline --from` on the quickstart config (2 steps, small batches):
// the new run starts from the parent's released model, and on the fresh
// simulated chain the pipeline first takes the parent on-chain from its
// directory (leaving the parent's own chain.json alone), so the registry
// registers the run as the parent's child and finalizes it; the summary
// names the parent and the composed epsilon. The chain stage resumed in a
// new process (another fresh chain) takes the lineage on-chain again.
func TestPipelineFromOnSimulatedChain(t *testing.T) {
	t.Setenv("ZKDP_TRAINING_STEPS", "2")
	t.Setenv("ZKDP_TRAINING_SAMPLING_RATE", "0.002")
	t.Setenv("ZKDP_FIXED_POINT_LATTICE_BITS", "4")
	ctx := context.Background()
	keys := sharedKeys(t)
	parent := filepath.Join(t.TempDir(), "parent")
	if _, err := runPipeline(ctx, t, nil, "--config", "quickstart", "--out", parent, "--keys", keys, "--json"); err != nil {
		t.Fatal(err)
	}
	parentReport, err := os.ReadFile(filepath.Join(parent, run.PublicDir, chain.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	rel, err := stepproof.ReadReleased(parent)
	if err != nil {
		t.Fatal(err)
	}

	child := filepath.Join(t.TempDir(), "child")
	out, err := runPipeline(ctx, t, nil, "--config", "quickstart", "--out", child, "--keys", keys, "--from", parent, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var sum pipeline.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("summary: %v in %q", err, out)
	}
	if sum.ParentRun != rel.Parent.RunCommitment || sum.ParentRunID == "" || !sum.Finalized || sum.StepsAccepted != sum.Steps ||
		sum.Lineage == nil || sum.Lineage.Runs != 2 || !(sum.Lineage.Privacy.Epsilon > sum.Epsilon) {
		t.Fatalf("summary %+v", sum)
	}
	if len(sum.Transactions) == 0 || sum.Transactions[0].Name != "registerContinuedRun" {
		t.Fatalf("transactions %+v", sum.Transactions)
	}
	var ct run.Transcript
	if err := run.ReadJSON((&run.Dir{Root: child}).Public(run.TranscriptFile), &ct); err != nil {
		t.Fatal(err)
	}
	if ct.ModelCommitments[0] != rel.Parent.Model || ct.BeaconSource != pipeline.BeaconRegistry {
		t.Fatalf("M_0 %s (beacon %s), the parent's M_T %s", ct.ModelCommitments[0], ct.BeaconSource, rel.Parent.Model)
	}
	if now, err := os.ReadFile(filepath.Join(parent, run.PublicDir, chain.ReportFile)); err != nil || !bytes.Equal(now, parentReport) {
		t.Fatal("the parent's own chain.json was rewritten")
	}
	var anc chain.Report
	if err := run.ReadJSON(filepath.Join(child, run.PublicDir, "chain-ancestor-1.json"), &anc); err != nil ||
		!anc.Finalized || anc.RunID != sum.ParentRunID || anc.Registry != sum.Registry {
		t.Fatalf("the parent's on-chain report in the child: %+v, %v", anc, err)
	}
	if _, err := stepproof.VerifyLineage([]string{child, parent}, prover.KeyTrust{Dev: true}); err != nil {
		t.Fatal(err)
	}

	// The chain stage again, in a new process: a fresh simulated chain.
	statePath := filepath.Join(child, pipeline.StateFile)
	state, err := pipeline.ReadState(statePath)
	if err != nil {
		t.Fatal(err)
	}
	state.Lookup(pipeline.StageChain).Status = pipeline.Failed
	state.Lookup(pipeline.StageSummary).Status = pipeline.Failed
	if err := pipeline.WriteState(statePath, state); err != nil {
		t.Fatal(err)
	}
	out, err = runPipeline(ctx, t, nil, "--out", child, "--resume", "--keys", keys, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var again pipeline.Summary
	if err := json.Unmarshal([]byte(out), &again); err != nil || again.ParentRunID == "" || !again.Finalized || again.StepsAccepted != again.Steps {
		t.Fatalf("resumed chain stage: %+v, %v", again, err)
	}
}
