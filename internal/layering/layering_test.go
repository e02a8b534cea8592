// Package layering guards the direction of dependencies: data flows from
// datasets to the chain, and lower layers never import upper ones.
package layering

import (
	"os/exec"
	"strings"
	"testing"
)

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "github.com/zkdp/zkdp/"+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestLayering(t *testing.T) {
	forbidden := map[string][]string{
		// The arithmetic, commitments, sampling and data know nothing of
		// Gorgonia, the EVM or the CLI.
		"commit":     {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer", "github.com/zkdp/zkdp/cli"},
		"fixedpoint": {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer", "github.com/zkdp/zkdp/data"},
		"dp":         {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer", "github.com/zkdp/zkdp/data"},
		"data":       {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer", "github.com/zkdp/zkdp/dp"},
		"run":        {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer"},
		// Circuits replay the arithmetic; they know nothing of Gorgonia or the EVM.
		"circuits/arith":      {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer", "github.com/zkdp/zkdp/data"},
		"circuits/commitment": {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer", "github.com/zkdp/zkdp/data"},
		"circuits/sampling":   {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer", "github.com/zkdp/zkdp/data"},
		"circuits/inference":  {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer", "github.com/zkdp/zkdp/data"},
		"circuits/step":       {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer", "github.com/zkdp/zkdp/data"},
		// Proving and verifying a run needs no Gorgonia and no trainer.
		"prover":    {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer", "github.com/zkdp/zkdp/circuits", "github.com/zkdp/zkdp/run"},
		"stepproof": {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer"},
		// The ceremony is files and checks over the prover: no chain, CLI or trainer.
		"ceremony": {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/trainer", "github.com/zkdp/zkdp/chain", "github.com/zkdp/zkdp/cli"},
		// The contracts (Solidity, its generation and compilation) know
		// nothing of the chain that runs them; the chain knows nothing of the CLI.
		"verifier-contracts": {"gorgonia.org/", "github.com/ethereum/", "github.com/zkdp/zkdp/chain", "github.com/zkdp/zkdp/trainer", "github.com/zkdp/zkdp/cli"},
		"chain":              {"github.com/zkdp/zkdp/cli"},
		// The trainer uses no proof-system backend.
		"trainer": {"github.com/consensys/gnark/backend", "github.com/ethereum/", "github.com/zkdp/zkdp/cli"},
	}
	for pkg, bad := range forbidden {
		for _, d := range deps(t, pkg) {
			for _, prefix := range bad {
				if strings.HasPrefix(d, prefix) {
					t.Errorf("%s depends on %s", pkg, d)
				}
			}
		}
	}
}
