package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/solidity"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/zkdp/zkdp/circuits/inference"
	"github.com/zkdp/zkdp/prover"
)

type keys struct {
	ccs constraint.ConstraintSystem
	pk  groth16.ProvingKey
	vk  groth16.VerifyingKey
}

func setup(t *testing.T, c frontend.Circuit) keys {
	t.Helper()
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
	if err != nil {
		t.Fatal(err)
	}
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	return keys{ccs, pk, vk}
}

func setupInference(t *testing.T, spec inference.Spec) keys {
	t.Helper()
	c, err := inference.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return setup(t, c)
}

// prove makes a Solidity-mode proof and returns its calldata form.
func (k keys) prove(t *testing.T, assignment frontend.Circuit) (groth16.Proof, []byte, []*big.Int) {
	t.Helper()
	w, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	proof, err := groth16.Prove(k.ccs, k.pk, w, solidity.WithProverTargetSolidityVerifier(backend.GROTH16))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := SolidityProof(proof)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := w.Public()
	var in []*big.Int
	for _, e := range pub.Vector().(fr.Vector) {
		in = append(in, Big(e))
	}
	return proof, raw, in
}

// writeInference proves one inference of weights on x and writes the proof
// and its public witness in package prover's formats.
func (k keys) writeInference(t *testing.T, dir, name string, spec inference.Spec, weights, x []int64) (proofPath, publicPath string) {
	t.Helper()
	salt, err := inference.NewSalt()
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := inference.Assign(spec, weights, [][]int64{x}, []fr.Element{salt})
	if err != nil {
		t.Fatal(err)
	}
	proof, _, _ := k.prove(t, a)
	pw, err := frontend.NewWitness(a, ecc.BN254.ScalarField(), frontend.PublicOnly())
	if err != nil {
		t.Fatal(err)
	}
	proofPath, publicPath = filepath.Join(dir, name+".proof"), filepath.Join(dir, name+".public")
	f, err := os.Create(proofPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proof.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, err := pw.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(publicPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := prover.ReadProof(proofPath); err != nil {
		t.Fatal(err)
	}
	return proofPath, publicPath
}

func randElement(t *testing.T) fr.Element {
	var e fr.Element
	if _, err := e.SetRandom(); err != nil {
		t.Fatal(err)
	}
	return e
}

// wantRevert checks that err is a revert decoded to the named error.
func wantRevert(t *testing.T, what string, err error, name string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: accepted, want revert %s", what, name)
		return
	}
	if !errors.Is(err, ErrReverted) || Reason(err) != name {
		t.Errorf("%s: got %v, want revert %s", what, err, name)
		return
	}
	t.Logf("%s: %v", what, err)
}

// gasTable collects figures for the log and, with ZKDP_GAS_REPORT set, a
// markdown file (benchmarks/RESULTS.md quotes it).
type gasTable map[string]uint64

func (g gasTable) write(t *testing.T, title string) {
	names := make([]string, 0, len(g))
	for n := range g {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | gas (bytes for code sizes) |\n|---|---:|\n", title)
	for _, n := range names {
		fmt.Fprintf(&b, "| %s | %d |\n", n, g[n])
	}
	t.Log("\n" + b.String())
	if path := os.Getenv("ZKDP_GAS_REPORT"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fmt.Fprintln(f, b.String())
	}
}

// checkChainBeacon checks that the run's beacon is keccak256(blockhash(n+1),
// runId) mod r for its registration block n, not marked given, and that the
// run now trains.
func checkChainBeacon(t *testing.T, c *Chain, reg *Registry, runID *big.Int, beacon fr.Element) RunInfo {
	t.Helper()
	ctx := context.Background()
	info, err := reg.Run(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	delay, err := reg.BeaconDelay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.Client.HeaderByNumber(ctx, new(big.Int).SetUint64(info.RegisteredBlock+delay))
	if err != nil {
		t.Fatal(err)
	}
	want := new(big.Int).SetBytes(crypto.Keccak256(h.Hash().Bytes(), common.LeftPadBytes(runID.Bytes(), 32)))
	want.Mod(want, fr.Modulus())
	if info.BeaconGiven || Big(beacon).Cmp(want) != 0 || info.Beacon.Cmp(want) != 0 || Status(info.Status) != StatusTraining {
		t.Fatalf("beacon %x given=%v status %v, want %x from block %d's hash", info.Beacon, info.BeaconGiven, Status(info.Status), want, info.RegisteredBlock+delay)
	}
	return info
}
