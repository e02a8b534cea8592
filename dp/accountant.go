package dp

// Privacy accounting for zkdp's DP-SGD runs.
//
// Every training step of a zkdp run is one Poisson-subsampled Gaussian
// mechanism: each example joins the batch independently with probability q
// (the sampling rate), per-example gradients are clipped to norm C, summed,
// and noise of scale sigma*C is added, where sigma is the noise multiplier.
// This file holds the public entry points; rdp.go and prv.go hold the two
// accountants and calibrate.go the inverse problem (sigma from a target
// epsilon).
//
// Neighbouring datasets differ by adding or removing one record
// (AdjacencyAddRemove): the bounds below are for Poisson subsampling under
// that relation. A run therefore publishes only a public bound N_pub on its
// rows, never the real count, and its dataset is padded to N_pub with rows
// that never contribute, so the sampler over N_pub slots is a Poisson(q)
// sample of the real rows and nothing public depends on their number.
//
// How the run's implementation details enter (epsilon, delta):
//
//   - Discrete noise. zkdp's noise is a discrete Gaussian on the gradient
//     lattice with scale sigma*C in lattice units (the clipped, quantised
//     gradient of one example is an integer-lattice vector of norm at most C).
//     By Canonne, Kamath and Steinke (2020), "The Discrete Gaussian for
//     Differential Privacy", the Rényi divergence between a discrete Gaussian
//     and its shift by an integer-lattice vector is at most that of the
//     continuous Gaussian with the same scale and shift. We therefore apply
//     the continuous subsampled-Gaussian bounds of this package to the
//     discrete mechanism. This is a modelling assumption: the subsampled
//     bounds (RDP and PRV alike) are derived for the continuous Gaussian
//     mixture, and we assume the discrete mechanism's subsampled privacy
//     loss is dominated by the continuous one with the same scale.
//   - Sampler precision. The noise sampler is table based; its finite table
//     precision and its tail cut make its output distribution differ from
//     the ideal discrete Gaussian. Summed over all draws of the whole run this
//     gives a total-variation distance eta between the real run and the ideal
//     run the accountant analyses.
//   - Batch padding. Batches are padded to a public maximum size so that the
//     proof shape does not leak the batch size; a Poisson batch larger than
//     the maximum is cut. The probability that any step's Poisson batch
//     exceeds the maximum, summed over steps (union bound), is another
//     total-variation distance eta'.
//   - An (epsilon, delta)-DP mechanism that is within total variation tv of
//     the real one makes the real one (epsilon, delta + (1+e^epsilon)*tv)-DP
//     (couple both neighbouring runs with their ideal counterparts). The
//     run's final guarantee is therefore
//     delta_final = delta_accountant + (1 + e^epsilon) * (eta + eta'),
//     see AdjustDelta.

import (
	"errors"
	"fmt"
	"math"
)

// Accountant names a privacy accounting method. Both accountants analyse the
// continuous Poisson-subsampled Gaussian; the comment at the top of
// accountant.go explains how zkdp's discrete noise, sampler precision and
// batch padding enter the final (epsilon, delta) (see also AdjustDelta).
type Accountant string

const (
	// AccountantRDP is Rényi-DP accounting (Mironov 2017; Mironov, Talwar,
	// Zhang 2019) with the (epsilon, delta) conversion of Balle et al. 2020.
	// It is fast and a valid but slightly loose upper bound.
	AccountantRDP Accountant = "rdp"
	// AccountantPRV is numerical composition of privacy random variables
	// (Gopi, Lee, Wutschitz 2021). It reports the rigorous upper end of its
	// error interval and is usually tighter than RDP.
	AccountantPRV Accountant = "prv"
)

// Sentinel errors. Functions wrap them with the offending field and value;
// test with errors.Is.
var (
	// ErrInvalidSamplingRate: the sampling rate q is not in (0, 1].
	ErrInvalidSamplingRate = errors.New("dp: sampling rate must be in (0, 1]")
	// ErrInvalidNoiseMultiplier: sigma is not a finite number > 0.
	ErrInvalidNoiseMultiplier = errors.New("dp: noise multiplier must be finite and > 0")
	// ErrInvalidDelta: delta is not in (0, 1).
	ErrInvalidDelta = errors.New("dp: delta must be in (0, 1)")
	// ErrInvalidSteps: a step count is < 1, or no segment was given.
	ErrInvalidSteps = errors.New("dp: steps must be >= 1")
	// ErrInvalidEpsilon: a target epsilon is not a finite number > 0.
	ErrInvalidEpsilon = errors.New("dp: epsilon must be finite and > 0")
	// ErrUnknownAccountant: the Accountant value is not rdp or prv.
	ErrUnknownAccountant = errors.New("dp: unknown accountant")
	// ErrUnreachableEpsilon: no noise multiplier up to the calibration bound
	// reaches the target epsilon.
	ErrUnreachableEpsilon = errors.New("dp: target epsilon unreachable")
	// ErrNumerical: an accountant could not produce a trustworthy bound
	// (e.g. the PRV discretisation would need too many points).
	ErrNumerical = errors.New("dp: numerical accounting failure")
)

// Segment is a run of Steps training steps with a fixed sampling rate and
// noise multiplier. A training schedule is a list of segments.
type Segment struct {
	SamplingRate    float64 // Poisson sampling probability q in (0, 1]
	NoiseMultiplier float64 // sigma: noise std divided by the clipping norm
	Steps           int     // number of steps, >= 1
}

