package sampling

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/lookup/logderivlookup"

	"github.com/zkdp/zkdp/dp"
)

// DiscreteGaussian checks discrete-Gaussian samples as
// dp.DiscreteGaussian.Sample: a word u = s 2^63 + v gives |z| = k with
// CDF[k-1] <= v < CDF[k], where CDF[-1] = 0 and the last entry is read as
// 2^63, and z = -k if s = 1, else k.
//
// Cost (R1CS, measured in TestConstraintCounts): the table costs about one
// constraint per CDF entry (the lookup argument, built on first use), which
// dominates at realistic scales: 61,646 entries and about 62k constraints
// for sigma = 4.3 * 2^10. Each sample then costs about 23 constraints: two
// lookups, two 63-bit range checks, the sign bit and the signed product. The
// hint carries the table once per [DiscreteGaussian.SampleVector] call.
//
// With coefficients c_0..c_{W-1} (dp.DiscreteGaussian.Coeffs), each noise
// sample is sum_j c_j x_j over the table samples x_j of W consecutive words,
// as dp.DiscreteGaussian.SampleVector: a linear combination, no constraint,
// but W words and table samples per noise sample. Breast cancer's noise
// (62 samples, words included) costs 20,626 constraints as 34x + 35y from
// a table of 1,103 entries, against 64,050 from one table of 53,761.
type DiscreteGaussian struct {
	api    frontend.API
	rc     frontend.Rangechecker
	table  logderivlookup.Table // CDF[-1..L-1] at indices 0..L, the last as 2^63; built on first use
	cdf    []uint64
	coeffs []int64
}

// signBit is dp.SignBit: the word's bit that gives the sign.
const signBit = dp.SignBit

// NewDiscreteGaussian returns the gadget for the public table of a
// dp.DiscreteGaussian: its CDF of |z| (non-decreasing, at most 2^63; the last
// entry is read as 2^63 whatever it holds), Tail = len(cdf) - 1 and its
// combination (dp.DiscreteGaussian.Combination: [1] for one word a sample).
func NewDiscreteGaussian(api frontend.API, cdf []uint64, tail int64, coeffs []int64, opts ...Option) (*DiscreteGaussian, error) {
	if len(cdf) == 0 || tail != int64(len(cdf))-1 {
		return nil, fmt.Errorf("%w: discrete gaussian: %d CDF entries, tail %d", ErrParams, len(cdf), tail)
	}
	if len(coeffs) == 0 || len(coeffs) > 8 {
		return nil, fmt.Errorf("%w: discrete gaussian: %d coefficients", ErrParams, len(coeffs))
	}
	for _, c := range coeffs {
		// Samples stay far below p/2: |z| <= 8 * 2^20 * tail.
		if c < 1 || c > 1<<20 {
			return nil, fmt.Errorf("%w: discrete gaussian: coefficient %d, want [1, 2^20]", ErrParams, c)
		}
	}
	for i := range len(cdf) - 1 {
		// The index is unique only for a non-decreasing table, and v < 2^63
		// only for entries of at most 2^63.
		if cdf[i] > 1<<signBit || i > 0 && cdf[i] < cdf[i-1] {
			return nil, fmt.Errorf("%w: discrete gaussian: CDF entry %d decreases or exceeds 2^63", ErrParams, i)
		}
	}
	return &DiscreteGaussian{api: api, rc: newOptions(api, opts).rc, cdf: cdf, coeffs: coeffs}, nil
}

// WordsPerSample is how many words one noise sample takes.
func (g *DiscreteGaussian) WordsPerSample() int { return len(g.coeffs) }

// lookupTable builds the table on first use: a table without queries would
// fail to solve.
func (g *DiscreteGaussian) lookupTable() logderivlookup.Table {
	if g.table == nil {
		g.table = logderivlookup.New(g.api)
		g.table.Insert(0)
		for _, c := range g.cdf[:len(g.cdf)-1] {
			g.table.Insert(c)
		}
		g.table.Insert(new(big.Int).Lsh(big.NewInt(1), signBit))
	}
	return g.table
}

// Sample returns the noise sample of WordsPerSample 64-bit words. It passes
// the whole table to a hint, so use [DiscreteGaussian.SampleVector] for many
// samples.
func (g *DiscreteGaussian) Sample(us ...frontend.Variable) (frontend.Variable, error) {
	z, err := g.SampleVector(us)
	if err != nil {
		return nil, err
	}
	if len(z) != 1 {
		return nil, fmt.Errorf("%w: discrete gaussian: %d words for one sample of %d", ErrParams, len(us), g.WordsPerSample())
	}
	return z[0], nil
}

// SampleVector returns the len(us)/WordsPerSample noise samples of words
// (sample i from words i*W..i*W+W-1), negative ones embedded as p - |z| like
// commit.FromInt64.
func (g *DiscreteGaussian) SampleVector(us []frontend.Variable) ([]frontend.Variable, error) {
	w := len(g.coeffs)
	if len(us)%w != 0 {
		return nil, fmt.Errorf("%w: discrete gaussian: %d words, not a multiple of %d", ErrParams, len(us), w)
	}
	xs, err := g.tableSamples(us)
	if err != nil {
		return nil, err
	}
	if w == 1 {
		return xs, nil
	}
	out := make([]frontend.Variable, len(us)/w)
	for i := range out {
		terms := make([]frontend.Variable, w)
		for j, c := range g.coeffs {
			terms[j] = g.api.Mul(c, xs[i*w+j])
		}
		out[i] = g.api.Add(terms[0], terms[1], terms[2:]...)
	}
	return out, nil
}

// tableSamples returns the table samples of words. The words need no prior
// range check: with s boolean, u - s 2^63 = v and CDF[k-1] <= v < CDF[k] <=
// 2^63 checked as integers (two 63-bit range checks), 0 <= v < 2^63, so
// u = s 2^63 + v is below 2^64 and s and v are its top bit and the rest.
func (g *DiscreteGaussian) tableSamples(us []frontend.Variable) ([]frontend.Variable, error) {
	api := g.api
	if len(us) == 0 {
		return nil, nil
	}
	in := make([]frontend.Variable, 0, 1+len(g.cdf)+len(us))
	in = append(in, len(g.cdf))
	for _, c := range g.cdf {
		in = append(in, c)
	}
	in = append(in, us...)
	hint, err := api.Compiler().NewHint(gaussianIndexHint, 2*len(us), in...)
	if err != nil {
		return nil, fmt.Errorf("sampling: discrete gaussian index hint: %w", err)
	}
	out := make([]frontend.Variable, len(us))
	for j, u := range us {
		sign, k := hint[2*j], hint[2*j+1]
		api.AssertIsBoolean(sign)
		v := api.Sub(u, api.Mul(sign, new(big.Int).Lsh(big.NewInt(1), signBit)))
		// The lookups bound k: k+1 must index the table, so k <= L-1.
		tt := g.lookupTable().Lookup(k, api.Add(k, 1))
		assertInIntervalBits(api, g.rc, v, tt[0], tt[1], signBit) // CDF[k-1] <= v < CDF[k]
		out[j] = api.Sub(k, api.Mul(2, sign, k))                  // (1 - 2s) k
	}
	return out, nil
}
