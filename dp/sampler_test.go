package dp

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func testKey(step int) fr.Element {
	var b fr.Element
	b.SetUint64(99)
	return StepKey(SeedFromUint64(7), b, step)
}

// mustWords is Words, failing the test on an unusable block.
func mustWords(t *testing.T, key fr.Element, stream uint64, n int) []uint64 {
	t.Helper()
	w, err := Words(key, stream, n)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWordsDeterministicAndSeparated(t *testing.T) {
	a := mustWords(t, testKey(1), StreamNoise, 5)
	b := mustWords(t, testKey(1), StreamNoise, 5)
	c := mustWords(t, testKey(2), StreamNoise, 5)
	d := mustWords(t, testKey(1), StreamSampling, 5)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("word %d not deterministic", i)
		}
	}
	if a[0] == c[0] || a[0] == d[0] || a[0] == a[1] {
		t.Fatalf("streams or steps are not separated: %x %x %x %x", a[0], c[0], d[0], a[1])
	}
	// A prefix of a longer draw is the shorter draw.
	long := mustWords(t, testKey(1), StreamNoise, 9)
	for i := range a {
		if long[i] != a[i] {
			t.Fatalf("word %d depends on how many were drawn", i)
		}
	}
}

// An element's words are the limbs of its canonical integer below the
// usable bound, and no words come from an element at or above it.
func TestElementWordsUsableBound(t *testing.T) {
	bound := new(big.Int).Lsh(UsableTop, 64*WordsPerElement)
	if bound.Cmp(fr.Modulus()) > 0 || new(big.Int).Sub(fr.Modulus(), bound).BitLen() > 64*WordsPerElement {
		t.Fatalf("usable bound %x is not the largest multiple of 2^192 below p", bound)
	}
	last := new(big.Int).Sub(bound, big.NewInt(1))
	w, ok := elementWords(last)
	if !ok || w != [WordsPerElement]uint64{^uint64(0), ^uint64(0), ^uint64(0)} {
		t.Fatalf("bound - 1: %x, %v", w, ok)
	}
	e := new(big.Int).SetUint64(7)
	e.Lsh(e, 128).Or(e, big.NewInt(5))
	if w, ok := elementWords(e); !ok || w != [WordsPerElement]uint64{5, 0, 7} {
		t.Fatalf("7 2^128 + 5: %x, %v", w, ok)
	}
	for _, bad := range []*big.Int{bound, new(big.Int).Sub(fr.Modulus(), big.NewInt(1))} {
		if _, ok := elementWords(bad); ok {
			t.Fatalf("%x above the usable bound gave words", bad)
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
		words := mustWords(t, testKey(int(sigma*10)), StreamNoise, n)
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
	if len(g.CDF) != int(g.Tail)+1 || g.CDF[g.Tail] != 1<<SignBit {
		t.Fatalf("a table of %d entries ending in %d for tail %d", len(g.CDF), g.CDF[len(g.CDF)-1], g.Tail)
	}
	// The extremes and the sign edge: 0 and 2^63 read v = 0, 2^63-1 and
	// MaxUint64 read the last entry.
	for u, want := range map[uint64]int64{0: 0, 1 << 63: 0, 1<<63 - 1: g.Tail, math.MaxUint64: -g.Tail} {
		if z := g.Sample(u); z != want {
			t.Errorf("u=%#x gave %d, want %d", u, z, want)
		}
	}
	// Each edge of a non-empty interval [CDF[k-1], CDF[k]), on either sign
	// (the far tail's entries repeat: those |z| have mass below 2^-63).
	for k := int64(0); k < g.Tail; k++ {
		lo, hi := uint64(0), g.CDF[k]
		if k > 0 {
			lo = g.CDF[k-1]
		}
		if lo == hi {
			continue
		}
		for _, c := range []struct {
			u    uint64
			want int64
		}{{lo, k}, {hi - 1, k}, {1<<63 | lo, -k}, {1<<63 | (hi - 1), -k}} {
			if z := g.Sample(c.u); z != c.want {
				t.Errorf("u=%#x gave %d, want %d", c.u, z, c.want)
			}
		}
	}
	for i := 1; i < len(g.CDF); i++ {
		if g.CDF[i] < g.CDF[i-1] {
			t.Fatalf("CDF decreases at %d", i)
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

// TestDiscreteGaussianDistance computes, with 256-bit floats, the exact
// total-variation distance between the table's distribution (each |z| = k
// has mass (CDF[k]-CDF[k-1])/2^63, split evenly between +k and -k, and 0
// keeps its own) and the untruncated discrete Gaussian, and checks that
// Distance, which the mechanism adds to delta, bounds it. A table that gave
// z = 0 the mass of the pair +-0 (twice rho(0)) would be far off.
func TestDiscreteGaussianDistance(t *testing.T) {
	const prec = 256
	for _, sigma := range []float64{1, 3, 40} {
		g, err := NewDiscreteGaussian(sigma)
		if err != nil {
			t.Fatal(err)
		}
		// rho(z) for z up to 40 sigma (the rest is below 2^-1000).
		far := int64(40*sigma) + 1
		rho := make([]*big.Float, far+1)
		total := new(big.Float).SetPrec(prec)
		for z := int64(0); z <= far; z++ {
			rho[z] = expExact(-z*z, sigma)
			if z == 0 {
				total.Add(total, rho[z])
			} else {
				total.Add(total, new(big.Float).SetPrec(prec).Mul(big.NewFloat(2), rho[z]))
			}
		}
		tv := new(big.Float).SetPrec(prec)
		two63 := new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(1), 63)
		for z := int64(0); z <= far; z++ {
			ideal := new(big.Float).SetPrec(prec).Quo(rho[z], total)
			table := new(big.Float).SetPrec(prec)
			if z <= g.Tail {
				lo := uint64(0)
				if z > 0 {
					lo = g.CDF[z-1]
				}
				table.SetUint64(g.CDF[z] - lo)
				table.Quo(table, two63)
				if z > 0 {
					table.Quo(table, big.NewFloat(2)) // the mass of +-z, one sign
				}
			}
			d := new(big.Float).SetPrec(prec).Sub(table, ideal)
			d.Abs(d)
			if z > 0 {
				d.Mul(d, big.NewFloat(2)) // +z and -z
			}
			tv.Add(tv, d)
		}
		tv.Quo(tv, big.NewFloat(2))
		exact, _ := tv.Float64()
		if exact > g.Distance {
			t.Errorf("sigma %v: the table is %.3g from the ideal distribution, above its claimed distance %.3g", sigma, exact, g.Distance)
		}
		if rounding := float64(len(g.CDF)) * math.Ldexp(1, -SignBit); g.Distance < rounding || g.Distance > 2*rounding {
			t.Errorf("sigma %v: distance %.3g, want about the rounding bound %.3g", sigma, g.Distance, rounding)
		}
		t.Logf("sigma %v: %d entries, exact distance %.3g, claimed %.3g", sigma, len(g.CDF), exact, g.Distance)
	}
}

// TestConvolvedGaussianDistance computes, with 256-bit floats, the exact
// distribution of a*x + b*y for x, y from the table (every pair of table
// outcomes) and its total-variation distance from the untruncated discrete
// Gaussian of scale sigma, and checks that Distance bounds it: for smooth
// combinations (distance about the tables' rounding) and for a rough one
// (sigma_0/N about 0.6), where the Poisson-summation term dominates and must
// still bound the exact distance.
func TestConvolvedGaussianDistance(t *testing.T) {
	const prec = 256
	for _, c := range []struct {
		sigma float64
		a, b  int64
	}{{25, 2, 3}, {61, 4, 5}, {8, 2, 3}} {
		g, err := NewConvolvedGaussian(c.sigma, c.a, c.b)
		if err != nil {
			t.Fatal(err)
		}
		// The table's pmf of one sample x in [-Tail, Tail].
		two63 := new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(1), 63)
		pmf := make([]*big.Float, 2*g.Tail+1)
		for k := int64(0); k <= g.Tail; k++ {
			lo := uint64(0)
			if k > 0 {
				lo = g.CDF[k-1]
			}
			m := new(big.Float).SetPrec(prec).SetUint64(g.CDF[k] - lo)
			m.Quo(m, two63)
			if k > 0 {
				m.Quo(m, big.NewFloat(2))
			}
			pmf[g.Tail+k], pmf[g.Tail-k] = m, m
		}
		bound := g.Bound()
		dist := make([]*big.Float, 2*bound+1)
		for i := range dist {
			dist[i] = new(big.Float).SetPrec(prec)
		}
		for x := -g.Tail; x <= g.Tail; x++ {
			for y := -g.Tail; y <= g.Tail; y++ {
				d := dist[c.a*x+c.b*y+bound]
				d.Add(d, new(big.Float).SetPrec(prec).Mul(pmf[x+g.Tail], pmf[y+g.Tail]))
			}
		}
		// The ideal pmf over [-far, far]; beyond it both are below 2^-1000.
		far := max(bound, int64(40*c.sigma)+1)
		total := new(big.Float).SetPrec(prec)
		rho := make([]*big.Float, far+1)
		for z := int64(0); z <= far; z++ {
			rho[z] = expExact(-z*z, c.sigma)
			w := new(big.Float).SetPrec(prec).Set(rho[z])
			if z > 0 {
				w.Mul(w, big.NewFloat(2))
			}
			total.Add(total, w)
		}
		tv := new(big.Float).SetPrec(prec)
		for z := -far; z <= far; z++ {
			d := new(big.Float).SetPrec(prec).Quo(rho[abs(z)], total)
			if z >= -bound && z <= bound {
				d.Sub(d, dist[z+bound])
			}
			tv.Add(tv, d.Abs(d))
		}
		tv.Quo(tv, big.NewFloat(2))
		exact, _ := tv.Float64()
		if exact > g.Distance {
			t.Errorf("sigma %v = %d x + %d y: exact distance %.3g above the claimed %.3g", c.sigma, c.a, c.b, exact, g.Distance)
		}
		t.Logf("sigma %v = %d x + %d y: table of %d entries, exact distance %.3g, claimed %.3g", c.sigma, c.a, c.b, len(g.CDF), exact, g.Distance)
	}
}

func abs(z int64) int64 {
	if z < 0 {
		return -z
	}
	return z
}

// expExact is exp(n / (2 sigma^2)) at 256 bits for n <= 0, by halving the
// exponent below 1/2 in size and squaring back: a path independent of the
// table's recurrence.
func expExact(n int64, sigma float64) *big.Float {
	s := new(big.Float).SetPrec(256).SetFloat64(sigma)
	x := new(big.Float).SetPrec(256).SetInt64(n)
	x.Quo(x, s)
	x.Quo(x, s)
	x.Quo(x, big.NewFloat(2))
	k := 0
	for x.Cmp(big.NewFloat(-0.5)) < 0 {
		x.Quo(x, big.NewFloat(2))
		k++
	}
	e := expBig(x)
	for range k {
		e.Mul(e, e)
	}
	return e
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
		b := p.Sample(mustWords(t, testKey(s), StreamSampling, p.MaxBatch+1))
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

// TestNoiseCoeffs: the choice between one table and a combination follows
// the circuit's cost, and NewNoise's sampler agrees with TableTail and
// NoiseBound, which a verifier checks params.json with.
func TestNoiseCoeffs(t *testing.T) {
	for _, c := range []struct {
		name    string
		sigma   float64
		samples int
		want    int
	}{
		{"breast cancer at 8 lattice bits", 15 * 256, 62, 2},
		{"digits at 10 lattice bits", 4.3 * 1024, 650, 2},
		{"an MLP of 44,530 parameters at 10 lattice bits", 4.3 * 1024, 44530, 1},
		{"a small table", 40, 62, 1},
		{"below smoothing", 2, 1, 1},
	} {
		coeffs := NoiseCoeffs(c.sigma, c.samples)
		if len(coeffs) != c.want {
			t.Errorf("%s: coefficients %v, want %d", c.name, coeffs, c.want)
		}
		g, err := NewNoise(c.sigma, c.samples)
		if err != nil {
			t.Fatal(err)
		}
		if g.Sigma != c.sigma || g.Tail != TableTail(c.sigma, coeffs) || g.Bound() != NoiseBound(g.Tail, coeffs) ||
			g.WordsPerSample() != len(coeffs) || int64(len(g.CDF)) != g.Tail+1 {
			t.Errorf("%s: sampler %v/%d/%v disagrees with TableTail %d", c.name, g.Sigma, g.Tail, g.Combination(), TableTail(c.sigma, coeffs))
		}
		t.Logf("%s: coefficients %v, table of %d entries, |z| <= %d, distance %.3g", c.name, g.Combination(), len(g.CDF), g.Bound(), g.Distance)
	}
	// Out-of-range scales (from an untrusted params.json) choose at once.
	for _, sigma := range []float64{math.Inf(1), math.NaN(), 1e300, 0} {
		if c := NoiseCoeffs(sigma, 1); len(c) != 1 {
			t.Errorf("sigma %v: coefficients %v", sigma, c)
		}
		if _, err := NewNoise(sigma, 1); !errors.Is(err, ErrSampler) {
			t.Errorf("sigma %v: got %v, want ErrSampler", sigma, err)
		}
	}
	for _, ab := range [][2]int64{{2, 4}, {0, 1}, {3, 3}} {
		if _, err := NewConvolvedGaussian(100, ab[0], ab[1]); !errors.Is(err, ErrSampler) {
			t.Errorf("coefficients %v: got %v, want ErrSampler", ab, err)
		}
	}
}

// TestConvolvedGaussianSamples: a*x + b*y of consecutive words, and its
// empirical variance.
func TestConvolvedGaussianSamples(t *testing.T) {
	g, err := NewConvolvedGaussian(300, 6, 7)
	if err != nil {
		t.Fatal(err)
	}
	words := mustWords(t, testKey(3), StreamNoise, 2*100000)
	z := g.SampleVector(words)
	if len(z) != len(words)/2 || z[5] != 6*g.Sample(words[10])+7*g.Sample(words[11]) {
		t.Fatal("noise sample i is 6 x_{2i} + 7 x_{2i+1}")
	}
	var sq float64
	for _, v := range z {
		sq += float64(v) * float64(v)
	}
	if v := sq / float64(len(z)); math.Abs(v/(300*300)-1) > 0.02 {
		t.Errorf("variance %v, want about %v", v, 300*300)
	}
}
