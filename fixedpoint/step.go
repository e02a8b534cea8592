package fixedpoint

import (
	"fmt"
	"math"
	"math/bits"
)

// StepParams are the public constants of one quantized DP-SGD step.
type StepParams struct {
	Format
	ClipNorm  int64 `json:"clip_norm_raw"` // C at f fractional bits
	StepSize  int64 `json:"step_size_raw"` // round(lr * C * 2^(f+E) / (q N_pub * 2^LatticeBits)), E = UpdateFracBits, N_pub the public row bound
	NoiseBits uint  `json:"noise_bits"`    // |noise| < 2^NoiseBits (lattice units)
}

// NewStepParams quantizes the real-valued hyper-parameters of a step.
func NewStepParams(f Format, clipNorm, learningRate, expectedBatch float64, noiseBits uint) (StepParams, error) {
	if err := f.Validate(); err != nil {
		return StepParams{}, err
	}
	if !(clipNorm > 0) || !(learningRate > 0) || !(expectedBatch > 0) {
		return StepParams{}, fmt.Errorf("%w: clip norm %v, learning rate %v and expected batch %v must be positive", ErrFormat, clipNorm, learningRate, expectedBatch)
	}
	c, err := f.Quantize(clipNorm, f.ActBits)
	if err != nil || c == 0 {
		return StepParams{}, fmt.Errorf("%w: clip norm %v is not representable at %d fractional bits", ErrFormat, clipNorm, f.FracBits)
	}
	eta := learningRate * clipNorm / (expectedBatch * float64(f.LatticeUnits())) * math.Ldexp(1, int(f.FracBits+f.UpdateFracBits))
	if eta < 1 || eta >= math.Ldexp(1, 40) {
		return StepParams{}, fmt.Errorf("%w: step size lr*C/(q N_pub) = %v is out of the representable range; change update_frac_bits", ErrFormat, learningRate*clipNorm/expectedBatch)
	}
	return StepParams{Format: f, ClipNorm: c, StepSize: int64(math.Round(eta)), NoiseBits: noiseBits}, nil
}

// bitsFor is the number of bits that hold a sum of n terms each below 2^b.
func bitsFor(n int, b uint) uint { return b + uint(bits.Len(uint(n))) }

// Bound range-checks v: -2^bits <= v < 2^bits.
func Bound[V any](a Arith[V], v V, bits uint) V { return a.Rescale(v, 0, bits) }

// ClippedGradient is one example's contribution to the clipped gradient sum:
// its gradient of the cross-entropy loss at m, clipped to norm C and
// expressed exactly at 2^-GradFracBits gradient-lattice units (C is
// 2^LatticeBits units), flattened like Model.Flatten. Its norm is checked to
// be at most C_l - ClipMargin + 2 units. It is what Step sums, for a batch of
// one.
func ClippedGradient[V any](a Arith[V], p StepParams, m Model[V], x, onehot []V) []V {
	return clip(a, p, m, [][]V{x}, [][]V{onehot}, []V{a.Const(1)}).sum(a, p.Format)
}

// clipped is a batch's clipped gradients in factored form. For a dense layer
// l an example's gradient is the outer product of its output deltas and its
// inputs; clipping scales the deltas, so example b contributes v_b a_b^T to
// layer l, with v_b = vs[l][b] (at 2^-e lattice units) and a_b = as[l][b]
// (its inputs with a last entry 2^f for the bias).
type clipped[V any] struct {
	vs, as [][][]V // [layer][example][unit]
	aBits  []uint  // |a| < 2^aBits[l]
	vBits  uint    // |v| < 2^vBits
	widths []int
}

