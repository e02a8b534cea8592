package dp

import (
	"errors"
	"math"
	"os"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
)

// prvReferences are the values Opacus's opacus/tests/prv_accountant.py
// (pytorch/opacus) states as "Computed from
// https://github.com/microsoft/prv_accountant": key (sigma, q, steps), the
// PRV accountant's epsilon at delta = 1e-6 with Opacus's defaults
// eps_error = 0.01, delta_error = delta/1000, and the test compares
// PRVAccountant.get_epsilon (the upper bound) with them to 5 places. Steps
// are the number of self-compositions (history (sigma, q, steps)).
var prvReferences = []struct {
	sigma, q float64
	steps    int
	want     float64
}{
	{0.8, 0.001, 100, 0.270403364058018680360362395731},
	{1.5, 0.001, 100, 0.0393694193095203287535710501288},
	{2.0, 0.001, 100, 0.0291045369484074882560076247273},
	{3.0, 0.001, 100, 0.0215200934390882663016508757892},
	{0.8, 0.05, 100, 6.74105193941409996938318727189},
	{1.5, 0.05, 100, 1.95385313568420015961635272106},
	{2.0, 0.05, 100, 1.28363737962406521120328761754},
	{3.0, 0.05, 100, 0.767933789666825572517439013609},
	{0.8, 0.2, 100, 24.3336641779225644199868838768},
	{1.5, 0.2, 100, 8.49897785912163072907787864096},
	{2.0, 0.2, 100, 5.67205560882372950004537415225},
	{3.0, 0.2, 100, 3.38122051022184422208738396876},
	{0.8, 0.001, 1000, 0.477771266184522591657923840103},
	{1.5, 0.001, 1000, 0.0998206602308474855167474970585},
	{2.0, 0.001, 1000, 0.0712187825381152272985474382949},
	{3.0, 0.001, 1000, 0.0476159308713589302097801692071},
	{0.8, 0.05, 1000, 19.5258428053837356230815203162},
	{1.5, 0.05, 1000, 6.20996924657726712126759593957},
	{2.0, 0.05, 1000, 4.17279986668931890392286732094},
	{3.0, 0.05, 1000, 2.52757432605973830774814814504},
	{0.8, 0.001, 20000, 1.29600925757016161021795142005},
	{1.5, 0.001, 20000, 0.437005108654860807693154356457},
	{2.0, 0.001, 20000, 0.305837939762453436820521801565},
	{3.0, 0.001, 20000, 0.194031030686054706269061398416},
	{0.8, 0.05, 20000, 140.655209760074228597659384832},
	{1.5, 0.05, 20000, 38.3066179140872336006395926233},
	{2.0, 0.05, 20000, 24.4217185703225858617315680021},
	{3.0, 0.05, 20000, 13.9611146992367061159256991232},
	{0.8, 0.001, 50000, 2.03451480771586634688219419331},
	{1.5, 0.001, 50000, 0.704218384555810095193351116905},
	{2.0, 0.001, 50000, 0.491354910211401318953505779064},
	{3.0, 0.001, 50000, 0.309694161156544023327796821832},
	{0.8, 0.05, 50000, 291.384325452396524269715882838},
	{1.5, 0.05, 50000, 73.1901767238329625797632616013},
	{2.0, 0.05, 50000, 45.2369958613306906158868514467},
	{3.0, 0.05, 50000, 24.9420056431444763234139827546},
	{0.8, 0.001, 100000, 2.92462211935041027643933375657},
	{1.5, 0.001, 100000, 1.01528807502760787251361307426},
	{2.0, 0.001, 100000, 0.706719901081851564761393547087},
	{3.0, 0.001, 100000, 0.443671720880875475323534828931},
}

// quickPRVDomain is the largest discretisation TestPRVReferences runs by
// default; set ZKDP_LONG_TESTS=1 to run every reference (the largest needs
// ~10^8 points, several GiB and minutes).
const quickPRVDomain = 1 << 21

