//go:build prover_checks

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/pipeline"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/stepproof"
)

// One key cache for the quickstart circuit, shared by the tests here: the
// single-party setup is the slow part and is not what they test.
var (
	keysOnce sync.Once
	keysDir  string
)

func sharedKeys(t *testing.T) string {
	keysOnce.Do(func() {
		var err error
		if keysDir, err = os.MkdirTemp("", "zkdp-pipeline-keys-"); err != nil {
			t.Fatal(err)
		}
	})
	return keysDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if keysDir != "" {
		os.RemoveAll(keysDir)
	}
	os.Exit(code)
}

// quickstartSteps is T of the embedded quickstart config.
func quickstartSteps(t *testing.T) int {
	t.Helper()
	l := config.NewLoader()
	if err := l.ReadFile("quickstart"); err != nil {
		t.Fatal(err)
	}
	cfg, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Training.Steps
}

// runPipeline runs `zkdp pipeline` in process with a progress hook.
func runPipeline(ctx context.Context, t *testing.T, hook func(stage string, done, total int), args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	o := &PipelineOptions{Global: &Global{IO: IO{Out: &out, Err: &errb}, LogLevel: "warn"}, Progress: hook}
	cmd := NewPipelineCmd(o)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		t.Logf("stderr: %s", errb.String())
	}
	return out.String(), err
}

// The quickstart pipeline end to end: every stage finishes, every step is
// proven and verifies from public files, and the summary says so.
func TestPipelineQuickstart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	out, err := runPipeline(context.Background(), t, nil, "--config", "quickstart", "--out", dir, "--keys", sharedKeys(t), "--json")
	if err != nil {
		t.Fatal(err)
	}
	var sum pipeline.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("summary: %v in %q", err, out)
	}
	if sum.Steps != quickstartSteps(t) || sum.StepsVerified != sum.Steps || sum.ProofBytes == 0 || sum.Constraints == 0 ||
		sum.Epsilon <= 0 || sum.Epsilon > 1 || sum.TestAccuracy <= 0.5 {
		t.Fatalf("summary %+v", sum)
	}
	// The registry fixed the beacon after the commitments (audit-ready, the
	// seed being secret); every step, the finalization and both inference
	// proofs were accepted on-chain.
	// Its own keys: the summary says they prove nothing to a third party.
	if !sum.DevKeys || sum.StepKeyTrust != "development" || sum.InferenceKeyTrust != "development" {
		t.Fatalf("summary does not say the keys are development keys: %+v", sum)
	}
	if !sum.AuditReady || sum.BeaconSource != pipeline.BeaconRegistry || sum.StepsAccepted != sum.Steps || !sum.Finalized || len(sum.InferenceCircuits) != 2 {
		t.Fatalf("summary %+v", sum)
	}
	verified := 0
	for _, tx := range sum.Transactions {
		if !tx.Accepted {
			t.Errorf("transaction %s rejected: %s", tx.Name, tx.Reason)
		}
		if strings.HasPrefix(tx.Name, "verifyInference") {
			verified++
		}
	}
	if verified != 2 || sum.Transactions[0].Name != "registerRun" {
		t.Fatalf("transactions %+v", sum.Transactions)
	}
	state, err := pipeline.ReadState(filepath.Join(dir, pipeline.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stageList() {
		if r := state.Lookup(st.Name); r == nil || r.Status != pipeline.Finished || r.Attempts != 1 {
			t.Errorf("stage %s: %+v", st.Name, r)
		}
	}
	if rep, err := stepproof.Verify(dir, prover.KeyTrust{Dev: true}); err != nil || rep.Steps != quickstartSteps(t) {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if _, err := os.Stat(filepath.Join(dir, pipeline.SummaryFile)); err != nil {
		t.Fatal(err)
	}
	// A second run into the same folder needs --resume or --force.
	if _, err := runPipeline(context.Background(), t, nil, "--out", dir, "--keys", sharedKeys(t)); !errors.Is(err, pipeline.ErrRunExists) {
		t.Fatalf("overwrote a finished run: %v", err)
	}
}

// Interrupted after k proofs (the context is cancelled from the progress
// callback, as SIGINT does in the binary), the pipeline fails naming the
// prove stage; --resume then finishes without redoing the k proofs.
func TestPipelineResumesProving(t *testing.T) {
	const k = 3
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hook := func(stage string, done, _ int) {
		if stage == pipeline.StageProve && done == k {
			cancel()
		}
	}
	_, err := runPipeline(ctx, t, hook, "--out", dir, "--keys", sharedKeys(t))
	var se *pipeline.StageError
	if !errors.As(err, &se) || se.Stage != pipeline.StageProve || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("interrupted run: %v", err)
	}
	proofs, _ := filepath.Glob(filepath.Join(dir, "public", "proofs", "step-*.proof"))
	if len(proofs) != k {
		t.Fatalf("%d proofs after the interruption, want %d", len(proofs), k)
	}
	mtimes := map[string]time.Time{}
	for _, p := range proofs {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		mtimes[p] = st.ModTime()
	}

	if _, err := runPipeline(context.Background(), t, nil, "--out", dir, "--resume", "--keys", sharedKeys(t)); err != nil {
		t.Fatal(err)
	}
	state, err := pipeline.ReadState(filepath.Join(dir, pipeline.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stageList() {
		r := state.Lookup(st.Name)
		want := 1
		if st.Name == pipeline.StageProve {
			want = 2
		}
		if r == nil || r.Status != pipeline.Finished || r.Attempts != want {
			t.Errorf("stage %s: %+v", st.Name, r)
		}
	}
	var prove pipeline.ProveResult
	if err := json.Unmarshal(state.Lookup(pipeline.StageProve).Result, &prove); err != nil || prove.Skipped != k || prove.Proven != quickstartSteps(t)-k {
		t.Fatalf("resumed proving %+v %v: want %d kept and %d new", prove, err, k, quickstartSteps(t)-k)
	}
	for p, m := range mtimes {
		if st, err := os.Stat(p); err != nil || !st.ModTime().Equal(m) {
			t.Fatalf("%s was rewritten by the resumed run", p)
		}
	}
	if rep, err := stepproof.Verify(dir, prover.KeyTrust{Dev: true}); err != nil || rep.Steps != quickstartSteps(t) {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func stageList() []pipeline.Stage {
	stages, closeChain := pipeline.Stages()
	closeChain()
	return stages
}
