package fixedpoint

// Arith is the arithmetic the quantized step is written against. Bounds are in
// bits: a result r must satisfy -2^bits <= r < 2^bits (0 <= r < 2^bits where
// stated).
// An implementation either checks them (Native) or constrains them (circuits).
type Arith[V any] interface {
	// Const embeds a public constant.
	Const(c int64) V
	Add(a, b V) V
	Sub(a, b V) V
	// Mul is the exact product; callers rescale explicitly.
	Mul(a, b V) V
	// Rescale is floor(v / 2^shift), with -2^bits <= result < 2^bits.
	Rescale(v V, shift uint, bits uint) V
	// SubFloor is w - floor(v / 2^shift), with -2^bits <= result < 2^bits,
	// for a w the caller has already bounded to -2^bits <= w < 2^bits. The
	// two bounds bound the floor, so a circuit needs no range check of its
	// own for it: one fewer than Bound(w - Rescale(v, ...)).
	SubFloor(w, v V, shift uint, bits uint) V
	// AssertNonNegative requires 0 <= v < 2^bits.
	AssertNonNegative(v V, bits uint)
	// Div is floor(n / d) for 0 <= n and 0 < d < 2^dBits, with 0 <= result < 2^qBits.
	Div(n, d V, qBits, dBits uint) V
	// CeilSqrt is the least s >= 0 with s*s >= n, for 0 <= n < 2^bits.
	CeilSqrt(n V, bits uint) V
	// IsNegative is 1 if v < 0 and 0 otherwise, for |v| < 2^bits.
	IsNegative(v V, bits uint) V
	// Select is a if cond == 1 and b if cond == 0.
	Select(cond, a, b V) V
	// Lookup is t.Values[i] for 0 <= i < len(t.Values); a circuit's lookup
	// argument also bounds i.
	Lookup(t *Table, i V) V
}

// Max returns the largest of vs (non-empty), each with |v| < 2^bits.
func Max[V any](a Arith[V], vs []V, bits uint) V {
	m := vs[0]
	for _, v := range vs[1:] {
		// m < v  <=>  m - v < 0
		m = a.Select(a.IsNegative(a.Sub(m, v), bits+1), v, m)
	}
	return m
}

// MatVecer is an Arith that computes all of a layer's dot products at once.
// Circuits implement it to share one multiplication among several products;
// Forward calls it only with |w| <= 2^wBits and |x| <= 2^xBits, the bounds
// the caller has established (weights by their commitment, inputs by their
// declared bound, activations by the ReLU's sign check). The result must
// equal Dot of every row.
type MatVecer[V any] interface {
	MatVec(w [][]V, x []V, wBits, xBits uint) []V
}

// MatMuler is an Arith that computes a whole matrix product at once. A
// circuit takes the product from a hint and checks it by random evaluation,
// O(nk + km + nm) instead of O(nkm) constraints. Step calls it only with
// |x| <= 2^xBits and |y| <= 2^yBits, bounds the caller has established, so
// every entry of the product is an integer below 2^(xBits+yBits+bitlen(k)).
// The result must equal the Dot of every row of x with every column of y.
type MatMuler[V any] interface {
	MatMul(x, y [][]V, xBits, yBits uint) [][]V
}

// MatMul is the exact product X Y of an n x k and a k x m matrix, through
// a's MatMul when it has one.
func MatMul[V any](a Arith[V], x, y [][]V, xBits, yBits uint) [][]V {
	if mm, ok := a.(MatMuler[V]); ok {
		return mm.MatMul(x, y, xBits, yBits)
	}
	yt := Transpose(y)
	out := make([][]V, len(x))
	for i := range x {
		out[i] = make([]V, len(yt))
		for j := range yt {
			out[i][j] = Dot(a, x[i], yt[j])
		}
	}
	return out
}

// Transpose returns the transpose of a rectangular matrix.
func Transpose[V any](x [][]V) [][]V {
	if len(x) == 0 {
		return nil
	}
	out := make([][]V, len(x[0]))
	for j := range out {
		out[j] = make([]V, len(x))
		for i := range x {
			out[j][i] = x[i][j]
		}
	}
	return out
}

// Dot is the exact sum of products; the caller rescales once, so a dot
// product loses precision only once.
func Dot[V any](a Arith[V], xs, ys []V) V {
	acc := a.Const(0)
	for i := range xs {
		acc = a.Add(acc, a.Mul(xs[i], ys[i]))
	}
	return acc
}
