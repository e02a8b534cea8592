package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
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
	tree, err := q.Commit()
	if err != nil {
		return k, 0, err
	}
	k.DatasetRoot = tree.Root()
	k.SeedCommitment = commit.Hash(commit.TagSeed, s.Seed)
	if k.InitialModel, err = trainer.InitialCommitment(s); err != nil {
		return k, 0, err
	}
	return k, params.Steps, nil
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

// InferenceClaims lists the inference proofs of a run: the claim files
// public/inference/<name>.json that name a proof and a verifying key (the
// layout of `zkdp infer --prove`); the public witness lies beside the proof.
// A run without inference proofs has none.
func InferenceClaims(dir string) ([]InferenceProof, error) {
	d, err := run.Open(dir)
	if err != nil {
		return nil, err
	}
	folder := d.Public("inference")
	entries, err := os.ReadDir(folder)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", prover.ErrIO, err)
	}
	var out []InferenceProof
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".meta.json") {
			continue
		}
		var claim struct {
			Proof        string `json:"proof"`
			VerifyingKey string `json:"verifying_key"`
			Binding      string `json:"model_binding"`
		}
		b, err := os.ReadFile(filepath.Join(folder, name))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", prover.ErrIO, err)
		}
		if json.Unmarshal(b, &claim) != nil || claim.Proof == "" || claim.VerifyingKey == "" {
			continue
		}
		proof := filepath.Join(folder, filepath.Base(claim.Proof))
		out = append(out, InferenceProof{Name: strings.TrimSuffix(name, ".json"),
			VerifyingKey: filepath.Join(folder, filepath.Base(claim.VerifyingKey)),
			Proof:        proof, PublicWit: prover.PublicPath(proof), FixedBinding: claim.Binding == "fixed"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