func TestPRVReferences(t *testing.T) {
	long := os.Getenv("ZKDP_LONG_TESTS") != ""
	ran, worst := 0, 0.0
	for _, r := range prvReferences {
		segs := []Segment{{SamplingRate: r.q, NoiseMultiplier: r.sigma, Steps: r.steps}}
		d, err := newPRVDomain(segs, defaultEpsError, 1e-6*defaultDeltaErrorFraction)
		if err != nil {
			t.Fatal(err)
		}
		if d.size > quickPRVDomain && !long {
			continue
		}
		ran++
		g, err := Epsilon(AccountantPRV, segs, 1e-6)
		if err != nil {
			t.Errorf("sigma=%v q=%v steps=%d: %v", r.sigma, r.q, r.steps, err)
			continue
		}
		worst = math.Max(worst, acctRelErr(g.Epsilon, r.want))
		if acctRelErr(g.Epsilon, r.want) > 1e-3 {
			t.Errorf("sigma=%v q=%v steps=%d: eps %.10g, Opacus/MSR %.10g (rel err %.2g)", r.sigma, r.q, r.steps, g.Epsilon, r.want, acctRelErr(g.Epsilon, r.want))
		}
	}
	if ran < 15 {
		t.Errorf("only %d PRV references ran", ran)
	}
	t.Logf("%d of %d PRV references checked, worst relative error %.2g", ran, len(prvReferences), worst)
}

// TestPRVBelowRDP: PRV is the tighter accountant, so its upper bound must not
// exceed RDP's (except by its own eps_error when both are tiny), and for many
// steps the two are close.
func TestPRVBelowRDP(t *testing.T) {
	for _, s := range []Segment{
		{0.01, 1.0, 1000},
		{0.004, 1.1, 5000},
		{0.05, 2.0, 200},
		{1, 5, 10},
	} {
		prv := acctMustEpsilon(t, AccountantPRV, []Segment{s}, 1e-5)
		rdp := acctMustEpsilon(t, AccountantRDP, []Segment{s}, 1e-5)
		if prv > rdp {
			t.Errorf("%+v: PRV %v above RDP %v", s, prv, rdp)
		}
		if prv < 0.6*rdp {
			t.Errorf("%+v: PRV %v implausibly far below RDP %v", s, prv, rdp)
		}
	}
}

func TestPRVMonotonicity(t *testing.T) {
	base := Segment{SamplingRate: 0.01, NoiseMultiplier: 1.0, Steps: 500}
	eps := func(s Segment) float64 { return acctMustEpsilon(t, AccountantPRV, []Segment{s}, 1e-5) }
	e0 := eps(base)
	moreSteps, higherQ, moreNoise := base, base, base
	moreSteps.Steps *= 2
	higherQ.SamplingRate *= 2
	moreNoise.NoiseMultiplier *= 1.5
	if !(eps(moreSteps) > e0) || !(eps(higherQ) > e0) || !(eps(moreNoise) < e0) {
		t.Errorf("PRV epsilon not monotone in steps, q, sigma")
	}
}

func TestPRVHeterogeneous(t *testing.T) {
	a := Segment{SamplingRate: 0.01, NoiseMultiplier: 1.0, Steps: 300}
	b := Segment{SamplingRate: 0.02, NoiseMultiplier: 1.5, Steps: 500}
	ab := acctMustEpsilon(t, AccountantPRV, []Segment{a, b}, 1e-5)
	ba := acctMustEpsilon(t, AccountantPRV, []Segment{b, a}, 1e-5)
	if acctRelErr(ab, ba) > 1e-9 {
		t.Errorf("not commutative: %v vs %v", ab, ba)
	}
	ea := acctMustEpsilon(t, AccountantPRV, []Segment{a}, 1e-5)
	eb := acctMustEpsilon(t, AccountantPRV, []Segment{b}, 1e-5)
	if !(ab > ea && ab > eb) {
		t.Errorf("composition %v not above parts %v, %v", ab, ea, eb)
	}
	// The same mechanism split into two segments equals one segment, up to
	// the discretisation (the two runs use different meshes).
	a1, a2 := a, a
	a1.Steps, a2.Steps = 100, 200
	split := acctMustEpsilon(t, AccountantPRV, []Segment{a1, a2}, 1e-5)
	if math.Abs(split-ea) > 2e-3 {
		t.Errorf("split %v vs single %v", split, ea)
	}
	if rdp := acctMustEpsilon(t, AccountantRDP, []Segment{a, b}, 1e-5); ab > rdp {
		t.Errorf("heterogeneous PRV %v above RDP %v", ab, rdp)
	}
}

