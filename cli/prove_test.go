//go:build prover_checks

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/configs"
)

// train -> prove -> verify through the CLI on a small config (two steps,
// small batches, a coarse noise lattice), then a tampered proof fails verify
// with a non-zero exit naming the step.
func TestTrainProveVerify(t *testing.T) {
	base, err := configs.Read("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer("  steps: 30\n", "  steps: 2\n", "  sampling_rate: 0.3\n", "  sampling_rate: 0.01\n",
		"  epsilon: 1\n", "  noise_multiplier: 2\n").Replace(string(base)) + "fixed_point:\n  lattice_bits: 4\n"
	path := filepath.Join(t.TempDir(), "small.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	keys := t.TempDir()
	if _, errs, code := execute(t, "train", "--config", path, "--out", dir, "--seed", "2", "--log-level", "warn"); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	if out, errs, code := execute(t, "prove", "--run", dir, "--keys", keys, "--log-level", "warn"); code != 0 || !strings.Contains(out, "proved 2 steps") {
		t.Fatalf("prove: exit %d %s %s", code, out, errs)
	}
	if out, errs, code := execute(t, "verify", "--run", dir); code != 0 || !strings.Contains(out, "verified 2 step proofs") {
		t.Fatalf("verify: exit %d %s %s", code, out, errs)
	}
	proof := filepath.Join(dir, "public", "proofs", "step-00001.proof")
	b, _ := os.ReadFile(proof)
	b[len(b)/3] ^= 4
	os.WriteFile(proof, b, 0o644)
	if _, errs, code := execute(t, "verify", "--run", dir); code == 0 || !strings.Contains(errs, "step 1") {
		t.Fatalf("a tampered proof passed verify: exit %d %s", code, errs)
	}
}
