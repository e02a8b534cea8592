package dp

import (
	"fmt"
	"math"
	"math/big"
	"sort"
)

// DiscreteGaussian samples the discrete Gaussian N_Z(0, sigma^2) restricted to
// [-Tail, Tail] by inverse CDF: a word u gives the least z with u < CDF[z+Tail],
// where CDF[i] = floor(2^64 * P(Z <= i - Tail)) and the last entry stands for
// 2^64 (it is stored as MaxUint64 and sampling treats it as the end). A circuit
// checks z with two lookups: CDF[z+Tail-1] <= u < CDF[z+Tail].
type DiscreteGaussian struct {
	Sigma float64
	Tail  int64
	CDF   []uint64
	// Distance bounds the total-variation distance of one sample from the
	// exact (untruncated) discrete Gaussian: tail mass plus table rounding.
	Distance float64
}

// TailSigmas is where the table is cut, in standard deviations.
const TailSigmas = 14

// MaxNoiseTail bounds a noise table's tail: the table has 2*tail+1 entries,
// each built with 256-bit floats, and the step circuit embeds it. 2^21 is
// far above any configured run (noise multiplier 5 at the default 10 lattice
// bits cuts at 71,680) and keeps a table built from an untrusted params.json
// to seconds and tens of MB.
const MaxNoiseTail = 1 << 21

// NoiseScale is the discrete Gaussian's scale in lattice units for noise
// multiplier sigma when the clip norm is 2^latticeBits lattice units.
func NoiseScale(multiplier float64, latticeBits uint) float64 {
	return multiplier * float64(uint64(1)<<latticeBits)
}

// CheckNoiseScale checks that a table of scale sigma can be built: sigma >= 1
// and a tail of at most MaxNoiseTail.
func CheckNoiseScale(sigma float64) error {
	if !(sigma >= 1) || !(TailSigmas*sigma <= MaxNoiseTail) {
		return fmt.Errorf("%w: discrete Gaussian scale %v must be in [1, %v] (a table cut at most at %d)",
			ErrSampler, sigma, float64(MaxNoiseTail)/TailSigmas, MaxNoiseTail)
	}
	return nil
}

// NoiseTail is where the table of scale sigma is cut: ceil(TailSigmas*sigma).
func NoiseTail(sigma float64) int64 { return int64(math.Ceil(TailSigmas * sigma)) }

// NoiseBits is the number of bits that hold any sample of a table cut at
// tail: |z| <= tail < 2^NoiseBits.
func NoiseBits(tail int64) uint {
	b := uint(0)
	for int64(1)<<b <= tail {
		b++
	}
	return b
}

const tablePrec = 256

// NewDiscreteGaussian builds the table for scale sigma (lattice units).
func NewDiscreteGaussian(sigma float64) (*DiscreteGaussian, error) {
	if err := CheckNoiseScale(sigma); err != nil {
		return nil, err
	}
	tail := NoiseTail(sigma)
	// Unnormalized masses rho(z) = exp(-z^2/(2 sigma^2)) for z = 0..tail, by
	// the recurrence rho(z+1) = rho(z) * r(z), r(z+1) = r(z) * e1^2, r(0) = e1,
	// with e1 = exp(-1/(2 sigma^2)); 256-bit floats keep rounding far below 2^-64.
	e1 := expBig(-1 / (2 * sigma * sigma))
	e2 := new(big.Float).SetPrec(tablePrec).Mul(e1, e1)
	rho := make([]*big.Float, tail+1)
	rho[0] = new(big.Float).SetPrec(tablePrec).SetInt64(1)
	r := new(big.Float).SetPrec(tablePrec).Set(e1)
	for z := int64(1); z <= tail; z++ {
		rho[z] = new(big.Float).SetPrec(tablePrec).Mul(rho[z-1], r)
		r.Mul(r, e2)
	}
	total := new(big.Float).SetPrec(tablePrec)
	for z := tail; z >= 1; z-- {
		total.Add(total, rho[z])
	}
	total.Mul(total, big.NewFloat(2).SetPrec(tablePrec))
	total.Add(total, rho[0])

	scale := new(big.Float).SetPrec(tablePrec).SetMantExp(big.NewFloat(1).SetPrec(tablePrec), 64)
	scale.Quo(scale, total)
	cdf := make([]uint64, 2*tail+1)
	acc := new(big.Float).SetPrec(tablePrec)
	for i := range cdf {
		z := int64(i) - tail
		if z < 0 {
			z = -z
		}
		acc.Add(acc, rho[z])
		v := new(big.Float).SetPrec(tablePrec).Mul(acc, scale)
		u, _ := v.Uint64() // truncation is floor for non-negative values
		cdf[i] = u
	}
	cdf[len(cdf)-1] = math.MaxUint64

	// Tail mass of the exact distribution beyond +-tail, bounded by the
	// Gaussian integral: 2 * sum_{z>tail} rho(z) / Z <= 2 * sigma*sqrt(pi/2) * erfc((tail)/(sigma sqrt2)) / Z.
	z, _ := total.Float64()
	tailMass := 2 * sigma * math.Sqrt(math.Pi/2) * math.Erfc(float64(tail)/(sigma*math.Sqrt2)) / z
	// Each flooring moves a probability by less than 2^-64, and the total
	// variation is half the sum of those moves over the len(cdf) outcomes:
	// below len*2^-65. We claim len*2^-64, a margin for the 256-bit sums.
	rounding := float64(len(cdf)) * math.Ldexp(1, -64)
	return &DiscreteGaussian{Sigma: sigma, Tail: tail, CDF: cdf, Distance: tailMass + rounding}, nil
}

// Sample maps a word to a sample.
func (g *DiscreteGaussian) Sample(u uint64) int64 {
	i := sort.Search(len(g.CDF), func(i int) bool { return u < g.CDF[i] })
	if i == len(g.CDF) { // u == MaxUint64 reads as the last entry
		i = len(g.CDF) - 1
	}
	return int64(i) - g.Tail
}

// SampleVector draws n samples from n words.
func (g *DiscreteGaussian) SampleVector(words []uint64) []int64 {
	out := make([]int64, len(words))
	for i, u := range words {
		out[i] = g.Sample(u)
	}
	return out
}

// Bits is the number of bits that hold any sample: |z| < 2^Bits.
func (g *DiscreteGaussian) Bits() uint { return NoiseBits(g.Tail) }

// expBig is exp(x) for |x| <= 1/2 by its Taylor series at tablePrec bits.
func expBig(x float64) *big.Float {
	bx := new(big.Float).SetPrec(tablePrec).SetFloat64(x)
	sum := new(big.Float).SetPrec(tablePrec).SetInt64(1)
	term := new(big.Float).SetPrec(tablePrec).SetInt64(1)
	eps := new(big.Float).SetPrec(tablePrec).SetMantExp(big.NewFloat(1), -tablePrec)
	for n := int64(1); n < 200; n++ {
		term.Mul(term, bx)
		term.Quo(term, new(big.Float).SetPrec(tablePrec).SetInt64(n))
		sum.Add(sum, term)
		if new(big.Float).Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	return sum
}
