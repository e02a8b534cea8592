package sampling

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/lookup/logderivlookup"
)

// DiscreteGaussian checks discrete-Gaussian samples as
// dp.DiscreteGaussian.Sample: a word u gives z = i - Tail with
// CDF[i-1] <= u < CDF[i], where CDF[-1] = 0 and the last entry is read as
// 2^64 (dp stores it as MaxUint64).
//
// Cost (R1CS, measured in TestConstraintCounts): the table costs about one
// constraint per CDF entry (the lookup argument, built on first use), which
// dominates at realistic scales: 123,291 entries and about 124k constraints
// for sigma = 4.3 * 2^10. Each sample then costs about 22 constraints: two
// lookups and two 64-bit range checks. The hint carries the table once per
// [DiscreteGaussian.SampleVector] call.
type DiscreteGaussian struct {
	api   frontend.API
	rc    frontend.Rangechecker
	table logderivlookup.Table // CDF[-1..L-1] at indices 0..L, the last as 2^64; built on first use
	cdf   []uint64
	tail  int64
}

// NewDiscreteGaussian returns the gadget for the public table of a
// dp.DiscreteGaussian: its CDF (non-decreasing; the last entry is read as
// 2^64 whatever it holds) and Tail.
func NewDiscreteGaussian(api frontend.API, cdf []uint64, tail int64, opts ...Option) (*DiscreteGaussian, error) {
	if len(cdf) == 0 || tail < 0 {
		return nil, fmt.Errorf("%w: discrete gaussian: %d CDF entries, tail %d", ErrParams, len(cdf), tail)
	}
	for i := 1; i < len(cdf)-1; i++ {
		// The index is unique only for a non-decreasing table.
		if cdf[i] < cdf[i-1] {
			return nil, fmt.Errorf("%w: discrete gaussian: CDF entry %d decreases", ErrParams, i)
		}
	}
	return &DiscreteGaussian{api: api, rc: newOptions(api, opts).rc, cdf: cdf, tail: tail}, nil
}

// lookupTable builds the table on first use: a table without queries would
// fail to solve.
func (g *DiscreteGaussian) lookupTable() logderivlookup.Table {
	if g.table == nil {
		g.table = logderivlookup.New(g.api)
		g.table.Insert(0)
		for _, c := range g.cdf[:len(g.cdf)-1] {
			g.table.Insert(c)
		}
		g.table.Insert(new(big.Int).Lsh(big.NewInt(1), 64))
	}
	return g.table
}

// Sample returns the sample of the 64-bit word u. It passes the whole table
// to a hint, so use [DiscreteGaussian.SampleVector] for many samples.
func (g *DiscreteGaussian) Sample(u frontend.Variable) (frontend.Variable, error) {
	z, err := g.SampleVector([]frontend.Variable{u})
	if err != nil {
		return nil, err
	}
	return z[0], nil
}

// SampleVector returns the samples of words, negative ones embedded as
// p - |z| like commit.FromInt64. The words need no prior range check: the
// two interval checks imply CDF[i-1] <= u < CDF[i] as integers, so u < 2^64.
func (g *DiscreteGaussian) SampleVector(us []frontend.Variable) ([]frontend.Variable, error) {
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
	idx, err := api.Compiler().NewHint(gaussianIndexHint, len(us), in...)
	if err != nil {
		return nil, fmt.Errorf("sampling: discrete gaussian index hint: %w", err)
	}
	out := make([]frontend.Variable, len(us))
	for j, u := range us {
		i := idx[j]
		// The lookups bound i: i+1 must index the table, so i <= L-1.
		tt := g.lookupTable().Lookup(i, api.Add(i, 1))
		assertInInterval(api, g.rc, u, tt[0], tt[1]) // CDF[i-1] <= u < CDF[i]
		out[j] = api.Sub(i, g.tail)
	}
	return out, nil
}
