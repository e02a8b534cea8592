package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/rangecheck"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/zkdp/zkdp/circuits/inference"
	"github.com/zkdp/zkdp/circuits/step"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	verifiercontracts "github.com/zkdp/zkdp/verifier-contracts"
)

// toyStep has the step circuit's four public inputs and, like it, a range
// check (hence one Pedersen commitment), but a trivial relation, so that its
// setup takes milliseconds: the registry's rules do not depend on what the
// circuit proves, only on its public inputs. The real step circuit goes
// on-chain in the prover_checks tier.
type toyStep struct {
	RunCommitment, Step, ModelBefore, ModelAfter frontend.Variable `gnark:",public"`
	Delta, Inv                                   frontend.Variable
}

func (c *toyStep) Define(api frontend.API) error {
	api.AssertIsEqual(c.ModelAfter, api.Add(c.ModelBefore, c.Delta))
	api.AssertIsEqual(api.Mul(c.RunCommitment, c.Inv), 1)
	rangecheck.New(api).Check(c.Step, 32)
	return nil
}

// The registry's Poseidon2 (generated from gnark-crypto's parameters) is
// commit.Hash, on edge and random inputs.
func TestRunCommitmentMatchesCommit(t *testing.T) {
	ctx := context.Background()
	_, reg := simulatedRegistry(t)
	var zero, one, max fr.Element
	one.SetOne()
	max.Neg(&one) // r - 1
	cases := [][4]fr.Element{{zero, zero, zero, zero}, {one, zero, one, zero}, {max, max, max, max}}
	for range 4 {
		cases = append(cases, [4]fr.Element{randElement(t), randElement(t), randElement(t), randElement(t)})
	}
	for i, in := range cases {
		steps := uint32(i*1000 + 1)
		if i == 2 {
			steps = 1<<32 - 1
		}
		got, err := reg.RunCommitment(ctx, Big(in[0]), Big(in[1]), Big(in[2]), Big(in[3]), steps)
		if err != nil {
			t.Fatal(err)
		}
		want := step.RunCommitment(in[0], in[1], in[2], in[3], int(steps))
		if got.Cmp(Big(want)) != 0 {
			t.Fatalf("case %d: on-chain %x, commit.Hash %s", i, got, commit.Hex(want))
		}
	}
}

