package dp

import "fmt"

// Search range of CalibrateNoise. Above maxCalibrationNoise the run would
// be useless (and at sigma = 1e4 one full-batch step already gives epsilon
// around 5e-4 at delta = 1e-5), so a target that needs more noise is reported
// as unreachable. Below minCalibrationNoise the accountants' numerics are
// unreliable; if even that little noise meets the target it is returned.
const (
	maxCalibrationNoise = 1e4
	minCalibrationNoise = 1e-2
	// calibrationRelTol is the relative width of the final bisection bracket.
	calibrationRelTol = 1e-4
)

// CalibrateNoise returns the smallest noise multiplier sigma (to a relative
// tolerance of 1e-4) such that steps steps of the Poisson-subsampled Gaussian
// mechanism with sampling rate q satisfy (targetEpsilon, delta)-DP under the
// chosen accountant. The returned sigma is always one whose epsilon was
// computed and found <= targetEpsilon; it never exceeds the target.
// The search covers [1e-2, 1e4]: it returns ErrUnreachableEpsilon if even
// sigma = 1e4 does not suffice, and 1e-2 if that little noise already does.
// Each step evaluates Epsilon, so PRV calibration costs ~20 PRV evaluations.
func CalibrateNoise(acc Accountant, q float64, steps int, delta, targetEpsilon float64) (float64, error) {
	if acc != AccountantRDP && acc != AccountantPRV {
		return 0, fmt.Errorf("accountant %q: %w", string(acc), ErrUnknownAccountant)
	}
	if err := acctValidateSamplingRate(q); err != nil {
		return 0, err
	}
	if err := acctValidateSteps(steps); err != nil {
		return 0, err
	}
	if err := acctValidateDelta(delta); err != nil {
		return 0, err
	}
	if err := acctValidateEpsilon(targetEpsilon); err != nil {
		return 0, err
	}

	epsilonOf := func(sigma float64) (float64, error) {
		g, err := Epsilon(acc, []Segment{{SamplingRate: q, NoiseMultiplier: sigma, Steps: steps}}, delta)
		return g.Epsilon, err
	}
	sigma, err := calibrateNoiseMultiplier(epsilonOf, targetEpsilon)
	if err != nil {
		return 0, fmt.Errorf("targetEpsilon=%v with q=%v, steps=%d, delta=%v: %w", targetEpsilon, q, steps, delta, err)
	}
	return sigma, nil
}

// calibrateNoiseMultiplier finds the smallest sigma in [minCalibrationNoise,
// maxCalibrationNoise] with epsilonOf(sigma) <= target, by doubling/halving
// from 1 and then bisection to calibrationRelTol.
func calibrateNoiseMultiplier(epsilonOf func(sigma float64) (float64, error), target float64) (float64, error) {
	// meets reports whether sigma certifiably meets the target. A numerical
	// failure counts as "does not meet": we only ever return a sigma whose
	// epsilon was actually computed.
	meets := func(sigma float64) bool {
		eps, err := epsilonOf(sigma)
		return err == nil && eps <= target
	}

	// Bracket: lo fails (or is the floor), hi meets the target.
	lo, hi := 0.0, 1.0
	if meets(hi) {
		for {
			next := hi / 2
			if next < minCalibrationNoise {
				if meets(minCalibrationNoise) {
					return minCalibrationNoise, nil
				}
				lo = minCalibrationNoise
				break
			}
			if !meets(next) {
				lo = next
				break
			}
			hi = next
		}
	} else {
		for {
			lo = hi
			hi *= 2
			if hi > maxCalibrationNoise {
				if !meets(maxCalibrationNoise) {
					return 0, fmt.Errorf("needs noise multiplier > %v: %w", float64(maxCalibrationNoise), ErrUnreachableEpsilon)
				}
				hi = maxCalibrationNoise
				break
			}
			if meets(hi) {
				break
			}
		}
	}

	for hi-lo > calibrationRelTol*hi {
		mid := lo + (hi-lo)/2
		if meets(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}
