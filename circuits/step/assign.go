package step

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/commit"
)

// Input is one step's witness in native form.
type Input struct {
	ParamsHash, DatasetRoot, Beacon fr.Element
	Seed                            fr.Element
	Step                            int
	Before, After                   []int64        // W_t and W_{t+1}, flattened
	Rows                            [][]int64      // the batch's quantized rows, at most MaxBatch
	Labels                          []int          // their labels
	Reals                           []int64        // their real flags: data.FlagReal, or data.FlagPadding for a padding row
	Paths                           [][]fr.Element // their Merkle paths under DatasetRoot
	Salts                           []fr.Element   // their salts (dp.RowSalt)
}

// RunCommitment is a step proof's first public input: the hash of the run's
// public items, its step count T included. The registry contract computes
// the same value on-chain.
func RunCommitment(paramsHash, datasetRoot, seedCommitment, beacon fr.Element, steps int) fr.Element {
	return commit.Hash(commit.TagRun, paramsHash, datasetRoot, seedCommitment, beacon, commit.FromInt64(int64(steps)))
}

// Public is step t's public part of the witness, in the circuit's order:
// RunCommitment, Step, ModelBefore, ModelAfter.
func Public(runCommitment fr.Element, step int, before, after fr.Element) *Circuit {
	return &Circuit{RunCommitment: runCommitment, Step: step, ModelBefore: before, ModelAfter: after}
}

// Assign builds the full assignment; padding slots get zero rows, paths,
// salts and real flags.
func Assign(spec Spec, in Input) (*Circuit, error) {
	if len(in.Rows) > spec.MaxBatch || len(in.Labels) != len(in.Rows) || len(in.Paths) != len(in.Rows) || len(in.Salts) != len(in.Rows) || len(in.Reals) != len(in.Rows) {
		return nil, fmt.Errorf("%w: %d rows, %d labels, %d real flags, %d paths, %d salts for %d slots", ErrSpec, len(in.Rows), len(in.Labels), len(in.Reals), len(in.Paths), len(in.Salts), spec.MaxBatch)
	}
	bits := spec.Params.WeightBits
	before, err := commit.HashPacked(commit.TagModel, in.Before, bits)
	if err != nil {
		return nil, fmt.Errorf("step %d: W_t: %w", in.Step, err)
	}
	after, err := commit.HashPacked(commit.TagModel, in.After, bits)
	if err != nil {
		return nil, fmt.Errorf("step %d: W_t+1: %w", in.Step, err)
	}
	seedCommitment := commit.Hash(commit.TagSeed, in.Seed)
	c := &Circuit{
		RunCommitment: RunCommitment(in.ParamsHash, in.DatasetRoot, seedCommitment, in.Beacon, spec.Steps),
		ParamsHash:    in.ParamsHash, DatasetRoot: in.DatasetRoot, SeedCommitment: seedCommitment, Beacon: in.Beacon,
		Step: in.Step, ModelBefore: before, ModelAfter: after, Seed: in.Seed,
		Weights: ints(in.Before),
	}
	for j := range spec.MaxBatch {
		row := make([]int64, spec.Widths[0])
		path := make([]frontend.Variable, spec.Depth)
		label := 0
		var flag int64 // a padding slot's row: zeros, flag 0
		var salt fr.Element
		if j < len(in.Rows) {
			if len(in.Rows[j]) != spec.Widths[0] || len(in.Paths[j]) != spec.Depth {
				return nil, fmt.Errorf("%w: slot %d: %d features, path of %d", ErrSpec, j, len(in.Rows[j]), len(in.Paths[j]))
			}
			row, label, flag, salt = in.Rows[j], in.Labels[j], in.Reals[j], in.Salts[j]
			for d, e := range in.Paths[j] {
				path[d] = e
			}
		} else {
			for d := range path {
				path[d] = 0
			}
		}
		c.Rows = append(c.Rows, ints(row))
		c.Labels = append(c.Labels, label)
		c.Paths = append(c.Paths, path)
		c.Salts = append(c.Salts, salt)
		c.Reals = append(c.Reals, flag)
	}
	return c, nil
}

func ints(v []int64) []frontend.Variable {
	out := make([]frontend.Variable, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}
