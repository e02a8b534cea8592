// Package arith executes zkdp's fixed-point arithmetic (package fixedpoint)
// inside gnark circuits: Arith implements fixedpoint.Arith over
// frontend.Variable, so the quantized step and forward pass that the trainer
// runs natively are the very code the circuits constrain.
//
// Signed integers are field elements (negative v as p-|v|). Every nonlinear
// result comes from a hint and is pinned down by constraints:
//
//	Rescale:    v = q*2^s + r,   0 <= r < 2^s,   -2^bits <= q < 2^bits
//	Div:        n = q*d + r,     0 <= r < d,     0 <= q < 2^qBits, d < 2^dBits
//	CeilSqrt:   (s-1)^2 < n <= s^2,  0 <= s
//	IsNegative: b*(b-1) = 0,     0 <= v + b*2^bits < 2^bits
//
// The range checks bound every term far below the field size, so none of the
// equalities can wrap modulo p. Every hint output is checked against the
// bound its honest value has, quotients included: with only the remainder
// checked, v = q*2^s + r holds in the field for every r with some q.
package arith

import (
	"errors"
	"math/big"

	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/lookup/logderivlookup"

	"github.com/zkdp/zkdp/circuits/lookup"
	"github.com/zkdp/zkdp/fixedpoint"
)

func init() {
	solver.RegisterHint(FloorDivHint, CeilSqrtHint, IsNegativeHint, UnpackHint, MatMulHint)
}

// maxBits keeps every checked quantity below 2^maxBits, far from the BN254
// modulus (~2^253.6), so equalities over the field are equalities over Z.
const maxBits = 120

// Arith is fixedpoint.Arith over a gnark API.
type Arith struct {
	api          frontend.API
	rc           frontend.Rangechecker
	packProducts bool
	tables       map[*fixedpoint.Table]logderivlookup.Table
}

// Option configures Arith.
type Option func(*config)

type config struct {
	rc           frontend.Rangechecker
	packProducts bool
}

// WithRangechecker shares a range checker with other gadgets of the circuit,
// so that all range checks go into one lookup table.
func WithRangechecker(rc frontend.Rangechecker) Option {
	return func(c *config) { c.rc = rc }
}

// WithPackedProducts makes MatVec pack several rows' weights into one field
// element, so that one multiplication by an input yields several products
// (see MatVec). It pays off when the weights are variables, as in a circuit
// whose model is a private witness.
func WithPackedProducts() Option {
	return func(c *config) { c.packProducts = true }
}

// New returns the circuit execution of the fixed-point arithmetic.
func New(api frontend.API, opts ...Option) *Arith {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.rc == nil {
		c.rc = lookup.New(api)
	}
	return &Arith{api: api, rc: c.rc, packProducts: c.packProducts, tables: map[*fixedpoint.Table]logderivlookup.Table{}}
}

var _ fixedpoint.Arith[frontend.Variable] = (*Arith)(nil)

// check range-checks v to [0, 2^bits).
func (a *Arith) check(v frontend.Variable, bits uint) {
	if bits > maxBits {
		panic("arith: a range check wider than 120 bits would let equalities wrap modulo p")
	}
	a.rc.Check(v, int(bits))
}

func (a *Arith) Const(c int64) frontend.Variable { return c }

func (a *Arith) Add(x, y frontend.Variable) frontend.Variable { return a.api.Add(x, y) }

func (a *Arith) Sub(x, y frontend.Variable) frontend.Variable { return a.api.Sub(x, y) }

func (a *Arith) Mul(x, y frontend.Variable) frontend.Variable { return a.api.Mul(x, y) }

func (a *Arith) Select(cond, x, y frontend.Variable) frontend.Variable {
	return a.api.Select(cond, x, y)
}

// Rescale is floor(v / 2^shift), with -2^bits <= result < 2^bits.
func (a *Arith) Rescale(v frontend.Variable, shift uint, bits uint) frontend.Variable {
	if shift == 0 {
		a.checkSigned(v, bits)
		return v
	}
	out, err := a.api.Compiler().NewHint(FloorDivHint, 2, v, new(big.Int).Lsh(big.NewInt(1), shift))
	if err != nil {
		panic(err)
	}
	// The remainder is v - q 2^shift, a linear expression: its range check
	// is the whole check, with no equality of its own. Both bounds are the
	// honest ones, so (q, r) is the integer division's.
	q := out[0]
	a.check(a.api.Sub(v, a.api.Mul(q, new(big.Int).Lsh(big.NewInt(1), shift))), shift)
	a.checkSigned(q, bits)
	return q
}

// SubFloor is w - floor(v / 2^shift), with -2^bits <= result < 2^bits, for
// a w the caller has bounded to the same range. The result's range check and
// w's bound make the floor q = w - result an integer below 2^(bits+1) in
// magnitude, so with the remainder v - q 2^shift in [0, 2^shift) (one range
// check) q is the integer floor: no second quotient fits (2^(bits+shift+2) <<
// p). An unbounded w would let the prover choose the floor.
func (a *Arith) SubFloor(w, v frontend.Variable, shift uint, bits uint) frontend.Variable {
	if shift+bits+2 > maxBits {
		panic("arith: SubFloor's bounds leave no room below p")
	}
	out, err := a.api.Compiler().NewHint(FloorDivHint, 2, v, new(big.Int).Lsh(big.NewInt(1), shift))
	if err != nil {
		panic(err)
	}
	q := out[0]
	a.check(a.api.Sub(v, a.api.Mul(q, new(big.Int).Lsh(big.NewInt(1), shift))), shift)
	r := a.api.Sub(w, q)
	a.checkSigned(r, bits)
	return r
}