// clip runs the batch's forward and backward passes and scales each
// example's deltas to its clipped norm. mask 0 (a padding slot) zeroes the
// example's clip scale, hence its contribution. Masking the one scale
// instead of each entry costs a circuit one product per example, not one per
// parameter; the values are the same.
func clip[V any](a Arith[V], p StepParams, m Model[V], xs, onehots [][]V, mask []V) clipped[V] {
	f := p.Format
	L := len(m.Layers)
	B := len(xs)
	ts := ForwardBatch(a, f, m, xs)
	// deltas[l][b]: example b's derivative of its loss by layer l's outputs.
	deltas := make([][][]V, L)
	deltas[L-1] = make([][]V, B)
	for b := range B {
		prob := Softmax(a, f, ts[b].Logits)
		deltas[L-1][b] = make([]V, len(prob))
		for k := range prob {
			deltas[L-1][b][k] = a.Sub(prob[k], a.Mul(onehots[b][k], a.Const(f.One())))
		}
	}
	for l := L - 1; l > 0; l-- {
		dBits := f.ActBits
		if l == L-1 {
			dBits = f.FracBits + 1
		}
		// The batch's backward products at once: Delta_l W_l.
		backs := MatMul(a, deltas[l], m.Layers[l].W, dBits, f.WeightBits)
		deltas[l-1] = make([][]V, B)
		for b := range B {
			d := make([]V, len(backs[b]))
			for j, acc := range backs[b] {
				back := a.Rescale(acc, f.FracBits, f.ActBits)
				// ReLU'(z) = 0 for z < 0, 1 otherwise (ReLU(0) = 0 either way).
				d[j] = a.Select(a.IsNegative(ts[b].PreAct[l-1][j], f.ActBits+1), a.Const(0), back)
			}
			deltas[l-1][b] = d
		}
	}

	n := NumParams(m.Widths())
	margin := ClipMargin(n)
	one := a.Const(f.One())
	c := clipped[V]{vs: make([][][]V, L), as: make([][][]V, L), aBits: make([]uint, L),
		vBits: f.LatticeBits + clipExtraBits + 1, widths: m.Widths()}
	for l := range L {
		c.aBits[l] = f.ActBits + 1
		if l == 0 {
			c.aBits[l] = f.InputBits + 1
		}
		c.vs[l] = make([][]V, B)
		c.as[l] = make([][]V, B)
	}
	for b := range B {
		// ||G_l|| = ||delta_l|| * ||(a_{l-1}, 1)|| for a dense layer; each
		// factor's square root is rounded up, so the bound s_l is never below
		// the norm.
		norms := make([]V, L)
		for l := range L {
			dBits := f.ActBits
			if l == L-1 {
				dBits = f.FracBits + 1
			}
			aBits := f.ActBits
			if l == 0 {
				aBits = f.InputBits
			}
			d, acts := deltas[l][b], ts[b].Acts[l]
			nd := a.CeilSqrt(Dot(a, d, d), bitsFor(len(d), 2*dBits))
			na := a.CeilSqrt(a.Add(Dot(a, acts, acts), a.Mul(one, one)), bitsFor(len(acts)+1, 2*aBits))
			prod := a.Mul(nd, na) // at 2f fractional bits
			norms[l] = a.Sub(a.Const(0), a.Rescale(a.Sub(a.Const(0), prod), f.FracBits, 2*f.ActBits))
		}
		total := norms[0]
		if L > 1 {
			total = a.CeilSqrt(Dot(a, norms, norms), bitsFor(L, 4*f.ActBits-2*f.FracBits))
		}
		// One division per example: c = floor(E * 2^(f+X) / D), the scale
		// from gradient units to 2^-e lattice units, with E = C_l -
		// ClipMargin(n). Per class v_k = floor(delta_k * c / 2^(f+X-e)); the
		// example's contribution is the exact outer product x_kj = v_k * a_j,
		// at 2^-GradFracBits lattice units, never rounded per example: Step
		// sums the contributions of the batch and floors each parameter
		// once. Its norm ||x|| = ||v|| ||a|| (per layer) is checked exactly to
		// be at most E + 2 lattice units.
		factor := clipScale(a, p, total, margin, mask[b])

		normSq := a.Const(0) // sum over layers of ceil(||v_l|| ||a_l|| / 2^f)^2, at 2^-2e lattice units
		for l := range L {
			acts := append(append([]V{}, ts[b].Acts[l]...), one)
			vs := make([]V, len(deltas[l][b]))
			for k, d := range deltas[l][b] {
				vs[k] = a.Rescale(a.Mul(d, factor), f.FracBits+clipScaleBits-clipExtraBits, c.vBits)
			}
			sv := a.CeilSqrt(Dot(a, vs, vs), bitsFor(len(vs), 2*c.vBits))
			sa := a.CeilSqrt(Dot(a, acts, acts), bitsFor(len(acts), 2*c.aBits[l]))
			// ceil(sv*sa / 2^f) = -floor(-sv*sa / 2^f), at 2^-e lattice units
			pl := a.Sub(a.Const(0), a.Rescale(a.Sub(a.Const(0), a.Mul(sv, sa)), f.FracBits, f.LatticeBits+clipExtraBits+c.aBits[l]-f.FracBits+bitsFor(len(vs)+len(acts), 1)))
			normSq = a.Add(normSq, a.Mul(pl, pl))
			c.vs[l][b], c.as[l][b] = vs, acts
		}
		bound := (f.LatticeUnits() - margin + 2) << clipExtraBits
		a.AssertNonNegative(a.Sub(a.Const(bound*bound), normSq), 2*(f.LatticeBits+clipExtraBits)+1)
	}
	return c
}

