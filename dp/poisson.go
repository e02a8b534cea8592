package dp

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sort"
)

// ErrSampler is returned for sampler parameters that make no sense.
var ErrSampler = errors.New("dp: invalid sampler parameters")

// PoissonSampler draws the Poisson(q) subsample of [0, N) as the positions of
// successive selected rows: the gap before each selected row is geometric,
// P(gap >= k) = (1-q)^k. Batch slot j takes one PRF word u_j; its gap is the
// largest k with u_j < Thresholds[k] (Thresholds[0] = 2^64 is implicit). The
// j-th selected row is pos_j = pos_{j-1} + 1 + gap_j with pos_{-1} = -1, and a
// slot whose position is >= N is padding. A circuit checks a slot with two
// lookups: Thresholds[gap+1] <= u < Thresholds[gap].
//
// q is used as Q/2^64 with Q = floor(q * 2^64), never above q.
type PoissonSampler struct {
	Rows       int
	Rate       float64
	MaxBatch   int      // public padding size: slots per step
	Thresholds []uint64 // Thresholds[k-1] = floor(2^64 (1-Q/2^64)^k), k = 1..Rows
}

// NewPoissonSampler builds the table for N rows, rate q and maxBatch slots.
func NewPoissonSampler(rows int, q float64, maxBatch int) (*PoissonSampler, error) {
	if rows < 1 || !(q > 0 && q <= 1) || maxBatch < 1 {
		return nil, fmt.Errorf("%w: rows %d, rate %v, max batch %d", ErrSampler, rows, q, maxBatch)
	}
	var keep uint64 // 2^64 - Q
	if q < 1 {
		Q := uint64(math.Floor(math.Ldexp(q, 64)))
		if Q == 0 {
			return nil, fmt.Errorf("%w: rate %v is below 2^-64", ErrSampler, q)
		}
		keep = -Q
	}
	// The survival probability is kept at 128 bits (hi, lo) so that rounding
	// stays far below the 2^-64 of the published table.
	hi, lo := keep, uint64(0)
	th := make([]uint64, rows)
	for k := range rows {
		th[k] = hi
		if hi == 0 {
			continue
		}
		// (hi*2^64 + lo) * keep / 2^64
		h1, l1 := bits.Mul64(hi, keep)
		h2, _ := bits.Mul64(lo, keep)
		var c uint64
		lo, c = bits.Add64(l1, h2, 0)
		hi = h1 + c
	}
	return &PoissonSampler{Rows: rows, Rate: q, MaxBatch: maxBatch, Thresholds: th}, nil
}

// Gap is the geometric gap that word u encodes.
func (p *PoissonSampler) Gap(u uint64) int {
	// Thresholds are non-increasing; count the k with u < Thresholds[k-1].
	return sort.Search(len(p.Thresholds), func(i int) bool { return u >= p.Thresholds[i] })
}

// Batch is one step's sample.
type Batch struct {
	Indices   []int // selected rows, increasing, at most MaxBatch
	Truncated bool  // the Poisson sample had more rows than MaxBatch
}

// Sample turns MaxBatch+1 words (the extra one detects truncation) into the
// step's batch.
func (p *PoissonSampler) Sample(words []uint64) Batch {
	var b Batch
	pos := -1
	for j, u := range words {
		pos += 1 + p.Gap(u)
		if pos >= p.Rows {
			break
		}
		if j == p.MaxBatch {
			b.Truncated = true
			break
		}
		b.Indices = append(b.Indices, pos)
	}
	return b
}

// TableDistance bounds the total-variation distance between one slot's table
// gap and the exact geometric gap with rate Q/2^64: each threshold is within
// 2^-64 (flooring) plus k*2^-128 (the 128-bit recurrence) of the exact
// survival probability, so each of the len+1 outcome probabilities moves by
// less than 2^-63 and the distance, half the sum, is below (len+1)*2^-64.
func (p *PoissonSampler) TableDistance() float64 {
	return float64(len(p.Thresholds)+1) * math.Ldexp(1, -64)
}

// BinomialTail is P(Binomial(n, q) > k), computed in log space.
func BinomialTail(n int, q float64, k int) float64 {
	if k >= n {
		return 0
	}
	if k < 0 {
		return 1
	}
	lq, l1q := math.Log(q), math.Log1p(-q)
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	maxLog := math.Inf(-1)
	terms := make([]float64, 0, n-k)
	for i := k + 1; i <= n; i++ {
		t := lg(n) - lg(i) - lg(n-i) + float64(i)*lq + float64(n-i)*l1q
		terms = append(terms, t)
		maxLog = math.Max(maxLog, t)
	}
	s := 0.0
	for _, t := range terms {
		s += math.Exp(t - maxLog)
	}
	return math.Min(1, math.Exp(maxLog)*s)
}

// MaxBatchFor is the smallest public batch size whose overflow probability
// over all steps, steps * P(Binomial(n, q) > size), is at most budget.
func MaxBatchFor(n int, q float64, steps int, budget float64) int {
	mean := float64(n) * q
	k := int(mean)
	for k < n && float64(steps)*BinomialTail(n, q, k) > budget {
		k += 1 + int(math.Sqrt(mean)/8)
	}
	for k > 0 && float64(steps)*BinomialTail(n, q, k-1) <= budget {
		k--
	}
	return k
}
