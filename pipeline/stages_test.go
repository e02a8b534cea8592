package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/internal/testrun"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/trainer"
)

// The stages before proving, in protocol order: S, D and the params hash
// are published with no beacon (and no M_0, which derives from it); the
// registry (on the simulated chain) records them with T and fixes the
// beacon; training uses the committed seed (S unchanged) and that beacon and
// starts from the public W_0; epsilon is recomputed from public files.
func TestProtocolOrderBeforeProving(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	s := open(t, OpenOptions{Dir: dir, ConfigName: "quickstart"})
	// The register stage sets up the step circuit's keys (to bind the run to
	// its verifier's code): a small circuit keeps that to seconds.
	s.Config.Training.Steps, s.Config.Training.SamplingRate, s.Config.FixedPoint.LatticeBits = 2, 0.002, 4
	s.Keys = &prover.KeyCache{Dir: t.TempDir()}
	stages, closeChain := Stages()
	defer closeChain()
	ctx := context.Background()
	if err := Run(ctx, s, stages[:1]); err != nil {
		t.Fatal(err)
	}
	published, err := readTranscript(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if published.Beacon != "" || published.SeedCommitment == "" || published.DatasetRoot == "" || published.ParamsHash == "" ||
		len(published.ModelCommitments) != 0 {
		t.Fatalf("published before the beacon: %+v", published)
	}
	if _, err := os.Stat(s.Dir.Path(run.ReportFile)); !os.IsNotExist(err) {
		t.Fatal("the commit stage trained")
	}
	for _, name := range []string{run.SecretFile, run.DataSourceFile} {
		if st, err := os.Stat(s.Dir.Private(name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// Rerunning the commit stage (as after a crash) keeps the seed, hence S.
	s.File.Lookup(StageCommit).Status = Running
	if err := Run(ctx, s, stages[:1]); err != nil {
		t.Fatal(err)
	}
	if again, _ := readTranscript(s.Dir); again.SeedCommitment != published.SeedCommitment {
		t.Fatal("a rerun of the commit stage drew another seed")
	}

	if err := Run(ctx, s, stages[:4]); err != nil {
		t.Fatal(err)
	}
	final, err := readTranscript(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if final.SeedCommitment != published.SeedCommitment || final.DatasetRoot != published.DatasetRoot ||
		final.ParamsHash != published.ParamsHash {
		t.Fatalf("training changed the published commitments: %+v vs %+v", final, published)
	}
	// Audit-ready: the registry fixed the beacon after S, and the seed is secret.
	if final.Beacon == "" || final.BeaconSource != BeaconRegistry || !final.AuditReady ||
		len(final.ModelCommitments) != s.Config.Training.Steps+1 {
		t.Fatalf("transcript %+v", final)
	}
	var reg RegisterResult
	if ok, err := s.Result(StageRegister, &reg); !ok || err != nil || reg.Beacon != final.Beacon || reg.RunID == "" ||
		len(reg.Transactions) != 2 || !reg.Transactions[1].Accepted || reg.Transactions[1].Name != "fixBeacon" {
		t.Fatalf("register record %+v %v", reg, err)
	}
	var rep trainer.Report
	if err := run.ReadJSON(s.Dir.Path(run.ReportFile), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.AuditReady || rep.SeedCommitment != published.SeedCommitment {
		t.Fatalf("report %+v", rep)
	}
	var g dp.RunPrivacy
	if ok, err := s.Result(StagePrivacy, &g); !ok || err != nil || g.Epsilon != rep.Epsilon || g.Epsilon > s.Config.Training.Epsilon {
		t.Fatalf("privacy record %+v %v", g, err)
	}
	// Nothing private outside private/ (pipeline.json included).
	testrun.AssertNothingPrivate(t, s.Dir.Root)
	// The register stage keeps a beacon already fixed.
	s.File.Lookup(StageRegister).Status = Failed
	if err := Run(ctx, s, stages[:2]); err != nil {
		t.Fatal(err)
	}
	if again, _ := readTranscript(s.Dir); again.Beacon != final.Beacon {
		t.Fatal("the register stage fixed a second beacon")
	}
	// The verify stage checks the transcript's beacon against the one the
	// registry fixed before it reads any proof: the honest transcript passes
	// that check (and fails on the missing proofs), another beacon does not.
	if err := verifyStage(ctx, s); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("verify stage before proving: %v, want a missing proof file", err)
	}
	forged := final
	forged.Beacon = commit.Hex(commit.FromInt64(7))
	if err := run.WriteJSON(s.Dir.Public(run.TranscriptFile), forged, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	if err := verifyStage(ctx, s); !errors.Is(err, run.ErrBeaconMismatch) {
		t.Fatalf("verify stage with another beacon: %v", err)
	}
}

// The pipeline fixes the beacon itself, after S: a config beacon is refused.
func TestCommitRefusesConfigBeacon(t *testing.T) {
	s := open(t, OpenOptions{Dir: filepath.Join(t.TempDir(), "run")})
	s.Config.Beacon = "0x01"
	stages, closeChain := Stages()
	defer closeChain()
	if err := Run(context.Background(), s, stages); !errors.Is(err, ErrBeaconInConfig) || !errors.Is(err, ErrStage) {
		t.Fatalf("got %v", err)
	}
}