// clipScale is an example's (or a record's) clip scale floor(E 2^(f+X) /
// D) times its mask, with D = max(total, C) for a bound total on its
// gradient's norm and E = C_l - margin lattice units.
func clipScale[V any](a Arith[V], p StepParams, total V, margin int64, mask V) V {
	f := p.Format
	clipNorm := a.Const(p.ClipNorm)
	divisor := a.Select(a.IsNegative(a.Sub(total, clipNorm), 2*f.ActBits), clipNorm, total)
	target := a.Const(f.LatticeUnits() - margin)
	factor := a.Div(a.Mul(target, a.Const(1<<(f.FracBits+clipScaleBits))), divisor,
		f.LatticeBits+clipScaleBits+f.FracBits+1, 2*f.ActBits)
	return a.Mul(factor, mask)
}

// sum is the batch's exact clipped-gradient sum, at 2^-GradFracBits lattice
// units, flattened like Model.Flatten: per layer the one matrix product
// G_l = V_l^T A_l = sum_b v_b a_b^T (a circuit checks it at once instead of
// B outer products).
func (c clipped[V]) sum(a Arith[V], f Format) []V {
	var out []V
	for l := range c.vs {
		in, units := c.widths[l], c.widths[l+1]
		if len(c.vs[l]) == 0 { // an empty batch sums to zero
			for range units * (in + 1) {
				out = append(out, a.Const(0))
			}
			continue
		}
		g := MatMul(a, Transpose(c.vs[l]), c.as[l], c.vBits, c.aBits[l])
		for k := range g {
			out = append(out, g[k][:in]...)
		}
		for k := range g {
			out = append(out, g[k][in])
		}
	}
	return out
}

// The clip scale's working precision: X extra bits in the per-example factor
// and e fractional bits of a lattice unit in v.
const (
	clipScaleBits = 8
	clipExtraBits = 6
)

// GradFracBits is the number of fractional bits, in lattice units, of an
// example's contribution: x_kj = v_k * a_j carries e + f of them.
func GradFracBits(f Format) uint { return f.FracBits + clipExtraBits }

// ClipMargin is the number of lattice units an example's contribution is kept
// below the clip norm C_l. Its norm is checked to be at most C_l - ClipMargin
// + 2; flooring the batch sum moves each of the n parameters by less than one
// unit, so removing one example moves the floored sum by at most
// C_l - ClipMargin + 2 + sqrt(n) <= C_l: the sensitivity is C_l exactly.
func ClipMargin(n int) int64 {
	return int64(math.Ceil(math.Sqrt(float64(n)))) + 2
}

// SumBits bounds the floored clipped-gradient sum of a batch of b slots:
// each contribution's entries are at most C_l - ClipMargin + 2 < C_l =
// 2^LatticeBits lattice units in magnitude, so |floor(sum)| <= b*C_l + 1 <
// 2^(LatticeBits + bitlen(b)).
func SumBits(f Format, b int) uint { return bitsFor(b, f.LatticeBits) }

// Step is one quantized DP-SGD update:
//
//	W' = W - floor((floor(sum_i mask_i * clip(g_i)) + noise) * StepSize / 2^E)
//
// xs, onehots and mask cover the padded batch (mask 0 for padding slots);
// noise is in lattice units, flattened like the parameters. It returns the new
// model and the noisy gradient sum.
func Step[V any](a Arith[V], p StepParams, m Model[V], xs, onehots [][]V, mask []V, noise []V) (Model[V], []V) {
	return update(a, p, m, clip(a, p, m, xs, onehots, mask).sum(a, p.Format), len(xs), noise)
}

// update floors the exact clipped sum of a batch of slots slots, adds the
// noise and takes the step.
func update[V any](a Arith[V], p StepParams, m Model[V], sum []V, slots int, noise []V) (Model[V], []V) {
	flat := m.Flatten()
	// One floor per parameter and step: the batch's exact sum to lattice
	// units. Its quotient is range-checked to the bound the honest value
	// has: in a field, v = q*2^s + r with only r checked holds for every r
	// with some q, and a step size with factors of two turns such a q back
	// into a small update, so the prover could choose W_{t+1}.
	sumBits := SumBits(p.Format, slots)
	for i := range sum {
		sum[i] = a.Rescale(sum[i], GradFracBits(p.Format), sumBits)
	}
	eta := a.Const(p.StepSize)
	next := make([]V, len(flat))
	// W is bounded to the weight range (a circuit by W's commitment), so
	// the bound of the result bounds the update too.
	for i := range flat {
		sum[i] = a.Add(sum[i], noise[i])
		next[i] = a.SubFloor(flat[i], a.Mul(sum[i], eta), p.UpdateFracBits, p.WeightBits)
	}
	return fromFlat(m.Widths(), next), sum
}
