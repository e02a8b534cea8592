//go:build prover_checks

package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/internal/testrun"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
	"github.com/zkdp/zkdp/trainer"
)

// provenRun trains a small run (breast cancer, 2 steps, coarse noise
// lattice), proves its steps in Solidity mode with keys from the default
// cache (so reruns skip the setup), and makes one inference proof of its
// final model (committed binding, hashed input).
type provenRun struct {
	dir       string
	pub       *stepproof.Public
	inference InferenceProof
}

func newProvenRun(t *testing.T) *provenRun {
	return newProvenRunWith(t, func(trainer.Setup) fr.Element {
		var b fr.Element
		b.SetUint64(99)
		return b
	})
}

// newProvenRunWith trains with the beacon that beacon returns for the
// run's setup (e.g. after registering the run on-chain).
func newProvenRunWith(t *testing.T, beacon func(trainer.Setup) fr.Element) *provenRun {
	t.Helper()
	cfg, format := testrun.SmallSteps()
	s := testrun.Setup(t, cfg, format, 8, 0)
	s.Beacon = beacon(s)
	dir := testrun.Write(t, s)
	keys, err := prover.DefaultKeyCache()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stepproof.Prove(context.Background(), dir, stepproof.Options{Workers: 1, Keys: keys}); err != nil {
		t.Fatal(err)
	}
	pub, err := stepproof.ReadPublic(dir)
	if err != nil {
		t.Fatal(err)
	}
	// An inference proof of the final model, through inferproof.
	d := &run.Dir{Root: dir}
	m, err := inferproof.Model(dir)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]int64, m.Widths[0])
	for i := range x {
		x[i] = int64(i%5-2) * m.Format.One() / 8
	}
	if _, err := inferproof.Prove(context.Background(), dir, [][]int64{x}, inferproof.ProveOptions{
		Options: inferproof.Options{Binding: "committed", Visibility: "hashed"}, Keys: keys}); err != nil {
		t.Fatal(err)
	}
	claims, err := InferenceClaims(d.Root)
	if err != nil || len(claims) != 1 {
		t.Fatalf("inference claims: %v, %v", claims, err)
	}
	return &provenRun{dir: dir, pub: pub, inference: claims[0]}
}

// devKeys accepts the run's own keys, from the tests' single-party setups.
var devKeys = prover.KeyTrust{Dev: true}

