package dp

// Rényi-DP accountant for the Poisson-subsampled Gaussian mechanism.
//
// One step with sampling rate q and noise multiplier sigma has, at order
// alpha, RDP  eps(alpha) = log(A_alpha) / (alpha - 1)  with
//
//	A_alpha = E_{z ~ N(0, sigma^2)} [ ((1-q) + q * exp((2z-1)/(2 sigma^2)))^alpha ]
//
// (Mironov, Talwar, Zhang 2019, "Rényi Differential Privacy of the Sampled
// Gaussian Mechanism"). RDP composes additively over steps, and the
// (epsilon, delta) conversion is the improved one of Balle et al. 2020,
// "Hypothesis Testing Interpretations and Renyi Differential Privacy",
// Theorem 21 (as Opacus get_privacy_spent and dp_accounting compute_epsilon).
// All sums are done in log space so that large orders and tiny q neither
// overflow nor lose precision.

import "math"

// fracSeriesVariant selects how the series for fractional orders is summed.
type fracSeriesVariant int

const (
	// fracSeriesAbsolute sums the absolute values of the series terms, as
	// Google's dp_accounting does since 2024. This is the variant zkdp uses:
	// every term is added, so there is no catastrophic cancellation in log
	// space, and since |sum| <= sum of |terms| the result is an upper bound
	// on A_alpha, i.e. the reported RDP can only be conservative. The price
	// is a slightly looser bound at fractional orders (the integer-order
	// computation is exact either way, and the optimiser picks whichever
	// order gives the smallest epsilon).
	fracSeriesAbsolute fracSeriesVariant = iota
	// fracSeriesSigned sums the terms with their signs, as Opacus and the
	// original TF Privacy rdp_accountant do; it converges to A_alpha itself.
	// zkdp only uses it to reproduce reference values published by those
	// libraries.
	fracSeriesSigned
)

// maxFracSeriesTerms bounds the fractional-order series; an order whose
// series has not converged by then is excluded (RDP +Inf), as dp_accounting.
const maxFracSeriesTerms = 1000

// minConversionOrder: the Balle et al. conversion is numerically unstable as
// alpha -> 1 (and useless there), so smaller orders are skipped, as in
// dp_accounting.
const minConversionOrder = 1.01

// DefaultOrders returns Opacus's default Rényi orders: 1.1 to 10.9 in steps
// of 0.1, then the integers 12 to 63. A fresh slice is returned each call.
func DefaultOrders() []float64 {
	orders := make([]float64, 0, 99+52)
	for x := 1; x < 100; x++ {
		orders = append(orders, 1+float64(x)/10) // same rounding as Python's 1 + x / 10.0
	}
	for a := 12; a < 64; a++ {
		orders = append(orders, float64(a))
	}
	return orders
}

// rdpPerStep returns the RDP of one subsampled-Gaussian step at each order.
func rdpPerStep(q, sigma float64, orders []float64, variant fracSeriesVariant) []float64 {
	out := make([]float64, len(orders))
	for k, alpha := range orders {
		out[k] = rdpOneOrder(q, sigma, alpha, variant)
	}
	return out
}

func rdpOneOrder(q, sigma, alpha float64, variant fracSeriesVariant) float64 {
	switch {
	case math.IsInf(alpha, 1):
		return math.Inf(1)
	case q == 1: // no subsampling: plain Gaussian mechanism
		return alpha / (2 * sigma * sigma)
	case alpha == math.Trunc(alpha):
		return logAInteger(q, sigma, int(alpha)) / (alpha - 1)
	default:
		return logAFractional(q, sigma, alpha, variant) / (alpha - 1)
	}
}

// logAInteger computes log(A_alpha) for integer alpha >= 2 and 0 < q < 1 by
// the binomial expansion
//
//	A_alpha = sum_{i=0}^{alpha} C(alpha, i) q^i (1-q)^(alpha-i) exp((i^2 - i) / (2 sigma^2)),
//
// every term positive, summed with logsumexp.
func logAInteger(q, sigma float64, alpha int) float64 {
	logQ, log1mQ := math.Log(q), math.Log1p(-q)
	a := float64(alpha)
	terms := make([]float64, alpha+1)
	for i := 0; i <= alpha; i++ {
		fi := float64(i)
		logCoef, _ := acctLogBinomial(a, fi)
		terms[i] = logCoef + fi*logQ + (a-fi)*log1mQ + (fi*fi-fi)/(2*sigma*sigma)
	}
	return acctLogSumExp(terms)
}

