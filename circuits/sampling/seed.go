package sampling

import (
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/commitment"
	"github.com/zkdp/zkdp/commit"
)

// SeedCommitment is dp.SeedCommitment: S = Hash(TagSeed, s).
func SeedCommitment(api frontend.API, s frontend.Variable) (frontend.Variable, error) {
	return commitment.Hash(api, commit.TagSeed, s), nil
}

// StepKey is dp.StepKey: Hash(TagPRF, s, beacon, step), the key all of step
// t's randomness derives from.
func StepKey(api frontend.API, s, beacon, step frontend.Variable) (frontend.Variable, error) {
	return commitment.Hash(api, commit.TagPRF, s, beacon, step), nil
}
