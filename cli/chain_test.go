package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/run"
)

// The audited path through the CLI on the simulated chain: chain register
// prints the beacon the chain fixed; a run trained with it has exactly the
// params hash, D, S and M_0 that were registered.
func TestChainRegisterThenTrain(t *testing.T) {
	t.Setenv("ZKDP_SEED", "6")
	t.Setenv("ZKDP_TRAINING_STEPS", "2")
	out, errs, code := execute(t, "chain", "register", "--config", "quickstart")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := regexp.MustCompile(`beacon (0x[0-9a-f]{64})\n`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "registerRun") || !strings.Contains(out, "fixBeacon") {
		t.Fatalf("no beacon or gas in %q", out)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, errs, code := execute(t, "train", "--config", "quickstart", "--out", dir, "--beacon", m[1], "--log-level", "warn"); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	var tr run.Transcript
	if err := run.ReadJSON(filepath.Join(dir, "public", run.TranscriptFile), &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Beacon != m[1] {
		t.Fatalf("trained with beacon %s, registered %s", tr.Beacon, m[1])
	}
	for name, want := range map[string]string{"params hash": tr.ParamsHash, "dataset root": tr.DatasetRoot,
		"seed commitment": tr.SeedCommitment, "initial model": tr.ModelCommitments[0]} {
		if !strings.Contains(out, name+" "+want+"\n") {
			t.Errorf("registered %s differs from the trained run's %s:\n%s", name, want, out)
		}
	}
}

// chain register needs the seed now; an RPC chain needs a keystore; a raw
// key in the config is an unknown key.
func TestChainCommandsRejectBadSettings(t *testing.T) {
	if _, errs, code := execute(t, "chain", "register", "--config", "quickstart"); code == 0 || !strings.Contains(errs, "seed") {
		t.Errorf("register without a seed: exit %d %s", code, errs)
	}
	if _, errs, code := execute(t, "chain", "verify", "--run", t.TempDir(), "--rpc", "http://127.0.0.1:1"); code == 0 || !strings.Contains(errs, "chain.keystore") {
		t.Errorf("rpc without a keystore: exit %d %s", code, errs)
	}
	t.Setenv("ZKDP_CHAIN_REGISTRY", "0x1234")
	if _, errs, code := execute(t, "chain", "verify", "--run", t.TempDir()); code == 0 || !strings.Contains(errs, "chain.registry") {
		t.Errorf("a bad registry address: exit %d %s", code, errs)
	}
}
