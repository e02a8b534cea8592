package dp

import (
	"errors"
	"fmt"
)

// ErrPrivacy is returned when a run's privacy budget cannot be met.
var ErrPrivacy = errors.New("dp: privacy budget cannot be met")

// ErrSamplerShare says the samplers' distance from the ideal mechanism needs
// a larger part of delta than the run reserved.
var ErrSamplerShare = errors.New("dp: the samplers' distance exceeds the part of delta reserved for it")

// AdjacencyAddRemove names the neighbouring relation every zkdp guarantee
// holds for. The accountant's Poisson-subsampled Gaussian bound is for
// datasets that differ by adding or removing one record; the run publishes
// only a public bound N_pub on the rows (data.max_rows), and the committed
// dataset is padded to it with rows that never contribute, so a neighbouring
// dataset turns one padding row real, or one real row padding, and nothing
// public reveals the real count.
const AdjacencyAddRemove = "add/remove one record (row count hidden behind the public bound N_pub)"

// Mechanism is the public description of a run's privacy mechanism: all that
// epsilon, delta and the samplers' tables depend on.
type Mechanism struct {
	Rows, Params    int // N_pub, the public row bound the sampler runs over, and the number of noised parameters
	SamplingRate    float64
	NoiseMultiplier float64
	Steps, MaxBatch int
	Delta           float64 // the configured delta; the claimed delta never exceeds it
	DeltaAccountant float64 // the part of Delta the accountant runs at; the rest covers the samplers
	Accountant      string
	LatticeBits     uint // the clip norm is 2^LatticeBits noise-lattice units
}

// RunPrivacy is a run's guarantee and where its delta comes from.
type RunPrivacy struct {
	Epsilon         float64 `json:"epsilon"`
	Delta           float64 `json:"delta"`            // claimed: accountant + sampler terms, at most the configured delta
	DeltaAccountant float64 `json:"delta_accountant"` // what the accountant was run at
	DeltaSampler    float64 `json:"delta_sampler"`    // (1+e^eps) * TV distance of tables, tail cut and padding
	SamplerDistance float64 `json:"sampler_tv_distance"`
	Order           float64 `json:"rdp_order,omitempty"`
	Accountant      string  `json:"accountant"`
	Calibrated      bool    `json:"noise_calibrated"`
	Adjacency       string  `json:"adjacency"` // the neighbouring datasets (epsilon, delta) holds for: AdjacencyAddRemove
}

// ExpectedBatch is the mean batch size qN, which the step size divides by.
func (m Mechanism) ExpectedBatch() float64 { return m.SamplingRate * float64(m.Rows) }

// NoiseScale is the noise table's scale in lattice units.
func (m Mechanism) NoiseScale() float64 { return NoiseScale(m.NoiseMultiplier, m.LatticeBits) }

// Guarantee recomputes the guarantee from public parameters only: the
// accountant runs at DeltaAccountant, and the samplers' total-variation
// distance from the ideal mechanism (noise table precision and tail cut,
// Poisson table precision, padding overflow) is added as (1+e^eps)*tv.
func (m Mechanism) Guarantee() (RunPrivacy, error) {
	_, _, g, err := m.Build()
	return g, err
}

// Samplers rebuilds the run's public tables: the Poisson gap table and the
// discrete-Gaussian noise table, which the step circuit embeds.
func (m Mechanism) Samplers() (*PoissonSampler, *DiscreteGaussian, error) {
	s, n, _, err := m.Build()
	return s, n, err
}

// Build makes the samplers and the guarantee. When the samplers need more of
// delta than reserved, it returns the guarantee it computed together with an
// error wrapping ErrSamplerShare, so the caller can reserve more.
func (m Mechanism) Build() (*PoissonSampler, *DiscreteGaussian, RunPrivacy, error) {
	g, err := Epsilon(Accountant(m.Accountant), []Segment{{SamplingRate: m.SamplingRate, NoiseMultiplier: m.NoiseMultiplier, Steps: m.Steps}}, m.DeltaAccountant)
	if err != nil {
		return nil, nil, RunPrivacy{}, fmt.Errorf("accountant: %w", err)
	}
	sampler, err := NewPoissonSampler(m.Rows, m.SamplingRate, m.MaxBatch)
	if err != nil {
		return nil, nil, RunPrivacy{}, err
	}
	noise, err := NewNoise(m.NoiseScale(), m.Params)
	if err != nil {
		return nil, nil, RunPrivacy{}, fmt.Errorf("noise multiplier %v with %d lattice bits: %w", m.NoiseMultiplier, m.LatticeBits, err)
	}
	tv := m.samplerDistance(sampler, noise)
	total := AdjustDelta(g.Epsilon, m.DeltaAccountant, tv)
	priv := RunPrivacy{
		Epsilon: g.Epsilon, Delta: total, DeltaAccountant: m.DeltaAccountant, DeltaSampler: total - m.DeltaAccountant,
		SamplerDistance: tv, Order: g.Order, Accountant: m.Accountant, Adjacency: AdjacencyAddRemove,
	}
	if total > m.Delta {
		return sampler, noise, priv, fmt.Errorf("%w: %w: distance %.3g makes delta %.3g exceed %.3g", ErrPrivacy, ErrSamplerShare, tv, total, m.Delta)
	}
	return sampler, noise, priv, nil
}

// samplerDistance is the total-variation distance of the run's samplers
// from the ideal mechanism, summed over its steps: the noise table's
// precision and tail cut per parameter, the Poisson table's per draw, and
// the chance that a batch overflows its padding.
func (m Mechanism) samplerDistance(sampler *PoissonSampler, noise *DiscreteGaussian) float64 {
	return float64(m.Steps) * (float64(m.Params)*noise.Distance +
		float64(m.MaxBatch+1)*sampler.TableDistance() +
		BinomialTail(m.Rows, m.SamplingRate, m.MaxBatch))
}

// Compose is the guarantee for a record that every mechanism of ms saw
// (runs that share rows, e.g. a model fine-tuned again on the records it
// was trained on): the accountant of ms[0] composes all their steps at
// ms[0].DeltaAccountant, and the composed run is within the sum of their
// samplers' distances of the ideal composition (AdjustDelta). The claimed
// delta may exceed each run's configured delta; it is what the composition
// gives, reported as is.
func Compose(ms []Mechanism) (RunPrivacy, error) {
	if len(ms) == 0 {
		return RunPrivacy{}, fmt.Errorf("compose: %w", ErrInvalidSteps)
	}
	segments := make([]Segment, len(ms))
	tv := 0.0
	for i, m := range ms {
		segments[i] = Segment{SamplingRate: m.SamplingRate, NoiseMultiplier: m.NoiseMultiplier, Steps: m.Steps}
		sampler, noise, err := m.Samplers()
		if err != nil && !errors.Is(err, ErrSamplerShare) {
			return RunPrivacy{}, fmt.Errorf("compose: mechanism %d: %w", i, err)
		}
		tv += m.samplerDistance(sampler, noise)
	}
	first := ms[0]
	g, err := Epsilon(Accountant(first.Accountant), segments, first.DeltaAccountant)
	if err != nil {
		return RunPrivacy{}, fmt.Errorf("compose: accountant: %w", err)
	}
	total := AdjustDelta(g.Epsilon, first.DeltaAccountant, tv)
	return RunPrivacy{Epsilon: g.Epsilon, Delta: total, DeltaAccountant: first.DeltaAccountant, DeltaSampler: total - first.DeltaAccountant,
		SamplerDistance: tv, Order: g.Order, Accountant: first.Accountant, Adjacency: AdjacencyAddRemove}, nil
}
