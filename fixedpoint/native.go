package fixedpoint

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"
)

// ErrOverflow is returned when a value breaks its declared bound: the step is
// then not representable in the circuit, so training stops instead of
// wrapping.
var ErrOverflow = errors.New("fixedpoint: value out of its declared bound")

// ErrDomain is returned for an operation outside its domain (a negative
// square root, a division by a non-positive number).
var ErrDomain = errors.New("fixedpoint: operation outside its domain")

// Native executes Arith on int64. Errors are sticky: the first one is kept
// and later operations return zeros, so step code stays free of error plumbing;
// callers check Err once.
type Native struct{ err error }

// Err is the first error met, or nil.
func (n *Native) Err() error { return n.err }

func (n *Native) fail(err error) int64 {
	if n.err == nil {
		n.err = err
	}
	return 0
}

func within(v int64, b uint) bool {
	if b >= 63 {
		return true
	}
	lim := int64(1) << b
	return v >= -lim && v < lim
}

func (n *Native) Const(c int64) int64 { return c }

func (n *Native) Add(a, b int64) int64 {
	s := a + b
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		return n.fail(fmt.Errorf("%w: %d + %d overflows int64", ErrOverflow, a, b))
	}
	return s
}

func (n *Native) Sub(a, b int64) int64 {
	if b == -1<<63 {
		return n.fail(fmt.Errorf("%w: negating %d", ErrOverflow, b))
	}
	return n.Add(a, -b)
}

func (n *Native) Mul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	hi, lo := bits.Mul64(uabs(a), uabs(b))
	if hi != 0 || lo >= 1<<63 {
		return n.fail(fmt.Errorf("%w: %d * %d overflows int64", ErrOverflow, a, b))
	}
	if (a < 0) != (b < 0) {
		return -int64(lo)
	}
	return int64(lo)
}

func uabs(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}

func (n *Native) Rescale(v int64, shift uint, b uint) int64 {
	r := v >> shift // arithmetic shift is floor division by 2^shift
	if !within(r, b) {
		return n.fail(fmt.Errorf("%w: rescaled value %d needs more than %d bits", ErrOverflow, r, b))
	}
	return r
}

func (n *Native) SubFloor(w, v int64, shift uint, b uint) int64 {
	if !within(w, b) {
		return n.fail(fmt.Errorf("%w: %d needs more than %d bits", ErrOverflow, w, b))
	}
	r := w - v>>shift
	if !within(r, b) {
		return n.fail(fmt.Errorf("%w: %d - floor(%d / 2^%d) needs more than %d bits", ErrOverflow, w, v, shift, b))
	}
	return r
}

// ErrClip is returned when a clipped gradient's norm exceeds the clip norm:
// the margin covers inputs within [-1, 1], and a hidden layer's activations
// may be larger.
var ErrClip = errors.New("fixedpoint: a clipped gradient exceeds the clip norm")

func (n *Native) AssertNonNegative(v int64, b uint) {
	if v < 0 {
		n.fail(fmt.Errorf("%w: %d below zero", ErrClip, v))
	} else if !within(v, b) {
		n.fail(fmt.Errorf("%w: %d needs more than %d bits", ErrOverflow, v, b))
	}
}

func (n *Native) Div(num, d int64, qBits, dBits uint) int64 {
	if num < 0 || d <= 0 {
		return n.fail(fmt.Errorf("%w: floor(%d / %d)", ErrDomain, num, d))
	}
	if !within(d, dBits) {
		return n.fail(fmt.Errorf("%w: divisor %d needs more than %d bits", ErrOverflow, d, dBits))
	}
	q := num / d
	if !within(q, qBits) {
		return n.fail(fmt.Errorf("%w: quotient %d needs more than %d bits", ErrOverflow, q, qBits))
	}
	return q
}

func (n *Native) CeilSqrt(v int64, b uint) int64 {
	if v < 0 || !within(v, b) {
		return n.fail(fmt.Errorf("%w: ceil sqrt of %d (bound %d bits)", ErrDomain, v, b))
	}
	s := new(big.Int).Sqrt(big.NewInt(v)).Int64()
	if s*s < v {
		s++
	}
	return s
}

func (n *Native) IsNegative(v int64, b uint) int64 {
	if !within(v, b) {
		return n.fail(fmt.Errorf("%w: sign of %d (bound %d bits)", ErrOverflow, v, b))
	}
	if v < 0 {
		return 1
	}
	return 0
}

func (n *Native) Select(cond, a, b int64) int64 {
	if cond != 0 {
		return a
	}
	return b
}

func (n *Native) Lookup(t *Table, i int64) int64 {
	if i < 0 || i >= int64(len(t.Values)) {
		return n.fail(fmt.Errorf("%w: index %d outside table %s of %d entries", ErrDomain, i, t.Name, len(t.Values)))
	}
	return t.Values[i]
}

var _ Arith[int64] = (*Native)(nil)

// MatMul is X Y in plain int64 loops: with |x| <= 2^xBits and |y| <= 2^yBits
// (checked) and xBits+yBits+bitlen(k) < 63, no partial sum can overflow,
// so the result is Dot's without its per-operation checks. Outside those
// bounds it falls back to the checked Dot.
func (n *Native) MatMul(x, y [][]int64, xBits, yBits uint) [][]int64 {
	if len(x) == 0 || len(y) == 0 || xBits+yBits+uint(bits.Len(uint(len(y)))) >= 63 || !n.allWithin(x, xBits) || !n.allWithin(y, yBits) {
		out := make([][]int64, len(x))
		yt := Transpose(y)
		for i := range x {
			out[i] = make([]int64, len(yt))
			for j := range yt {
				out[i][j] = Dot[int64](n, x[i], yt[j])
			}
		}
		return out
	}
	m := len(y[0])
	out := make([][]int64, len(x))
	for i, row := range x {
		acc := make([]int64, m)
		for k, v := range row {
			if v == 0 {
				continue
			}
			for j, w := range y[k] {
				acc[j] += v * w
			}
		}
		out[i] = acc
	}
	return out
}

// MatVec is W x, through MatMul's bounds.
func (n *Native) MatVec(w [][]int64, x []int64, wBits, xBits uint) []int64 {
	col := make([][]int64, len(x))
	for i, v := range x {
		col[i] = []int64{v}
	}
	prod := n.MatMul(w, col, wBits, xBits)
	out := make([]int64, len(w))
	for r := range prod {
		out[r] = prod[r][0]
	}
	return out
}

// allWithin is |v| <= 2^b for every entry.
func (n *Native) allWithin(x [][]int64, b uint) bool {
	lim := int64(1) << b
	for _, row := range x {
		for _, v := range row {
			if v > lim || v < -lim {
				return false
			}
		}
	}
	return true
}

var (
	_ MatMuler[int64] = (*Native)(nil)
	_ MatVecer[int64] = (*Native)(nil)
)