// The registry's whole life on the simulated chain with real proofs, real
// gnark verifiers and the real EVM: the audited path, every tamper case of
// the issue reverting with its decoded reason, finalization, and inference
// proofs of circuits/inference against the finalized model.
func TestRegistryOnSimulatedChain(t *testing.T) {
	ctx := context.Background()
	otherKey, _ := crypto.GenerateKey()
	c, err := NewSimulated(crypto.PubkeyToAddress(otherKey.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	other := c.As(otherKey)
	gas := gasTable{}

	reg, rcpt, err := DeployRegistry(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	gas["deploy ZkdpRegistry"] = rcpt.GasUsed
	regCode, _ := c.Client.CodeAt(ctx, reg.Address, nil)
	gas["code size ZkdpRegistry (bytes)"] = uint64(len(regCode))

	// The inference model and its commitment, which the toy run ends with.
	f := fixedpoint.DefaultFormat()
	widths := []int{4, 3}
	weights := make([]int64, fixedpoint.NumParams(widths))
	for i := range weights {
		weights[i] = int64((i*37)%11-5) * f.One() / 4
	}
	spec := inference.Spec{Widths: widths, Format: f, Batch: 1, Binding: inference.Committed, Visibility: inference.Hashed}
	mFinal, err := commit.HashPacked(commit.TagModel, weights, f.WeightBits)
	if err != nil {
		t.Fatal(err)
	}

	toy := setup(t, &toyStep{})
	stepV, contract, err := DeployVerifier(ctx, c, toy.vk)
	if err != nil {
		t.Fatal(err)
	}
	gas["deploy step-shaped Verifier (1 commitment, 4 inputs)"] = stepV.Receipt.GasUsed
	gas["code size step-shaped Verifier (bytes)"] = uint64(len(contract.Runtime))
	for name, size := range map[string]int{"registry": len(regCode), "verifier": len(contract.Runtime)} {
		if size == 0 || size > verifiercontracts.MaxCodeSize {
			t.Errorf("%s: %d bytes of code, limit %d", name, size, verifiercontracts.MaxCodeSize)
		}
	}

	// Register before training, then fix the beacon from a later block.
	const T = 3
	key := RunKey{ParamsHash: randElement(t), DatasetRoot: randElement(t), SeedCommitment: randElement(t), Steps: T}
	m0 := randElement(t)
	_, _, err = reg.RegisterRun(ctx, key)
	wantRevert(t, "a run not bound to a step verifier's code", err, "NoVerifierCodeHash")
	key.StepVerifierCodeHash = crypto.Keccak256Hash(contract.Runtime)
	runID, rcpt, err := reg.RegisterRun(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	gas["registerRun"] = rcpt.GasUsed
	checkRegistered(t, reg, rcpt, runID, key, false, 1)
	if _, _, err := reg.RegisterRun(ctx, key); true {
		wantRevert(t, "the same run registered again", err, "RunExists")
	}
	_, err = reg.SubmitStep(ctx, runID, make([]byte, 384), [4]*big.Int{big.NewInt(0), big.NewInt(0), Big(m0), big.NewInt(0)})
	wantRevert(t, "a step before the beacon", err, "NotTraining")
	// The beacon block is BEACON_DELAY blocks after registration (n): at
	// n+2 and n+3 (where the next block's hash once served) not yet.
	if err := c.AdvanceBlocks(ctx, 2); err != nil {
		t.Fatal(err)
	}
	_, err = reg.transact(ctx, "fixBeacon", runID)
	wantRevert(t, "fixBeacon before the delay", err, "OutsideBeaconWindow")
	beacon, rcpt, err := reg.FixBeacon(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	gas["fixBeacon (hashes the run commitment)"] = rcpt.GasUsed
	_, _, err = reg.FixBeacon(ctx, runID)
	wantRevert(t, "the beacon fixed twice", err, "NotAwaitingBeacon")
	info := checkChainBeacon(t, c, reg, runID, beacon)
	rc := step.RunCommitment(key.ParamsHash, key.DatasetRoot, key.SeedCommitment, beacon, T)
	if info.RunCommitment.Cmp(Big(rc)) != 0 {
		t.Fatal("the on-chain run commitment is not step.RunCommitment's")
	}
	if info.InitialModel.Sign() != 0 || info.Head.Sign() != 0 {
		t.Fatalf("M_0 %x before step 0: the owner supplied it", info.InitialModel)
	}
	_, err = reg.SubmitStep(ctx, runID, make([]byte, 384), [4]*big.Int{Big(rc), big.NewInt(0), Big(m0), big.NewInt(1)})
	wantRevert(t, "a step before the step verifier is set", err, "NoVerifier")
	_, err = reg.As(other).SetStepVerifier(ctx, runID, stepV.Address)
	wantRevert(t, "a non-owner sets the step verifier", err, "NotOwner")
	if _, err := reg.SetStepVerifier(ctx, runID, stepV.Address); err != nil {
		t.Fatal(err)
	}
	_, err = reg.SetStepVerifier(ctx, runID, stepV.Address)
	wantRevert(t, "the step verifier replaced", err, "StepVerifierAlreadySet")

	// The model chain M_0 -> M_1 -> M_2 -> M_3 = the inference model.
	models := []fr.Element{m0, randElement(t), randElement(t), mFinal}
	var inv fr.Element
	inv.Inverse(&rc)
	type stepProof struct {
		raw []byte
		in  []*big.Int
	}
	proofs := make([]stepProof, T)
	for s := range T {
		var delta fr.Element
		delta.Sub(&models[s+1], &models[s])
		_, raw, in := toy.prove(t, &toyStep{RunCommitment: rc, Step: s, ModelBefore: models[s], ModelAfter: models[s+1], Delta: delta, Inv: inv})
		proofs[s] = stepProof{raw, in}
	}
	arr := func(in []*big.Int) [4]*big.Int {
		return [4]*big.Int{new(big.Int).Set(in[0]), new(big.Int).Set(in[1]), new(big.Int).Set(in[2]), new(big.Int).Set(in[3])}
	}

	// A second run of the same owner on the same data, registered with the
	// same beacon and a given beacon, but T-1 steps: its run commitment
	// differs, so the first run's proofs are not its proofs (else it would
	// finalize after T-1 of them).
	key2 := key
	key2.Steps = T - 1
	run2, rcpt, err := reg.RegisterRunWithBeacon(ctx, key2, beacon)
	if err != nil {
		t.Fatal(err)
	}
	gas["registerRunWithBeacon (hashes the run commitment)"] = rcpt.GasUsed
	checkRegistered(t, reg, rcpt, run2, key2, true, 2)
	if info2, _ := reg.Run(ctx, run2); !info2.BeaconGiven {
		t.Fatal("a run registered with a given beacon is not marked so")
	}
	if _, err := reg.SetStepVerifier(ctx, run2, stepV.Address); err != nil {
		t.Fatal(err)
	}

	// The tamper cases, each against the first step.
	p0 := proofs[0]
	flipped := append([]byte{}, p0.raw...)
	flipped[17] ^= 1 // inside A.x
	_, err = reg.SubmitStep(ctx, runID, flipped, arr(p0.in))
	wantRevert(t, "a flipped proof byte", err, "ProofInvalid")
	changed := arr(p0.in)
	changed[3].Add(changed[3], big.NewInt(1))
	_, err = reg.SubmitStep(ctx, runID, p0.raw, changed)
	wantRevert(t, "a changed public input (M_t+1)", err, "ProofInvalid")
	unreduced := arr(p0.in)
	unreduced[3].Add(unreduced[3], fr.Modulus())
	_, err = reg.SubmitStep(ctx, runID, p0.raw, unreduced)
	wantRevert(t, "an unreduced public input (M_t+1 + r)", err, "PublicInputNotInField")
	_, err = reg.SubmitStep(ctx, runID, proofs[1].raw, arr(proofs[1].in))
	wantRevert(t, "a step out of order", err, "StepOutOfOrder")
	_, err = reg.SubmitStep(ctx, run2, p0.raw, arr(p0.in))
	wantRevert(t, "a step of a run with another T", err, "WrongRun")
	_, err = reg.As(other).SubmitStep(ctx, runID, p0.raw, arr(p0.in))
	wantRevert(t, "a submit from a non-owner", err, "NotOwner")
	_, err = reg.Finalize(ctx, runID)
	wantRevert(t, "finalize before T steps", err, "StepsMissing")

	// The honest steps, and the bare verifier's cost for comparison.
	for s, p := range proofs {
		rcpt, err := reg.SubmitStep(ctx, runID, p.raw, arr(p.in))
		if err != nil {
			t.Fatalf("step %d: %v", s, err)
		}
		gas[fmt.Sprintf("submitStep %d", s)] = rcpt.GasUsed
		bare, err := CallVerifier(ctx, c, stepV.Address, p.raw, p.in)
		if err != nil {
			t.Fatalf("bare verifier call, step %d: %v", s, err)
		}
		gas[fmt.Sprintf("bare verifyProof %d", s)] = bare.GasUsed
		over := int64(rcpt.GasUsed) - int64(bare.GasUsed)
		gas[fmt.Sprintf("registry bookkeeping, step %d", s)] = uint64(max(over, 0))
		if budget := bookkeepingBudget(s); over > budget {
			t.Errorf("step %d: the registry adds %d gas to a bare verifier call (budget %d)", s, over, budget)
		}
		if s == 0 {
			_, err = reg.SubmitStep(ctx, runID, p.raw, arr(p.in))
			wantRevert(t, "a replayed step", err, "StepAlreadyAccepted")
			if info, _ := reg.Run(ctx, runID); info.InitialModel.Cmp(Big(m0)) != 0 {
				t.Fatalf("M_0 %x is not step 0's ModelBefore", info.InitialModel)
			}
			broken := arr(proofs[1].in)
			broken[2].Add(broken[2], big.NewInt(1))
			_, err = reg.SubmitStep(ctx, runID, proofs[1].raw, broken)
			wantRevert(t, "a step that does not continue the chain", err, "ChainBroken")
		}
		if s == T-2 {
			_, err = reg.Finalize(ctx, runID)
			wantRevert(t, "finalize after T-1 steps", err, "StepsMissing")
		}
	}
	_, err = reg.SubmitStep(ctx, runID, proofs[2].raw, arr(proofs[2].in))
	wantRevert(t, "a replayed last step", err, "StepAlreadyAccepted")

	// Inference: a proof of circuits/inference (4-3 model, one hashed input)
	// submitted from files through SubmitInferenceFiles.
	ik := setupInference(t, spec)
	dir := t.TempDir()
	x := []int64{f.One() / 2, -f.One() / 3, f.One(), 0}
	writeProof := func(name string, w []int64) (string, string) {
		return ik.writeInference(t, dir, name, spec, w, x)
	}
	vkPath := filepath.Join(dir, "inference.vk")
	if err := prover.WriteVerifyingKey(vkPath, ik.vk); err != nil {
		t.Fatal(err)
	}
	honestP, honestW := writeProof("honest", weights)
	// (It deploys and registers the verifier before the refused call.)
	infAddr, _, err := SubmitInferenceFiles(ctx, reg, runID, vkPath, honestP, honestW, false, common.Address{})
	wantRevert(t, "an inference against a model that is not finalized", err, "NotFinalized")

	rcpt, err = reg.Finalize(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	gas["finalize"] = rcpt.GasUsed
	if info, _ := reg.Run(ctx, runID); Status(info.Status) != StatusFinalized || info.Head.Cmp(Big(mFinal)) != 0 {
		t.Fatalf("finalized run: status %v, head %x", Status(info.Status), info.Head)
	}
	_, txs, err := SubmitInferenceFiles(ctx, reg, runID, vkPath, honestP, honestW, false, infAddr)
	if err != nil {
		t.Fatalf("honest inference rejected: %v", err)
	}
	for _, tx := range txs {
		gas[tx.Name] = tx.GasUsed
	}
	infCode, _ := c.Client.CodeAt(ctx, infAddr, nil)
	gas["code size inference Verifier 4-3 hashed input (bytes)"] = uint64(len(infCode))
	if len(infCode) > verifiercontracts.MaxCodeSize {
		t.Errorf("inference verifier: %d bytes of code", len(infCode))
	}
	if b, _ := reg.InferenceBinding(ctx, runID, infAddr); b != 1 {
		t.Errorf("inference verifier binding %d, want 1 (committed)", b)
	}
	// Another model's inference proof: its input[0] is not M_T.
	otherW := append([]int64{}, weights...)
	otherW[0]++
	otherP, otherWit := writeProof("other-model", otherW)
	_, _, err = SubmitInferenceFiles(ctx, reg, runID, vkPath, otherP, otherWit, false, infAddr)
	wantRevert(t, "an inference of another model", err, "ModelMismatch")
	// A changed output (class) with the honest proof.
	proofRaw, input, err := ProofAndPublic(honestP, honestW)
	if err != nil {
		t.Fatal(err)
	}
	input[len(input)-1] = new(big.Int).Add(input[len(input)-1], big.NewInt(1))
	_, err = reg.VerifyInference(ctx, runID, infAddr, proofRaw, input)
	wantRevert(t, "an inference with a changed output", err, "ProofInvalid")
	_, err = reg.VerifyInference(ctx, runID, stepV.Address, proofRaw, input)
	wantRevert(t, "an inference through an unregistered verifier", err, "UnknownInferenceVerifier")
	_, err = reg.As(other).RegisterInferenceVerifier(ctx, runID, stepV.Address, true)
	wantRevert(t, "a non-owner registers an inference verifier", err, "NotOwner")
	// A fixed-binding verifier (the weights in its key): accepted as
	// owner-attested, since the contract cannot see the weights.
	fixedSpec := spec
	fixedSpec.Binding, fixedSpec.Weights = inference.Fixed, weights
	fk := setupInference(t, fixedSpec)
	fkPath := filepath.Join(dir, "fixed.vk")
	if err := prover.WriteVerifyingKey(fkPath, fk.vk); err != nil {
		t.Fatal(err)
	}
	fp, fw := fk.writeInference(t, dir, "fixed", fixedSpec, weights, x)
	fixedAddr, txs, err := SubmitInferenceFiles(ctx, reg, runID, fkPath, fp, fw, true, common.Address{})
	if err != nil {
		t.Fatalf("fixed-binding inference rejected: %v", err)
	}
	gas["verifyInference, fixed binding"] = txs[len(txs)-1].GasUsed
	if b, _ := reg.InferenceBinding(ctx, runID, fixedAddr); b != 2 {
		t.Errorf("fixed-binding verifier recorded as %d, want 2 (owner-attested)", b)
	}

	// Issue #12, point 2: a run is bound to its step verifier's code. The
	// owner cannot pair it with the verifier of another circuit, and chain
	// verify's code check tells the trusted key's verifier from another.
	key3 := RunKey{ParamsHash: randElement(t), DatasetRoot: key.DatasetRoot, SeedCommitment: key.SeedCommitment, Steps: T,
		StepVerifierCodeHash: key.StepVerifierCodeHash}
	run3, _, err := reg.RegisterRunWithBeacon(ctx, key3, beacon)
	if err != nil {
		t.Fatal(err)
	}
	_, err = reg.SetStepVerifier(ctx, run3, infAddr)
	wantRevert(t, "a step verifier of another circuit", err, "VerifierCodeMismatch")
	if err := CheckVerifierCode(ctx, c, stepV.Address, toy.vk); err != nil {
		t.Errorf("the step verifier's code is not the one exported from its key: %v", err)
	}
	if err := CheckVerifierCode(ctx, c, infAddr, toy.vk); !errors.Is(err, ErrVerifierCode) {
		t.Errorf("another circuit's verifier passed the code check: %v", err)
	}
	gas.write(t, "toy step circuit (4 public inputs, 1 commitment), simulated chain")
}

// An RPC URL's secrets (API keys in the path, query or user info) never
// reach a report.
func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8545":                   "http://127.0.0.1:8545",
		"https://mainnet.infura.io/v3/SECRETKEY":  "https://mainnet.infura.io",
		"https://user:pass@node.example/?key=abc": "https://node.example",
		"not a url": "rpc",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// InferenceClaims reads `zkdp infer --prove`'s claim files: proof and key
// names, the binding; other JSON files (sidecars) are not claims.
func TestInferenceClaims(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	d, err := run.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.Public(run.ParamsFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := InferenceClaims(dir); err != nil || len(got) != 0 {
		t.Fatalf("a run without inference proofs: %v, %v", got, err)
	}
	folder := d.Public("inference")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"infer-00001.json":      `{"model_binding":"fixed","proof":"infer-00001.proof","verifying_key":"fixed.vk","classes":[1]}`,
		"infer-00000.json":      `{"model_binding":"committed","proof":"infer-00000.proof","verifying_key":"committed.vk"}`,
		"infer-00000.meta.json": `{"job":"infer-00000","solidity_compatible":true}`,
		"unrelated.json":        `{"x":1}`,
		"infer-00002.json":      `{"model_binding":"committed","proof":"../../private/seed.json","verifying_key":"k.vk"}`,
	} {
		if err := os.WriteFile(filepath.Join(folder, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := InferenceClaims(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Name != "infer-00000" || got[0].FixedBinding {
		t.Fatalf("claims: %+v", got)
	}
	for _, c := range got {
		if filepath.Dir(c.Proof) != folder || filepath.Dir(c.VerifyingKey) != folder || c.PublicWit != prover.PublicPath(c.Proof) {
			t.Errorf("%s: files outside public/inference: %+v", c.Name, c)
		}
	}
	if !got[1].FixedBinding || got[1].Name != "infer-00001" {
		t.Errorf("the fixed claim: %+v", got[1])
	}
}

// simulatedRegistry is a fresh simulated chain, closed after the test, with
// a deployed registry.
func simulatedRegistry(t *testing.T) (*Chain, *Registry) {
	t.Helper()
	c, err := NewSimulated()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	reg, _, err := DeployRegistry(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return c, reg
}

// A run registered too long ago cannot fix its beacon: blockhash reaches 256
// blocks back, so the run must be registered again, and both count toward
// the dataset's runs.
func TestFixBeaconWindow(t *testing.T) {
	ctx := context.Background()
	c, reg := simulatedRegistry(t)
	key := RunKey{ParamsHash: randElement(t), DatasetRoot: randElement(t), SeedCommitment: randElement(t), Steps: 2,
		StepVerifierCodeHash: crypto.Keccak256Hash([]byte("a step verifier's code"))}
	runID, _, err := reg.RegisterRun(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	delay, err := reg.BeaconDelay(ctx)
	if err != nil || delay < 2 {
		t.Fatalf("BEACON_DELAY %d, %v: want a delay of at least two blocks", delay, err)
	}
	// At block n + delay + 256 the next block is past the window.
	if err := c.AdvanceBlocks(ctx, delay+256); err != nil {
		t.Fatal(err)
	}
	if _, _, err = reg.FixBeacon(ctx, runID); !errors.Is(err, ErrBeaconExpired) {
		t.Fatalf("FixBeacon after the window: %v, want ErrBeaconExpired", err)
	}
	if err := c.AdvanceBlocks(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, err = reg.transact(ctx, "fixBeacon", runID)
	wantRevert(t, "fixBeacon after the window", err, "OutsideBeaconWindow")
	key.SeedCommitment = randElement(t)
	again, _, err := reg.RegisterRun(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.FixBeacon(ctx, again); err != nil {
		t.Fatal(err)
	}
	if n, err := reg.RunsPerDataset(ctx, key.DatasetRoot); err != nil || n != 2 {
		t.Fatalf("runs per dataset %d, %v: want 2 (the abandoned run counts)", n, err)
	}
}

// The registry's functions take no M_0 from the owner: registerRun and
// registerRunWithBeacon take the params hash, D, S and T (and the beacon),
// their continued forms the parent's run id.
func TestRegistryTakesNoInitialModel(t *testing.T) {
	contract, err := verifiercontracts.Registry()
	if err != nil {
		t.Fatal(err)
	}
	a, err := abi.JSON(bytes.NewReader(contract.ABI))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{
		"registerRun":           {"paramsHash", "datasetRoot", "seedCommitment", "steps", "stepVerifierCodeHash"},
		"registerRunWithBeacon": {"paramsHash", "datasetRoot", "seedCommitment", "steps", "beacon", "stepVerifierCodeHash"},
		// A continued run's M_0 is read from its finalized parent.
		"registerContinuedRun":           {"paramsHash", "datasetRoot", "seedCommitment", "steps", "stepVerifierCodeHash", "parentRunId"},
		"registerContinuedRunWithBeacon": {"paramsHash", "datasetRoot", "seedCommitment", "steps", "beacon", "stepVerifierCodeHash", "parentRunId"},
	} {
		var got []string
		for _, in := range a.Methods[name].Inputs {
			got = append(got, in.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s takes %v, want %v", name, got, want)
		}
	}
}

// checkRegistered checks registration receipt rcpt's RunRegistered event:
// it names the run, D, S, the params hash, T, whether the beacon was given,
// and the dataset's run count, which the registry also returns.
func checkRegistered(t *testing.T, reg *Registry, rcpt *types.Receipt, runID *big.Int, k RunKey, given bool, count uint64) {
	t.Helper()
	ev := reg.abi.Events["RunRegistered"]
	for _, l := range rcpt.Logs {
		if l.Address != reg.Address || len(l.Topics) != 4 || l.Topics[0] != ev.ID {
			continue
		}
		vals, err := ev.Inputs.NonIndexed().Unpack(l.Data)
		if err != nil {
			t.Fatal(err)
		}
		if l.Topics[1].Big().Cmp(runID) != 0 || l.Topics[3].Big().Cmp(Big(k.DatasetRoot)) != 0 ||
			vals[0].(*big.Int).Cmp(Big(k.SeedCommitment)) != 0 || vals[1].(*big.Int).Cmp(Big(k.ParamsHash)) != 0 ||
			vals[2].(*big.Int).Uint64() != uint64(k.Steps) || vals[3].(bool) != given || vals[4].(*big.Int).Uint64() != count {
			t.Fatalf("RunRegistered topics %v, data %v; want run %x, D %s, S %s, T %d, given %v, count %d",
				l.Topics, vals, runID, commit.Hex(k.DatasetRoot), commit.Hex(k.SeedCommitment), k.Steps, given, count)
		}
		if n, err := reg.RunsPerDataset(context.Background(), k.DatasetRoot); err != nil || n != count {
			t.Fatalf("runsPerDataset %d, %v, want %d", n, err, count)
		}
		return
	}
	t.Fatal("no RunRegistered event")
}

// bookkeepingBudget is the gas the registry may add to a bare verifier call
// at step s: step 0 also records M_0 and the first head (two fresh storage
// slots), which the owner no longer supplies at registration.
func bookkeepingBudget(s int) int64 {
	if s == 0 {
		return 25_000 + 2*22_100
	}
	return 25_000
}
