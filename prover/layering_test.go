package prover

import (
	"os/exec"
	"strings"
	"testing"
)

// The prover is generic over circuits: it must not pull in the step circuit,
// the trainer, Gorgonia or the CLI.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/zkdp/zkdp/prover").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, d := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/zkdp/zkdp/", "gorgonia.org/"} {
			if strings.HasPrefix(d, bad) && d != "github.com/zkdp/zkdp/prover" {
				t.Errorf("prover depends on %s", d)
			}
		}
	}
}
