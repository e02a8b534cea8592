package dp

// PRV accountant: numerical composition of privacy loss random variables
// (Gopi, Lee, Wutschitz 2021, "Numerical Composition of Differential
// Privacy"), following Opacus's PRVAccountant (opacus/accountants/prv.py and
// opacus/accountants/analysis/prv/): the privacy loss of one step is
// truncated to a domain [-L, L] chosen from RDP tail bounds, discretised on a
// mesh fine enough for the requested epsilon error, mean-corrected, composed
// by FFT (all segments multiply in one spectrum), and epsilon is read off the
// composed distribution with its error bounds. We report the upper bound
// eps(delta - deltaError) + epsError, as Opacus's get_epsilon does.
//
// Differences from Opacus, none of which loosens the bound: the grid length
// is rounded up to an even 5-smooth number (a slightly larger domain) so the
// FFT stays fast; heterogeneous segments are composed circularly in the same
// spectrum rather than by linear convolution (the wrapped mass is bounded by
// the same tail analysis as the self-compositions); tail probabilities are
// differenced from the survival function to avoid cancellation; and the
// continuous mean is integrated to ~1e-13 rather than scipy's default 1.5e-8.

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

const (
	// defaultEpsError and defaultDeltaErrorFraction are Opacus's defaults:
	// eps_error = 0.01 and delta_error = delta/1000.
	defaultEpsError           = 0.01
	defaultDeltaErrorFraction = 1e-3
	// prvCurvePoints bounds the number of step counts EpsilonCurve composes
	// explicitly for the PRV accountant.
	prvCurvePoints = 64
	// maxPRVDomainSize caps the discretisation; it needs about 40 bytes per
	// point (2^26 points: ~2.7 GB). Larger requests fail with ErrNumerical.
	maxPRVDomainSize = 1 << 26
)

// subsampledGaussianPRV is the privacy loss random variable of one
// Poisson-subsampled Gaussian step, with the CDF of Gopi et al. (2021),
// Propositions B1 and B4 (as Opacus's PoissonSubsampledGaussianPRV).
type subsampledGaussianPRV struct {
	q, sigma float64
}

// cdfSurvival returns F(t) = P(Y <= t) and S(t) = P(Y > t), each computed
// without subtracting from 1 so both tails keep full relative precision.
func (p subsampledGaussianPRV) cdfSurvival(t float64) (float64, float64) {
	if p.q < 1 && t <= math.Log1p(-p.q) {
		return 0, 1
	}
	z := math.Log1p(math.Expm1(t) / p.q)
	s2 := p.sigma * p.sigma
	den := 2 * math.Sqrt2 * p.sigma
	a := (2*z*s2 - 1) / den
	b := (2*z*s2 + 1) / den
	cdf := p.q/2*math.Erfc(-a) + (1-p.q)/2*math.Erfc(-b)
	sf := p.q/2*math.Erfc(a) + (1-p.q)/2*math.Erfc(b)
	return cdf, sf
}

// prvDomain is the grid t_k = (k - zeroIndex) * dt, k = 0..size-1.
type prvDomain struct {
	dt        float64
	zeroIndex int
	size      int
}

func (d prvDomain) t(k int) float64 { return float64(k-d.zeroIndex) * d.dt }

// newPRVDomain builds the discretisation for the given segments (Gopi et al.
// Remark 5.6 and Opacus's compute_safe_domain_size and _get_domain): L is the
// larger of the RDP epsilon of the whole composition at deltaError/4 and of
// any single step at deltaError/(8 * total steps), plus 3; the mesh is
// epsError / sqrt(totalSteps * log(12/deltaError) / 2).
func newPRVDomain(segments []Segment, epsError, deltaError float64) (prvDomain, error) {
	total := 0
	for _, s := range segments {
		total += s.Steps
	}
	orders := DefaultOrders()
	lMax, _ := rdpEpsilon(segments, deltaError/4, orders, fracSeriesAbsolute)
	for _, s := range segments {
		one := []Segment{{SamplingRate: s.SamplingRate, NoiseMultiplier: s.NoiseMultiplier, Steps: 1}}
		e, _ := rdpEpsilon(one, deltaError/(8*float64(total)), orders, fracSeriesAbsolute)
		lMax = math.Max(lMax, e)
	}
	l := math.Max(lMax, epsError) + 3
	dt := epsError / math.Sqrt(float64(total)*math.Log(12/deltaError)/2)

	halfPoints := math.Ceil(l / dt)
	if math.IsInf(l, 0) || math.IsNaN(l) || 2*halfPoints+2 > maxPRVDomainSize {
		return prvDomain{}, fmt.Errorf("PRV domain [-%.4g, %.4g] with mesh %.3g needs more than %d points: %w",
			l, l, dt, maxPRVDomainSize, ErrNumerical)
	}
	k := int(halfPoints)
	// An even, 5-smooth length >= 2k+2 keeps t_max = (size-1-k)*dt >= L.
	return prvDomain{dt: dt, zeroIndex: k, size: nextEven5Smooth(2*k + 2)}, nil
}

