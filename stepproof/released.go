package stepproof

import (
	"errors"
	"fmt"
	"slices"

	"github.com/zkdp/zkdp/commit"
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