// AssertNonNegative requires 0 <= v < 2^bits.
func (a *Arith) AssertNonNegative(v frontend.Variable, bits uint) { a.check(v, bits) }

// checkSigned enforces -2^bits <= v < 2^bits: v + 2^bits in [0, 2^(bits+1)).
func (a *Arith) checkSigned(v frontend.Variable, bits uint) {
	a.check(a.api.Add(v, new(big.Int).Lsh(big.NewInt(1), bits)), bits+1)
}

// Div is floor(n / d) for n >= 0 and 0 < d < 2^dBits, with q < 2^qBits.
func (a *Arith) Div(n, d frontend.Variable, qBits, dBits uint) frontend.Variable {
	out, err := a.api.Compiler().NewHint(FloorDivHint, 2, n, d)
	if err != nil {
		panic(err)
	}
	q, r := out[0], out[1]
	a.check(q, qBits)
	a.check(d, dBits)
	a.check(r, dBits)
	// r < d  <=>  d - 1 - r >= 0, bounded by d < 2^dBits
	a.check(a.api.Sub(a.api.Sub(d, 1), r), dBits)
	a.api.AssertIsEqual(n, a.api.Add(a.api.Mul(q, d), r))
	return q
}

// CeilSqrt is the least s >= 0 with s*s >= n, for 0 <= n < 2^bits.
func (a *Arith) CeilSqrt(n frontend.Variable, bits uint) frontend.Variable {
	out, err := a.api.Compiler().NewHint(CeilSqrtHint, 1, n)
	if err != nil {
		panic(err)
	}
	s := out[0]
	sBits := (bits+1)/2 + 1
	a.check(n, bits)
	a.check(s, sBits)
	sq := a.api.Mul(s, s)
	// s^2 >= n
	a.check(a.api.Sub(sq, n), sBits*2+1)
	// (s-1)^2 < n  <=>  n - (s-1)^2 - 1 >= 0, i.e. n - s^2 + 2s - 2 >= 0 ...
	// written for s >= 1; for s = 0 the constraint s^2 >= n already forces n = 0.
	isZero := a.api.IsZero(s)
	below := a.api.Sub(a.api.Add(a.api.Sub(n, sq), a.api.Mul(2, s)), 2)
	a.check(a.api.Select(isZero, 0, below), bits+1)
	return s
}

// IsNegative is 1 if v < 0 and 0 otherwise, for |v| < 2^bits.
func (a *Arith) IsNegative(v frontend.Variable, bits uint) frontend.Variable {
	out, err := a.api.Compiler().NewHint(IsNegativeHint, 1, v)
	if err != nil {
		panic(err)
	}
	b := out[0]
	a.api.AssertIsBoolean(b)
	a.check(a.api.Add(v, a.api.Mul(b, new(big.Int).Lsh(big.NewInt(1), bits))), bits)
	return b
}

// Lookup is t.Values[i]. The log-derivative lookup (std/lookup/logderivlookup,
// which shares the circuit's one commitment) proves that (i, value) is an
// entry of the table, so i is in [0, len(t.Values)) as well: an index
// outside it has no entry to match. The table's entries cost about one
// constraint each, once per circuit.
func (a *Arith) Lookup(t *fixedpoint.Table, i frontend.Variable) frontend.Variable {
	tab, ok := a.tables[t]
	if !ok {
		tab = logderivlookup.New(a.api)
		for _, v := range t.Values {
			tab.Insert(v)
		}
		a.tables[t] = tab
	}
	return tab.Lookup(i)[0]
}

// errHintInputs is returned by a hint called with the wrong arity.
var errHintInputs = errors.New("arith: hint called with the wrong number of inputs or outputs")

// signed reads a field element as a signed integer: values above p/2 are negative.
func signed(field, v *big.Int) *big.Int {
	half := new(big.Int).Rsh(field, 1)
	if v.Cmp(half) > 0 {
		return new(big.Int).Sub(v, field)
	}
	return new(big.Int).Set(v)
}

// FloorDivHint returns (floor(n/d), n - d*floor(n/d)) for signed n and d > 0.
func FloorDivHint(field *big.Int, in, out []*big.Int) error {
	if len(in) != 2 || len(out) != 2 {
		return errHintInputs
	}
	n, d := signed(field, in[0]), signed(field, in[1])
	if d.Sign() <= 0 {
		return errors.New("arith: division by a non-positive number")
	}
	q, r := new(big.Int).DivMod(n, d, new(big.Int)) // Euclidean: r >= 0, so q is the floor for d > 0
	out[0].Mod(q, field)
	out[1].Set(r)
	return nil
}

// CeilSqrtHint returns the least s with s*s >= n.
func CeilSqrtHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) != 1 || len(out) != 1 {
		return errHintInputs
	}
	s := new(big.Int).Sqrt(in[0])
	if new(big.Int).Mul(s, s).Cmp(in[0]) < 0 {
		s.Add(s, big.NewInt(1))
	}
	out[0].Set(s)
	return nil
}

// IsNegativeHint returns 1 for a negative signed value and 0 otherwise.
func IsNegativeHint(field *big.Int, in, out []*big.Int) error {
	if len(in) != 1 || len(out) != 1 {
		return errHintInputs
	}
	if signed(field, in[0]).Sign() < 0 {
		out[0].SetUint64(1)
	} else {
		out[0].SetUint64(0)
	}
	return nil
}
