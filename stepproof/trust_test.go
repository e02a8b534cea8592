package stepproof

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
)

// devKeys accepts the prover's own key, as the tests' single-party setups make.
var devKeys = prover.KeyTrust{Dev: true}

// forgedStep has the step circuit's four public inputs, in its order, and
// constrains nothing about them: any statement has a proof.
type forgedStep struct {
	RunCommitment, Step, ModelBefore, ModelAfter frontend.Variable `gnark:",public"`
	X                                            frontend.Variable
}

func (c *forgedStep) Define(api frontend.API) error {
	api.AssertIsEqual(api.Mul(c.X, c.X), api.Mul(c.Step, c.Step))
	return nil
}

// forgeRun replaces a run's proofs by the reviewer's forgery (issue #12,
// point 2): the key of forgedStep from its own setup as public/step.vk, the
// real step circuit's hash in circuit.json, and a forgedStep proof of every
// step's true statement. It returns the real circuit's hash and the forged
// key's sha256.
func forgeRun(t *testing.T, dir string) (circuitHash, forgedSHA string) {
	t.Helper()
	pub, err := ReadPublic(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, circuitHash, err = Compile(pub.Params)
	if err != nil {
		t.Fatal(err)
	}
	ccs, err := prover.Compile(&forgedStep{})
	if err != nil {
		t.Fatal(err)
	}
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	d := pub.Dir
	if err := prover.WriteVerifyingKey(d.Public(VerifyingKeyFile), vk); err != nil {
		t.Fatal(err)
	}
	if err := run.WriteJSON(d.Public(CircuitFile), CircuitInfo{Hash: circuitHash, Constraints: 51000, Setup: "trusted, honest"}, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	var jobs []prover.Job
	for step := range pub.Params.Steps {
		st := pub.Statement(step)
		jobs = append(jobs, prover.Job{Name: fmt.Sprintf("step-%05d", step), Path: ProofPath(d, step),
			Witness: func() (witness.Witness, error) {
				return frontend.NewWitness(&forgedStep{RunCommitment: st.RunCommitment, Step: st.Step, ModelBefore: st.ModelBefore,
					ModelAfter: st.ModelAfter, X: st.Step}, ecc.BN254.ScalarField())
			}})
	}
	if _, err := prover.ProveAll(context.Background(), ccs, pk, vk, jobs, prover.Options{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	sum, err := prover.FileSHA256(d.Public(VerifyingKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return circuitHash, sum
}

func pins(t *testing.T, circuitHash, vkSHA string) *prover.PinnedKeys {
	t.Helper()
	p, err := prover.ParsePinnedKeys("trusted.json", fmt.Appendf(nil, `{"keys": [{"circuit": "step/breast_cancer", "circuit_hash": %q, "vk_sha256": %q}]}`, circuitHash, vkSHA))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The reviewer's forgery of issue #12 (point 2): a run whose step.vk belongs
// to a circuit that checks nothing, with the real circuit's hash in
// circuit.json. Before the fix, Verify accepted it; now only a verifier who
// explicitly accepts development keys does, and is told what that is worth.
func TestVerifyRejectsForgedKey(t *testing.T) {
	dir := smallRun(t)
	circuitHash, forgedSHA := forgeRun(t, dir)

	if _, err := Verify(dir, prover.KeyTrust{}); !errors.Is(err, ErrUntrustedKey) {
		t.Fatalf("no trusted key: got %v, want ErrUntrustedKey", err)
	}
	trusted := sha256.Sum256([]byte("the key a ceremony made for the real circuit"))
	if _, err := Verify(dir, prover.KeyTrust{Pinned: pins(t, circuitHash, hex.EncodeToString(trusted[:]))}); !errors.Is(err, ErrUntrustedKey) {
		t.Fatalf("pinned real key: got %v, want ErrUntrustedKey", err)
	}
	// A pin of another circuit does not vouch for this one.
	if _, err := Verify(dir, prover.KeyTrust{Pinned: pins(t, hex.EncodeToString(trusted[:]), forgedSHA)}); !errors.Is(err, ErrUntrustedKey) {
		t.Fatalf("pin of another circuit: got %v, want ErrUntrustedKey", err)
	}
	// A derived key (a ceremony's) is authoritative, whatever the pins and
	// Dev say: another key of the circuit is refused, the key itself accepted.
	other, err := prover.Compile(&forgedStep{})
	if err != nil {
		t.Fatal(err)
	}
	_, otherVK, err := groth16.Setup(other)
	if err != nil {
		t.Fatal(err)
	}
	derive := func(vk groth16.VerifyingKey) func(constraint.ConstraintSystem, string) (groth16.VerifyingKey, error) {
		return func(_ constraint.ConstraintSystem, hash string) (groth16.VerifyingKey, error) {
			if hash != circuitHash {
				t.Errorf("derived a key for circuit %s, want %s", hash, circuitHash)
			}
			return vk, nil
		}
	}
	if _, err := Verify(dir, prover.KeyTrust{Dev: true, Pinned: pins(t, circuitHash, forgedSHA), Derive: derive(otherVK)}); !errors.Is(err, ErrUntrustedKey) {
		t.Fatalf("derived key differs: got %v, want ErrUntrustedKey", err)
	}
	forgedVK, err := prover.ReadVerifyingKey((&run.Dir{Root: dir}).Public(VerifyingKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(dir, prover.KeyTrust{Derive: derive(forgedVK)}); err != nil || rep.Trust != prover.TrustDerived {
		t.Fatalf("derived key: %+v, %v", rep, err)
	}
	// The pinned key's own sha256: accepted as pinned.
	if rep, err := Verify(dir, prover.KeyTrust{Pinned: pins(t, circuitHash, forgedSHA)}); err != nil || rep.Trust != prover.TrustPinned {
		t.Fatalf("pinned key: %+v, %v", rep, err)
	}
	// Development keys: accepted, and marked as proving nothing.
	rep, err := Verify(dir, devKeys)
	if err != nil || rep.Trust != prover.TrustDev {
		t.Fatalf("--dev-keys: %+v, %v", rep, err)
	}
}