func TestPRVEpsilonCurve(t *testing.T) {
	seg := Segment{SamplingRate: 0.01, NoiseMultiplier: 1.0, Steps: 640}
	curve, err := EpsilonCurve(AccountantPRV, seg, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	if len(curve) != seg.Steps {
		t.Fatalf("len %d", len(curve))
	}
	for i := 1; i < len(curve); i++ {
		if curve[i] < curve[i-1] {
			t.Fatalf("curve decreases at %d", i+1)
		}
	}
	// Evaluated points agree with Epsilon up to the (finer) shared mesh, and
	// every point bounds the exact value from above (up to that mesh error).
	for _, steps := range []int{10, 320, 640} {
		s := seg
		s.Steps = steps
		want := acctMustEpsilon(t, AccountantPRV, []Segment{s}, 1e-5)
		if math.Abs(curve[steps-1]-want) > 1e-3 {
			t.Errorf("curve[%d] = %v, Epsilon = %v", steps-1, curve[steps-1], want)
		}
	}
	s := seg
	s.Steps = 5
	if want := acctMustEpsilon(t, AccountantPRV, []Segment{s}, 1e-5); curve[4] < want-1e-3 {
		t.Errorf("interpolated curve[4] = %v below Epsilon %v", curve[4], want)
	}
}

func TestCalibrateNoisePRV(t *testing.T) {
	for _, c := range []struct {
		q      float64
		steps  int
		target float64
	}{{0.01, 1000, 1.0}, {0.05, 100, 3}} {
		sigma, err := CalibrateNoise(AccountantPRV, c.q, c.steps, 1e-5, c.target)
		if err != nil {
			t.Fatal(err)
		}
		eps := acctMustEpsilon(t, AccountantPRV, []Segment{{c.q, sigma, c.steps}}, 1e-5)
		if eps > c.target || acctRelErr(eps, c.target) > 1e-3 {
			t.Errorf("%+v: sigma %v gives eps %v", c, sigma, eps)
		}
		rdpSigma, err := CalibrateNoise(AccountantRDP, c.q, c.steps, 1e-5, c.target)
		if err != nil {
			t.Fatal(err)
		}
		if sigma > rdpSigma {
			t.Errorf("%+v: PRV needs more noise (%v) than RDP (%v)", c, sigma, rdpSigma)
		}
	}
}

func TestPRVDomainTooLarge(t *testing.T) {
	_, err := Epsilon(AccountantPRV, []Segment{{0.5, 0.3, 1_000_000}}, 1e-5)
	if !errors.Is(err, ErrNumerical) {
		t.Errorf("err = %v, want ErrNumerical", err)
	}
}

func BenchmarkEpsilonPRV100kSteps(b *testing.B) {
	segs := []Segment{{SamplingRate: 0.001, NoiseMultiplier: 1.0, Steps: 100_000}}
	for b.Loop() {
		if _, err := Epsilon(AccountantPRV, segs, 1e-5); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEpsilonPRV1kSteps(b *testing.B) {
	segs := []Segment{{SamplingRate: 0.01, NoiseMultiplier: 1.0, Steps: 1000}}
	for b.Loop() {
		if _, err := Epsilon(AccountantPRV, segs, 1e-5); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPRVDomainSizePlannable: 2*3^13 is 5-smooth but has 14 FFTPACK factors,
// which would make gonum's FFT panic; the domain size must skip it.
func TestPRVDomainSizePlannable(t *testing.T) {
	const fourteenFactors = 2 * 1594323
	n := nextEven5Smooth(fourteenFactors)
	if n == fourteenFactors {
		t.Fatalf("nextEven5Smooth returned a size FFTPACK cannot plan")
	}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("fourier.NewFFT(%d) panicked: %v", n, r)
		}
	}()
	fourier.NewFFT(n)
}
