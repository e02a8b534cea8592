//go:build prover_checks

package step

import (
	"bytes"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
)

// A full Groth16 round trip on a trained step: the proof verifies, and a
// changed public statement or a flipped bit in the proof does not.
func TestStepGroth16(t *testing.T) {
	r := newTinyRun(t)
	c, err := New(r.spec)
	if err != nil {
		t.Fatal(err)
	}
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tiny step circuit: %d constraints", ccs.GetNbConstraints())
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	step := 0
	for len(r.res.Batches[step].Indices) == 0 {
		step++
	}
	assignment := r.assign(t, r.input(t, step))
	w, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	proof, err := groth16.Prove(ccs, pk, w)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := w.Public()
	if err := groth16.Verify(proof, vk, pub); err != nil {
		t.Fatalf("honest proof rejected: %v", err)
	}
	// Another step's public inputs with this proof.
	other := r.assign(t, r.input(t, step+1))
	otherW, _ := frontend.NewWitness(Public(other.RunCommitment.(fr.Element), step+1, other.ModelBefore.(fr.Element), other.ModelAfter.(fr.Element)),
		ecc.BN254.ScalarField(), frontend.PublicOnly())
	if err := groth16.Verify(proof, vk, otherW); err == nil {
		t.Fatal("a proof replayed for another step verified")
	}
	// A changed public input.
	st := assignment.RunCommitment.(fr.Element)
	var one fr.Element
	one.SetOne()
	st.Add(&st, &one)
	changed, _ := frontend.NewWitness(Public(st, step, assignment.ModelBefore.(fr.Element), assignment.ModelAfter.(fr.Element)),
		ecc.BN254.ScalarField(), frontend.PublicOnly())
	if err := groth16.Verify(proof, vk, changed); err == nil {
		t.Fatal("a changed public input verified")
	}
	// A flipped bit in the proof.
	var buf bytes.Buffer
	if _, err := proof.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	raw[40] ^= 1
	bad := groth16.NewProof(ecc.BN254)
	if _, err := bad.ReadFrom(bytes.NewReader(raw)); err == nil {
		if err := groth16.Verify(bad, vk, pub); err == nil {
			t.Fatal("a proof with a flipped bit verified")
		}
	}
}
