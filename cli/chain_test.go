package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/run"
)

// The audited path through the CLI on the simulated chain: chain register
// prints the beacon the chain fixed; a run trained with it has exactly the
// params hash, D, S and T that were registered, and starts from the public
// W_0 of the params and that beacon; the output counts the dataset's runs. Either the config fixes a
// (public) seed, or register draws a secret one and keeps it in --out for
// zkdp train --out.
func TestChainRegisterThenTrain(t *testing.T) {
	// Registration sets up the step circuit's keys (the run is bound to its
	// verifier's code): a small circuit, keys shared by both cases.
	keys := t.TempDir()
	for _, secret := range []bool{false, true} {
		t.Run(map[bool]string{false: "config seed", true: "secret seed kept in --out"}[secret], func(t *testing.T) {
			for k, v := range map[string]string{"ZKDP_TRAINING_STEPS": "2", "ZKDP_TRAINING_SAMPLING_RATE": "0.002", "ZKDP_FIXED_POINT_LATTICE_BITS": "4"} {
				t.Setenv(k, v)
			}
			dir := filepath.Join(t.TempDir(), "run")
			args := []string{"chain", "register", "--config", "quickstart", "--keys", keys}
			if secret {
				args = append(args, "--out", dir)
			} else {
				t.Setenv("ZKDP_SEED", "6")
			}
			out, errs, code := execute(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			m := regexp.MustCompile(`beacon (0x[0-9a-f]{64})\n`).FindStringSubmatch(out)
			if m == nil || !strings.Contains(out, "registerRun") || !strings.Contains(out, "fixBeacon") || !strings.Contains(out, "step verifier code hash 0x") {
				t.Fatalf("no beacon or gas in %q", out)
			}
			if secret {
				if !strings.Contains(out, "zkdp train --config quickstart --out "+dir+" --beacon") {
					t.Errorf("register does not say how to train: %q", out)
				}
				if st, err := os.Stat(filepath.Join(dir, run.PrivateDir, run.SecretFile)); err != nil || st.Mode().Perm() != 0o600 {
					t.Fatalf("the secret seed is not kept 0600 in %s: %v", dir, err)
				}
			}
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
				"seed commitment": tr.SeedCommitment, "steps": "2", "runs registered on this dataset:": "1 (each counts toward its privacy budget)"} {
				if !strings.Contains(out, name+" "+want+"\n") {
					t.Errorf("registered %s differs from the trained run's %s:\n%s", name, want, out)
				}
			}
			if secret && !tr.AuditReady {
				t.Error("a run with a secret seed and the registry's beacon is not audit-ready")
			}
		})
	}
}

// Seeds kept for one dataset are not silently reused for another.
func TestTrainRejectsSeedsOfAnotherDataset(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, errs, code := execute(t, "chain", "register", "--config", "quickstart", "--out", dir); code != 0 {
		t.Fatalf("register: %s", errs)
	}
	_, errs, code := execute(t, "train", "--config", "digits", "--out", dir, "--log-level", "warn")
	if code == 0 || !strings.Contains(errs, "another dataset") || !strings.Contains(errs, run.DataSourceFile) {
		t.Fatalf("train over another dataset's seeds: exit %d %s", code, errs)
	}
}

// chain register needs a seed or --out to keep it; an RPC chain needs a keystore; a raw
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

// chain register --from on the simulated chain: the chain starts empty, so
// the released run cannot be the registered run's parent there; the error
// says so and names what to do. A --from that is no released run, or
// --disjoint-rows alone, is refused before anything is written.
func TestChainRegisterFromNeedsItsParentOnChain(t *testing.T) {
	for k, v := range map[string]string{"ZKDP_TRAINING_STEPS": "2", "ZKDP_TRAINING_SAMPLING_RATE": "0.002", "ZKDP_FIXED_POINT_LATTICE_BITS": "4"} {
		t.Setenv(k, v)
	}
	parent := filepath.Join(t.TempDir(), "parent")
	if _, errs, code := execute(t, "train", "--config", "quickstart", "--out", parent, "--seed", "4", "--log-level", "warn"); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	keys := t.TempDir()
	child := filepath.Join(t.TempDir(), "child")
	_, errs, code := execute(t, "chain", "register", "--config", "quickstart", "--keys", keys, "--out", child, "--from", parent)
	for _, want := range []string{"not finalized in this registry", "simulated chain starts empty", "zkdp chain verify --run " + parent, "zkdp pipeline --from"} {
		if code == 0 || !strings.Contains(errs, want) {
			t.Errorf("exit %d, %q does not say %q", code, errs, want)
		}
	}
	if entries, _ := os.ReadDir(keys); len(entries) != 0 {
		t.Errorf("the key setup ran before the parent was checked: %d files", len(entries))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", t.TempDir()}, "--from"},
		{[]string{"--disjoint-rows"}, "--disjoint-rows needs --from"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		_, errs, code := execute(t, append([]string{"chain", "register", "--config", "quickstart", "--keys", keys, "--out", out}, tc.args...)...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q", tc.args, code, errs)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: %s was created", tc.args, out)
		}
	}
}
