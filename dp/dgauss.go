package dp

import (
	"fmt"
	"math"
	"math/big"
	"sort"
)

// DiscreteGaussian samples the discrete Gaussian N_Z(0, sigma^2) restricted to
// [-Tail, Tail] by inverse CDF of its absolute value and a sign bit. The
// distribution is symmetric, so the table holds only |z|: a word u splits
// into its top bit s and the 63-bit rest v, |z| is the least k with
// v < CDF[k], where CDF[k] = floor(2^63 * P(|Z| <= k)) and the last entry is
// exactly 2^63, and z = -|z| if s = 1, else |z|. At |z| = 0 both signs give
// z = 0, so the table gives 0 its own mass rho(0)/S and every k > 0 the mass
// 2 rho(k)/S of the pair +-k, and each sign bit halves it: P(z) = rho(z)/S
// for every z, as the full table of 2*Tail+1 entries did, with half the
// entries (the step circuit embeds the table at one constraint per entry).
// A circuit checks |z| with two lookups: CDF[|z|-1] <= v < CDF[|z|].
type DiscreteGaussian struct {
	Sigma float64
	Tail  int64
	CDF   []uint64 // Tail+1 entries, CDF[Tail] = 2^63
	// Distance bounds the total-variation distance of one sample from the
	// exact (untruncated) discrete Gaussian: tail mass plus table rounding.
	Distance float64
}

// SignBit is the bit of a word that gives a sample's sign; the bits below
// it index the table of |z|.
const SignBit = 63

// TailSigmas is where the table is cut, in standard deviations.
const TailSigmas = 14

// MaxNoiseTail bounds a noise table's tail: the table has tail+1 entries,
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
	// The exponent -1/(2 sigma^2) at 256 bits: computed in float64 it would
	// be the exponent of a scale sigma' within 2^-52 of sigma, a distribution
	// some 1e-16 away, which no distance term would cover.
	bs := new(big.Float).SetPrec(tablePrec).SetFloat64(sigma) // exact
	x := new(big.Float).SetPrec(tablePrec).Mul(bs, bs)
	x.Mul(x, big.NewFloat(-2))
	x.Quo(big.NewFloat(1).SetPrec(tablePrec), x)
	e1 := expBig(x)
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

	// CDF[k] = floor(2^63 * (rho(0) + 2 sum_{j=1..k} rho(j)) / total).
	scale := new(big.Float).SetPrec(tablePrec).SetMantExp(big.NewFloat(1).SetPrec(tablePrec), SignBit)
	scale.Quo(scale, total)
	cdf := make([]uint64, tail+1)
	acc := new(big.Float).SetPrec(tablePrec)
	two := big.NewFloat(2).SetPrec(tablePrec)
	for k := range cdf {
		if k == 0 {
			acc.Add(acc, rho[0])
		} else {
			acc.Add(acc, new(big.Float).SetPrec(tablePrec).Mul(two, rho[k]))
		}
		v := new(big.Float).SetPrec(tablePrec).Mul(acc, scale)
		u, _ := v.Uint64() // truncation is floor for non-negative values
		cdf[k] = u
	}
	cdf[tail] = 1 << SignBit

	// Tail mass of the exact distribution beyond +-tail, bounded by the
	// Gaussian integral: 2 * sum_{z>tail} rho(z) / Z <= 2 * sigma*sqrt(pi/2) * erfc((tail)/(sigma sqrt2)) / Z.
	z, _ := total.Float64()
	tailMass := 2 * sigma * math.Sqrt(math.Pi/2) * math.Erfc(float64(tail)/(sigma*math.Sqrt2)) / z
	// Each flooring moves a probability of |z| by less than 2^-63, and the
	// total variation is half the sum of those moves over the len(cdf)
	// outcomes: below len*2^-64. The sign bit is exact and z is a function
	// of (|z|, sign), so z's distance is at most |z|'s. We claim len*2^-63,
	// a margin for the 256-bit sums (as the full table of 2*tail+1 entries
	// at 2^-64 did: the same bound up to one entry).
	rounding := float64(len(cdf)) * math.Ldexp(1, -SignBit)
	return &DiscreteGaussian{Sigma: sigma, Tail: tail, CDF: cdf, Distance: tailMass + rounding}, nil
}

// Sample maps a word to a sample.
func (g *DiscreteGaussian) Sample(u uint64) int64 {
	negative, v := u>>SignBit == 1, u&(1<<SignBit-1)
	k := int64(g.Abs(v))
	if negative {
		return -k
	}
	return k
}

// Abs is |z| for the 63-bit rest v of a word: the least k with v < CDF[k],
// the last entry read as 2^63 whatever it holds.
func (g *DiscreteGaussian) Abs(v uint64) int {
	return sort.Search(len(g.CDF)-1, func(k int) bool { return v < g.CDF[k] })
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
func expBig(x *big.Float) *big.Float {
	bx := new(big.Float).SetPrec(tablePrec).Set(x)
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