// logAFractional computes log(A_alpha) for fractional alpha and 0 < q < 1 by
// the two series of Mironov, Talwar, Zhang (2019), Section 3.3, which split
// the integral at z0 = sigma^2 log(1/q - 1) + 1/2:
//
//	A_alpha = sum_i C(alpha,i) q^i (1-q)^(alpha-i) e^((i^2-i)/(2 sigma^2)) erfc((i-z0)/(sqrt2 sigma))/2
//	        + sum_i C(alpha,i) q^(alpha-i) (1-q)^i e^((j^2-j)/(2 sigma^2)) erfc((z0-j)/(sqrt2 sigma))/2,
//
// with j = alpha - i. C(alpha, i) changes sign for i > alpha + 1; see
// fracSeriesVariant for how signs are treated.
func logAFractional(q, sigma, alpha float64, variant fracSeriesVariant) float64 {
	logQ, log1mQ := math.Log(q), math.Log1p(-q)
	z0 := sigma*sigma*math.Log(1/q-1) + 0.5
	sqrt2Sigma := math.Sqrt2 * sigma
	twoSigma2 := 2 * sigma * sigma

	var sum0, sum1 acctSignedLog // the two series, initialised to 0
	sum0.logMag, sum1.logMag = math.Inf(-1), math.Inf(-1)
	lastS0, lastS1 := math.Inf(-1), math.Inf(-1)
	for i := 0; i < maxFracSeriesTerms; i++ {
		fi := float64(i)
		j := alpha - fi
		logCoef, positive := acctLogBinomial(alpha, fi)
		logT0 := logCoef + fi*logQ + j*log1mQ
		logT1 := logCoef + j*logQ + fi*log1mQ
		logE0 := math.Log(0.5) + acctLogErfc((fi-z0)/sqrt2Sigma)
		logE1 := math.Log(0.5) + acctLogErfc((z0-j)/sqrt2Sigma)
		logS0 := logT0 + (fi*fi-fi)/twoSigma2 + logE0
		logS1 := logT1 + (j*j-j)/twoSigma2 + logE1

		if variant == fracSeriesSigned && !positive {
			sum0 = sum0.sub(logS0)
			sum1 = sum1.sub(logS1)
		} else {
			sum0 = sum0.add(logS0)
			sum1 = sum1.add(logS1)
		}

		switch variant {
		case fracSeriesSigned:
			// Opacus / TF Privacy stopping rule: both terms below e^-30.
			if math.Max(logS0, logS1) < -30 {
				total := sum0.addSigned(sum1)
				if !total.positive {
					return math.Inf(1) // cancellation destroyed the value; exclude order
				}
				return total.logMag
			}
		default:
			// dp_accounting stopping rule: both terms decreasing and
			// negligible (e^-30) relative to the running total.
			total := acctLogAddExp(sum0.logMag, sum1.logMag)
			if logS0 < lastS0 && logS1 < lastS1 && math.Max(logS0, logS1) < total-30 {
				return total
			}
		}
		lastS0, lastS1 = logS0, logS1
	}
	return math.Inf(1)
}

// acctSignedLog is sign * exp(logMag).
type acctSignedLog struct {
	positive bool
	logMag   float64
}

func (s acctSignedLog) add(logY float64) acctSignedLog {
	return s.addSigned(acctSignedLog{positive: true, logMag: logY})
}

func (s acctSignedLog) sub(logY float64) acctSignedLog {
	return s.addSigned(acctSignedLog{positive: false, logMag: logY})
}

func (s acctSignedLog) addSigned(o acctSignedLog) acctSignedLog {
	if math.IsInf(s.logMag, -1) {
		return o
	}
	if math.IsInf(o.logMag, -1) {
		return s
	}
	if s.positive == o.positive {
		return acctSignedLog{positive: s.positive, logMag: acctLogAddExp(s.logMag, o.logMag)}
	}
	// Opposite signs: the larger magnitude wins.
	big, small := s, o
	if small.logMag > big.logMag {
		big, small = small, big
	}
	if big.logMag == small.logMag {
		return acctSignedLog{positive: true, logMag: math.Inf(-1)}
	}
	return acctSignedLog{positive: big.positive, logMag: big.logMag + math.Log1p(-math.Exp(small.logMag-big.logMag))}
}

