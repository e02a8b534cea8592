package dp

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func acctMustEpsilon(t *testing.T, acc Accountant, segs []Segment, delta float64) float64 {
	t.Helper()
	g, err := Epsilon(acc, segs, delta)
	if err != nil {
		t.Fatalf("Epsilon(%s, %+v, %v): %v", acc, segs, delta, err)
	}
	return g.Epsilon
}

func TestInvalidInputs(t *testing.T) {
	good := Segment{SamplingRate: 0.01, NoiseMultiplier: 1, Steps: 100}
	cases := []struct {
		name  string
		seg   Segment
		delta float64
		want  error
	}{
		{"q zero", Segment{0, 1, 10}, 1e-5, ErrInvalidSamplingRate},
		{"q negative", Segment{-0.1, 1, 10}, 1e-5, ErrInvalidSamplingRate},
		{"q above one", Segment{1.5, 1, 10}, 1e-5, ErrInvalidSamplingRate},
		{"q NaN", Segment{math.NaN(), 1, 10}, 1e-5, ErrInvalidSamplingRate},
		{"sigma zero", Segment{0.01, 0, 10}, 1e-5, ErrInvalidNoiseMultiplier},
		{"sigma negative", Segment{0.01, -1, 10}, 1e-5, ErrInvalidNoiseMultiplier},
		{"sigma inf", Segment{0.01, math.Inf(1), 10}, 1e-5, ErrInvalidNoiseMultiplier},
		{"steps zero", Segment{0.01, 1, 0}, 1e-5, ErrInvalidSteps},
		{"steps negative", Segment{0.01, 1, -3}, 1e-5, ErrInvalidSteps},
		{"delta zero", good, 0, ErrInvalidDelta},
		{"delta one", good, 1, ErrInvalidDelta},
		{"delta negative", good, -1e-5, ErrInvalidDelta},
	}
	for _, c := range cases {
		for _, acc := range []Accountant{AccountantRDP, AccountantPRV} {
			if _, err := Epsilon(acc, []Segment{c.seg}, c.delta); !errors.Is(err, c.want) {
				t.Errorf("%s/%s Epsilon: err = %v, want %v", c.name, acc, err, c.want)
			}
			if _, err := EpsilonCurve(acc, c.seg, c.delta); !errors.Is(err, c.want) {
				t.Errorf("%s/%s EpsilonCurve: err = %v, want %v", c.name, acc, err, c.want)
			}
			if c.want == ErrInvalidNoiseMultiplier {
				continue // CalibrateNoise takes no sigma
			}
			if _, err := CalibrateNoise(acc, c.seg.SamplingRate, c.seg.Steps, c.delta, 1); !errors.Is(err, c.want) {
				t.Errorf("%s/%s CalibrateNoise: err = %v, want %v", c.name, acc, err, c.want)
			}
		}
	}
	if _, err := Epsilon(AccountantRDP, nil, 1e-5); !errors.Is(err, ErrInvalidSteps) {
		t.Errorf("no segments: err = %v, want ErrInvalidSteps", err)
	}
	if _, err := Epsilon("moments", []Segment{good}, 1e-5); !errors.Is(err, ErrUnknownAccountant) {
		t.Errorf("unknown accountant: err = %v", err)
	}
	for _, eps := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := CalibrateNoise(AccountantRDP, 0.01, 100, 1e-5, eps); !errors.Is(err, ErrInvalidEpsilon) {
			t.Errorf("target epsilon %v: err = %v, want ErrInvalidEpsilon", eps, err)
		}
	}
	// The wrapped message names the field and value.
	_, err := Epsilon(AccountantRDP, []Segment{{SamplingRate: 1.5, NoiseMultiplier: 1, Steps: 1}}, 1e-5)
	if want := "segment 0: SamplingRate=1.5: dp: sampling rate must be in (0, 1]"; err == nil || err.Error() != want {
		t.Errorf("error text %q, want %q", err, want)
	}
}

