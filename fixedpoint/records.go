package fixedpoint

import (
	"math"
	"math/bits"
)

// A record of several rows (a sentence of token slots) is the privacy unit
// of a token-level task: its gradient is the sum over its rows, clipped
// once. For a hidden-layer-free model that gradient, G = sum_l d_l a_l^T,
// is no longer an outer product, so the clip computes it and its
// Frobenius norm explicitly, per record; the batch sum stays one matrix
// product over all rows.

// RecordSlack is the number of lattice units a record's clip target is kept
// below C_l - ClipMargin(n), on top of ClipMargin: flooring each of the
// record's deltas v_l moves its contribution sum_l v_l a_l^T by less than
// sum_l ||1_K|| ||a_l|| <= rows * sqrt(K) * max||a|| units of 2^-e, and
// the norm check's own floor by less than sqrt(K(D+1)) of them. With the
// slack an honest record always passes the check; a dishonest one never
// does, whatever the slack.
func RecordSlack(f Format, rows, inputs, classes int) int64 {
	aMax := math.Sqrt(float64(inputs)*math.Ldexp(1, 2*int(f.InputBits-f.FracBits)) + 1)
	e := math.Ldexp(float64(rows)*math.Sqrt(float64(classes))*aMax+math.Sqrt(float64(classes*(inputs+1)))+1, -clipExtraBits)
	return int64(math.Ceil(e))
}

// recordVBits bounds a record's clipped deltas: tokens may cancel in the
// sum, so a delta is bounded by the clip scale, C_l 2^e / C per unit of
// |d| <= 1, not by the record's norm.
func recordVBits(p StepParams) uint {
	extra := int(p.FracBits) + 1 - bits.Len64(uint64(p.ClipNorm))
	return p.LatticeBits + clipExtraBits + 1 + uint(max(extra, 0))
}

// clipRecords is clip for records of rows rows each: xs and onehots hold
// the batch's records one after another, mask one entry per record. A row
// whose one-hot is all zero (a padding token) gets a zero delta, hence
// contributes nothing. The model must have no hidden layer.
func clipRecords[V any](a Arith[V], p StepParams, m Model[V], rows int, xs, onehots [][]V, mask []V) clipped[V] {
	if len(m.Layers) != 1 {
		panic("fixedpoint: records of several rows need a model without hidden layers")
	}
	if len(xs) != rows*len(mask) || len(onehots) != len(xs) {
		panic("fixedpoint: records: want rows*len(mask) inputs and one-hots")
	}
	f := p.Format
	B := len(mask)
	K, D := len(m.Layers[0].B), len(m.Layers[0].W[0])
	n := NumParams(m.Widths())
	ts := ForwardBatch(a, f, m, xs)
	one := a.Const(f.One())
	dBits, aBits := f.FracBits+1, f.InputBits+1
	c := clipped[V]{vs: [][][]V{make([][]V, len(xs))}, as: [][][]V{make([][]V, len(xs))},
		aBits: []uint{aBits}, vBits: recordVBits(p), widths: m.Widths()}

	// d_l = w_l p - y_l at f bits, w_l = sum_k y_lk (1 for a token, 0 for
	// padding); a_l = (x_l, 1).
	ds := make([][]V, len(xs))
	for i := range xs {
		prob := Softmax(a, f, ts[i].Logits)
		w := a.Const(0)
		for _, y := range onehots[i] {
			w = a.Add(w, y)
		}
		ds[i] = make([]V, K)
		for k := range prob {
			ds[i][k] = a.Sub(a.Mul(w, prob[k]), a.Mul(onehots[i][k], one))
		}
		c.as[0][i] = append(append([]V{}, xs[i]...), one)
	}

	margin := ClipMargin(n) + RecordSlack(f, rows, D, K)
	sqrtN := int64(math.Ceil(math.Sqrt(float64(K * (D + 1)))))
	gBits := bitsFor(rows, f.InputBits+1) // floor(G / 2^f)
	for b := range B {
		recD, recA := ds[b*rows:(b+1)*rows], c.as[0][b*rows:(b+1)*rows]
		// ||G|| <= ||floor(G/2^f)|| + sqrt(K(D+1)) (each floor drops less
		// than one unit), so the divisor is never below the norm.
		g := MatMul(a, Transpose(recD), recA, dBits, aBits)
		gsq := flooredSquares(a, g, f.FracBits, gBits)
		total := a.Add(a.CeilSqrt(gsq, bitsFor(K*(D+1), 2*gBits)), a.Const(sqrtN))
		factor := clipScale(a, p, total, margin, mask[b])
		for l := range rows {
			vs := make([]V, K)
			for k, d := range recD[l] {
				vs[k] = a.Rescale(a.Mul(d, factor), f.FracBits+clipScaleBits-clipExtraBits, c.vBits)
			}
			c.vs[0][b*rows+l] = vs
		}
		// The contribution X = sum_l v_l a_l^T at 2^-(e+f) lattice units;
		// ||X / 2^f|| <= ||floor(X / 2^f)|| + sqrt(K(D+1)), checked to be
		// at most (C_l - ClipMargin + 2) 2^e.
		x := MatMul(a, Transpose(c.vs[0][b*rows:(b+1)*rows]), recA, c.vBits, aBits)
		xBits := bitsFor(rows, c.vBits+aBits-f.FracBits)
		xsq := flooredSquares(a, x, f.FracBits, xBits)
		norm := a.Add(a.CeilSqrt(xsq, bitsFor(K*(D+1), 2*xBits)), a.Const(sqrtN))
		bound := (f.LatticeUnits() - ClipMargin(n) + 2) << clipExtraBits
		a.AssertNonNegative(a.Sub(a.Const(bound), norm), f.LatticeBits+clipExtraBits+1)
	}
	return c
}

// StepRecords is Step for records of rows rows each (see clipRecords): the
// batch holds len(mask) records, xs and onehots their rows one record after
// another. Its sensitivity is C per record, as Step's is per row.
func StepRecords[V any](a Arith[V], p StepParams, m Model[V], rows int, xs, onehots [][]V, mask []V, noise []V) (Model[V], []V) {
	return update(a, p, m, clipRecords(a, p, m, rows, xs, onehots, mask).sum(a, p.Format), len(mask), noise)
}

// flooredSquares is the sum of floor(v / 2^shift)^2 over a matrix's entries,
// each floor bounded to bits.
func flooredSquares[V any](a Arith[V], m [][]V, shift, bits uint) V {
	sum := a.Const(0)
	for _, row := range m {
		for _, v := range row {
			r := a.Rescale(v, shift, bits)
			sum = a.Add(sum, a.Mul(r, r))
		}
	}
	return sum
}
