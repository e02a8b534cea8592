package sampling

import (
	"fmt"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/hash/poseidon2"

	"github.com/zkdp/zkdp/commit"
)

// Hash is commit.Hash in a circuit: the Poseidon2 Merkle–Damgård hash (IV 0)
// of the tag followed by elems.
func Hash(api frontend.API, tag uint64, elems ...frontend.Variable) (frontend.Variable, error) {
	h, err := poseidon2.New(api)
	if err != nil {
		return nil, fmt.Errorf("sampling: hash: %w", err)
	}
	h.Write(tag)
	h.Write(elems...)
	return h.Sum(), nil
}

// SeedCommitment is dp.SeedCommitment: S = Hash(TagSeed, s).
func SeedCommitment(api frontend.API, s frontend.Variable) (frontend.Variable, error) {
	return Hash(api, commit.TagSeed, s)
}

// StepKey is dp.StepKey: Hash(TagPRF, s, beacon, step), the key all of step
// t's randomness derives from.
func StepKey(api frontend.API, s, beacon, step frontend.Variable) (frontend.Variable, error) {
	return Hash(api, commit.TagPRF, s, beacon, step)
}
