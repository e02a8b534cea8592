//go:build prover_checks

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// train -> prove -> verify through the CLI on a small config (two steps,
// small batches, a coarse noise lattice), then a tampered proof fails verify
// with a non-zero exit naming the step.
func TestTrainProveVerify(t *testing.T) {
	// Smaller than the quickstart, through the environment as a user would.
	for k, v := range map[string]string{"ZKDP_TRAINING_STEPS": "2", "ZKDP_TRAINING_SAMPLING_RATE": "0.01",
		"ZKDP_TRAINING_EPSILON": "0", "ZKDP_TRAINING_NOISE_MULTIPLIER": "2", "ZKDP_FIXED_POINT_LATTICE_BITS": "4"} {
		t.Setenv(k, v)
	}
	path := "quickstart"
	dir := filepath.Join(t.TempDir(), "run")
	keys := t.TempDir()
	if _, errs, code := execute(t, "train", "--config", path, "--out", dir, "--seed", "2", "--log-level", "warn"); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	if out, errs, code := execute(t, "prove", "--run", dir, "--keys", keys, "--log-level", "warn"); code != 0 || !strings.Contains(out, "proved 2 steps") {
		t.Fatalf("prove: exit %d %s %s", code, out, errs)
	}
	if out, errs, code := execute(t, "infer", "--run", dir, "--row", "0,3", "--prove", "--model-binding", "committed", "--keys", keys, "--log-level", "warn"); code != 0 || !strings.Contains(out, "proved 2 inference(s) with circuit committed-hashed-b2") {
		t.Fatalf("infer: exit %d %s %s", code, out, errs)
	}
	if out, errs, code := execute(t, "verify", "--run", dir, "--allow-self-drawn-beacon"); code != 0 || !strings.Contains(out, "verified 2 step proofs") || !strings.Contains(out, "verified 1 inference proofs") || !strings.Contains(out, "chosen by the prover") {
		t.Fatalf("verify: exit %d %s %s", code, out, errs)
	}
	// On-chain: the exported verifiers and calldata, then the whole run
	// through the registry on the simulated chain.
	exp := t.TempDir()
	if out, errs, code := execute(t, "export-verifier", "--run", dir, "--out", exp); code != 0 {
		t.Fatalf("export-verifier: exit %d %s %s", code, out, errs)
	}
	for _, f := range []string{"step.sol", "step.abi.json", "step.bin", "step-00000.calldata.hex", "step-00001.calldata.hex"} {
		if st, err := os.Stat(filepath.Join(exp, f)); err != nil || st.Size() == 0 {
			t.Errorf("export-verifier: %s: %v", f, err)
		}
	}
	out, errs, code := execute(t, "chain", "verify", "--run", dir)
	if code != 0 || !strings.Contains(out, "2/2 steps accepted, finalized true") || !strings.Contains(out, "submitStep 1") ||
		!strings.Contains(out, "runs registered on this dataset: 1 (each counts toward its privacy budget)") {
		t.Fatalf("chain verify: exit %d %s %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "public", "chain.json")); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out)
	proof := filepath.Join(dir, "public", "proofs", "step-00001.proof")
	b, _ := os.ReadFile(proof)
	b[len(b)/3] ^= 4
	os.WriteFile(proof, b, 0o644)
	if _, errs, code := execute(t, "verify", "--run", dir, "--allow-self-drawn-beacon"); code == 0 || !strings.Contains(errs, "step 1") {
		t.Fatalf("a tampered proof passed verify: exit %d %s", code, errs)
	}
}
