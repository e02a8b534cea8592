package cli

import (
	"path/filepath"
	"strings"
	"testing"
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
