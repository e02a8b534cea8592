// Package fixedpoint is the one definition of zkdp's fixed-point arithmetic
// and of the quantized DP-SGD step and forward pass built on it.
//
// The step is written once, against the small Arith interface, and runs in
// two executions: Native (int64, used by the trainer to advance the model and
// to build witnesses) and, in the circuits, an implementation over gnark's
// frontend.API. Because both run the same code, training and proof agree bit
// for bit.
//
// # Values
//
// A real number r is held as the integer round(r * 2^f) for f = Format.FracBits
// (a field element inside circuits, an int64 natively). Every value has a
// declared bound, given in bits: -2^bits <= v < 2^bits (two's complement). The native execution stops with
// an error (ErrOverflow) when a bound is broken; the circuit range-checks the
// same bound. Nothing wraps silently.
//
// # The rounding rule
//
// Rescaling a product by 2^s is floor division: Rescale(v, s) = floor(v / 2^s),
// toward minus infinity. Division is floor too: Div(n, d) = floor(n / d) for
// n >= 0 and d > 0. There is no other rounding rule. Clipping scales an
// example's gradient to norm C_l - ClipMargin(n) lattice units (one division
// per example and one floor per class); the example's contribution, an outer
// product, is then exact, and its norm is checked exactly on those values.
// The batch's sum is floored once per parameter and step, and the margin
// keeps the floored sum's sensitivity at C_l.
//
// # Nonlinear functions
//
// exp(v) on [-ExpRange, 0] is the floored product of two public tables at
// ExpFracBits, exp of the high and of the low bits of -v (ExpNeg); smaller v
// is clamped to -ExpRange. Square roots are rounded
// up: CeilSqrt(n) is the least s with s*s >= n, so norms are never
// under-estimated.
package fixedpoint
