package chain

import (
	"context"
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/zkdp/zkdp/circuits/step"
	"github.com/zkdp/zkdp/commit"
)

// A run continues a finalized run's model on the simulated chain: the
// registry takes M_0 from the parent's finalized M_T (never from the
// owner), binds it in the run commitment (step.ContinuedRunCommitment),
// refuses a step 0 from another model, records the link (parentRunId,
// RunContinues, runIdByCommitment) and refuses a parent that is unknown or
// not finalized.
func TestContinuedRunOnSimulatedChain(t *testing.T) {
	ctx := context.Background()
	c, reg := simulatedRegistry(t)
	toy := setup(t, &toyStep{})
	stepV, contract, err := DeployVerifier(ctx, c, toy.vk)
	if err != nil {
		t.Fatal(err)
	}
	code := crypto.Keccak256Hash(contract.Runtime)
	// prove runs the run of key (given beacon) through the models chain and
	// returns its id; finalize: all its steps, then finalize.
	prove := func(key RunKey, beacon fr.Element, models []fr.Element, finalize bool) *big.Int {
		t.Helper()
		id, _, err := reg.RegisterRunWithBeacon(ctx, key, beacon)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.SetStepVerifier(ctx, id, stepV.Address); err != nil {
			t.Fatal(err)
		}
		if !finalize {
			return id
		}
		info, _ := reg.Run(ctx, id)
		var rc, inv fr.Element
		rc.SetBigInt(info.RunCommitment)
		inv.Inverse(&rc)
		for s := range int(key.Steps) {
			var delta fr.Element
			delta.Sub(&models[s+1], &models[s])
			_, raw, in := toy.prove(t, &toyStep{RunCommitment: rc, Step: s, ModelBefore: models[s], ModelAfter: models[s+1], Delta: delta, Inv: inv})
			if _, err := reg.SubmitStep(ctx, id, raw, [4]*big.Int(in)); err != nil {
				t.Fatalf("step %d: %v", s, err)
			}
		}
		if _, err := reg.Finalize(ctx, id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	beacon := randElement(t)
	parentKey := RunKey{ParamsHash: randElement(t), DatasetRoot: randElement(t), SeedCommitment: randElement(t), Steps: 1, StepVerifierCodeHash: code}
	mT := randElement(t)
	parent := prove(parentKey, beacon, []fr.Element{randElement(t), mT}, true)
	parentInfo, _ := reg.Run(ctx, parent)
	if id, err := reg.RunIDByCommitment(ctx, mustElement(parentInfo.RunCommitment)); err != nil || id.Cmp(parent) != 0 {
		t.Fatalf("runIdByCommitment of the parent's commitment: %v, %v", id, err)
	}

	childKey := RunKey{ParamsHash: randElement(t), DatasetRoot: randElement(t), SeedCommitment: randElement(t), Steps: 2, StepVerifierCodeHash: code}
	childKey.Parent = big.NewInt(12345)
	_, _, err = reg.RegisterRunWithBeacon(ctx, childKey, beacon)
	wantRevert(t, "an unknown parent", err, "UnknownRun")
	unfinished := prove(RunKey{ParamsHash: randElement(t), DatasetRoot: randElement(t), SeedCommitment: randElement(t), Steps: 1, StepVerifierCodeHash: code}, beacon, nil, false)
	childKey.Parent = unfinished
	_, _, err = reg.RegisterRun(ctx, childKey)
	wantRevert(t, "a parent not finalized", err, "ParentNotFinalized")

	childKey.Parent = parent
	child, rcpt, err := reg.RegisterRunWithBeacon(ctx, childKey, beacon)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := reg.Run(ctx, child)
	if info.ParentRunId.Cmp(parent) != 0 || info.InitialModel.Cmp(Big(mT)) != 0 {
		t.Fatalf("parent %v, M_0 %x: want %v and the parent's M_T %s", info.ParentRunId, info.InitialModel, parent, commit.Hex(mT))
	}
	want := step.ContinuedRunCommitment(childKey.ParamsHash, childKey.DatasetRoot, childKey.SeedCommitment, beacon, 2, mT)
	onChain, err := reg.ContinuedRunCommitment(ctx, Big(childKey.ParamsHash), Big(childKey.DatasetRoot), Big(childKey.SeedCommitment), Big(beacon), 2, Big(mT))
	if err != nil || info.RunCommitment.Cmp(Big(want)) != 0 || onChain.Cmp(Big(want)) != 0 {
		t.Fatalf("the continued run commitment %x (computed %v, %v), step.ContinuedRunCommitment %s", info.RunCommitment, onChain, err, commit.Hex(want))
	}
	continues := reg.abi.Events["RunContinues"].ID
	found := false
	for _, l := range rcpt.Logs {
		if l.Topics[0] == continues && new(big.Int).SetBytes(l.Topics[1][:]).Cmp(child) == 0 && new(big.Int).SetBytes(l.Topics[2][:]).Cmp(parent) == 0 {
			found = true
		}
	}
	if !found {
		t.Fatal("no RunContinues event names the child and its parent")
	}
	if _, err := reg.SetStepVerifier(ctx, child, stepV.Address); err != nil {
		t.Fatal(err)
	}
	// Step 0 from another model than the parent's M_T is refused.
	var rc, inv fr.Element
	rc.SetBigInt(info.RunCommitment)
	inv.Inverse(&rc)
	other, m1, m2 := randElement(t), randElement(t), randElement(t)
	var delta fr.Element
	delta.Sub(&m1, &other)
	_, raw, in := toy.prove(t, &toyStep{RunCommitment: rc, Step: 0, ModelBefore: other, ModelAfter: m1, Delta: delta, Inv: inv})
	_, err = reg.SubmitStep(ctx, child, raw, [4]*big.Int(in))
	wantRevert(t, "step 0 of a continued run from another model", err, "ChainBroken")
	models := []fr.Element{mT, m1, m2}
	for s := range 2 {
		delta.Sub(&models[s+1], &models[s])
		_, raw, in := toy.prove(t, &toyStep{RunCommitment: rc, Step: s, ModelBefore: models[s], ModelAfter: models[s+1], Delta: delta, Inv: inv})
		if _, err := reg.SubmitStep(ctx, child, raw, [4]*big.Int(in)); err != nil {
			t.Fatalf("step %d of the continued run: %v", s, err)
		}
	}
	if _, err := reg.Finalize(ctx, child); err != nil {
		t.Fatal(err)
	}
	if info, _ := reg.Run(ctx, child); info.InitialModel.Cmp(Big(mT)) != 0 || info.Head.Cmp(Big(m2)) != 0 {
		t.Fatalf("after finalizing: M_0 %x, head %x", info.InitialModel, info.Head)
	}
}

func mustElement(b *big.Int) fr.Element {
	var e fr.Element
	e.SetBigInt(b)
	return e
}
