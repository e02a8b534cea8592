package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/prover"
)

// Phase 1 through the CLI at a tiny size (phase 2 needs a step circuit; see
// ceremony_prover_test.go, behind the prover_checks tag): contributions,
// the seal, its verification, and the refusals a participant may meet.
func TestCeremonyPhase1CLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cer")
	run := func(want int, args ...string) string {
		t.Helper()
		out, errs, code := execute(t, append(args, "--log-level", "warn")...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d: %s %s", args, code, want, out, errs)
		}
		return out + errs
	}
	run(0, "ceremony", "init", "--phase", "1", "--dir", dir, "--power", "4")
	if out := run(1, "ceremony", "init", "--phase", "1", "--dir", dir, "--power", "4"); !strings.Contains(out, "already started") {
		t.Errorf("a second init: %s", out)
	}
	if out := run(1, "ceremony", "seal", "--phase", "1", "--dir", dir, "--beacon", "0x01"); !strings.Contains(out, "no contribution") {
		t.Errorf("a seal without contributions: %s", out)
	}
	for i, want := range []string{"0001.ph1 sha256 ", "0002.ph1 sha256 "} {
		if out := run(0, "ceremony", "contribute", "--phase", "1", "--dir", dir); !strings.Contains(out, want) {
			t.Errorf("contribution %d: %s", i+1, out)
		}
	}
	if out := run(1, "ceremony", "seal", "--phase", "1", "--dir", dir, "--beacon", "not hex"); !strings.Contains(out, "--beacon") {
		t.Errorf("a bad beacon: %s", out)
	}
	if out := run(0, "ceremony", "seal", "--phase", "1", "--dir", dir, "--beacon", "0xc0ffee"); !strings.Contains(out, "2 contributions verified, domain 16") {
		t.Errorf("seal: %s", out)
	}
	if out := run(1, "ceremony", "contribute", "--phase", "1", "--dir", dir); !strings.Contains(out, "already sealed") {
		t.Errorf("a contribution after the seal: %s", out)
	}
	if out := run(0, "ceremony", "verify", "--dir", dir, "--phase1-beacon", "c0ffee"); !strings.Contains(out, "phase 1 of "+dir+" verified: 2 contributions") {
		t.Errorf("verify: %s", out)
	}
	if out := run(1, "ceremony", "verify", "--dir", dir, "--phase1-beacon", "0xbad0"); !strings.Contains(out, "wrong beacon") {
		t.Errorf("verify with another beacon: %s", out)
	}
	if out := run(1, "ceremony", "contribute", "--phase", "3", "--dir", dir); !strings.Contains(out, "--phase 3") {
		t.Errorf("phase 3: %s", out)
	}
	if out := run(1, "ceremony", "init", "--phase", "2", "--dir", dir); !strings.Contains(out, "--config or --run") {
		t.Errorf("phase 2 without a circuit: %s", out)
	}
}

// ceremony verify --pin records a circuit's key in a trusted-keys file:
// created, extended, and a circuit pinned again replaces its old pin.
func TestPinKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "trusted-keys.json")
	h := func(c string) string { return strings.Repeat(c, 64) }
	for _, pin := range []prover.PinnedKey{{Circuit: "step/a", CircuitHash: h("a"), VKSHA256: h("1")},
		{Circuit: "step/b", CircuitHash: h("b"), VKSHA256: h("2")}, {Circuit: "step/a", CircuitHash: h("a"), VKSHA256: h("3")}} {
		if err := pinKey(file, pin); err != nil {
			t.Fatal(err)
		}
	}
	pins, err := prover.ReadPinnedKeys(file)
	if err != nil || len(pins.Keys) != 2 || !pins.Has(h("a")) || !pins.Has(h("b")) {
		t.Fatalf("%+v, %v", pins, err)
	}
	for _, k := range pins.Keys {
		if k.CircuitHash == h("a") && k.VKSHA256 != h("3") {
			t.Errorf("the re-pinned circuit kept its old key: %+v", k)
		}
	}
}

// A ceremony for an inference circuit of a run's released model, through
// the CLI (issue #12, point 2): infer --prove --ceremony proves with its
// keys; verify accepts them derived from the transcript
// (--inference-ceremony) or pinned (ceremony verify --pin), and refuses them
// otherwise; a claim proven with single-party keys beside it still needs
// --dev-keys.
func TestInferenceCeremonyCLI(t *testing.T) {
	tmp := t.TempDir()
	dir, cer, pins := filepath.Join(tmp, "run"), filepath.Join(tmp, "cer"), filepath.Join(tmp, "trusted-keys.json")
	run := func(want int, args ...string) string {
		t.Helper()
		out, errs, code := execute(t, append(args, "--log-level", "warn")...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d: %s %s", args, code, want, out, errs)
		}
		return out + errs
	}
	const circuit = "committed-hashed-b1"
	run(0, "train", "--config", "quickstart", "--out", dir, "--seed", "1")
	run(0, "ceremony", "init", "--phase", "1", "--dir", cer, "--run", dir, "--inference", circuit)
	run(0, "ceremony", "contribute", "--phase", "1", "--dir", cer)
	run(0, "ceremony", "seal", "--phase", "1", "--dir", cer, "--beacon", "0x01")
	run(0, "ceremony", "init", "--phase", "2", "--dir", cer, "--run", dir, "--inference", circuit)
	run(0, "ceremony", "contribute", "--phase", "2", "--dir", cer)
	run(0, "ceremony", "seal", "--phase", "2", "--dir", cer, "--run", dir, "--inference", circuit, "--beacon", "0x02")
	if out := run(0, "infer", "--run", dir, "--row", "0", "--prove", "--model-binding", "committed", "--ceremony", cer); !strings.Contains(out, "multi-party ceremony") {
		t.Fatalf("infer --ceremony: %s", out)
	}

	if out := run(1, "verify", "--run", dir, "--allow-self-drawn-beacon", "--only", "inference"); !strings.Contains(out, "no trusted key") {
		t.Errorf("verify without a trusted key: %s", out)
	}
	if out := run(0, "verify", "--run", dir, "--allow-self-drawn-beacon", "--only", "inference", "--inference-ceremony", cer); !strings.Contains(out, "derived from the ceremonies "+cer) || strings.Contains(out, "DEVELOPMENT") {
		t.Errorf("verify --inference-ceremony: %s", out)
	}
	run(0, "ceremony", "verify", "--dir", cer, "--run", dir, "--inference", circuit, "--pin", pins)
	if out := run(0, "verify", "--run", dir, "--allow-self-drawn-beacon", "--only", "inference", "--trusted-keys", pins); !strings.Contains(out, "pinned in "+pins) {
		t.Errorf("verify --trusted-keys: %s", out)
	}

	// A second claim, proven with single-party keys.
	run(0, "infer", "--run", dir, "--row", "1", "--prove", "--model-binding", "fixed", "--keys", filepath.Join(tmp, "keys"))
	if out := run(1, "verify", "--run", dir, "--allow-self-drawn-beacon", "--only", "inference", "--inference-ceremony", cer); !strings.Contains(out, "no trusted key") {
		t.Errorf("a single-party key beside the ceremony's: %s", out)
	}
	if out := run(0, "verify", "--run", dir, "--allow-self-drawn-beacon", "--only", "inference", "--inference-ceremony", cer, "--dev-keys"); !strings.Contains(out, "verified 2 inference proofs") || !strings.Contains(out, prover.DevWarning) {
		t.Errorf("verify --inference-ceremony --dev-keys: %s", out)
	}
}
