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
// will have (params hash, D, S, M_0) and its T: what registerRun needs. s
// must hold the loaded dataset, the seed and the init seed.
func PlanKey(s trainer.Setup) (RunKey, int, error) {
	var k RunKey
	params, err := trainer.Plan(s)
	if err != nil {
		return k, 0, err
	}
	if k.ParamsHash, err = params.Hash(); err != nil {
		return k, 0, err
	}
	q, err := data.QuantizeSplit(s.Dataset.Train, s.Format.FracBits)
	if err != nil {
		return k, 0, err
	}
	tree, err := q.Commit(dp.RowSalts(s.Seed, q.Len()))
	if err != nil {
		return k, 0, err
	}
	k.DatasetRoot = tree.Root()
	k.SeedCommitment = dp.SeedCommitment(s.Seed)
	if k.InitialModel, err = trainer.InitialCommitment(s); err != nil {
		return k, 0, err
	}
	return k, params.Steps, nil
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
	RunID        *big.Int
	Beacon       fr.Element
	Transactions []Tx
}

// RegisterBeforeTraining is the audited path: register the run, wait for the
// next block to be sealed, and fix the beacon from its hash. The owner then
// trains with the returned beacon.
func RegisterBeforeTraining(ctx context.Context, reg *Registry, k RunKey, steps int) (Registration, error) {
	var out Registration
	id, rcpt, err := reg.RegisterRun(ctx, k, uint32(steps))
	out.Transactions = append(out.Transactions, txOf("registerRun", rcpt, err))
	if err != nil {
		return out, err
	}
	out.RunID = id
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