// Guarantee is an (Epsilon, Delta)-DP statement produced by an accountant.
type Guarantee struct {
	Epsilon    float64
	Delta      float64
	Accountant Accountant
	// Order is the optimal Rényi order for AccountantRDP, 0 for PRV.
	Order float64
}

// Epsilon returns the smallest epsilon the chosen accountant can certify at
// the given delta for the composition of all segments (in any order; the
// composition is commutative). PRV uses Opacus's error parameters
// (eps_error 0.01, delta_error delta/1000) and returns the upper end of its
// error interval. RDP returns +Inf (and Order 0) if no order on the default
// grid gives a finite bound. Invalid inputs give the package's sentinel
// errors; a PRV discretisation that cannot be carried out gives ErrNumerical.
func Epsilon(acc Accountant, segments []Segment, delta float64) (Guarantee, error) {
	if err := acctValidateSegments(segments); err != nil {
		return Guarantee{}, err
	}
	if err := acctValidateDelta(delta); err != nil {
		return Guarantee{}, err
	}
	switch acc {
	case AccountantRDP:
		eps, order := rdpEpsilon(segments, delta, DefaultOrders(), fracSeriesAbsolute)
		return Guarantee{Epsilon: eps, Delta: delta, Accountant: acc, Order: order}, nil
	case AccountantPRV:
		eps, err := prvEpsilon(segments, delta, defaultEpsError, delta*defaultDeltaErrorFraction)
		if err != nil {
			return Guarantee{}, err
		}
		return Guarantee{Epsilon: eps, Delta: delta, Accountant: acc}, nil
	default:
		return Guarantee{}, fmt.Errorf("accountant %q: %w", string(acc), ErrUnknownAccountant)
	}
}

// EpsilonCurve returns epsilon after each step 1..seg.Steps of a single
// segment (element t-1 is the guarantee after t steps), e.g. to plot a
// training curve.
//
// RDP evaluates every step exactly (RDP per order is computed once and
// scaled). PRV composes on one shared discretisation sized for the last step
// and evaluates at most prvCurvePoints evenly spaced step counts (always
// including the last); a step between two evaluated counts reports the value
// of the next evaluated count, which is an upper bound because epsilon never
// decreases with more steps.
func EpsilonCurve(acc Accountant, seg Segment, delta float64) ([]float64, error) {
	if err := acctValidateSegments([]Segment{seg}); err != nil {
		return nil, err
	}
	if err := acctValidateDelta(delta); err != nil {
		return nil, err
	}
	switch acc {
	case AccountantRDP:
		return rdpEpsilonCurve(seg, delta, DefaultOrders()), nil
	case AccountantPRV:
		return prvEpsilonCurve(seg, delta, defaultEpsError, delta*defaultDeltaErrorFraction)
	default:
		return nil, fmt.Errorf("accountant %q: %w", string(acc), ErrUnknownAccountant)
	}
}

// AdjustDelta returns the delta of a mechanism that is within total-variation
// distance tvDistance of an (epsilon, delta)-DP mechanism:
// delta + (1 + e^epsilon) * tvDistance. zkdp uses it with
// tvDistance = eta + eta' (sampler imprecision plus batch-padding cut, both
// summed over the run); see the comment at the top of this file.
func AdjustDelta(epsilon, delta, tvDistance float64) float64 {
	return delta + (1+math.Exp(epsilon))*tvDistance
}

func acctValidateSegments(segments []Segment) error {
	if len(segments) == 0 {
		return fmt.Errorf("segments: none given: %w", ErrInvalidSteps)
	}
	for i, s := range segments {
		if err := acctValidateSegment(s); err != nil {
			return fmt.Errorf("segment %d: %w", i, err)
		}
	}
	return nil
}

func acctValidateSegment(s Segment) error {
	if err := acctValidateSamplingRate(s.SamplingRate); err != nil {
		return err
	}
	if err := acctValidateNoiseMultiplier(s.NoiseMultiplier); err != nil {
		return err
	}
	return acctValidateSteps(s.Steps)
}

func acctValidateSamplingRate(q float64) error {
	if !(q > 0 && q <= 1) { // also rejects NaN
		return fmt.Errorf("SamplingRate=%v: %w", q, ErrInvalidSamplingRate)
	}
	return nil
}

func acctValidateNoiseMultiplier(sigma float64) error {
	if !(sigma > 0) || math.IsInf(sigma, 1) {
		return fmt.Errorf("NoiseMultiplier=%v: %w", sigma, ErrInvalidNoiseMultiplier)
	}
	return nil
}

func acctValidateSteps(steps int) error {
	if steps < 1 {
		return fmt.Errorf("Steps=%d: %w", steps, ErrInvalidSteps)
	}
	return nil
}

func acctValidateDelta(delta float64) error {
	if !(delta > 0 && delta < 1) {
		return fmt.Errorf("delta=%v: %w", delta, ErrInvalidDelta)
	}
	return nil
}

func acctValidateEpsilon(eps float64) error {
	if !(eps > 0) || math.IsInf(eps, 1) {
		return fmt.Errorf("epsilon=%v: %w", eps, ErrInvalidEpsilon)
	}
	return nil
}