// nextEven5Smooth returns the smallest even n' >= n whose prime factors are
// 2, 3 and 5 and that gonum's FFT (FFTPACK) can plan: FFTPACK factors into
// 4s, a 2, 3s and 5s and holds at most 13 factors.
func nextEven5Smooth(n int) int {
	for ; ; n++ {
		if n%2 != 0 {
			continue
		}
		m, factors := n, 0
		for _, f := range []int{4, 2, 3, 5} {
			for m%f == 0 {
				m /= f
				factors++
			}
		}
		if m == 1 && factors <= 13 {
			return n
		}
	}
}

// discretise returns the pmf of the PRV truncated to the domain and
// discretised to its grid (mass of [t_k - dt/2, t_k + dt/2) at t_k), and the
// shift to add to the grid so that the discrete mean equals the continuous
// mean of the truncated PRV (Opacus's discretize).
func (p subsampledGaussianPRV) discretise(d prvDomain) ([]float64, float64, error) {
	tMin, tMax := d.t(0), d.t(d.size-1)
	// Cut points x_0 = tMin, x_k = t_k - dt/2 (k = 1..size-1), x_size = tMax.
	cut := func(k int) float64 {
		switch k {
		case 0:
			return tMin
		case d.size:
			return tMax
		}
		return d.t(k) - d.dt/2
	}
	cdfMin, sfMin := p.cdfSurvival(tMin)
	cdfMax, sfMax := p.cdfSurvival(tMax)
	mass := cdfMax - cdfMin // retained probability F(tMax) - F(tMin)
	if sfMin < 0.5 {
		mass = sfMin - sfMax
	}
	pmf := make([]float64, d.size)
	var discreteMean acctNeumaierSum
	cdfLo, sfLo := cdfMin, sfMin
	for k := range pmf {
		cdfHi, sfHi := p.cdfSurvival(cut(k + 1))
		if d.t(k) <= 0 {
			pmf[k] = (cdfHi - cdfLo) / mass
		} else {
			pmf[k] = (sfLo - sfHi) / mass
		}
		discreteMean.add(d.t(k) * pmf[k])
		cdfLo, sfLo = cdfHi, sfHi
	}
	shift := p.truncatedMean(tMin, tMax, cdfMin, sfMax, mass) - discreteMean.value()
	if math.Abs(shift) >= d.dt/2 {
		return nil, 0, fmt.Errorf("PRV(q=%v, sigma=%v): discrete mean differs from continuous mean by %.3g >= dt/2: %w",
			p.q, p.sigma, shift, ErrNumerical)
	}
	return pmf, shift, nil
}

// truncatedMean is E[Y | tMin <= Y < tMax], integrated by parts:
// -int_{tMin}^{0} Ftr(t) dt + int_{0}^{tMax} (1 - Ftr(t)) dt with
// Ftr = (F - F(tMin))/mass and 1 - Ftr = (S - S(tMax))/mass.
func (p subsampledGaussianPRV) truncatedMean(tMin, tMax, cdfMin, sfMax, mass float64) float64 {
	lower := func(t float64) float64 { c, _ := p.cdfSurvival(t); return (c - cdfMin) / mass }
	upper := func(t float64) float64 { _, s := p.cdfSurvival(t); return (s - sfMax) / mass }
	// Breakpoints where the integrand bends (Opacus uses +-logspace(-5,-1));
	// log(1-q) is where the support starts.
	neg := []float64{tMin}
	if kink := math.Log1p(-p.q); p.q < 1 && kink > tMin {
		neg = append(neg, kink)
	}
	for _, b := range []float64{-0.1, -0.01, -1e-3, -1e-4, -1e-5} {
		if b > neg[len(neg)-1] {
			neg = append(neg, b)
		}
	}
	neg = append(neg, 0)
	pos := []float64{0, 1e-5, 1e-4, 1e-3, 0.01, 0.1, tMax}
	var mean acctNeumaierSum
	for i := 0; i+1 < len(neg); i++ {
		mean.add(-acctIntegrateAdaptive(lower, neg[i], neg[i+1]))
	}
	for i := 0; i+1 < len(pos); i++ {
		mean.add(acctIntegrateAdaptive(upper, pos[i], pos[i+1]))
	}
	return mean.value()
}

// polarSpectrum is a spectrum in polar form (log modulus, argument), so that
// raising it to the n-th power is one exp and one sincos per bin.
type polarSpectrum struct{ logAbs, arg []float64 }

