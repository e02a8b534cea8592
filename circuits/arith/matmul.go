package arith

import (
	"fmt"
	"math/big"
	"math/bits"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/multicommit"

	"github.com/zkdp/zkdp/circuits/internal/linear"
	"github.com/zkdp/zkdp/fixedpoint"
)

var _ fixedpoint.MatMuler[frontend.Variable] = (*Arith)(nil)

// MatMul is the exact product Z = X Y of an n x k and a k x m matrix.
//
// Z comes from a hint and is checked by random evaluation (Freivalds): with
// c drawn from a commitment to X, Y and Z (std/multicommit, the circuit's one
// BSB22 commitment), r_i = c^i and s_j = c^(n j), the circuit asserts
// r^T Z s = (r^T X)(Y s). If Z != X Y, the difference
// sum_ij (Z - XY)_ij c^(i + n j) is a nonzero polynomial in c of degree below
// n m (its monomials are distinct), so a wrong Z passes with probability at
// most n m / p, below 2^-220 for any product a step makes. The entries of X
// Y are integers below 2^(xBits+yBits+bitlen(k)) < p/2 (the caller's bounds),
// so the field equality is the integer one and Z needs no range check.
//
// Cost: n k + k m + n m + n + m + k constraints instead of n k m, so it is
// used only where it is cheaper; otherwise Z is the rows' dot products.
func (a *Arith) MatMul(x, y [][]frontend.Variable, xBits, yBits uint) [][]frontend.Variable {
	n, k := len(x), len(y)
	if n == 0 || k == 0 {
		panic("arith: MatMul of an empty matrix")
	}
	m := len(y[0])
	if xBits+yBits+uint(bits.Len(uint(k))) >= maxBits {
		panic(fmt.Sprintf("arith: a product of %d-bit and %d-bit entries summed %d times could wrap modulo p", xBits, yBits, k))
	}
	if n*k*m <= n*k+k*m+n*m+n+m+k {
		return a.dotProducts(x, y)
	}
	in := make([]frontend.Variable, 0, 3+n*k+k*m)
	in = append(in, n, k, m)
	for _, row := range x {
		in = append(in, row...)
	}
	for _, row := range y {
		in = append(in, row...)
	}
	flat, err := a.api.Compiler().NewHint(MatMulHint, n*m, in...)
	if err != nil {
		panic(err)
	}
	z := make([][]frontend.Variable, n)
	for i := range z {
		z[i] = flat[i*m : (i+1)*m : (i+1)*m]
	}
	committed := append(in[3:], flat...)
	// Registered when the circuit is compiled, not now: multicommit's own
	// callback must be queued after every gadget that still registers a
	// commitment of its own at compile time (logderivlookup tables made
	// after this product, e.g. exp's), or they would call it too late.
	a.api.Compiler().Defer(func(api frontend.API) error {
		multicommit.WithCommitment(api, func(api frontend.API, c frontend.Variable) error {
			api.AssertIsEqual(evaluate(api, z, powers(api, c, n), powers(api, power(api, c, n), m)),
				evaluateProduct(api, x, y, powers(api, c, n), powers(api, power(api, c, n), m)))
			return nil
		}, committed...)
		return nil
	})
	return z
}

// dotProducts is X Y entry by entry.
func (a *Arith) dotProducts(x, y [][]frontend.Variable) [][]frontend.Variable {
	yt := fixedpoint.Transpose(y)
	out := make([][]frontend.Variable, len(x))
	for i := range x {
		out[i] = make([]frontend.Variable, len(yt))
		for j := range yt {
			out[i][j] = fixedpoint.Dot[frontend.Variable](a, x[i], yt[j])
		}
	}
	return out
}

// powers is 1, c, ..., c^(n-1).
func powers(api frontend.API, c frontend.Variable, n int) []frontend.Variable {
	out := make([]frontend.Variable, n)
	out[0] = 1
	for i := 1; i < n; i++ {
		out[i] = api.Mul(out[i-1], c)
	}
	return out
}

// power is c^e by squaring.
func power(api frontend.API, c frontend.Variable, e int) frontend.Variable {
	var out frontend.Variable = 1
	for b := bits.Len(uint(e)) - 1; b >= 0; b-- {
		out = api.Mul(out, out)
		if e>>b&1 == 1 {
			out = api.Mul(out, c)
		}
	}
	return out
}

// evaluate is r^T Z s.
func evaluate(api frontend.API, z [][]frontend.Variable, r, s []frontend.Variable) frontend.Variable {
	rows := make([]frontend.Variable, len(z))
	for i, row := range z {
		rows[i] = api.Mul(r[i], dot(api, row, s))
	}
	return linear.Sum(api, rows)
}

// evaluateProduct is (r^T X)(Y s).
func evaluateProduct(api frontend.API, x, y [][]frontend.Variable, r, s []frontend.Variable) frontend.Variable {
	k := len(y)
	left := make([]frontend.Variable, k) // r^T X
	col := make([]frontend.Variable, len(x))
	for t := range k {
		for i := range x {
			col[i] = x[i][t]
		}
		left[t] = dot(api, r, col)
	}
	terms := make([]frontend.Variable, k)
	for t := range k {
		terms[t] = api.Mul(left[t], dot(api, y[t], s))
	}
	return linear.Sum(api, terms)
}

// dot is sum_i u_i v_i, one constraint per product of two variables.
func dot(api frontend.API, u, v []frontend.Variable) frontend.Variable {
	terms := make([]frontend.Variable, len(u))
	for i := range u {
		terms[i] = api.Mul(u[i], v[i])
	}
	return linear.Sum(api, terms)
}

// MatMulHint: inputs (n, k, m, X row-major, Y row-major), outputs Z = X Y
// row-major, entries read as signed integers.
func MatMulHint(field *big.Int, in, out []*big.Int) error {
	if len(in) < 3 || !in[0].IsUint64() || !in[1].IsUint64() || !in[2].IsUint64() {
		return errHintInputs
	}
	n, k, m := int(in[0].Uint64()), int(in[1].Uint64()), int(in[2].Uint64())
	if n*k+k*m != len(in)-3 || n*m != len(out) {
		return errHintInputs
	}
	x, y := in[3:3+n*k], in[3+n*k:]
	sx := make([]*big.Int, len(x))
	for i, v := range x {
		sx[i] = signed(field, v)
	}
	sy := make([]*big.Int, len(y))
	for i, v := range y {
		sy[i] = signed(field, v)
	}
	prod := new(big.Int)
	for i := range n {
		for j := range m {
			acc := new(big.Int)
			for t := range k {
				acc.Add(acc, prod.Mul(sx[i*k+t], sy[t*m+j]))
			}
			out[i*m+j].Mod(acc, field)
		}
	}
	return nil
}
