//go:build prover_checks

package sampling

import (
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/dp"
)

// TestGroth16Proves runs setup, proving and verification on a circuit that
// chains every gadget (go test -tags prover_checks): the range checks and
// the two lookup tables must share Groth16's commitment.
func TestGroth16Proves(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(19, 20))
	s := mustSampler(t, 40, 0.25, 12)
	g := mustGaussian(t, 2)
	seed, beacon := randElement(rng), randElement(rng)
	const step, nNoise = 3, 5
	key := dp.StepKey(seed, beacon, step)
	pa := poissonAssignment(t, s, prfWords(t, key, dp.StreamSampling, s.MaxBatch+1))
	ga := gaussAssignment(g, prfWords(t, key, dp.StreamNoise, nNoise))
	a := &chainCircuit{
		Seed: seed, Beacon: beacon, Step: step, Commitment: dp.SeedCommitment(seed),
		Positions: pa.Positions, Padding: pa.Padding, Truncated: pa.Truncated, Z: ga.Z,
	}
	c := &chainCircuit{
		Positions: make([]frontend.Variable, s.MaxBatch), Padding: make([]frontend.Variable, s.MaxBatch),
		Z: make([]frontend.Variable, nNoise), sampler: s, dg: g,
	}
	assert.CheckCircuit(c, test.WithValidAssignment(a), test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16))
}

type chainCircuit struct {
	Seed       frontend.Variable
	Beacon     frontend.Variable   `gnark:",public"`
	Step       frontend.Variable   `gnark:",public"`
	Commitment frontend.Variable   `gnark:",public"`
	Positions  []frontend.Variable `gnark:",public"`
	Padding    []frontend.Variable `gnark:",public"`
	Truncated  frontend.Variable   `gnark:",public"`
	Z          []frontend.Variable `gnark:",public"`
	sampler    *dp.PoissonSampler
	dg         *dp.DiscreteGaussian
}

func (c *chainCircuit) Define(api frontend.API) error {
	sc, err := SeedCommitment(api, c.Seed)
	if err != nil {
		return err
	}
	api.AssertIsEqual(sc, c.Commitment)
	key, err := StepKey(api, c.Seed, c.Beacon, c.Step)
	if err != nil {
		return err
	}
	p, err := NewPoisson(api, c.sampler.Thresholds, c.sampler.Rows, c.sampler.MaxBatch)
	if err != nil {
		return err
	}
	ws, err := Words(api, key, dp.StreamSampling, p.NbWords())
	if err != nil {
		return err
	}
	b, err := p.Sample(ws)
	if err != nil {
		return err
	}
	for j := range c.Positions {
		api.AssertIsEqual(b.Positions[j], c.Positions[j])
		api.AssertIsEqual(b.Padding[j], c.Padding[j])
	}
	api.AssertIsEqual(b.Truncated, c.Truncated)
	g, err := NewDiscreteGaussian(api, c.dg.CDF, c.dg.Tail, c.dg.Combination())
	if err != nil {
		return err
	}
	us, err := Words(api, key, dp.StreamNoise, len(c.Z))
	if err != nil {
		return err
	}
	z, err := g.SampleVector(us)
	if err != nil {
		return err
	}
	for i := range z {
		api.AssertIsEqual(z[i], c.Z[i])
	}
	return nil
}