func prvToPolar(spec []complex128) polarSpectrum {
	p := polarSpectrum{logAbs: make([]float64, len(spec)), arg: make([]float64, len(spec))}
	for j, c := range spec {
		p.logAbs[j] = math.Log(math.Hypot(real(c), imag(c)))
		p.arg[j] = math.Atan2(imag(c), real(c))
	}
	return p
}

// composePRVs composes the discretised PRVs of all segments (each repeated
// steps[i] times) by multiplying their spectra, and returns the composed pmf
// on the grid t_k + totalShift.
func composePRVs(fft *fourier.FFT, d prvDomain, spectra []polarSpectrum, shifts []float64, steps []int) ([]float64, float64) {
	n := len(spectra[0].arg)
	logAbs := make([]float64, n)
	arg := make([]float64, n)
	totalSteps, totalShift := 0, 0.0
	for i, spec := range spectra {
		power := float64(steps[i])
		for j := range logAbs {
			logAbs[j] += power * spec.logAbs[j]
			arg[j] += power * spec.arg[j]
		}
		totalSteps += steps[i]
		totalShift += power * shifts[i]
	}
	prod := make([]complex128, n)
	for j := range prod {
		sin, cos := math.Sincos(math.Mod(arg[j], 2*math.Pi))
		r := math.Exp(logAbs[j])
		prod[j] = complex(r*cos, r*sin)
	}
	circular := fft.Sequence(nil, prod)
	// A sum of totalSteps grid values with indices i_1..i_m lies at
	// (sum i - totalSteps*zeroIndex)*dt, i.e. at composed index
	// sum i - (totalSteps-1)*zeroIndex; the circular result holds it at
	// (sum i) mod size, so rotate by -(totalSteps-1)*zeroIndex.
	size := d.size
	roll := int((-(int64(totalSteps-1)*int64(d.zeroIndex))%int64(size) + int64(size)) % int64(size))
	pmf := make([]float64, size)
	inv := 1 / float64(size)
	for j, v := range circular {
		pmf[(j+roll)%size] = v * inv
	}
	return pmf, totalShift
}

// epsilonForDelta returns the smallest epsilon with delta(epsilon) <=
// targetDelta for the discrete PRV pmf on grid t_k + shift, where
// delta(eps) = sum_{t_j > eps} p_j (1 - e^{eps - t_j}) (Opacus's
// DiscretePRV.compute_epsilon, scanned from the top so that e^{-t} is never
// formed and cannot overflow).
func epsilonForDelta(d prvDomain, pmf []float64, shift, targetDelta float64) (float64, error) {
	decay := math.Exp(-d.dt)
	// tail = sum_{j>=i} p_j, weighted = sum_{j>=i} p_j e^{t_i - t_j}.
	var tail, weighted float64
	for i := d.size - 1; i >= 0; i-- {
		prevTail, prevWeighted := tail, weighted
		tail += pmf[i]
		weighted = pmf[i] + decay*weighted
		if tail-weighted > targetDelta { // delta(t_i) > target: answer in (t_i, t_{i+1}]
			if i == d.size-1 {
				return 0, fmt.Errorf("PRV: delta %.3g not reached within the domain: %w", targetDelta, ErrNumerical)
			}
			tNext := d.t(i+1) + shift
			return tNext + math.Log((prevTail-targetDelta)/prevWeighted), nil
		}
	}
	return 0, fmt.Errorf("PRV: delta %.3g reached below the domain: %w", targetDelta, ErrNumerical)
}

// prvSetup discretises every segment on a common domain sized for
// segments, returning the FFT plan, the domain, spectra and mean shifts.
func prvSetup(segments []Segment, delta, epsError, deltaError float64) (*fourier.FFT, prvDomain, []polarSpectrum, []float64, error) {
	d, err := newPRVDomain(segments, epsError, deltaError)
	if err != nil {
		return nil, prvDomain{}, nil, nil, err
	}
	if eps64 := 0x1p-52; eps64*float64(d.size) > delta-deltaError {
		return nil, prvDomain{}, nil, nil, fmt.Errorf("delta=%v too small for a %d-point PRV domain (rounding would dominate): %w", delta, d.size, ErrNumerical)
	}
	fft := fourier.NewFFT(d.size)
	spectra := make([]polarSpectrum, len(segments))
	shifts := make([]float64, len(segments))
	for i, s := range segments {
		pmf, shift, err := subsampledGaussianPRV{q: s.SamplingRate, sigma: s.NoiseMultiplier}.discretise(d)
		if err != nil {
			return nil, prvDomain{}, nil, nil, fmt.Errorf("segment %d: %w", i, err)
		}
		spectra[i] = prvToPolar(fft.Coefficients(nil, pmf))
		shifts[i] = shift
	}
	return fft, d, spectra, shifts, nil
}

