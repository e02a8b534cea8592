//go:build prover_checks

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
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
	if out, errs, code := execute(t, "verify", "--run", dir, "--allow-self-drawn-beacon", "--dev-keys"); code != 0 || !strings.Contains(out, "verified 2 step proofs") || !strings.Contains(out, "verified 1 inference proofs") || !strings.Contains(out, "chosen by the prover") {
		t.Fatalf("verify: exit %d %s %s", code, out, errs)
	}
	checkKeyTrust(t, dir)
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
	out, errs, code := execute(t, "chain", "verify", "--run", dir, "--dev-keys")
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
	if _, errs, code := execute(t, "verify", "--run", dir, "--allow-self-drawn-beacon", "--dev-keys"); code == 0 || !strings.Contains(errs, "step 1") {
		t.Fatalf("a tampered proof passed verify: exit %d %s", code, errs)
	}
}

// checkKeyTrust verifies a run proven with single-party keys (issue #12,
// point 2): refused without a trusted key; accepted with --dev-keys, every
// success line saying it proves nothing to a third party; accepted with the
// keys pinned in a trusted-keys file; refused with a wrong pin.
func checkKeyTrust(t *testing.T, dir string) {
	t.Helper()
	if out, errs, code := execute(t, "verify", "--run", dir, "--allow-self-drawn-beacon"); code == 0 || !strings.Contains(errs, "no trusted key") {
		t.Fatalf("verify of development keys without --dev-keys: exit %d %s %s", code, out, errs)
	}
	out, errs, code := execute(t, "verify", "--run", dir, "--allow-self-drawn-beacon", "--dev-keys")
	if code != 0 || !strings.Contains(out, "verified 2 step proofs") || !strings.Contains(out, "verified 1 inference proofs") {
		t.Fatalf("verify --dev-keys: exit %d %s %s", code, out, errs)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasSuffix(line, prover.DevWarning) {
			t.Errorf("verify --dev-keys: a success line without the warning: %q", line)
		}
	}
	var step stepproof.CircuitInfo
	var claim inferproof.Claim
	claims, _ := filepath.Glob(filepath.Join(dir, "public", "inference", "infer-[0-9][0-9][0-9][0-9][0-9].json"))
	if len(claims) != 1 || run.ReadJSON(filepath.Join(dir, "public", "circuit.json"), &step) != nil || run.ReadJSON(claims[0], &claim) != nil {
		t.Fatalf("reading the circuits: %v", claims)
	}
	pin := func(name, hash, vk string) prover.PinnedKey {
		p, err := prover.Pin(name, hash, vk)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pinned := prover.PinnedKeys{Keys: []prover.PinnedKey{pin("step", step.Hash, filepath.Join(dir, "public", "step.vk")),
		pin(claim.Circuit, claim.CircuitHash, filepath.Join(dir, "public", "inference", claim.VerifyingKey))}}
	file := filepath.Join(t.TempDir(), "trusted-keys.json")
	if err := run.WriteJSON(file, pinned, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := execute(t, "verify", "--run", dir, "--allow-self-drawn-beacon", "--trusted-keys", file); code != 0 || strings.Count(out, "pinned in "+file) != 2 || strings.Contains(out, "DEVELOPMENT") {
		t.Fatalf("verify --trusted-keys: exit %d %s %s", code, out, errs)
	}
	pinned.Keys[0].VKSHA256 = strings.Repeat("0", 64)
	if err := run.WriteJSON(file, pinned, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := execute(t, "verify", "--run", dir, "--allow-self-drawn-beacon", "--trusted-keys", file, "--dev-keys"); code == 0 || !strings.Contains(errs, "pins "+strings.Repeat("0", 64)) {
		t.Fatalf("verify with a wrong pin: exit %d %s %s", code, out, errs)
	}
}
