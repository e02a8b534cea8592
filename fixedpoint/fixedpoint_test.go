package fixedpoint

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func randomModel(rng *rand.Rand, f Format, widths []int, scale float64) Model[int64] {
	flat := make([]int64, NumParams(widths))
	for i := range flat {
		flat[i] = int64(rng.NormFloat64() * scale * float64(f.One()))
	}
	m, err := Unflatten(widths, flat)
	if err != nil {
		panic(err)
	}
	return m
}

func randomInput(rng *rand.Rand, f Format, d int) []int64 {
	x := make([]int64, d)
	for i := range x {
		x[i] = int64((rng.Float64()*2 - 1) * float64(f.One()))
	}
	return x
}

func onehot(k, label int) []int64 {
	y := make([]int64, k)
	y[label] = 1
	return y
}

func TestExpNegAccuracy(t *testing.T) {
	f := DefaultFormat()
	n := &Native{}
	// Every input of the domain: the floored product of two entries rounded
	// at 2^-F is within one unit at 2^-f of the exact value.
	for raw := -f.ExpRange * f.One(); raw <= 0; raw++ {
		got := float64(ExpNeg[int64](n, f, raw))
		want := math.Exp(f.Float(raw)) * float64(f.One())
		if got > want+0.01 || got < want-1.01 {
			t.Fatalf("exp(%v) = %v/2^%d, want floor of %v", f.Float(raw), got, f.FracBits, want)
		}
	}
	if got := ExpNeg[int64](n, f, -1000*f.One()); got != ExpNeg[int64](n, f, -f.ExpRange*f.One()) {
		t.Fatalf("values below -ExpRange are not clamped: %d", got)
	}
	if n.Err() != nil {
		t.Fatal(n.Err())
	}
}

// TestExpTablesMatchFloat checks the big-float tables against math.Exp, an
// independent computation: each entry is exp rounded at 2^-F.
func TestExpTablesMatchFloat(t *testing.T) {
	f := DefaultFormat()
	tab := expTables(f)
	if got := len(tab.hi.Values) + len(tab.lo.Values); got > 3000 {
		t.Fatalf("exp tables of %d entries for the default format", got)
	}
	for name, tt := range map[string]struct {
		values []int64
		step   float64
	}{"hi": {tab.hi.Values, math.Ldexp(1, int(tab.k))}, "lo": {tab.lo.Values, 1}} {
		for i, v := range tt.values {
			want := math.Ldexp(math.Exp(-float64(i)*tt.step/float64(f.One())), int(f.ExpFracBits))
			if math.Abs(float64(v)-want) > 0.5+1e-6*math.Max(1, want/(1<<20)) {
				t.Fatalf("%s[%d] = %d, want round(%v)", name, i, v, want)
			}
		}
	}
	if u := uint64(f.ExpRange) << f.FracBits; uint64(len(tab.hi.Values)-1)<<tab.k+uint64(len(tab.lo.Values))-1 < u {
		t.Fatalf("tables of %d and %d entries do not cover u <= %d", len(tab.hi.Values), len(tab.lo.Values), u)
	}
}

func TestLookupOutsideTable(t *testing.T) {
	n := &Native{}
	tab := &Table{Name: "t", Values: []int64{5, 6}}
	if n.Lookup(tab, 1) != 6 || n.Err() != nil {
		t.Fatal("lookup inside the table failed")
	}
	n.Lookup(tab, 2)
	if !errors.Is(n.Err(), ErrDomain) {
		t.Fatalf("lookup outside the table: %v", n.Err())
	}
}

func TestSoftmaxSumsToOne(t *testing.T) {
	f := DefaultFormat()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		k := 2 + rng.IntN(9)
		logits := make([]int64, k)
		for i := range logits {
			logits[i] = int64(rng.NormFloat64() * 4 * float64(f.One()))
		}
		n := &Native{}
		p := Softmax[int64](n, f, logits)
		var sum int64
		for _, v := range p {
			if v < 0 || v > f.One() {
				t.Fatalf("probability %d out of [0, 1]", v)
			}
			sum += v
		}
		// Each of the k floors loses less than one unit.
		if sum > f.One() || sum < f.One()-int64(k) {
			t.Fatalf("softmax sums to %d, want within %d of %d", sum, k, f.One())
		}
	}
}

// The clipping bound holds on the exact contributions (at 2^-GradFracBits
// lattice units), for gradients far above and below the clip norm, with and
// without a hidden layer: ||x|| <= C_l - ClipMargin + 2.
func TestClippedGradientNormBound(t *testing.T) {
	f := DefaultFormat()
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		widths := []int{1 + rng.IntN(40), 2 + rng.IntN(9)}
		if trial%3 == 0 {
			widths = []int{widths[0], 1 + rng.IntN(16), widths[1]}
		}
		clip := []float64{0.01, 0.1, 1, 5}[trial%4]
		p, err := NewStepParams(f, clip, 0.5, 64, 20)
		if err != nil {
			t.Fatal(err)
		}
		m := randomModel(rng, f, widths, []float64{0.01, 1, 3}[trial%3])
		n := &Native{}
		g := ClippedGradient[int64](n, p, m, randomInput(rng, f, widths[0]), onehot(widths[len(widths)-1], rng.IntN(widths[len(widths)-1])))
		if n.Err() != nil {
			t.Fatal(n.Err())
		}
		if len(g) != NumParams(widths) {
			t.Fatalf("gradient has %d entries, want %d", len(g), NumParams(widths))
		}
		sq := new(big.Int)
		for _, v := range g {
			sq.Add(sq, new(big.Int).Mul(big.NewInt(v), big.NewInt(v)))
		}
		lim := big.NewInt((f.LatticeUnits() - ClipMargin(len(g)) + 2) << GradFracBits(f))
		if lim.Mul(lim, lim); sq.Cmp(lim) > 0 {
			t.Fatalf("trial %d: contribution norm^2 %v exceeds %v", trial, sq, lim)
		}
	}
}

