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
// be at most C_l - ClipMargin + 2 units. It is MaskedGradient with mask 1.
func ClippedGradient[V any](a Arith[V], p StepParams, m Model[V], x, onehot []V) []V {
	return MaskedGradient(a, p, m, x, onehot, a.Const(1))
}

// MaskedGradient is ClippedGradient for a batch slot: mask 0 (a padding slot)
// zeroes the example's clip scale, hence every entry. Masking the one scale
// instead of each entry costs a circuit one product per example, not one per
// parameter; the values are the same.
func MaskedGradient[V any](a Arith[V], p StepParams, m Model[V], x, onehot []V, mask V) []V {
	f := p.Format
	t := Forward(a, f, m, x)
	prob := Softmax(a, f, t.Logits)
	L := len(m.Layers)
	deltas := make([][]V, L)
	deltas[L-1] = make([]V, len(prob))
	for k := range prob {
		deltas[L-1][k] = a.Sub(prob[k], a.Mul(onehot[k], a.Const(f.One())))
	}
	for l := L - 1; l > 0; l-- {
		in := len(m.Layers[l].W[0])
		d := make([]V, in)
		for j := range in {
			acc := a.Const(0)
			for k := range deltas[l] {
				acc = a.Add(acc, a.Mul(m.Layers[l].W[k][j], deltas[l][k]))
			}
			back := a.Rescale(acc, f.FracBits, f.ActBits)
			// ReLU'(z) = 0 for z < 0, 1 otherwise (ReLU(0) = 0 either way).
			d[j] = a.Select(a.IsNegative(t.PreAct[l-1][j], f.ActBits+1), a.Const(0), back)
		}
		deltas[l-1] = d
	}

	// ||G_l|| = ||delta_l|| * ||(a_{l-1}, 1)|| for a dense layer; each factor's
	// square root is rounded up, so the bound s_l is never below the norm.
	one := a.Const(f.One())
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
		nd := a.CeilSqrt(Dot(a, deltas[l], deltas[l]), bitsFor(len(deltas[l]), 2*dBits))
		na := a.CeilSqrt(a.Add(Dot(a, t.Acts[l], t.Acts[l]), a.Mul(one, one)), bitsFor(len(t.Acts[l])+1, 2*aBits))
		prod := a.Mul(nd, na) // at 2f fractional bits
		norms[l] = a.Sub(a.Const(0), a.Rescale(a.Sub(a.Const(0), prod), f.FracBits, 2*f.ActBits))
	}
	total := norms[0]
	if L > 1 {
		total = a.CeilSqrt(Dot(a, norms, norms), bitsFor(L, 4*f.ActBits-2*f.FracBits))
	}
	clip := a.Const(p.ClipNorm)
	divisor := a.Select(a.IsNegative(a.Sub(total, clip), 2*f.ActBits), clip, total)

	// One division per example: c = floor(E * 2^(f+X) / D), the scale from
	// gradient units to 2^-e lattice units, with E = C_l - ClipMargin(n). Per
	// class v_k = floor(delta_k * c / 2^(f+X-e)); the example's contribution
	// is the exact outer product x_kj = v_k * a_j, at 2^-GradFracBits lattice
	// units, never rounded per example: Step sums the contributions of the
	// batch and floors each parameter once. Its norm ||x|| = ||v|| ||a||
	// (per layer) is checked exactly to be at most E + 2 lattice units.
	n := 0
	for l := range L {
		n += len(deltas[l]) * (len(t.Acts[l]) + 1)
	}
	margin := ClipMargin(n)
	target := a.Const(f.LatticeUnits() - margin)
	factor := a.Div(a.Mul(target, a.Const(1<<(f.FracBits+clipScaleBits))), divisor,
		f.LatticeBits+clipScaleBits+f.FracBits+1, 2*f.ActBits)
	factor = a.Mul(factor, mask)

	var contrib []V
	normSq := a.Const(0) // sum over layers of ceil(||v_l|| ||a_l|| / 2^f)^2, at 2^-2e lattice units
	for l := range L {
		acts := append(append([]V{}, t.Acts[l]...), one)
		aBits := f.ActBits + 1
		if l == 0 {
			aBits = f.InputBits + 1
		}
		vs := make([]V, len(deltas[l]))
		for k, d := range deltas[l] {
			vs[k] = a.Rescale(a.Mul(d, factor), f.FracBits+clipScaleBits-clipExtraBits, f.LatticeBits+clipExtraBits+1)
		}
		sv := a.CeilSqrt(Dot(a, vs, vs), bitsFor(len(vs), 2*(f.LatticeBits+clipExtraBits+1)))
		sa := a.CeilSqrt(Dot(a, acts, acts), bitsFor(len(acts), 2*aBits))
		// ceil(sv*sa / 2^f) = -floor(-sv*sa / 2^f), at 2^-e lattice units
		pl := a.Sub(a.Const(0), a.Rescale(a.Sub(a.Const(0), a.Mul(sv, sa)), f.FracBits, f.LatticeBits+clipExtraBits+aBits-f.FracBits+bitsFor(len(vs)+len(acts), 1)))
		normSq = a.Add(normSq, a.Mul(pl, pl))
		wrow := make([][]V, len(vs))
		bias := make([]V, len(vs))
		for k, v := range vs {
			row := make([]V, len(acts))
			for j := range acts {
				row[j] = a.Mul(v, acts[j])
			}
			wrow[k], bias[k] = row[:len(acts)-1], row[len(acts)-1]
		}
		for k := range wrow {
			contrib = append(contrib, wrow[k]...)
		}
		contrib = append(contrib, bias...)
	}
	bound := (f.LatticeUnits() - margin + 2) << clipExtraBits
	a.AssertNonNegative(a.Sub(a.Const(bound*bound), normSq), 2*(f.LatticeBits+clipExtraBits)+1)
	return contrib
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
	flat := m.Flatten()
	sum := make([]V, len(flat))
	for i := range sum {
		sum[i] = a.Const(0)
	}
	for b := range xs {
		g := MaskedGradient(a, p, m, xs[b], onehots[b], mask[b])
		for i := range sum {
			sum[i] = a.Add(sum[i], g[i])
		}
	}
	// One floor per parameter and step: the batch's exact sum to lattice
	// units. Its quotient is range-checked to the bound the honest value
	// has: in a field, v = q*2^s + r with only r checked holds for every r
	// with some q, and a step size with factors of two turns such a q back
	// into a small update, so the prover could choose W_{t+1}.
	sumBits := SumBits(p.Format, len(xs))
	for i := range sum {
		sum[i] = a.Rescale(sum[i], GradFracBits(p.Format), sumBits)
	}
	eta := a.Const(p.StepSize)
	next := make([]V, len(flat))
	for i := range flat {
		sum[i] = a.Add(sum[i], noise[i])
		delta := a.Rescale(a.Mul(sum[i], eta), p.UpdateFracBits, p.WeightBits)
		next[i] = Bound(a, a.Sub(flat[i], delta), p.WeightBits)
	}
	return fromFlat(m.Widths(), next), sum
}