// onChain runs the real step proofs through the registry on chain c: the
// tamper cases first, then VerifyRun takes the run to a finalized model and
// verifies the inference proof.
func (r *provenRun) onChain(t *testing.T, c, other *Chain, title string) {
	ctx := context.Background()
	gas := gasTable{}
	reg, rcpt, err := DeployRegistry(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	gas["deploy ZkdpRegistry"] = rcpt.GasUsed
	pub := r.pub
	vk, err := prover.ReadVerifyingKey(pub.Dir.Public(stepproof.VerifyingKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	_, codeHash, err := VerifierCode(ctx, vk)
	if err != nil {
		t.Fatal(err)
	}
	key := RunKey{ParamsHash: pub.ParamsHash, DatasetRoot: pub.DatasetRoot, SeedCommitment: pub.SeedCommitment, Steps: uint32(pub.Params.Steps),
		StepVerifierCodeHash: codeHash}
	runID, rcpt, err := reg.RegisterRunWithBeacon(ctx, key, pub.Beacon)
	if err != nil {
		t.Fatal(err)
	}
	gas["registerRunWithBeacon"] = rcpt.GasUsed
	v, contract, err := DeployVerifier(ctx, c, vk)
	if err != nil {
		t.Fatal(err)
	}
	gas["deploy step Verifier"] = v.Receipt.GasUsed
	gas["code size step Verifier (bytes)"] = uint64(len(contract.Runtime))
	if _, err := reg.SetStepVerifier(ctx, runID, v.Address); err != nil {
		t.Fatal(err)
	}
	// Another run of the same owner, params, D, S and beacon, registered
	// with one step more: T is in the run commitment, so a step of the
	// first run is not one of it (and could not finalize it after T steps).
	longer := key
	longer.Steps++
	run2, _, err := reg.RegisterRunWithBeacon(ctx, longer, pub.Beacon)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetStepVerifier(ctx, run2, v.Address); err != nil {
		t.Fatal(err)
	}

	p0, in0, err := ProofFiles(stepproof.ProofPath(pub.Dir, 0))
	if err != nil {
		t.Fatal(err)
	}
	p1, in1, err := ProofFiles(stepproof.ProofPath(pub.Dir, 1))
	if err != nil {
		t.Fatal(err)
	}
	if in0[0].Cmp(Big(pub.RunCommitment())) != 0 {
		t.Fatal("a step proof's first public input is not the run commitment")
	}
	arr := func(in []*big.Int) [4]*big.Int {
		return [4]*big.Int{new(big.Int).Set(in[0]), new(big.Int).Set(in[1]), new(big.Int).Set(in[2]), new(big.Int).Set(in[3])}
	}
	flipped := append([]byte{}, p0...)
	flipped[40] ^= 1
	_, err = reg.SubmitStep(ctx, runID, flipped, arr(in0))
	wantRevert(t, "a flipped proof byte", err, "ProofInvalid")
	changed := arr(in0)
	changed[3].Add(changed[3], big.NewInt(1))
	_, err = reg.SubmitStep(ctx, runID, p0, changed)
	wantRevert(t, "a changed public input", err, "ProofInvalid")
	unreduced := arr(in0)
	unreduced[3].Add(unreduced[3], fr.Modulus())
	_, err = reg.SubmitStep(ctx, runID, p0, unreduced)
	wantRevert(t, "an unreduced public input", err, "PublicInputNotInField")
	_, err = reg.SubmitStep(ctx, runID, p1, arr(in1))
	wantRevert(t, "a step out of order", err, "StepOutOfOrder")
	_, err = reg.SubmitStep(ctx, run2, p0, arr(in0))
	wantRevert(t, "a step of the same run with another T", err, "WrongRun")
	_, err = reg.As(other).SubmitStep(ctx, runID, p0, arr(in0))
	wantRevert(t, "a submit from a non-owner", err, "NotOwner")

	rcpt, err = reg.SubmitStep(ctx, runID, p0, arr(in0))
	if err != nil {
		t.Fatalf("honest step 0 rejected: %v", err)
	}
	gas["submitStep 0"] = rcpt.GasUsed
	_, err = reg.SubmitStep(ctx, runID, p0, arr(in0))
	wantRevert(t, "a replayed step", err, "StepAlreadyAccepted")
	bare, err := CallVerifier(ctx, c, v.Address, p0, in0)
	if err != nil {
		t.Fatal(err)
	}
	gas["bare verifyProof (step 0)"] = bare.GasUsed
	if over := int64(rcpt.GasUsed) - int64(bare.GasUsed); c.Simulated() && over > bookkeepingBudget(0) {
		t.Errorf("the registry adds %d gas to a bare verifier call at step 0 (budget %d)", over, bookkeepingBudget(0))
	}

	// An inference against a run that is not finalized.
	_, _, err = SubmitInferenceFiles(ctx, reg, run2, r.inference.VerifyingKey, r.inference.Proof, r.inference.PublicWit, false, common.Address{})
	wantRevert(t, "an inference against a model that is not finalized", err, "NotFinalized")

	// The rest of the run, through VerifyRun.
	if _, err := VerifyRun(ctx, c, r.dir, VerifyOptions{Registry: reg.Address, Inference: []InferenceProof{r.inference}}); !errors.Is(err, prover.ErrUntrustedKey) {
		t.Fatalf("VerifyRun without a trusted key: got %v, want ErrUntrustedKey", err)
	}
	rep, err := VerifyRun(ctx, c, r.dir, VerifyOptions{Registry: reg.Address, Inference: []InferenceProof{r.inference}, Trust: devKeys})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Finalized || rep.StepsAccepted != pub.Params.Steps || !rep.BeaconGiven {
		t.Fatalf("report: %+v", rep)
	}
	for _, tx := range rep.Transactions {
		if !tx.Accepted {
			t.Errorf("%s not accepted: %s", tx.Name, tx.Reason)
		}
		gas[tx.Name] = tx.GasUsed
	}
	var stored Report
	if err := run.ReadJSON(pub.Dir.Public(ReportFile), &stored); err != nil || stored.RunID != rep.RunID {
		t.Fatalf("chain.json: %v, %+v", err, stored)
	}
	gas.write(t, title)
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A full run verifies on the simulated chain, and every tamper case reverts
// with its decoded reason.
func TestRunOnSimulatedChain(t *testing.T) {
	r := newProvenRun(t)
	otherKey, _ := crypto.GenerateKey()
	c, err := NewSimulated(crypto.PubkeyToAddress(otherKey.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r.onChain(t, c, c.As(otherKey), fmt.Sprintf("step circuit of a breast-cancer run (%d steps), simulated chain (Osaka rules)", r.pub.Params.Steps))

	// Issue #12, point 2: the run bound at registration to the code of
	// another circuit's verifier (the inference one), and that verifier set:
	// the registry cannot know, chain verify recompiles the trusted key's
	// verifier and refuses.
	ctx := context.Background()
	reg, _, err := DeployRegistry(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	ivk, err := prover.ReadVerifyingKey(r.inference.VerifyingKey)
	if err != nil {
		t.Fatal(err)
	}
	iv, contract, err := DeployVerifier(ctx, c, ivk)
	if err != nil {
		t.Fatal(err)
	}
	pub := r.pub
	key := RunKey{ParamsHash: pub.ParamsHash, DatasetRoot: pub.DatasetRoot, SeedCommitment: pub.SeedCommitment, Steps: uint32(pub.Params.Steps),
		StepVerifierCodeHash: crypto.Keccak256Hash(contract.Runtime)}
	runID, _, err := reg.RegisterRunWithBeacon(ctx, key, pub.Beacon)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetStepVerifier(ctx, runID, iv.Address); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyRun(ctx, c, r.dir, VerifyOptions{Registry: reg.Address, Trust: devKeys}); !errors.Is(err, ErrVerifierCode) {
		t.Fatalf("a run bound to another circuit's verifier: got %v, want ErrVerifierCode", err)
	}
}

// The audited path end to end: the run is registered before training, the
// chain fixes its beacon, the owner trains and proves with it, and VerifyRun
// finds the registered run (not marked beacon-given) and takes it to a
// finalized model.
func TestAuditedRunOnSimulatedChain(t *testing.T) {
	ctx := context.Background()
	c, reg := simulatedRegistry(t)
	var registration Registration
	r := newProvenRunWith(t, func(s trainer.Setup) fr.Element {
		key, err := PlanKey(s)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := prover.DefaultKeyCache()
		if err != nil {
			t.Fatal(err)
		}
		if key.StepVerifierCodeHash, err = PlanStepVerifier(ctx, s, keys); err != nil {
			t.Fatal(err)
		}
		if registration, err = RegisterBeforeTraining(ctx, reg, key); err != nil {
			t.Fatal(err)
		}
		return registration.Beacon
	})
	rep, err := VerifyRun(ctx, c, r.dir, VerifyOptions{Registry: reg.Address, Inference: []InferenceProof{r.inference}, Trust: devKeys})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BeaconGiven || !rep.Finalized || rep.StepsAccepted != r.pub.Params.Steps || rep.RunID != "0x"+registration.RunID.Text(16) {
		t.Fatalf("report %+v for registered run %x", rep, registration.RunID)
	}
	for _, tx := range rep.Transactions {
		if tx.Name == "registerRunWithBeacon" {
			t.Fatal("the registered run was registered again")
		}
	}
}

// A continued run on the simulated chain: the parent run is finalized by
// VerifyRun, a run that continues its released model is proven and taken
// to a finalized model too, registered as the parent's child (the registry
// read its M_0 from the parent's M_T); on a registry without the parent,
// VerifyRun refuses it (ErrParent).
func TestContinuedRunOnSimulatedChainEndToEnd(t *testing.T) {
	ctx := context.Background()
	c, reg := simulatedRegistry(t)
	parent := newProvenRun(t)
	prep, err := VerifyRun(ctx, c, parent.dir, VerifyOptions{Registry: reg.Address, Trust: devKeys})
	if err != nil || !prep.Finalized {
		t.Fatalf("the parent run: %+v, %v", prep, err)
	}
	rel, err := stepproof.ReadReleased(parent.dir)
	if err != nil {
		t.Fatal(err)
	}
	rel.Parent.SharesRows = true
	cfg, format := testrun.SmallSteps()
	s := testrun.Setup(t, cfg, format, 9, 7)
	s.From = rel
	dir := testrun.Write(t, s)
	keys, err := prover.DefaultKeyCache()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stepproof.Prove(ctx, dir, stepproof.Options{Workers: 1, Keys: keys}); err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyRun(ctx, c, dir, VerifyOptions{Registry: reg.Address, Trust: devKeys})
	if err != nil {
		t.Fatalf("the continued run: %v", err)
	}
	if !rep.Finalized || rep.ParentRunID != prep.RunID {
		t.Fatalf("the continued run's report %+v, parent %s", rep, prep.RunID)
	}
	id, _ := new(big.Int).SetString(rep.RunID[2:], 16)
	info, err := reg.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.InitialModel.Cmp(Big(parent.pub.Models[parent.pub.Params.Steps])) != 0 {
		t.Fatal("the continued run's on-chain M_0 is not the parent's M_T")
	}
	other, _, err := DeployRegistry(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyRun(ctx, c, dir, VerifyOptions{Registry: other.Address, Trust: devKeys}); !errors.Is(err, ErrParent) {
		t.Fatalf("a continued run on a registry without its parent: got %v, want ErrParent", err)
	}
}
