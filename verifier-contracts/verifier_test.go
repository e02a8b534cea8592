package verifiercontracts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/std/rangecheck"

	"github.com/zkdp/zkdp/circuits/inference"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/internal/golden"
)

// stepShaped has the step circuit's public inputs (run commitment, t, M_t,
// M_t+1) and, through a range check, its one Pedersen commitment: the two
// things the exported verifier's code depends on besides the key's points.
type stepShaped struct {
	RunCommitment, Step, ModelBefore, ModelAfter frontend.Variable `gnark:",public"`
	Delta                                        frontend.Variable
}

func (c *stepShaped) Define(api frontend.API) error {
	api.AssertIsEqual(c.ModelAfter, api.Add(c.ModelBefore, c.Delta, c.RunCommitment))
	rangecheck.New(api).Check(c.Step, 32)
	return nil
}

// goldenCircuits are exported from verifying keys kept in testdata (a setup
// is random, so the key is fixed once and the exporter's output compared).
func goldenCircuits(t *testing.T) map[string]frontend.Circuit {
	inf, err := inference.New(inference.Spec{Widths: []int{4, 3}, Format: fixedpoint.DefaultFormat(), Batch: 1,
		Binding: inference.Committed, Visibility: inference.Hashed})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]frontend.Circuit{"step-shaped": &stepShaped{}, "inference-4-3-committed-hashed": inf}
}

// The exported verifiers are golden files: a change of gnark's template or
// of a circuit's public inputs shows up in review. Each compiles with the
// pinned solc and fits EIP-170.
func TestVerifierGolden(t *testing.T) {
	for name, c := range goldenCircuits(t) {
		vkPath := filepath.Join("testdata", name+".vk")
		vk := groth16.NewVerifyingKey(ecc.BN254)
		raw, err := os.ReadFile(vkPath)
		switch {
		case errors.Is(err, os.ErrNotExist) && golden.Update():
			ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
			if err != nil {
				t.Fatal(err)
			}
			if _, vk, err = groth16.Setup(ccs); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := vk.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(vkPath, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		case err != nil:
			t.Fatalf("%v (create it with -update)", err)
		default:
			if _, err := vk.ReadFrom(bytes.NewReader(raw)); err != nil {
				t.Fatal(err)
			}
		}
		src, contract, err := CompileVerifier(context.Background(), vk)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", name+".sol"), src)
		if n := len(contract.Runtime); n == 0 || n > MaxCodeSize {
			t.Errorf("%s: %d bytes of runtime code (limit %d)", name, n, MaxCodeSize)
		}
		var abi []struct{ Name string }
		if err := json.Unmarshal(contract.ABI, &abi); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range abi {
			found = found || e.Name == "verifyProof"
		}
		if !found {
			t.Errorf("%s: no verifyProof in the ABI", name)
		}
		t.Logf("%s: %d bytes of runtime code", name, len(contract.Runtime))
	}
}
