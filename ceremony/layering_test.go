package ceremony

import (
	"os/exec"
	"strings"
	"testing"
)

// The ceremony is a library over prover: it must not pull in the CLI, the
// chain (go-ethereum) or the trainer.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/zkdp/zkdp/ceremony").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, d := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/zkdp/zkdp/cli", "github.com/zkdp/zkdp/chain", "github.com/zkdp/zkdp/trainer",
			"github.com/ethereum/go-ethereum", "gorgonia.org/"} {
			if strings.HasPrefix(d, bad) {
				t.Errorf("ceremony depends on %s", d)
			}
		}
	}
}
