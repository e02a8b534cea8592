package fixedpoint

import (
	"math"
	"math/rand/v2"
	"testing"
)

// floatRecordGradient is the float reference: a record's gradient summed
// over its tokens (padding rows skipped), then clipped once to norm clip,
// flattened like Model.Flatten.
func floatRecordGradient(f Format, m Model[int64], xs, ys [][]int64, clip float64) []float64 {
	K, D := len(m.Layers[0].B), len(m.Layers[0].W[0])
	g := make([]float64, K*(D+1))
	for i, x := range xs {
		label := -1
		for k, y := range ys[i] {
			if y == 1 {
				label = k
			}
		}
		if label < 0 {
			continue
		}
		logits := make([]float64, K)
		mx := math.Inf(-1)
		for k := range K {
			z := f.Float(m.Layers[0].B[k])
			for j := range D {
				z += f.Float(m.Layers[0].W[k][j]) * f.Float(x[j])
			}
			logits[k], mx = z, max(mx, z)
		}
		sum := 0.0
		for k := range logits {
			logits[k] = math.Exp(logits[k] - mx)
			sum += logits[k]
		}
		for k := range K {
			d := logits[k] / sum
			if k == label {
				d--
			}
			for j := range D {
				g[k*D+j] += d * f.Float(x[j])
			}
			g[K*D+k] += d
		}
	}
	norm := 0.0
	for _, v := range g {
		norm += v * v
	}
	if s := clip / math.Sqrt(norm); s < 1 {
		for i := range g {
			g[i] *= s
		}
	}
	return g
}

// TestStepRecordsClipsTheSentence: a sentence's gradient is the sum over
// its tokens, clipped once (not each token's), a padding token contributes
// nothing whatever its features, and the contribution's norm stays below
// the clip norm.
func TestStepRecordsClipsTheSentence(t *testing.T) {
	f := DefaultFormat()
	rng := rand.New(rand.NewPCG(31, 32))
	const rows, D, K = 4, 6, 3
	for _, tc := range []struct {
		scale, clip float64
	}{{0.05, 4}, {2, 0.5}, {2, 0.05}} {
		p, err := NewStepParams(f, tc.clip, 0.5, 4, 20)
		if err != nil {
			t.Fatal(err)
		}
		m := randomModel(rng, f, []int{D, K}, tc.scale)
		var xs, ys [][]int64
		for l := range rows {
			xs = append(xs, randomInput(rng, f, D))
			if l < rows-1 {
				ys = append(ys, onehot(K, rng.IntN(K)))
			} else {
				ys = append(ys, make([]int64, K)) // padding token
			}
		}
		sumOf := func(xs [][]int64) []int64 {
			n := &Native{}
			got := clipRecords[int64](n, p, m, rows, xs, ys, []int64{1}).sum(n, f)
			if n.Err() != nil {
				t.Fatal(n.Err())
			}
			return got
		}
		got := sumOf(xs)
		want := floatRecordGradient(f, m, xs, ys, tc.clip)
		// got is at 2^-GradFracBits lattice units; C is 2^LatticeBits units.
		unit := tc.clip / math.Ldexp(1, int(f.LatticeBits+GradFracBits(f)))
		norm, errNorm, wantNorm := 0.0, 0.0, 0.0
		for i := range got {
			v := float64(got[i]) * unit
			norm += v * v
			errNorm += (v - want[i]) * (v - want[i])
			wantNorm += want[i] * want[i]
		}
		if math.Sqrt(norm) > tc.clip {
			t.Errorf("scale %v C %v: contribution norm %v above C", tc.scale, tc.clip, math.Sqrt(norm))
		}
		// Within the clip margin and slack (a few percent of C) of the float
		// reference that clips the summed gradient once.
		if e := math.Sqrt(errNorm); e > 0.1*tc.clip {
			t.Errorf("scale %v C %v: |quantized - float| = %v (float norm %v, quantized %v)", tc.scale, tc.clip, e, math.Sqrt(wantNorm), math.Sqrt(norm))
		}
		// The padding token's features do not matter.
		xs2 := append([][]int64{}, xs...)
		xs2[rows-1] = randomInput(rng, f, D)
		for i, v := range sumOf(xs2) {
			if v != got[i] {
				t.Fatalf("scale %v: a padding token's features changed parameter %d's sum", tc.scale, i)
			}
		}
	}
}

// TestStepRecordsMaskedRecord: a masked-out record leaves the model alone.
func TestStepRecordsMaskedRecord(t *testing.T) {
	f := DefaultFormat()
	p, _ := NewStepParams(f, 1, 0.5, 4, 20)
	rng := rand.New(rand.NewPCG(33, 34))
	m := randomModel(rng, f, []int{4, 3}, 1)
	xs := [][]int64{randomInput(rng, f, 4), randomInput(rng, f, 4)}
	ys := [][]int64{onehot(3, 0), onehot(3, 2)}
	n := &Native{}
	next, sum := StepRecords[int64](n, p, m, 2, xs, ys, []int64{0}, make([]int64, NumParams([]int{4, 3})))
	if n.Err() != nil {
		t.Fatal(n.Err())
	}
	for i, w := range m.Flatten() {
		if next.Flatten()[i] != w || sum[i] != 0 {
			t.Fatalf("parameter %d moved for a masked record", i)
		}
	}
}
