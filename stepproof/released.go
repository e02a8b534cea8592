package stepproof

import (
	"errors"
	"fmt"
	"slices"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
)

// ErrReleasedModel: a run's public/model.json is not the model its
// transcript ends with (its weights do not hash to M_T).
var ErrReleasedModel = errors.New("stepproof: the released model is not the run's M_T")

// ReadReleased reads the released model of the run at root and checks it:
// the params and transcript chain as ReadPublic checks them, and
// public/model.json's weights hash to the transcript's M_T under the
// params' shape and format. It does not verify the step proofs (Verify
// does): the new run's statement is that it starts from this M_T.
func ReadReleased(root string) (*run.Released, error) {
	pub, err := ReadPublic(root)
	if err != nil {
		return nil, err
	}
	var m run.Model
	path := pub.Dir.Public(run.ModelFile)
	if err := run.ReadJSON(path, &m); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p := pub.Params
	if !slices.Equal(m.Widths, p.Widths) || m.Format != p.Step.Format {
		return nil, fmt.Errorf("%w: %s: widths %v in format %+v, the params say %v in %+v", ErrReleasedModel, path, m.Widths, m.Format, p.Widths, p.Step.Format)
	}
	mT := pub.Models[p.Steps]
	h, err := commit.HashPacked(commit.TagModel, m.Weights, p.Step.WeightBits)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrReleasedModel, path, err)
	}
	if h != mT {
		return nil, fmt.Errorf("%w: %s: the weights hash to %s, the transcript's M_T is %s", ErrReleasedModel, path, commit.Hex(h), commit.Hex(mT))
	}
	return &run.Released{Parent: run.Parent{Params: p, RunCommitment: commit.Hex(pub.RunCommitment()), Model: commit.Hex(mT)}, Weights: m.Weights}, nil
}

// ErrLineage: a continued run's parent run is missing, or is not the run
// its params name (params, run commitment, M_T).
var ErrLineage = errors.New("stepproof: the continued run's parent is not the run its params name")

// CheckParent checks that parent is the run that child continues: its
// params hash to those child's params name, its run commitment is the one
// named, and its M_T is child's M_0 (ReadPublic checked that the named
// model is child's M_0).
func CheckParent(child, parent *Public) error {
	par := child.Params.Parent
	if par == nil {
		return fmt.Errorf("%w: %s continues no run", ErrLineage, child.Dir.Root)
	}
	named, err := par.Params.Hash()
	if err != nil {
		return err
	}
	switch {
	case named != parent.ParamsHash:
		return fmt.Errorf("%w: %s: params hash %s, %s names %s", ErrLineage, parent.Dir.Root, commit.Hex(parent.ParamsHash), child.Dir.Root, commit.Hex(named))
	case commit.Hex(parent.RunCommitment()) != par.RunCommitment:
		return fmt.Errorf("%w: %s: run commitment %s, %s names %s", ErrLineage, parent.Dir.Root, commit.Hex(parent.RunCommitment()), child.Dir.Root, par.RunCommitment)
	case parent.Models[parent.Params.Steps] != child.Models[0]:
		return fmt.Errorf("%w: %s: M_T %s, the M_0 of %s is %s", ErrLineage, parent.Dir.Root, commit.Hex(parent.Models[parent.Params.Steps]), child.Dir.Root, commit.Hex(child.Models[0]))
	}
	return nil
}

// VerifyLineage verifies the run at dirs[0] and the runs it descends from,
// dirs[i+1] being the run that dirs[i] continues: every run's proofs
// (Verify) and every link (CheckParent). A continued run's W_0 is its
// parent's W_T, so the run says nothing about what its W_0 holds unless its
// parent (and so on up) is verified too: a continued run whose parent is
// not given fails with ErrLineage, as does a directory beyond the lineage.
func VerifyLineage(dirs []string, trust prover.KeyTrust) ([]Report, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%w: no run", ErrLineage)
	}
	var reps []Report
	var child *Public
	for i, dir := range dirs {
		pub, err := ReadPublic(dir)
		if err != nil {
			return reps, err
		}
		if child != nil {
			if err := CheckParent(child, pub); err != nil {
				return reps, err
			}
		}
		rep, err := Verify(dir, trust)
		if err != nil {
			return reps, fmt.Errorf("%s: %w", dir, err)
		}
		reps = append(reps, rep)
		child = pub
		if pub.Params.Parent == nil && i+1 < len(dirs) {
			return reps, fmt.Errorf("%w: %s continues no run, but %s was given as its parent", ErrLineage, dir, dirs[i+1])
		}
	}
	if par := child.Params.Parent; par != nil {
		return reps, fmt.Errorf("%w: %s continues run %s (M_0 = its M_T %s): give that run's directory (zkdp verify --parent DIR) to verify the lineage", ErrLineage, child.Dir.Root, par.RunCommitment, par.Model)
	}
	return reps, nil
}
