package sampling

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/dp"
)

type poissonCircuit struct {
	Words     []frontend.Variable
	Gaps      []frontend.Variable `gnark:",public"`
	Positions []frontend.Variable `gnark:",public"`
	Padding   []frontend.Variable `gnark:",public"`
	Truncated frontend.Variable   `gnark:",public"`
	sampler   *dp.PoissonSampler
	noOut     bool // only run the gadget (hint tests): no output check
}

func newPoissonCircuit(s *dp.PoissonSampler) *poissonCircuit {
	return &poissonCircuit{
		Words:     make([]frontend.Variable, s.MaxBatch+1),
		Gaps:      make([]frontend.Variable, s.MaxBatch),
		Positions: make([]frontend.Variable, s.MaxBatch),
		Padding:   make([]frontend.Variable, s.MaxBatch),
		sampler:   s,
	}
}

func (c *poissonCircuit) Define(api frontend.API) error {
	p, err := NewPoisson(api, c.sampler.Thresholds, c.sampler.Rows, c.sampler.MaxBatch)
	if err != nil {
		return err
	}
	b, err := p.Sample(c.Words)
	if err != nil {
		return err
	}
	if c.noOut {
		return nil
	}
	for j := range c.Positions {
		api.AssertIsEqual(b.Gaps[j], c.Gaps[j])
		api.AssertIsEqual(b.Positions[j], c.Positions[j])
		api.AssertIsEqual(b.Padding[j], c.Padding[j])
	}
	api.AssertIsEqual(b.Truncated, c.Truncated)
	return nil
}

// poissonAssignment replays the slots natively and checks the replay against
// dp's Sample: the non-padding positions are the batch's indices.
func poissonAssignment(t *testing.T, s *dp.PoissonSampler, words []uint64) *poissonCircuit {
	t.Helper()
	a := newPoissonCircuit(s)
	var indices []int
	pos := -1
	truncated := false
	for j, u := range words {
		a.Words[j] = u
		g := s.Gap(u)
		pos += 1 + g
		if j == s.MaxBatch {
			truncated = pos < s.Rows
			break
		}
		pad := 0
		if pos >= s.Rows {
			pad = 1
		} else {
			indices = append(indices, pos)
		}
		a.Gaps[j], a.Positions[j], a.Padding[j] = g, pos, pad
	}
	a.Truncated = 0
	if truncated {
		a.Truncated = 1
	}
	want := s.Sample(words)
	if !slices.Equal(indices, want.Indices) || truncated != want.Truncated {
		t.Fatalf("replay %v (truncated %v) differs from dp.Sample %v (truncated %v)", indices, truncated, want.Indices, want.Truncated)
	}
	return a
}

func mustSampler(t *testing.T, rows int, q float64, maxBatch int) *dp.PoissonSampler {
	t.Helper()
	s, err := dp.NewPoissonSampler(rows, q, maxBatch)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func constWords(n int, u uint64) []uint64 {
	w := make([]uint64, n)
	for i := range w {
		w[i] = u
	}
	return w
}

// invalidPoisson returns assignments that differ from a in one output.
func invalidPoisson(a *poissonCircuit) []test.TestingOption {
	var opts []test.TestingOption
	mutate := func(f func(b *poissonCircuit)) {
		b := *a
		b.Gaps, b.Positions, b.Padding = slices.Clone(a.Gaps), slices.Clone(a.Positions), slices.Clone(a.Padding)
		f(&b)
		opts = append(opts, test.WithInvalidAssignment(&b))
	}
	last := len(a.Gaps) - 1
	mutate(func(b *poissonCircuit) { b.Gaps[0] = a.Gaps[0].(int) + 1 })
	mutate(func(b *poissonCircuit) { b.Positions[last] = a.Positions[last].(int) - 1 })
	mutate(func(b *poissonCircuit) { b.Padding[0] = 1 - a.Padding[0].(int) })
	mutate(func(b *poissonCircuit) { b.Padding[last] = 1 - a.Padding[last].(int) })
	mutate(func(b *poissonCircuit) { b.Truncated = 1 - a.Truncated.(int) })
	mutate(func(b *poissonCircuit) { // a wrong word
		b.Words = slices.Clone(a.Words)
		b.Words[0] = a.Words[0].(uint64) ^ 1<<63
	})
	return opts
}

func TestPoissonMatchesNative(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(7, 8))
	s := mustSampler(t, 60, 0.2, 16)
	randomWords := func() []uint64 {
		w := make([]uint64, s.MaxBatch+1)
		for i := range w {
			w[i] = rng.Uint64()
		}
		return w
	}
	// Words at and around the thresholds.
	edge := make([]uint64, 0, s.MaxBatch+1)
	for k := 0; len(edge) < s.MaxBatch+1; k += 7 {
		edge = append(edge, s.Thresholds[k%s.Rows], s.Thresholds[k%s.Rows]-1)
	}
	cases := map[string][]uint64{
		"random1": randomWords(), "random2": randomWords(), "edges": edge[:s.MaxBatch+1],
		"empty":     constWords(s.MaxBatch+1, 0),              // u = 0: gap N, every slot padding
		"truncated": constWords(s.MaxBatch+1, math.MaxUint64), // gap 0: rows 0..B, truncated
	}
	for name, words := range cases {
		t.Run(name, func(t *testing.T) {
			a := poissonAssignment(t, s, words)
			assert.CheckCircuit(newPoissonCircuit(s), checkOpts(append(invalidPoisson(a), test.WithValidAssignment(a))...)...)
		})
	}
}