func TestRDPMonotonicity(t *testing.T) {
	base := Segment{SamplingRate: 0.01, NoiseMultiplier: 1.1, Steps: 1000}
	eps := func(s Segment) float64 { return acctMustEpsilon(t, AccountantRDP, []Segment{s}, 1e-5) }
	e0 := eps(base)
	moreSteps, higherQ, moreNoise := base, base, base
	moreSteps.Steps *= 2
	higherQ.SamplingRate *= 2
	moreNoise.NoiseMultiplier *= 1.5
	if !(eps(moreSteps) > e0) {
		t.Errorf("epsilon did not grow with steps")
	}
	if !(eps(higherQ) > e0) {
		t.Errorf("epsilon did not grow with q")
	}
	if !(eps(moreNoise) < e0) {
		t.Errorf("epsilon did not shrink with sigma")
	}
	// Finer sweeps.
	prev := 0.0
	for _, q := range []float64{1e-5, 1e-4, 1e-3, 0.01, 0.1, 0.5, 1} {
		e := eps(Segment{q, 1, 100})
		if !(e > prev) {
			t.Errorf("q=%v: eps %v not above %v", q, e, prev)
		}
		prev = e
	}
	prev = math.Inf(1)
	for _, sigma := range []float64{0.5, 0.7, 1, 2, 5, 20} {
		e := eps(Segment{0.01, sigma, 1000})
		if !(e < prev) {
			t.Errorf("sigma=%v: eps %v not below %v", sigma, e, prev)
		}
		prev = e
	}
}

func TestRDPHeterogeneousComposition(t *testing.T) {
	a := Segment{SamplingRate: 0.01, NoiseMultiplier: 1.0, Steps: 300}
	b := Segment{SamplingRate: 0.02, NoiseMultiplier: 1.5, Steps: 700}
	ab := acctMustEpsilon(t, AccountantRDP, []Segment{a, b}, 1e-5)
	ba := acctMustEpsilon(t, AccountantRDP, []Segment{b, a}, 1e-5)
	if ab != ba {
		t.Errorf("composition not commutative: %v vs %v", ab, ba)
	}
	// Splitting a segment changes nothing.
	a1, a2 := a, a
	a1.Steps, a2.Steps = 100, 200
	if split := acctMustEpsilon(t, AccountantRDP, []Segment{a1, b, a2}, 1e-5); math.Abs(split-ab) > 1e-12*ab {
		t.Errorf("split segments: %v vs %v", split, ab)
	}
	if !(ab > acctMustEpsilon(t, AccountantRDP, []Segment{a}, 1e-5)) || !(ab > acctMustEpsilon(t, AccountantRDP, []Segment{b}, 1e-5)) {
		t.Errorf("composition below a part")
	}
}