// acctLogBinomial returns log|C(n, k)| and whether C(n, k) is positive, for real
// n >= 0 and integer-valued k >= 0.
func acctLogBinomial(n, k float64) (float64, bool) {
	a, _ := math.Lgamma(n + 1)
	b, _ := math.Lgamma(k + 1)
	c, sign := math.Lgamma(n - k + 1)
	if n-k+1 <= 0 && n-k+1 == math.Trunc(n-k+1) {
		// Integer n with k > n: Gamma has a pole, the coefficient is 0.
		return math.Inf(-1), true
	}
	return a - b - c, sign > 0
}

func acctLogAddExp(x, y float64) float64 {
	if x < y {
		x, y = y, x
	}
	if math.IsInf(y, -1) {
		return x
	}
	return x + math.Log1p(math.Exp(y-x))
}

func acctLogSumExp(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, x := range xs {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// acctLogErfc returns log(erfc(x)) accurately also where erfc underflows.
func acctLogErfc(x float64) float64 {
	if x < 25 {
		return math.Log(math.Erfc(x))
	}
	// Asymptotic expansion erfc(x) ~ e^{-x^2}/(x sqrt(pi)) (1 - 1/(2x^2) + 3/(4x^4) - ...);
	// for x >= 25 the truncation error is below 1e-12 relative.
	x2 := x * x
	inv := 1 / x2
	series := 1 - inv/2 + 3*inv*inv/4 - 15*inv*inv*inv/8 + 105*inv*inv*inv*inv/16
	return -x2 - math.Log(x) - 0.5*math.Log(math.Pi) + math.Log(series)
}

// rdpConversionOffset returns c(alpha) such that epsilon = rdp + c(alpha) in
// the Balle et al. 2020 conversion:
// epsilon = rdp + log((alpha-1)/alpha) - (log(delta) + log(alpha)) / (alpha-1).
func rdpConversionOffset(alpha, delta float64) float64 {
	return math.Log1p(-1/alpha) - math.Log(delta*alpha)/(alpha-1)
}

// epsilonFromRDP converts total RDP values to (epsilon, delta)-DP: the
// minimum over orders of the Balle et al. bound, clamped at 0, and the order
// that attains it (the first one on ties). Orders with infinite or NaN RDP
// are skipped; if none is usable epsilon is +Inf and the order 0.
func epsilonFromRDP(orders, rdp []float64, delta float64) (float64, float64) {
	best, bestOrder := math.Inf(1), 0.0
	for k, alpha := range orders {
		r := rdp[k]
		if alpha <= minConversionOrder || math.IsNaN(r) || math.IsInf(r, 1) {
			continue
		}
		if eps := r + rdpConversionOffset(alpha, delta); eps < best {
			best, bestOrder = eps, alpha
		}
	}
	return math.Max(best, 0), bestOrder
}

// rdpTotal returns the composed RDP of all segments at each order.
func rdpTotal(segments []Segment, orders []float64, variant fracSeriesVariant) []float64 {
	total := make([]float64, len(orders))
	for _, s := range segments {
		per := rdpPerStep(s.SamplingRate, s.NoiseMultiplier, orders, variant)
		for k := range total {
			total[k] += float64(s.Steps) * per[k]
		}
	}
	return total
}

// rdpEpsilon is the RDP accountant on an explicit order grid. Inputs must be
// validated by the caller.
func rdpEpsilon(segments []Segment, delta float64, orders []float64, variant fracSeriesVariant) (float64, float64) {
	return epsilonFromRDP(orders, rdpTotal(segments, orders, variant), delta)
}

// rdpEpsilonCurve returns epsilon after 1..seg.Steps steps. The per-step RDP
// and the conversion offset are computed once per order, so each step costs
// one multiply-add per order.
func rdpEpsilonCurve(seg Segment, delta float64, orders []float64) []float64 {
	per := rdpPerStep(seg.SamplingRate, seg.NoiseMultiplier, orders, fracSeriesAbsolute)
	type usable struct{ rdp, offset float64 }
	var us []usable
	for k, alpha := range orders {
		if alpha <= minConversionOrder || math.IsNaN(per[k]) || math.IsInf(per[k], 1) {
			continue
		}
		us = append(us, usable{per[k], rdpConversionOffset(alpha, delta)})
	}
	curve := make([]float64, seg.Steps)
	for t := range curve {
		steps := float64(t + 1)
		best := math.Inf(1)
		for _, u := range us {
			best = math.Min(best, steps*u.rdp+u.offset)
		}
		curve[t] = math.Max(best, 0)
	}
	return curve
}
