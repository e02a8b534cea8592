package dp

import (
	"errors"
	"math"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func testKey(step int) fr.Element {
	var b fr.Element
	b.SetUint64(99)
	return StepKey(SeedFromUint64(7), b, step)
}

func TestWordsDeterministicAndSeparated(t *testing.T) {
	a := Words(testKey(1), StreamNoise, 5)
	b := Words(testKey(1), StreamNoise, 5)
	c := Words(testKey(2), StreamNoise, 5)
	d := Words(testKey(1), StreamSampling, 5)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("word %d not deterministic", i)
		}
	}
	if a[0] == c[0] || a[0] == d[0] || a[0] == a[1] {
		t.Fatalf("streams or steps are not separated: %x %x %x %x", a[0], c[0], d[0], a[1])
	}
	// A prefix of a longer draw is the shorter draw.
	long := Words(testKey(1), StreamNoise, 9)
	for i := range a {
		if long[i] != a[i] {
			t.Fatalf("word %d depends on how many were drawn", i)
		}
	}
}

func TestSeedCommitmentHidesAndBinds(t *testing.T) {
	s1, s2 := SeedFromUint64(1), SeedFromUint64(2)
	if SeedCommitment(s1) == SeedCommitment(s2) {
		t.Fatal("different seeds share a commitment")
	}
	if SeedCommitment(s1) == s1 {
		t.Fatal("commitment equals the seed")
	}
	r1, err := NewSeed()
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := NewSeed()
	if r1 == r2 {
		t.Fatal("crypto/rand seeds repeat")
	}
}

// The sampler's empirical distribution against the exact discrete Gaussian:
// a chi-square test over bins with expected count >= 20, with a fixed seed.
func TestDiscreteGaussianEmpirical(t *testing.T) {
	for _, sigma := range []float64{1.5, 7.3, 40} {
		g, err := NewDiscreteGaussian(sigma)
		if err != nil {
			t.Fatal(err)
		}
		const n = 200000
		words := Words(testKey(int(sigma*10)), StreamNoise, n)
		counts := map[int64]int{}
		var sum, sq float64
		for _, u := range words {
			z := g.Sample(u)
			counts[z]++
			sum += float64(z)
			sq += float64(z) * float64(z)
		}
		// Exact pmf, normalized over a wide range.
		pmf := func(z int64) float64 { return math.Exp(-float64(z*z) / (2 * sigma * sigma)) }
		norm := 0.0
		for z := -g.Tail; z <= g.Tail; z++ {
			norm += pmf(z)
		}
		chi2, dof := 0.0, -1
		var restObs, restExp float64
		for z := -g.Tail; z <= g.Tail; z++ {
			exp := n * pmf(z) / norm
			if exp < 20 {
				restObs += float64(counts[z])
				restExp += exp
				continue
			}
			d := float64(counts[z]) - exp
			chi2 += d * d / exp
			dof++
		}
		if restExp > 0 {
			d := restObs - restExp
			chi2 += d * d / restExp
			dof++
		}
		// The 99.9% quantile of chi-square(k) is below k + 3.1*sqrt(2k) + 10.
		limit := float64(dof) + 3.1*math.Sqrt(2*float64(dof)) + 10
		if chi2 > limit {
			t.Errorf("sigma %v: chi2 = %.1f over %d dof exceeds %.1f", sigma, chi2, dof, limit)
		}
		mean, variance := sum/n, sq/n-(sum/n)*(sum/n)
		if math.Abs(mean) > 5*sigma/math.Sqrt(n) {
			t.Errorf("sigma %v: mean %v too far from 0", sigma, mean)
		}
		// The discrete Gaussian's variance is below sigma^2 and close to it for sigma >= 1.
		if math.Abs(variance/(sigma*sigma)-1) > 0.03 {
			t.Errorf("sigma %v: variance %v, want about %v", sigma, variance, sigma*sigma)
		}
		if g.Distance <= 0 || g.Distance > 1e-12 {
			t.Errorf("sigma %v: table distance %v out of the expected range", sigma, g.Distance)
		}
	}
}

