package fleet

import (
	"os/exec"
	"strings"
	"testing"
)

// The fleet sits on the provers (prover, stepproof): it must not pull in the
// chain, the pipeline, the CLI, the trainer, Gorgonia or go-ethereum.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/zkdp/zkdp/fleet").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, d := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/zkdp/zkdp/chain", "github.com/zkdp/zkdp/pipeline", "github.com/zkdp/zkdp/cli",
			"github.com/zkdp/zkdp/config", "github.com/zkdp/zkdp/trainer", "gorgonia.org/", "github.com/ethereum/go-ethereum"} {
			if strings.HasPrefix(d, bad) {
				t.Errorf("fleet depends on %s", d)
			}
		}
	}
}
