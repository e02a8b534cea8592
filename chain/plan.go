package chain

import (
	"context"
	"math/big"
	"path/filepath"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"

	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
	"github.com/zkdp/zkdp/trainer"
)

// PlanKey computes, without training, the public commitments a run of s
// will have (params hash, D, S) and its T: what registerRun needs. s must
// hold the loaded dataset and the seed. (M_0 depends on the beacon; the
// registry takes it from step 0's proof.)
func PlanKey(s trainer.Setup) (RunKey, error) {
	var k RunKey
	params, err := trainer.Plan(s)
	if err != nil {
		return k, err
	}
	if k.ParamsHash, err = params.Hash(); err != nil {
		return k, err
	}
	q, err := data.QuantizeSplit(s.Dataset.Train, s.Format.DataBits())
	if err != nil {
		return k, err
	}
	dataset, err := params.CommitDataset(q, s.Seed) // padded to the public row bound, as the trainer commits
	if err != nil {
		return k, err
	}
	k.DatasetRoot = dataset.Root
	k.SeedCommitment = dp.SeedCommitment(s.Seed)
	k.Steps = uint32(params.Steps)
	return k, nil
}

// PlanStepVerifier returns the code hash of the verifier of the step circuit
// that runs of s will have, with the key that keys supplies for it (the one
// the run will be proven with): what registerRun binds the run to.
func PlanStepVerifier(ctx context.Context, s trainer.Setup, keys prover.KeySource) (common.Hash, error) {
	params, err := trainer.Plan(s)
	if err != nil {
		return common.Hash{}, err
	}
	return StepVerifierCodeHash(ctx, params, keys)
}

// StepVerifierCodeHash is the code hash of the verifier of params' step
// circuit with the key that keys supplies.
func StepVerifierCodeHash(ctx context.Context, params run.Params, keys prover.KeySource) (common.Hash, error) {
	vk, err := stepproof.SetupKey(params, keys)
	if err != nil {
		return common.Hash{}, err
	}
	_, hash, err := VerifierCode(ctx, vk)
	return hash, err
}

// Registration is what RegisterBeforeTraining did.
type Registration struct {
	RunID  *big.Int
	Beacon fr.Element
	// RunsForDataset counts the runs registered on the dataset root, this
	// one included: each counts toward the data's privacy budget.
	RunsForDataset uint64
	Transactions   []Tx
}

// RegisterBeforeTraining is the audited path: register the run, wait for the
// beacon block (BEACON_DELAY blocks later) to be sealed, and fix the beacon
// from its hash. The owner then trains with the returned beacon.
func RegisterBeforeTraining(ctx context.Context, reg *Registry, k RunKey) (Registration, error) {
	var out Registration
	id, rcpt, err := reg.RegisterRun(ctx, k)
	name := "registerRun"
	if k.Parent != nil {
		name = "registerContinuedRun"
	}
	out.Transactions = append(out.Transactions, txOf(name, rcpt, err))
	if err != nil {
		return out, err
	}
	out.RunID = id
	if out.RunsForDataset, err = reg.RunsPerDataset(ctx, k.DatasetRoot); err != nil {
		return out, err
	}
	beacon, rcpt, err := reg.FixBeacon(ctx, id)
	out.Transactions = append(out.Transactions, txOf("fixBeacon", rcpt, err))
	out.Beacon = beacon
	return out, err
}

// InferenceClaims lists the inference proofs of a run: the claims that
// `zkdp infer --prove` wrote (package inferproof), each naming its proof and
// verifying key in public/inference/. A run without inference proofs has none.
func InferenceClaims(dir string) ([]InferenceProof, error) {
	paths, err := inferproof.Claims(dir)
	if err != nil {
		return nil, err
	}
	out := make([]InferenceProof, 0, len(paths))
	for _, path := range paths {
		var claim inferproof.Claim
		if err := run.ReadJSON(path, &claim); err != nil {
			return nil, err
		}
		folder := filepath.Dir(path)
		proof := filepath.Join(folder, filepath.Base(claim.Proof))
		out = append(out, InferenceProof{Name: strings.TrimSuffix(filepath.Base(path), ".json"), Claim: path,
			VerifyingKey: filepath.Join(folder, filepath.Base(claim.VerifyingKey)),
			Proof:        proof, PublicWit: prover.PublicPath(proof), FixedBinding: claim.Binding == "fixed"})
	}
	return out, nil
}
