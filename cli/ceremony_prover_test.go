//go:build ceremony_checks

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A whole ceremony for the step circuit of a small run (51k constraints,
// domain 2^16), through the CLI. It takes about 25 minutes on 2 cores
// (gnark's phase-2 initialisation runs twice, mostly on one core), so it has
// its own tier, outside `make test`:
//
//	go test -tags ceremony_checks -timeout 60m -run TestCeremonyProveVerify ./cli/
//
// The ceremony package's default-tier tests run the same protocol at N=256.
// a run proven with single-party keys fails
// `verify --ceremony`; proven with the ceremony's keys it passes. It logs the
// time of each command. (Tampered transcripts: the ceremony package's tests.)
func TestCeremonyProveVerify(t *testing.T) {
	for k, v := range map[string]string{"ZKDP_TRAINING_STEPS": "2", "ZKDP_TRAINING_SAMPLING_RATE": "0.002",
		"ZKDP_TRAINING_EPSILON": "0", "ZKDP_TRAINING_NOISE_MULTIPLIER": "2", "ZKDP_FIXED_POINT_LATTICE_BITS": "4"} {
		t.Setenv(k, v)
	}
	tmp := t.TempDir()
	dir, cer, keys := filepath.Join(tmp, "run"), filepath.Join(tmp, "cer"), filepath.Join(tmp, "keys")
	run := func(want int, args ...string) string {
		t.Helper()
		start := time.Now()
		out, errs, code := execute(t, append(args, "--log-level", "warn")...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d: %s %s", args, code, want, out, errs)
		}
		t.Logf("%6.1f s  zkdp %s", time.Since(start).Seconds(), strings.Join(args, " "))
		return out + errs
	}
	run(0, "train", "--config", "quickstart", "--out", dir, "--seed", "2")
	run(0, "prove", "--run", dir, "--keys", keys) // single-party keys

	run(0, "ceremony", "init", "--phase", "1", "--dir", cer, "--run", dir)
	run(0, "ceremony", "contribute", "--phase", "1", "--dir", cer)
	run(0, "ceremony", "contribute", "--phase", "1", "--dir", cer)
	run(0, "ceremony", "seal", "--phase", "1", "--dir", cer, "--beacon", "0x5eed01")
	// The config's circuit is the run's: phase 2 may start from either.
	run(0, "ceremony", "init", "--phase", "2", "--dir", cer, "--config", "quickstart")
	run(0, "ceremony", "contribute", "--phase", "2", "--dir", cer)
	run(0, "ceremony", "contribute", "--phase", "2", "--dir", cer)
	run(0, "ceremony", "seal", "--phase", "2", "--dir", cer, "--run", dir, "--beacon", "0x5eed02")

	if out := run(1, "verify", "--run", dir, "--ceremony", cer, "--only", "steps", "--allow-self-drawn-beacon"); !strings.Contains(out, "step.vk") || !strings.Contains(out, "not the verifying key derived") {
		t.Fatalf("verify --ceremony accepted a run proven with single-party keys: %s", out)
	}
	run(0, "prove", "--run", dir, "--ceremony", cer)
	info, err := os.ReadFile(filepath.Join(dir, "public", "circuit.json"))
	if err != nil || !strings.Contains(string(info), "multi-party ceremony (2 phase-1 and 2 phase-2 contributions") {
		t.Errorf("circuit.json does not name the ceremony: %s %v", info, err)
	}
	vk, _ := os.ReadFile(filepath.Join(dir, "public", "step.vk"))
	sealed, _ := os.ReadFile(filepath.Join(cer, "phase2", "keys.vk"))
	if len(vk) == 0 || string(vk) != string(sealed) {
		t.Error("public/step.vk is not the ceremony's keys.vk")
	}
	out := run(0, "verify", "--run", dir, "--ceremony", cer, "--only", "steps", "--allow-self-drawn-beacon")
	if !strings.Contains(out, "verified 2 step proofs") || !strings.Contains(out, "verifying key derived from the ceremony") || !strings.Contains(out, "beacons 5eed01 and 5eed02") {
		t.Errorf("verify --ceremony: %s", out)
	}
	if out := run(1, "verify", "--run", dir, "--only", "steps", "--allow-self-drawn-beacon"); !strings.Contains(out, "no trusted key") {
		t.Errorf("verify without --ceremony: %s", out)
	}
	if out := run(1, "verify", "--run", dir, "--ceremony", cer, "--phase2-beacon", "0x5eed03", "--only", "steps", "--allow-self-drawn-beacon"); !strings.Contains(out, "wrong beacon") {
		t.Errorf("verify with another beacon: %s", out)
	}
}