func TestPoissonEdgeRates(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(9, 10))
	words := func(n int) []uint64 {
		w := make([]uint64, n)
		for i := range w {
			w[i] = rng.Uint64()
		}
		return w
	}
	for name, s := range map[string]*dp.PoissonSampler{
		"q=1 padded":    mustSampler(t, 10, 1, 12), // every row, slots 10.. padding
		"q=1 truncated": mustSampler(t, 10, 1, 8),  // more rows than slots
		"q=1 exact":     mustSampler(t, 10, 1, 10), // all rows, the extra slot padding
		"one row":       mustSampler(t, 1, 0.5, 1),
	} {
		t.Run(name, func(t *testing.T) {
			a := poissonAssignment(t, s, words(s.MaxBatch+1))
			assert.CheckCircuit(newPoissonCircuit(s), checkOpts(test.WithValidAssignment(a))...)
		})
	}
}

// TestPoissonFromKey runs the whole chain: step key -> sampling words -> batch.
func TestPoissonFromKey(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(11, 12))
	s := mustSampler(t, 40, 0.25, 14)
	key := randElement(rng)
	a := poissonAssignment(t, s, prfWords(t, key, dp.StreamSampling, s.MaxBatch+1))
	c := &keyedPoissonCircuit{poissonCircuit: *newPoissonCircuit(s)}
	assert.CheckCircuit(c, checkOpts(test.WithValidAssignment(&keyedPoissonCircuit{Key: key, poissonCircuit: *a}))...)
}

type keyedPoissonCircuit struct {
	Key frontend.Variable
	poissonCircuit
}

func (c *keyedPoissonCircuit) Define(api frontend.API) error {
	ws, err := Words(api, c.Key, dp.StreamSampling, len(c.Words))
	if err != nil {
		return err
	}
	for i := range ws {
		api.AssertIsEqual(ws[i], c.Words[i])
	}
	return c.poissonCircuit.Define(api)
}

func TestPoissonHintsRejected(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	s := mustSampler(t, 30, 0.3, 10)
	words := make([]uint64, s.MaxBatch+1)
	for i := range words {
		words[i] = rng.Uint64()
	}
	words[4] = s.Thresholds[2] // a boundary: gap 2 exactly
	a := poissonAssignment(t, s, words)
	c := newPoissonCircuit(s)
	c.noOut = true
	for _, tc := range []struct {
		name  string
		k     int
		delta int64
	}{{"gap+1", 0, 1}, {"gap-1", 4, -1}, {"extra gap+1", s.MaxBatch, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			assertHintRejected(t, c, a, poissonGapHint, tamper(poissonGapHint, tc.k, tc.delta))
		})
	}
	// One slot inside the rows and the first padding slot, each alone.
	inside, padding := int64(-1), int64(-1)
	for j := range a.Positions {
		if a.Padding[j].(int) == 0 {
			inside = int64(a.Positions[j].(int))
		} else if padding < 0 {
			padding = int64(a.Positions[j].(int))
		}
	}
	if inside < 0 || padding < 0 {
		t.Fatal("the words should give both kinds of slot")
	}
	t.Run("flag inside", func(t *testing.T) { assertHintRejected(t, c, a, isGEHint, flipBitAt(isGEHint, inside)) })
	t.Run("flag padding", func(t *testing.T) { assertHintRejected(t, c, a, isGEHint, flipBitAt(isGEHint, padding)) })
}
