package sampling

import (
	"testing"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"

	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/internal/constraintstats"
)

// Realistic sizes: the digits config (1437 training rows, q = 0.1, 800
// steps, delta 1e-5 with a 1% sampler share as in trainer.makePlan, a
// 64x10 linear model) and a discrete Gaussian at sigma = 4.3 on a 2^10
// lattice.
const (
	countRows   = 1437
	countRate   = 0.1
	countSteps  = 800
	countParams = 64*10 + 10
	countSigma  = 4.3 * 1024
)

// keyedNoiseCircuit draws n noise samples from a step key's words.
type keyedNoiseCircuit struct {
	Key frontend.Variable
	n   int
	dg  *dp.DiscreteGaussian
}

func (c *keyedNoiseCircuit) Define(api frontend.API) error {
	g, err := NewDiscreteGaussian(api, c.dg.CDF, c.dg.Tail, c.dg.Combination())
	if err != nil {
		return err
	}
	ws, err := Words(api, c.Key, dp.StreamNoise, c.n*g.WordsPerSample())
	if err != nil {
		return err
	}
	_, err = g.SampleVector(ws)
	return err
}

func nbConstraints(t *testing.T, c frontend.Circuit) int {
	t.Helper()
	ccs, err := frontend.Compile(fieldBN254(), r1cs.NewBuilder, c)
	if err != nil {
		t.Fatal(err)
	}
	return ccs.GetNbConstraints()
}

// TestConstraintCounts logs R1CS sizes (Groth16 on BN254). The range checks
// and lookups share one commitment and a range table, so a gadget's marginal
// cost (the difference of two sizes) is the number that matters; the totals
// include those fixed parts.
func TestConstraintCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles circuits of realistic size")
	}
	// Words: one block's two words, one whole block, eleven blocks.
	w1 := nbConstraints(t, &wordsCircuit{Words: make([]frontend.Variable, 2), noOut: true})
	wb := nbConstraints(t, &wordsCircuit{Words: make([]frontend.Variable, dp.WordsPerBlock), noOut: true})
	w11 := nbConstraints(t, &wordsCircuit{Words: make([]frontend.Variable, 11*dp.WordsPerBlock), noOut: true})
	t.Logf("Words: 2 words %d constraints, 1 block (%d words) %d, 11 blocks %d: %.1f per word", w1, dp.WordsPerBlock, wb, w11, float64(w11)/float64(11*dp.WordsPerBlock))

	t.Logf("SeedCommitment + StepKey: %d constraints", nbConstraints(t, &seedCircuit{}))

	// Poisson: the full batch and per slot.
	maxBatch := dp.MaxBatchFor(countRows, countRate, countSteps, 1e-5*1e-2/100)
	s := mustSampler(t, countRows, countRate, maxBatch)
	half := mustSampler(t, countRows, countRate, maxBatch/2)
	full := newPoissonCircuit(s)
	full.noOut = true
	small := newPoissonCircuit(half)
	small.noOut = true
	pf, ph := nbConstraints(t, full), nbConstraints(t, small)
	t.Logf("Poisson (rows %d, q %v, %d thresholds, max batch %d): %d constraints; max batch %d: %d; %.1f per slot",
		countRows, countRate, len(s.Thresholds), maxBatch, pf, maxBatch/2, ph, float64(pf-ph)/float64(maxBatch-maxBatch/2))

	// Discrete Gaussian: table cost and per sample.
	g := mustGaussian(t, countSigma)
	one := nbConstraints(t, &gaussCircuit{U: make([]frontend.Variable, 1), Z: make([]frontend.Variable, 1), dg: g, noOut: true})
	many := nbConstraints(t, &gaussCircuit{U: make([]frontend.Variable, countParams), Z: make([]frontend.Variable, countParams), dg: g, noOut: true})
	t.Logf("Discrete Gaussian (sigma %v, %d CDF entries): 1 sample %d constraints, %d samples %d: %.1f per sample",
		countSigma, len(g.CDF), one, countParams, many, float64(many-one)/float64(countParams-1))
	// Breast cancer's noise (sigma 15 at 8 lattice bits, 62 parameters): a
	// combination of two samples of a small table (dp.NoiseCoeffs), PRF
	// words included, against one table.
	bcSigma, bcParams := 15.0*256, 62
	bc, err := dp.NewNoise(bcSigma, bcParams)
	if err != nil {
		t.Fatal(err)
	}
	bcOne := mustGaussian(t, bcSigma)
	conv := nbConstraints(t, &keyedNoiseCircuit{n: bcParams, dg: bc})
	single := nbConstraints(t, &keyedNoiseCircuit{n: bcParams, dg: bcOne})
	t.Logf("Breast cancer noise, words included: %v from a table of %d entries %d constraints; one table of %d entries %d",
		bc.Combination(), len(bc.CDF), conv, len(bcOne.CDF), single)
	constraintstats.Check(t, map[string]constraintstats.Row{
		"discrete gaussian/breast cancer combination with words": {Constraints: conv, Params: bcParams},
		"discrete gaussian/breast cancer one table with words":   {Constraints: single, Params: bcParams},
		"words/2 words":                        {Constraints: w1},
		"words/1 block":                        {Constraints: wb},
		"words/11 blocks":                      {Constraints: w11},
		"seed commitment + step key":           {Constraints: nbConstraints(t, &seedCircuit{})},
		"poisson/digits full batch":            {Constraints: pf},
		"poisson/digits half batch":            {Constraints: ph},
		"discrete gaussian/digits 1 sample":    {Constraints: one},
		"discrete gaussian/digits all samples": {Constraints: many, Params: countParams},
	})
}