func TestDiscreteGaussianTableEnds(t *testing.T) {
	g, err := NewDiscreteGaussian(3)
	if err != nil {
		t.Fatal(err)
	}
	if g.Sample(0) != -g.Tail && g.CDF[0] > 0 {
		t.Fatalf("u=0 gave %d", g.Sample(0))
	}
	if z := g.Sample(math.MaxUint64); z != g.Tail {
		t.Fatalf("u=max gave %d, want %d", z, g.Tail)
	}
	for i := 1; i < len(g.CDF); i++ {
		if g.CDF[i] < g.CDF[i-1] {
			t.Fatalf("CDF decreases at %d", i)
		}
	}
	// Symmetry: P(Z <= -k-1) = 2^64 - P(Z <= k) up to rounding.
	for k := int64(0); k < 10; k++ {
		lo := g.CDF[g.Tail-k-1]
		hi := g.CDF[g.Tail+k]
		if diff := int64(lo + hi); diff < -4 || diff > 4 { // lo + hi wraps to about 0
			t.Fatalf("asymmetric at %d: %d + %d", k, lo, hi)
		}
	}
	if _, err := NewDiscreteGaussian(0.5); err == nil {
		t.Fatal("sigma below 1 accepted")
	}
	// A table too large to build is refused before it is built (2^24 once
	// made a table of 470 million entries), as are NaN and infinity.
	for _, sigma := range []float64{1 << 24, float64(MaxNoiseTail)/TailSigmas + 1, math.Inf(1), math.NaN()} {
		if _, err := NewDiscreteGaussian(sigma); !errors.Is(err, ErrSampler) {
			t.Errorf("sigma %v: got %v, want ErrSampler", sigma, err)
		}
	}
	if g, err := NewDiscreteGaussian(float64(MaxNoiseTail) / TailSigmas); err != nil || g.Tail != MaxNoiseTail || g.Bits() != NoiseBits(MaxNoiseTail) {
		t.Fatalf("the largest table: %v", err)
	}
}

func TestPoissonSamplerRates(t *testing.T) {
	const rows, q, steps = 500, 0.05, 2000
	p, err := NewPoissonSampler(rows, q, 60)
	if err != nil {
		t.Fatal(err)
	}
	hits := make([]int, rows)
	sizes := 0.0
	for s := range steps {
		b := p.Sample(Words(testKey(s), StreamSampling, p.MaxBatch+1))
		for i, idx := range b.Indices {
			if i > 0 && idx <= b.Indices[i-1] {
				t.Fatalf("indices not increasing: %v", b.Indices)
			}
			hits[idx]++
		}
		sizes += float64(len(b.Indices))
	}
	mean := sizes / steps
	sd := math.Sqrt(rows * q * (1 - q) / steps)
	if math.Abs(mean-rows*q) > 5*sd {
		t.Fatalf("mean batch %v, want %v +- %v", mean, rows*q, 5*sd)
	}
	// First and last rows are selected at rate q too (no edge bias).
	for _, i := range []int{0, rows - 1} {
		if f := float64(hits[i]) / steps; math.Abs(f-q) > 5*math.Sqrt(q*(1-q)/steps) {
			t.Fatalf("row %d selected at rate %v, want %v", i, f, q)
		}
	}
}

func TestPoissonGapTable(t *testing.T) {
	p, err := NewPoissonSampler(100, 0.25, 10)
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= 20; k++ {
		want := math.Pow(0.75, float64(k))
		got := math.Ldexp(float64(p.Thresholds[k-1]), -64)
		if math.Abs(got-want) > 1e-15 {
			t.Fatalf("P(gap >= %d) = %v, want %v", k, got, want)
		}
	}
	if p.Gap(math.MaxUint64) != 0 || p.Gap(0) != 100 {
		t.Fatalf("gap ends: %d %d", p.Gap(math.MaxUint64), p.Gap(0))
	}
	if _, err := NewPoissonSampler(10, 0, 5); err == nil {
		t.Fatal("rate 0 accepted")
	}
	full, _ := NewPoissonSampler(5, 1, 5)
	if b := full.Sample([]uint64{1, 2, 3, 4, 5, 6}); len(b.Indices) != 5 || b.Truncated {
		t.Fatalf("q=1 selects everything: %+v", b)
	}
	small, _ := NewPoissonSampler(5, 1, 3)
	if b := small.Sample([]uint64{1, 2, 3, 4}); len(b.Indices) != 3 || !b.Truncated {
		t.Fatalf("truncation not reported: %+v", b)
	}
}

func TestMaxBatchFor(t *testing.T) {
	k := MaxBatchFor(1000, 0.05, 500, 1e-9)
	if 500*BinomialTail(1000, 0.05, k) > 1e-9 || 500*BinomialTail(1000, 0.05, k-1) <= 1e-9 {
		t.Fatalf("MaxBatchFor = %d is not the smallest size within budget", k)
	}
	if k < 50 || k > 120 {
		t.Fatalf("MaxBatchFor = %d, implausible for mean 50", k)
	}
}
