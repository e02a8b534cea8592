package sampling

import (
	"fmt"
	"math/big"
	"math/bits"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/lookup/logderivlookup"
)

// Poisson checks a step's Poisson subsample as dp.PoissonSampler.Sample does:
// slot j's word u_j gives gap_j with T[gap] <= u_j < T[gap-1] (T[-1] = 2^64,
// T[N] = 0), the slot's position is pos_j = pos_{j-1} + 1 + gap_j with
// pos_{-1} = -1, and the slot is padding when pos_j >= N.
//
// Cost (R1CS, measured in TestConstraintCounts): the table costs about one
// constraint per threshold (the lookup argument, built on first use); each
// slot costs about 29 constraints: two lookups, two 64-bit range checks, one
// range check of bits.Len((B+1)(N+1)) bits, a boolean and a product. The hint
// carries the table once per [Poisson.Sample] call. Digits (N = 1437,
// q = 0.1, B = 229): about 8.7k constraints in all.
type Poisson struct {
	api        frontend.API
	rc         frontend.Rangechecker
	table      logderivlookup.Table // T[-1..N] at indices 0..N+1, built on first use
	thresholds []uint64
	rows       int
	maxBatch   int
	posBits    int
}

// Batch is the checked sample of one step.
type Batch struct {
	// Gaps, Positions and Padding have one entry per slot (MaxBatch). A
	// padding slot's position is >= N and carries no meaning.
	Gaps      []frontend.Variable
	Positions []frontend.Variable
	Padding   []frontend.Variable // 1 for a padding slot, else 0
	// Truncated is 1 when the extra word still lands below N: the Poisson
	// sample had more than MaxBatch rows.
	Truncated frontend.Variable
}

// NewPoisson returns the gadget for the public table of a
// dp.PoissonSampler: its Thresholds (non-increasing, one per row), Rows and
// MaxBatch.
func NewPoisson(api frontend.API, thresholds []uint64, rows, maxBatch int, opts ...Option) (*Poisson, error) {
	if rows < 1 || maxBatch < 1 || len(thresholds) != rows {
		return nil, fmt.Errorf("%w: poisson: %d rows, %d thresholds, max batch %d", ErrParams, rows, len(thresholds), maxBatch)
	}
	for k := 1; k < rows; k++ {
		// The gap is unique only for a non-increasing table.
		if thresholds[k] > thresholds[k-1] {
			return nil, fmt.Errorf("%w: poisson: threshold %d increases", ErrParams, k)
		}
	}
	// Positions grow by at most N+1 per slot, and there are B+1 slots.
	maxPos := uint64(maxBatch+1) * uint64(rows+1)
	if maxPos > 1<<62 {
		return nil, fmt.Errorf("%w: poisson: %d rows times %d slots is too large", ErrParams, rows, maxBatch)
	}
	return &Poisson{
		api:        api,
		rc:         newOptions(api, opts).rc,
		thresholds: thresholds,
		rows:       rows,
		maxBatch:   maxBatch,
		posBits:    bits.Len64(maxPos),
	}, nil
}

// NbWords is how many words [Poisson.Sample] takes: MaxBatch + 1.
func (p *Poisson) NbWords() int { return p.maxBatch + 1 }

// Sample checks the batch that MaxBatch+1 words give. The words need no
// prior range check: the two interval checks imply T[gap] <= u < T[gap-1] as
// integers (their differences are in [0, 2^64) and sum to T[gap-1]-1-T[gap]
// with no wrap-around), so u < 2^64.
func (p *Poisson) Sample(words []frontend.Variable) (*Batch, error) {
	api := p.api
	if len(words) != p.NbWords() {
		return nil, fmt.Errorf("%w: poisson: %d words for %d slots and the truncation check", ErrParams, len(words), p.maxBatch)
	}
	in := make([]frontend.Variable, 0, 1+p.rows+len(words))
	in = append(in, p.rows)
	for _, t := range p.thresholds {
		in = append(in, t)
	}
	in = append(in, words...)
	gaps, err := api.Compiler().NewHint(poissonGapHint, len(words), in...)
	if err != nil {
		return nil, fmt.Errorf("sampling: poisson gap hint: %w", err)
	}
	b := &Batch{
		Gaps:      gaps[:p.maxBatch],
		Positions: make([]frontend.Variable, p.maxBatch),
		Padding:   make([]frontend.Variable, p.maxBatch),
	}
	pos := frontend.Variable(-1)
	for j, u := range words {
		g := gaps[j]
		// The lookups also bound g: g+1 must index the table, so g <= N.
		tt := p.lookupTable().Lookup(g, api.Add(g, 1))
		assertInInterval(api, p.rc, u, tt[1], tt[0]) // T[g] <= u < T[g-1]
		pos = api.Add(pos, 1, g)
		pad, err := p.isGE(pos, p.rows)
		if err != nil {
			return nil, err
		}
		if j == p.maxBatch {
			b.Truncated = api.Sub(1, pad)
			break
		}
		b.Positions[j] = pos
		b.Padding[j] = pad
	}
	return b, nil
}

// lookupTable builds the table on first use: a table without queries would
// fail to solve.
func (p *Poisson) lookupTable() logderivlookup.Table {
	if p.table == nil {
		p.table = logderivlookup.New(p.api)
		p.table.Insert(new(big.Int).Lsh(big.NewInt(1), 64))
		for _, t := range p.thresholds {
			p.table.Insert(t)
		}
		p.table.Insert(0)
	}
	return p.table
}

// isGE returns the boolean a >= n for 0 <= a < 2^posBits: the hinted flag f
// is boolean and (2f-1)(a-n) + f - 1, which is a-n when f = 1 and n-1-a when
// f = 0, is range-checked to posBits bits, so it is non-negative.
func (p *Poisson) isGE(a frontend.Variable, n int) (frontend.Variable, error) {
	api := p.api
	res, err := api.Compiler().NewHint(isGEHint, 1, a, n)
	if err != nil {
		return nil, fmt.Errorf("sampling: comparison hint: %w", err)
	}
	f := res[0]
	api.AssertIsBoolean(f)
	d := api.Add(api.Mul(api.Sub(api.Mul(f, 2), 1), api.Sub(a, n)), f, -1)
	p.rc.Check(d, p.posBits)
	return f, nil
}

// assertInInterval enforces lo <= u < hi for table bounds lo < 2^64 and
// hi <= 2^64: both differences are below 2^64 when the bounds hold, and a
// violation wraps to about p, which the 64-bit range checks reject.
func assertInInterval(api frontend.API, rc frontend.Rangechecker, u, lo, hi frontend.Variable) {
	assertInIntervalBits(api, rc, u, lo, hi, 64)
}

// assertInIntervalBits enforces lo <= u < hi as integers for table bounds
// 0 <= lo < hi <= 2^bits (bits < 253): u - lo in [0, 2^bits) makes u the
// integer lo + (u - lo), below lo + 2^bits < p, and hi - 1 - u in
// [0, 2^bits) then makes it at most hi - 1.
func assertInIntervalBits(api frontend.API, rc frontend.Rangechecker, u, lo, hi frontend.Variable, bits int) {
	rc.Check(api.Sub(u, lo), bits)
	rc.Check(api.Sub(hi, 1, u), bits)
}
