package fixedpoint

import (
	"errors"
	"fmt"
	"math"
)

// ErrFormat is returned for an inconsistent Format or StepParams.
var ErrFormat = errors.New("fixedpoint: invalid format")

// Format fixes the representation and the declared bounds of every value.
// It is public and part of a run's params: the circuit is built from it.
type Format struct {
	FracBits       uint  `json:"frac_bits" mapstructure:"frac_bits"`                     // f: a real r is round(r * 2^f)
	InputBits      uint  `json:"input_bits" mapstructure:"input_bits"`                   // |x| < 2^input_bits (raw) for inputs; f+1 holds features in [-1, 1]
	WeightBits     uint  `json:"weight_bits" mapstructure:"weight_bits"`                 // |w| < 2^weight_bits (raw) for weights
	ActBits        uint  `json:"act_bits" mapstructure:"act_bits"`                       // |z| < 2^act_bits (raw) for pre-activations and activations
	ExpRange       int64 `json:"exp_range" mapstructure:"exp_range"`                     // exp (in softmax) is evaluated on [-exp_range, 0] (real units)
	ExpFracBits    uint  `json:"exp_frac_bits" mapstructure:"exp_frac_bits"`             // fractional bits of exp's two tables
	LatticeBits    uint  `json:"lattice_bits" mapstructure:"lattice_bits"`               // the clip norm C is 2^lattice_bits units of the noise lattice: the noise table grows with it
	DataFracBits   uint  `json:"data_frac_bits,omitempty" mapstructure:"data_frac_bits"` // features are rounded to multiples of 2^-data_frac_bits (0: frac_bits); the committed rows pack that many bits
	UpdateFracBits uint  `json:"update_frac_bits" mapstructure:"update_frac_bits"`       // extra fractional bits of the step size lr*C/(q N_pub)
}

// DefaultFormat is the format of the shipped configs.
func DefaultFormat() Format {
	return Format{
		FracBits:       16,
		InputBits:      17,
		WeightBits:     16 + 6,
		ActBits:        16 + 10,
		ExpRange:       16,
		ExpFracBits:    30,
		LatticeBits:    10,
		UpdateFracBits: 24,
	}
}

// Validate checks that the bounds fit int64 natively, fit the BN254 field
// with room to spare, and that exp's tables stay small.
func (f Format) Validate() error {
	var errs []error
	check := func(ok bool, field, msg string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%w: %s: %s", ErrFormat, field, fmt.Sprintf(msg, args...)))
		}
	}
	check(f.FracBits >= 4 && f.FracBits <= 24, "frac_bits", "must be in [4, 24], got %d", f.FracBits)
	check(f.InputBits >= f.FracBits && f.InputBits <= f.FracBits+4, "input_bits", "must be in [frac_bits, frac_bits+4], got %d", f.InputBits)
	check(f.WeightBits > f.FracBits && f.WeightBits <= f.FracBits+12, "weight_bits", "must be in (frac_bits, frac_bits+12], got %d", f.WeightBits)
	check(f.ActBits > f.FracBits && f.ActBits <= f.FracBits+14, "act_bits", "must be in (frac_bits, frac_bits+14], got %d", f.ActBits)
	check(f.ExpRange >= 1 && f.ExpRange <= 32, "exp_range", "must be in [1, 32], got %d", f.ExpRange)
	check(f.ExpFracBits >= f.FracBits && f.ExpFracBits <= 30, "exp_frac_bits", "must be in [frac_bits, 30] so that a product of two table entries fits 60 bits, got %d", f.ExpFracBits)
	check(f.DataFracBits <= f.FracBits, "data_frac_bits", "must be at most frac_bits (%d), got %d", f.FracBits, f.DataFracBits)
	check(f.LatticeBits >= 4 && f.LatticeBits <= 16, "lattice_bits", "must be in [4, 16], got %d", f.LatticeBits)
	check(f.UpdateFracBits >= 8 && f.UpdateFracBits <= 32, "update_frac_bits", "must be in [8, 32], got %d", f.UpdateFracBits)
	return errors.Join(errs...)
}

// DataBits is the features' precision: they are multiples of 2^-DataBits,
// FracBits unless DataFracBits says fewer. A feature of a few significant
// bits (digits' pixels are v/8 - 1) is committed and opened at that width,
// which makes a dataset commitment several times cheaper in a circuit.
func (f Format) DataBits() uint {
	if f.DataFracBits == 0 {
		return f.FracBits
	}
	return f.DataFracBits
}

// DataShift is FracBits - DataBits: a committed feature v is v * 2^DataShift
// raw units.
func (f Format) DataShift() uint { return f.FracBits - f.DataBits() }

// One is the fixed-point 1.0.
func (f Format) One() int64 { return 1 << f.FracBits }

// MaxFracBits bounds Quantize's fracBits: 2^62 still fits an int64 with room
// for the sign.
const MaxFracBits = 62

// twoTo63 is 2^63, the first float64 outside int64.
const twoTo63 = float64(1 << 63)

// Quantize is the one rule from reals to fixed point: x*2^fracBits rounded to
// the nearest integer, ties away from zero (so -0.5 ulp and +0.5 ulp round
// symmetrically). It fails on NaN, ±Inf (ErrDomain), fracBits > MaxFracBits
// (ErrFormat) and results outside int64 (ErrOverflow).
func Quantize(x float64, fracBits uint) (int64, error) {
	if fracBits > MaxFracBits {
		return 0, fmt.Errorf("%w: %d fractional bits > %d", ErrFormat, fracBits, MaxFracBits)
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%w: cannot quantize %v", ErrDomain, x)
	}
	// Scaling by a power of two is exact, so the only rounding is math.Round's.
	r := math.Round(math.Ldexp(x, int(fracBits)))
	if r < -twoTo63 || r >= twoTo63 {
		return 0, fmt.Errorf("%w: %v * 2^%d is outside int64", ErrOverflow, x, fracBits)
	}
	return int64(r), nil
}

// Quantize is Quantize at the format's fractional bits, checked against |q| < 2^bits.
func (f Format) Quantize(x float64, bits uint) (int64, error) {
	r, err := Quantize(x, f.FracBits)
	if err != nil {
		return 0, err
	}
	if r <= -(1<<bits) || r >= 1<<bits {
		return 0, fmt.Errorf("%w: %v needs more than %d bits at %d fractional bits", ErrOverflow, x, bits, f.FracBits)
	}
	return r, nil
}

// Float is the real number a raw value stands for.
func (f Format) Float(v int64) float64 { return math.Ldexp(float64(v), -int(f.FracBits)) }

// LatticeUnits is the clip norm in gradient-lattice units, C_l = 2^LatticeBits.
func (f Format) LatticeUnits() int64 { return 1 << f.LatticeBits }
