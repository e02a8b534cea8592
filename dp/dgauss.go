package dp

import (
	"fmt"
	"math"
	"math/big"
	"sort"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/fixedpoint"
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
	// Coeffs, when set, make each noise sample the combination
	// sum_j Coeffs[j] * x_j of the table samples x_j of consecutive words
	// (NewConvolvedGaussian); unset, a noise sample is one table sample.
	Coeffs []int64
	// Distance bounds the total-variation distance of one noise sample from
	// the exact (untruncated) discrete Gaussian of scale Sigma: tail mass,
	// table rounding and, for a combination, its distance from the ideal.
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

// NewDiscreteGaussian builds the table for scale sigma (lattice units): one
// word per noise sample.
func NewDiscreteGaussian(sigma float64) (*DiscreteGaussian, error) {
	if err := CheckNoiseScale(sigma); err != nil {
		return nil, err
	}
	return newTable(sigma, 1), nil
}

// newTable builds the table of scale sigma/sqrt(n2) (n2 >= 1), its
// exponent -n2/(2 sigma^2) exact at 256 bits.
func newTable(full float64, n2 int64) *DiscreteGaussian {
	sigma := baseScale(full, n2) // for the cut and the tail bound only
	tail := NoiseTail(sigma)
	// Unnormalized masses rho(z) = exp(-z^2/(2 sigma^2)) for z = 0..tail, by
	// the recurrence rho(z+1) = rho(z) * r(z), r(z+1) = r(z) * e1^2, r(0) = e1,
	// with e1 = exp(-1/(2 sigma^2)); 256-bit floats keep rounding far below 2^-64.
	// The exponent -n2/(2 full^2) at 256 bits: computed in float64 it would
	// be the exponent of a scale sigma' within 2^-52 of sigma, a distribution
	// some 1e-16 away, which no distance term would cover.
	bs := new(big.Float).SetPrec(tablePrec).SetFloat64(full) // exact
	x := new(big.Float).SetPrec(tablePrec).Mul(bs, bs)
	x.Mul(x, big.NewFloat(-2))
	x.Quo(new(big.Float).SetPrec(tablePrec).SetInt64(n2), x)
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
	return &DiscreteGaussian{Sigma: sigma, Tail: tail, CDF: cdf, Distance: tailMass + rounding}
}

// Sample maps a word to a table sample.
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

// Combination is the coefficients of a noise sample's table samples: Coeffs,
// or [1] when unset.
func (g *DiscreteGaussian) Combination() []int64 {
	if len(g.Coeffs) == 0 {
		return []int64{1}
	}
	return g.Coeffs
}

// WordsPerSample is how many PRF words one noise sample takes.
func (g *DiscreteGaussian) WordsPerSample() int { return len(g.Combination()) }

// SampleVector draws len(words)/WordsPerSample noise samples: sample i is
// sum_j c_j * Sample(words[i*W+j]). len(words) must be a multiple of W.
func (g *DiscreteGaussian) SampleVector(words []uint64) []int64 {
	c := g.Combination()
	out := make([]int64, len(words)/len(c))
	for i := range out {
		for j, cj := range c {
			out[i] += cj * g.Sample(words[i*len(c)+j])
		}
	}
	return out
}

// Noise draws the n noise samples of a step from its PRF key: the words of
// StreamNoise, WordsPerSample per sample.
func (g *DiscreteGaussian) Noise(key fr.Element, n int) ([]int64, error) {
	words, err := Words(key, StreamNoise, n*g.WordsPerSample())
	if err != nil {
		return nil, err
	}
	return g.SampleVector(words), nil
}

// Bound bounds every noise sample: |z| <= Bound.
func (g *DiscreteGaussian) Bound() int64 {
	b := int64(0)
	for _, c := range g.Combination() {
		b += c * g.Tail
	}
	return b
}

// Bits is the number of bits that hold any noise sample: |z| < 2^Bits.
func (g *DiscreteGaussian) Bits() uint { return NoiseBits(g.Bound()) }

// Costs of the step circuit's noise (R1CS constraints, measured in
// circuits/sampling TestConstraintCounts), which NoiseCoeffs weighs: the
// table is one constraint per entry, paid once per proof; a PRF word (45 to
// a width-16 permutation, its bound left to the sampler) and a table sample
// are about 16 and 23, paid per word.
const (
	costPerWord = 16 + 23
	// smoothingRatio is the least sigma_0/sqrt(a^2+b^2) of a combination:
	// its distance from the ideal is then below 2 e^{-2 pi^2 1.6^2} ~ 2e-22
	// (NewConvolvedGaussian), far below a table's rounding.
	smoothingRatio = 1.6
)

// NoiseCoeffs chooses how the noise of scale sigma is drawn when each
// proof draws `samples` noise samples: one word per sample from one table
// of 14 sigma entries ([1]), or two words per sample combined as a*x + b*y
// from a table of scale sigma/sqrt(a^2+b^2) ([a, b], a and b = a+1
// coprime, as large as the smoothing ratio allows), whichever costs the
// circuit less: a smaller table against one more word per sample. It
// depends on public parameters only, so a verifier recomputes it.
func NoiseCoeffs(sigma float64, samples int) []int64 {
	if CheckNoiseScale(sigma) != nil {
		return []int64{1} // no table at all; NewDiscreteGaussian says why
	}
	a := int64(0)
	for m := int64(1); sigma/float64(2*m*m+2*m+1) >= smoothingRatio; m++ {
		a = m
	}
	if a == 0 {
		return []int64{1}
	}
	saved := NoiseTail(sigma) - TableTail(sigma, []int64{a, a + 1})
	if saved <= int64(samples)*costPerWord {
		return []int64{1}
	}
	return []int64{a, a + 1}
}

// NewNoise builds the noise sampler of scale sigma for `samples` noise
// samples per proof, as NoiseCoeffs chooses.
func NewNoise(sigma float64, samples int) (*DiscreteGaussian, error) {
	c := NoiseCoeffs(sigma, samples)
	if len(c) == 1 {
		return NewDiscreteGaussian(sigma)
	}
	return NewConvolvedGaussian(sigma, c[0], c[1])
}

// NewConvolvedGaussian builds the sampler z = a*x + b*y of scale sigma from
// two table samples x, y of scale sigma_0 = sigma/N, N^2 = a^2 + b^2, for
// coprime a, b >= 1. For exact x, y ~ D_{Z,sigma_0}, the pairs with
// a*x + b*y = n are p_n + t(b, -a), t in Z (a, b coprime), and
// |(x, y)|^2 = n^2/N^2 + (c_n + tN)^2 with c_n the offset of p_n along
// (b, -a)/N; so P(z = n) is rho_sigma(n) times theta_n = sum_t
// rho_{sigma_0}(c_n + tN), which Poisson summation writes as
// (sigma_0 sqrt(2 pi)/N) (1 + d_n) with |d_n| <= e' = 2 sum_{k>=1}
// exp(-2 pi^2 k^2 sigma_0^2/N^2). After normalizing, P(z=n)/D_sigma(n) is
// within [(1-e')/(1+e'), (1+e')/(1-e')], and the total variation is at most
// e'/(1-e'). The tables' samples are each within the table's Distance of
// exact ones, so a noise sample is within 2 Distance + e'/(1-e') of
// D_{Z,sigma}.
func NewConvolvedGaussian(sigma float64, a, b int64) (*DiscreteGaussian, error) {
	if err := CheckNoiseScale(sigma); err != nil {
		return nil, err
	}
	if a < 1 || b < 1 || a > 1<<20 || b > 1<<20 || gcd(a, b) != 1 {
		return nil, fmt.Errorf("%w: combination %d, %d: want coprime coefficients in [1, 2^20]", ErrSampler, a, b)
	}
	n2 := a*a + b*b
	g := newTable(sigma, n2)
	if !(g.Sigma >= 1) {
		return nil, fmt.Errorf("%w: combination %d, %d leaves a table of scale %v below 1", ErrSampler, a, b, g.Sigma)
	}
	// e' <= 2 e^-alpha / (1 - e^-3alpha) with alpha = 2 pi^2 sigma_0^2/N^2,
	// since k^2 >= 1 + 3(k-1); claimed twice over, a margin for float64.
	alpha := 2 * math.Pi * math.Pi * g.Sigma * g.Sigma / float64(n2)
	e := 2 * math.Exp(-alpha) / -math.Expm1(-3*alpha)
	if !(e < 0.5) {
		return nil, fmt.Errorf("%w: combination %d, %d of a table of scale %v is not smooth", ErrSampler, a, b, g.Sigma)
	}
	g.Distance = 2*g.Distance + 2*e/(1-e)
	g.Sigma, g.Coeffs = sigma, []int64{a, b}
	return g, nil
}

// baseScale is the scale of the table that combinations with
// sum of squared coefficients n2 draw from.
func baseScale(sigma float64, n2 int64) float64 { return sigma / math.Sqrt(float64(n2)) }

// TableTail is the tail of the table that noise of scale sigma drawn with
// coefficients coeffs (NoiseCoeffs) uses: the Tail of NewNoise's sampler.
func TableTail(sigma float64, coeffs []int64) int64 {
	n2 := int64(0)
	for _, c := range coeffs {
		n2 += c * c
	}
	return NoiseTail(baseScale(sigma, n2))
}

// NoiseBound bounds the noise of a table cut at tail drawn with coeffs.
func NoiseBound(tail int64, coeffs []int64) int64 {
	return (&DiscreteGaussian{Tail: tail, Coeffs: coeffs}).Bound()
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// expBig is exp(x) for |x| <= 1/2 by its Taylor series at tablePrec bits
// (fixedpoint.ExpTaylor, which the exp tables use too).
func expBig(x *big.Float) *big.Float {
	return fixedpoint.ExpTaylor(new(big.Float).SetPrec(tablePrec).Set(x))
}
