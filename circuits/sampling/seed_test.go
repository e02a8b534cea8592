package sampling

import (
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/dp"
)

type seedCircuit struct {
	Seed       frontend.Variable
	Beacon     frontend.Variable `gnark:",public"`
	Step       frontend.Variable `gnark:",public"`
	Commitment frontend.Variable `gnark:",public"`
	Key        frontend.Variable `gnark:",public"`
}

func (c *seedCircuit) Define(api frontend.API) error {
	s, err := SeedCommitment(api, c.Seed)
	if err != nil {
		return err
	}
	api.AssertIsEqual(s, c.Commitment)
	k, err := StepKey(api, c.Seed, c.Beacon, c.Step)
	if err != nil {
		return err
	}
	api.AssertIsEqual(k, c.Key)
	return nil
}

func TestSeedMatchesNative(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, step := range []int{0, 1, 4095} {
		seed, beacon, other := randElement(rng), randElement(rng), randElement(rng)
		valid := &seedCircuit{
			Seed: seed, Beacon: beacon, Step: step,
			Commitment: dp.SeedCommitment(seed),
			Key:        dp.StepKey(seed, beacon, step),
		}
		wrongSeed := *valid
		wrongSeed.Seed = other
		wrongCommitment := *valid
		wrongCommitment.Commitment = dp.SeedCommitment(other)
		wrongStep := *valid
		wrongStep.Step = step + 1
		wrongTag := *valid // the key hashed with the seed tag
		wrongTag.Key = commit.Hash(commit.TagSeed, seed, beacon, commit.FromInt64(int64(step)))
		assert.CheckCircuit(&seedCircuit{}, checkOpts(
			test.WithValidAssignment(valid),
			test.WithInvalidAssignment(&wrongSeed),
			test.WithInvalidAssignment(&wrongCommitment),
			test.WithInvalidAssignment(&wrongStep),
			test.WithInvalidAssignment(&wrongTag))...)
	}
}