// Against a float64 gradient of the same model, clipped to the norm
// C_l - ClipMargin: the exact contribution agrees within the stated bound
// (the softmax approximation, and 2^-6 units from the per-class floor).
func TestClippedGradientMatchesFloat(t *testing.T) {
	f := DefaultFormat()
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100 {
		d, k := 1+rng.IntN(30), 2+rng.IntN(8)
		p, _ := NewStepParams(f, 1, 0.5, 64, 20)
		m := randomModel(rng, f, []int{d, k}, 0.5)
		x := randomInput(rng, f, d)
		label := rng.IntN(k)
		n := &Native{}
		g := ClippedGradient[int64](n, p, m, x, onehot(k, label))
		// float gradient of softmax cross-entropy
		z := make([]float64, k)
		for r := range k {
			z[r] = f.Float(m.Layers[0].B[r])
			for j := range d {
				z[r] += f.Float(m.Layers[0].W[r][j]) * f.Float(x[j])
			}
		}
		mx := z[0]
		for _, v := range z {
			mx = math.Max(mx, v)
		}
		s := 0.0
		for r := range z {
			z[r] = math.Exp(z[r] - mx)
			s += z[r]
		}
		var want []float64
		var norm2 float64
		for r := range k {
			dz := z[r] / s
			if r == label {
				dz--
			}
			for j := range d {
				want = append(want, dz*f.Float(x[j]))
			}
			want = append(want, dz)
		}
		// Unflatten order is W row-major then b: reorder want the same way.
		ordered := make([]float64, 0, len(want))
		for r := range k {
			ordered = append(ordered, want[r*(d+1):r*(d+1)+d]...)
		}
		for r := range k {
			ordered = append(ordered, want[r*(d+1)+d])
		}
		for _, v := range ordered {
			norm2 += v * v
		}
		target := float64(f.LatticeUnits() - ClipMargin(len(ordered)))
		scale := target / math.Max(1, math.Sqrt(norm2))
		unit := math.Ldexp(1, int(GradFracBits(f)))
		for i, v := range ordered {
			// v_k's floor moves an entry by at most |a_j| 2^-e <= 2^-6 units.
			if diff := math.Abs(float64(g[i])/unit - v*scale); diff > 1.0/64+2e-3*float64(f.LatticeUnits()) {
				t.Fatalf("entry %d: quantized %.3f, float %.3f", i, float64(g[i])/unit, v*scale)
			}
		}
	}
}

func TestStepAppliesNoiseAndUpdate(t *testing.T) {
	f := DefaultFormat()
	p, err := NewStepParams(f, 1, 0.5, 4, 20)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	m := randomModel(rng, f, []int{3, 2}, 0.1)
	flat := m.Flatten()
	noise := make([]int64, len(flat))
	noise[0] = 4096
	n := &Native{}
	// Empty batch: the update is the noise alone.
	next, sum := Step[int64](n, p, m, nil, nil, nil, noise)
	if n.Err() != nil {
		t.Fatal(n.Err())
	}
	want := flat[0] - (4096*p.StepSize)>>p.UpdateFracBits
	if got := next.Flatten()[0]; got != want || sum[0] != 4096 {
		t.Fatalf("empty-batch update: got %d (sum %d), want %d", got, sum[0], want)
	}
	for i := 1; i < len(flat); i++ {
		if next.Flatten()[i] != flat[i] {
			t.Fatalf("parameter %d moved without gradient or noise", i)
		}
	}
	// A masked-out slot contributes nothing.
	x := [][]int64{randomInput(rng, f, 3)}
	y := [][]int64{onehot(2, 1)}
	masked, _ := Step[int64](n, p, m, x, y, []int64{0}, noise)
	if masked.Flatten()[1] != flat[1] {
		t.Fatal("a padding slot changed the model")
	}
}

func TestNativeOverflowIsAnError(t *testing.T) {
	f := DefaultFormat()
	p, _ := NewStepParams(f, 1, 0.5, 4, 20)
	m, _ := Unflatten([]int{1, 2}, []int64{1 << (f.WeightBits - 1), 0, 0, 0})
	noise := []int64{-(1 << 19), 0, 0, 0} // pushes the weight past its bound
	n := &Native{}
	Step[int64](n, p, m, nil, nil, nil, noise)
	if !errors.Is(n.Err(), ErrOverflow) {
		t.Fatalf("got %v, want ErrOverflow", n.Err())
	}
	n2 := &Native{}
	n2.Mul(1<<40, 1<<40)
	if !errors.Is(n2.Err(), ErrOverflow) {
		t.Fatalf("int64 product overflow: got %v", n2.Err())
	}
}

func TestFormatValidate(t *testing.T) {
	if err := DefaultFormat().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultFormat()
	bad.FracBits, bad.ExpFracBits = 40, 31
	err := bad.Validate()
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("got %v", err)
	}
}
