package dp

const (
	defaultEpsError           = 0.01
	defaultDeltaErrorFraction = 1e-3
	prvCurvePoints            = 64
)

func prvEpsilon(segments []Segment, delta, epsError, deltaError float64) (float64, error) {
	return 0, ErrNumerical
}

func prvEpsilonCurve(seg Segment, delta, epsError, deltaError float64) ([]float64, error) {
	return nil, ErrNumerical
}