// prvEpsilon is the PRV accountant's upper bound on epsilon. Inputs must be
// validated by the caller.
func prvEpsilon(segments []Segment, delta, epsError, deltaError float64) (float64, error) {
	fft, d, spectra, shifts, err := prvSetup(segments, delta, epsError, deltaError)
	if err != nil {
		return 0, err
	}
	steps := make([]int, len(segments))
	for i, s := range segments {
		steps[i] = s.Steps
	}
	pmf, shift := composePRVs(fft, d, spectra, shifts, steps)
	eps, err := epsilonForDelta(d, pmf, shift, delta-deltaError)
	if err != nil {
		return 0, err
	}
	return math.Max(eps, 0) + epsError, nil
}

// prvEpsilonCurve composes on one domain sized for seg.Steps (valid for
// fewer steps too: the tail bound only grows with steps and the mesh is
// finer than fewer steps need) at up to prvCurvePoints step counts and fills
// the other steps with the next evaluated value (epsilon is nondecreasing in
// steps, so that is an upper bound).
func prvEpsilonCurve(seg Segment, delta, epsError, deltaError float64) ([]float64, error) {
	fft, d, spectra, shifts, err := prvSetup([]Segment{seg}, delta, epsError, deltaError)
	if err != nil {
		return nil, err
	}
	curve := make([]float64, seg.Steps)
	points := min(seg.Steps, prvCurvePoints)
	last := 0
	for p := 1; p <= points; p++ {
		steps := int(math.Ceil(float64(p) * float64(seg.Steps) / float64(points)))
		if steps <= last {
			continue
		}
		pmf, shift := composePRVs(fft, d, spectra, shifts, []int{steps})
		eps, err := epsilonForDelta(d, pmf, shift, delta-deltaError)
		if err != nil {
			return nil, fmt.Errorf("after %d steps: %w", steps, err)
		}
		eps = math.Max(eps, 0) + epsError
		for t := last; t < steps; t++ {
			curve[t] = eps
		}
		last = steps
	}
	return curve, nil
}

// acctNeumaierSum is compensated summation.
type acctNeumaierSum struct{ sum, comp float64 }

func (s *acctNeumaierSum) add(x float64) {
	t := s.sum + x
	if math.Abs(s.sum) >= math.Abs(x) {
		s.comp += (s.sum - t) + x
	} else {
		s.comp += (x - t) + s.sum
	}
	s.sum = t
}

func (s *acctNeumaierSum) value() float64 { return s.sum + s.comp }

// Gauss–Kronrod 7/15 nodes and weights on [-1, 1].
var (
	acctGk15Nodes = [8]float64{
		0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
		0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
		0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
		0.207784955007898467600689403773245, 0,
	}
	acctGk15Weights = [8]float64{
		0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
		0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
		0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
		0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
	}
	acctG7Weights = [4]float64{ // at Kronrod nodes 1, 3, 5, 7
		0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
		0.381830050505118944950369775488975, 0.417959183673469387755102040816327,
	}
)

func acctGk15(f func(float64) float64, a, b float64) (float64, float64) {
	c, h := (a+b)/2, (b-a)/2
	fc := f(c)
	kron, gauss := fc*acctGk15Weights[7], fc*acctG7Weights[3]
	for i := 0; i < 7; i++ {
		x := h * acctGk15Nodes[i]
		s := f(c-x) + f(c+x)
		kron += acctGk15Weights[i] * s
		if i%2 == 1 {
			gauss += acctG7Weights[i/2] * s
		}
	}
	return kron * h, math.Abs((kron - gauss) * h)
}

// acctIntegrateAdaptive integrates f over [a, b] by adaptive bisection with
// Gauss–Kronrod 7/15 to an absolute error of about 1e-15 (or 1e-13
// relative), with a bounded number of subdivisions.
func acctIntegrateAdaptive(f func(float64) float64, a, b float64) float64 {
	type interval struct{ a, b float64 }
	const absTol, relTol, maxIntervals = 1e-15, 1e-13, 4000
	var total acctNeumaierSum
	stack := []interval{{a, b}}
	for n := 0; len(stack) > 0; n++ {
		iv := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		val, errEst := acctGk15(f, iv.a, iv.b)
		if errEst <= math.Max(absTol*(iv.b-iv.a)/(b-a), relTol*math.Abs(val)) || n > maxIntervals || iv.b-iv.a < 1e-12*(b-a) {
			total.add(val)
			continue
		}
		mid := (iv.a + iv.b) / 2
		stack = append(stack, interval{iv.a, mid}, interval{mid, iv.b})
	}
	return total.value()
}