func TestRDPEpsilonCurve(t *testing.T) {
	seg := Segment{SamplingRate: 0.004, NoiseMultiplier: 1.1, Steps: 2500}
	curve, err := EpsilonCurve(AccountantRDP, seg, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	if len(curve) != seg.Steps {
		t.Fatalf("len %d, want %d", len(curve), seg.Steps)
	}
	for _, steps := range []int{1, 2, 17, 1000, 2500} {
		s := seg
		s.Steps = steps
		want := acctMustEpsilon(t, AccountantRDP, []Segment{s}, 1e-5)
		if math.Abs(curve[steps-1]-want) > 1e-12*want {
			t.Errorf("curve[%d] = %v, Epsilon = %v", steps-1, curve[steps-1], want)
		}
	}
	for i := 1; i < len(curve); i++ {
		if curve[i] < curve[i-1] {
			t.Fatalf("curve decreases at step %d", i+1)
		}
	}
}

func TestRDPExtremeInputs(t *testing.T) {
	for _, s := range []Segment{
		{1e-9, 1, 1},
		{1e-7, 0.1, 10},
		{0.999, 100, 1},
		{1, 1e-3, 1},
		{0.5, 0.05, 1_000_000},
		{1e-4, 1e3, 1_000_000_000},
	} {
		e := acctMustEpsilon(t, AccountantRDP, []Segment{s}, 1e-5)
		if math.IsNaN(e) || e < 0 {
			t.Errorf("%+v: eps %v", s, e)
		}
	}
}

func TestCalibrateNoiseRDP(t *testing.T) {
	cases := []struct {
		q      float64
		steps  int
		delta  float64
		target float64
	}{
		{0.04, 2250, 1e-5, 8},
		{0.04, 2000, 1e-5, 8},
		{0.01, 10000, 1e-5, 1},
		{1e-3, 100000, 1e-6, 0.5},
		{1, 1, 1e-5, 2},
		{0.1, 10, 1e-5, 50},
	}
	for _, c := range cases {
		sigma, err := CalibrateNoise(AccountantRDP, c.q, c.steps, c.delta, c.target)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		eps := acctMustEpsilon(t, AccountantRDP, []Segment{{c.q, sigma, c.steps}}, c.delta)
		if eps > c.target {
			t.Errorf("%+v: sigma %v gives eps %v above target", c, sigma, eps)
		}
		if acctRelErr(eps, c.target) > 1e-3 {
			t.Errorf("%+v: sigma %v gives eps %v, not within 1e-3 of target", c, sigma, eps)
		}
		// Slightly less noise must miss the target (sigma is the smallest).
		less := acctMustEpsilon(t, AccountantRDP, []Segment{{c.q, sigma * (1 - 2*calibrationRelTol), c.steps}}, c.delta)
		if less <= c.target {
			t.Errorf("%+v: sigma %v is not minimal: %v also meets target", c, sigma, sigma*(1-2*calibrationRelTol))
		}
	}
}

// TestCalibrateNoiseOpacus compares with Opacus's get_noise_multiplier
// (opacus/tests/accountants_test.py): target eps 8, delta 1e-5, q 0.04 gives
// 1.416 for 90 epochs (2250 steps) and 1.3562 for 2000 steps. Opacus stops
// its bisection once epsilon is within 0.01 below the target, so its sigma
// is an upper end; ours (with Opacus's signed fractional series) must be at
// most 0.5% smaller and never larger.
func TestCalibrateNoiseOpacus(t *testing.T) {
	for _, c := range []struct {
		steps int
		want  float64
	}{{2250, 1.416}, {2000, 1.3562}} {
		epsilonOf := func(sigma float64) (float64, error) {
			eps, _ := rdpEpsilon([]Segment{{0.04, sigma, c.steps}}, 1e-5, DefaultOrders(), fracSeriesSigned)
			return eps, nil
		}
		sigma, err := calibrateNoiseMultiplier(epsilonOf, 8)
		if err != nil {
			t.Fatal(err)
		}
		if sigma > c.want+5e-5 || sigma < c.want*0.995 {
			t.Errorf("steps %d: sigma %v, Opacus %v", c.steps, sigma, c.want)
		}
	}
}

func TestCalibrateNoiseUnreachable(t *testing.T) {
	_, err := CalibrateNoise(AccountantRDP, 1, 1000, 1e-10, 1e-6)
	if !errors.Is(err, ErrUnreachableEpsilon) {
		t.Errorf("err = %v, want ErrUnreachableEpsilon", err)
	}
}

func TestAdjustDelta(t *testing.T) {
	if got, want := AdjustDelta(1, 1e-6, 1e-9), 1e-6+(1+math.E)*1e-9; math.Abs(got-want) > 1e-20 {
		t.Errorf("AdjustDelta = %v, want %v", got, want)
	}
	if AdjustDelta(3, 1e-5, 0) != 1e-5 {
		t.Errorf("zero tv must not change delta")
	}
}

func TestDefaultOrders(t *testing.T) {
	o := DefaultOrders()
	if len(o) != 151 || o[0] != 1.1 || o[98] != 10.9 || o[99] != 12 || o[150] != 63 {
		t.Errorf("unexpected grid: len %d, %v .. %v", len(o), o[0], o[len(o)-1])
	}
	o[0] = 99
	if DefaultOrders()[0] != 1.1 {
		t.Errorf("DefaultOrders shares its slice")
	}
}

func BenchmarkEpsilonRDP100kSteps(b *testing.B) {
	segs := []Segment{{SamplingRate: 0.001, NoiseMultiplier: 1.0, Steps: 100_000}}
	for b.Loop() {
		if _, err := Epsilon(AccountantRDP, segs, 1e-5); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEpsilonCurveRDP100kSteps(b *testing.B) {
	seg := Segment{SamplingRate: 0.001, NoiseMultiplier: 1.0, Steps: 100_000}
	for b.Loop() {
		if _, err := EpsilonCurve(AccountantRDP, seg, 1e-5); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleEpsilon() {
	// MNIST-style run: 60000 examples, expected batch 150 (q = 0.0025),
	// noise multiplier 1.3, 15 epochs = 6000 steps.
	g, err := Epsilon(AccountantRDP, []Segment{{SamplingRate: 0.0025, NoiseMultiplier: 1.3, Steps: 6000}}, 1e-5)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("epsilon=%.3f at delta=%g (RDP order %g)\n", g.Epsilon, g.Delta, g.Order)
	// Output: epsilon=0.724 at delta=1e-05 (RDP order 19)
}
