package dp

import (
	"errors"
	"math"
	"testing"
)

// Two runs that saw the same records compose: without subsampling (q = 1)
// each step is a Gaussian mechanism of RDP alpha/(2 sigma^2), so 3 steps
// at sigma 2 and 5 at sigma 4 have RDP alpha*rho with rho = 3/8 + 5/32 =
// 0.53125, and the Balle et al. conversion at delta 0.99e-5, minimised over
// the default orders by hand (a few lines of Python), gives epsilon
// 4.898456220807871 at order 5.3. The composed delta adds both runs'
// sampler distances.
func TestComposeAgainstHandComputation(t *testing.T) {
	base := Mechanism{Rows: 8, Params: 3, SamplingRate: 1, MaxBatch: 8, Delta: 1e-5, DeltaAccountant: 0.99e-5,
		Accountant: string(AccountantRDP), LatticeBits: 6}
	first, second := base, base
	first.NoiseMultiplier, first.Steps = 2, 3
	second.NoiseMultiplier, second.Steps = 4, 5
	got, err := Compose([]Mechanism{second, first})
	if err != nil {
		t.Fatal(err)
	}
	if want := 4.898456220807871; math.Abs(got.Epsilon-want) > 1e-9 || got.Order != 5.3 {
		t.Fatalf("composed epsilon %v at order %v, want %v at 5.3", got.Epsilon, got.Order, want)
	}
	var tv float64
	for _, m := range []Mechanism{first, second} {
		g, err := m.Guarantee()
		if err != nil {
			t.Fatal(err)
		}
		if g.Epsilon >= got.Epsilon {
			t.Fatalf("one run's epsilon %v is not below the composition's %v", g.Epsilon, got.Epsilon)
		}
		tv += g.SamplerDistance
	}
	if got.SamplerDistance != tv || got.Delta != AdjustDelta(got.Epsilon, base.DeltaAccountant, tv) {
		t.Fatalf("composed delta %v (distance %v), want the accountant's delta plus both runs' distance %v", got.Delta, got.SamplerDistance, tv)
	}
	// One mechanism composes to its own guarantee.
	alone, err := Compose([]Mechanism{first})
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := first.Guarantee(); alone != g {
		t.Fatalf("Compose of one run %+v, its guarantee %+v", alone, g)
	}
	if _, err := Compose(nil); !errors.Is(err, ErrInvalidSteps) {
		t.Fatalf("no mechanism: %v", err)
	}
}
