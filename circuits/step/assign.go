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
	Before, After                   []int64   // W_t and W_{t+1}, flattened
	Rows                            [][]int64 // the batch's quantized rows, at most MaxBatch
	Labels                          []int     // their labels
	Reals                           []int64   // their real flags: data.FlagReal, or data.FlagPadding for a padding row
	// MembershipMerkle: the slots' openings.
	Paths [][]fr.Element // their Merkle paths under DatasetRoot
	Salts []fr.Element   // their salts (dp.RowSalt); also MembershipLeaves
	// MembershipFlat and MembershipLeaves: the committed dataset's table
	// (data.Committed.Table), the same for every step; MembershipFlat: its
	// salt.
	Dataset     [][]fr.Element
	DatasetSalt fr.Element
	// Spec.Continued: M_0, the released model's commitment.
	InitialModel fr.Element
}

// RunCommitment is a step proof's first public input: the hash of the run's
// public items, its step count T included. The registry contract computes
// the same value on-chain.
func RunCommitment(paramsHash, datasetRoot, seedCommitment, beacon fr.Element, steps int) fr.Element {
	return commit.Hash(commit.TagRun, paramsHash, datasetRoot, seedCommitment, beacon, commit.FromInt64(int64(steps)))
}

// ContinuedRunCommitment is RunCommitment of a run that continues the
// released model of commitment m0 (Spec.Continued): M_0 is its last item.
func ContinuedRunCommitment(paramsHash, datasetRoot, seedCommitment, beacon fr.Element, steps int, m0 fr.Element) fr.Element {
	return commit.Hash(commit.TagRun, paramsHash, datasetRoot, seedCommitment, beacon, commit.FromInt64(int64(steps)), m0)
}

// RunCommitment is the run commitment of a run of this spec: M_0 is read
// only for a continued run.
func (s Spec) RunCommitment(paramsHash, datasetRoot, seedCommitment, beacon, m0 fr.Element) fr.Element {
	if s.Continued {
		return ContinuedRunCommitment(paramsHash, datasetRoot, seedCommitment, beacon, s.Steps, m0)
	}
	return RunCommitment(paramsHash, datasetRoot, seedCommitment, beacon, s.Steps)
}

// Public is step t's public part of the witness, in the circuit's order:
// RunCommitment, Step, ModelBefore, ModelAfter.
func Public(runCommitment fr.Element, step int, before, after fr.Element) *Circuit {
	return &Circuit{RunCommitment: runCommitment, Step: step, ModelBefore: before, ModelAfter: after}
}

// Assign builds the full assignment; padding slots get zero rows, paths,
// salts and real flags.
func Assign(spec Spec, in Input) (*Circuit, error) {
	merkle := spec.Membership == commit.MembershipMerkle
	// One path per slot under a tree, one salt per slot under a tree or
	// leaves, none under a flat commitment.
	paths, salts := 0, 0
	if merkle {
		paths = len(in.Rows)
	}
	if spec.Membership != commit.MembershipFlat {
		salts = len(in.Rows)
	}
	if len(in.Rows) > spec.MaxBatch || len(in.Labels) != len(in.Rows) || len(in.Paths) != paths || len(in.Salts) != salts || len(in.Reals) != len(in.Rows) {
		return nil, fmt.Errorf("%w: %d rows, %d labels, %d real flags, %d paths, %d salts for %d slots (%v membership)",
			ErrSpec, len(in.Rows), len(in.Labels), len(in.Reals), len(in.Paths), len(in.Salts), spec.MaxBatch, spec.Membership)
	}
	if k := tableRowLen(spec); k > 0 {
		if len(in.Dataset) != spec.Rows {
			return nil, fmt.Errorf("%w: a dataset of %d rows for a row bound of %d", ErrSpec, len(in.Dataset), spec.Rows)
		}
		for i, row := range in.Dataset {
			if len(row) != k {
				return nil, fmt.Errorf("%w: dataset row %d has %d elements, want %d", ErrSpec, i, len(row), k)
			}
		}
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
		RunCommitment: spec.RunCommitment(in.ParamsHash, in.DatasetRoot, seedCommitment, in.Beacon, in.InitialModel),
		ParamsHash:    in.ParamsHash, DatasetRoot: in.DatasetRoot, SeedCommitment: seedCommitment, Beacon: in.Beacon,
		Step: in.Step, ModelBefore: before, ModelAfter: after, Seed: in.Seed,
		Weights: ints(in.Before),
	}
	for j := range spec.MaxBatch {
		row := make([]int64, spec.Widths[0])
		label := 0
		var flag int64 // a padding slot's row: zeros, flag 0
		if j < len(in.Rows) {
			if len(in.Rows[j]) != spec.Widths[0] {
				return nil, fmt.Errorf("%w: slot %d: %d features", ErrSpec, j, len(in.Rows[j]))
			}
			row, label, flag = in.Rows[j], in.Labels[j], in.Reals[j]
		}
		c.Rows = append(c.Rows, ints(row))
		c.Labels = append(c.Labels, label)
		c.Reals = append(c.Reals, flag)
		if spec.Membership != commit.MembershipFlat {
			var salt fr.Element // a padding slot's
			if j < len(in.Rows) {
				salt = in.Salts[j]
			}
			c.Salts = append(c.Salts, salt)
		}
		if !merkle {
			continue
		}
		path := make([]frontend.Variable, spec.Depth)
		for d := range path {
			path[d] = 0
		}
		if j < len(in.Rows) {
			if len(in.Paths[j]) != spec.Depth {
				return nil, fmt.Errorf("%w: slot %d: a path of %d, depth %d", ErrSpec, j, len(in.Paths[j]), spec.Depth)
			}
			for d, e := range in.Paths[j] {
				path[d] = e
			}
		}
		c.Paths = append(c.Paths, path)
	}
	for _, row := range in.Dataset {
		elems := make([]frontend.Variable, len(row))
		for l, e := range row {
			elems[l] = e
		}
		c.Dataset = append(c.Dataset, elems)
	}
	if spec.Membership == commit.MembershipFlat {
		c.DatasetSalt = []frontend.Variable{in.DatasetSalt}
	}
	if spec.Continued {
		c.InitialModel = []frontend.Variable{in.InitialModel}
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
