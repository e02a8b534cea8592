package fixedpoint

import (
	"math/big"
	"math/bits"
	"sync"
)

// Table is a public function on [0, len(Values)). Arith.Lookup reads it; a
// circuit checks a read with a lookup argument, which costs about one
// constraint per entry once and a few per read, instead of recomputing the
// function.
type Table struct {
	Name   string
	Values []int64
}

// ExpNeg is exp(v) for v <= 0 (raw at f bits), at f bits, floored; v below
// -ExpRange is clamped to -ExpRange first. With u = -v = h*2^k + l it is
//
//	floor(Hi[h] * Lo[l] / 2^(2F - f)),  Hi[h] = round(exp(-h 2^k / 2^f) 2^F),  Lo[l] = round(exp(-l / 2^f) 2^F)
//
// at F = ExpFracBits (expTables): two reads of small public tables and one
// rescale, where (1 + v/2^n)^(2^n) by n squarings cost a circuit 2n
// range-checked rescales per exponential (digits: 24 of its 30 per class).
// Both tables' entries are at most 2^F, so the product fits 2F <= 60 bits.
func ExpNeg[V any](a Arith[V], f Format, v V) V {
	lo := a.Const(-f.ExpRange << f.FracBits)
	v = a.Select(a.IsNegative(a.Sub(v, lo), f.ActBits+2), lo, v)
	t := expTables(f)
	u := a.Sub(a.Const(0), v) // 0 <= u <= ExpRange*2^f
	// h = floor(u / 2^k) with the remainder l in [0, 2^k), both bounded:
	// the rescale checks l and h's bound, and each lookup its own index.
	h := a.Rescale(u, t.k, t.hBits)
	l := a.Sub(u, a.Mul(h, a.Const(1<<t.k)))
	e := a.Mul(a.Lookup(t.hi, h), a.Lookup(t.lo, l))
	return a.Rescale(e, 2*f.ExpFracBits-f.FracBits, f.FracBits+1)
}

// expTable is ExpNeg's pair of tables for one format.
type expTable struct {
	hi, lo *Table
	k      uint // u = h*2^k + l
	hBits  uint // 0 <= h < 2^hBits
}

// expTables builds a format's tables once: every trainer step and circuit
// of the format reads the same ones.
func expTables(f Format) expTable {
	key := [3]uint{f.FracBits, uint(f.ExpRange), f.ExpFracBits}
	if t, ok := expCache.Load(key); ok {
		return t.(expTable)
	}
	umax := uint64(f.ExpRange) << f.FracBits
	// The split that makes the two tables smallest together.
	var k uint
	best := uint64(0)
	for c := uint(1); c < 40 && c <= uint(bits.Len64(umax)); c++ {
		if size := umax>>c + 1 + 1<<c; best == 0 || size < best {
			k, best = c, size
		}
	}
	t := expTable{k: k, hBits: uint(bits.Len64(umax >> k))}
	t.hi = &Table{Name: "exp-hi", Values: expPowers(f, 1<<k, int(umax>>k)+1)}
	t.lo = &Table{Name: "exp-lo", Values: expPowers(f, 1, 1<<k)}
	expCache.Store(key, t)
	return t
}

var expCache sync.Map

// expPrec is the working precision of the tables: far beyond the 2^-30 of
// an entry, so rounding to F bits is exact but for a tie, which a value of
// exp at a nonzero rational never is.
const expPrec = 256

// expPowers returns round(exp(-i*step/2^f) * 2^F) for i in [0, n): the
// powers of exp(-step/2^f), each a product of at most n factors at expPrec
// bits.
func expPowers(f Format, step uint64, n int) []int64 {
	x := new(big.Float).SetPrec(expPrec).SetMantExp(new(big.Float).SetUint64(step), -int(f.FracBits))
	base := ExpTaylor(new(big.Float).Neg(x))
	scale := new(big.Float).SetPrec(expPrec).SetMantExp(big.NewFloat(1), int(f.ExpFracBits))
	half := big.NewFloat(0.5)
	out := make([]int64, n)
	acc := new(big.Float).SetPrec(expPrec).SetInt64(1)
	for i := range out {
		v := new(big.Float).SetPrec(expPrec).Mul(acc, scale)
		v.Add(v, half)
		r, _ := v.Int64() // truncation is floor for non-negative values
		out[i] = r
		acc.Mul(acc, base)
	}
	return out
}

// ExpTaylor is exp(x) by its Taylor series at x's precision (at least 64
// bits), for |x| <= 1/2 where 200 terms are far more than enough.
func ExpTaylor(x *big.Float) *big.Float {
	prec := max(x.Prec(), 64)
	sum := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	eps := new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(1), -int(prec))
	for n := int64(1); n < 200; n++ {
		term.Mul(term, x)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(n))
		sum.Add(sum, term)
		if new(big.Float).Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	return sum
}
