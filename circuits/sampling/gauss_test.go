package sampling

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/dp"
)

type gaussCircuit struct {
	U     []frontend.Variable
	Z     []frontend.Variable `gnark:",public"`
	dg    *dp.DiscreteGaussian
	noOut bool // only run the gadget (hint tests): no output check
}

func (c *gaussCircuit) Define(api frontend.API) error {
	g, err := NewDiscreteGaussian(api, c.dg.CDF, c.dg.Tail, c.dg.Combination())
	if err != nil {
		return err
	}
	z, err := g.SampleVector(c.U)
	if err != nil {
		return err
	}
	if c.noOut {
		return nil
	}
	for i := range z {
		api.AssertIsEqual(z[i], c.Z[i])
	}
	return nil
}

func mustGaussian(t *testing.T, sigma float64) *dp.DiscreteGaussian {
	t.Helper()
	g, err := dp.NewDiscreteGaussian(sigma)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func gaussAssignment(g *dp.DiscreteGaussian, us []uint64) *gaussCircuit {
	a := &gaussCircuit{U: make([]frontend.Variable, len(us)), Z: make([]frontend.Variable, len(us))}
	for i, u := range us {
		a.U[i] = u
		a.Z[i] = commit.FromInt64(g.Sample(u))
	}
	return a
}

// boundaryWords are 0, 2^63-1, 2^63, MaxUint64 and, with either sign bit,
// CDF[k]-1 and CDF[k] for every entry: the extremes and every table edge.
func boundaryWords(g *dp.DiscreteGaussian) []uint64 {
	us := []uint64{0, 1<<63 - 1, 1 << 63, math.MaxUint64}
	for _, c := range g.CDF {
		for _, sign := range []uint64{0, 1 << 63} {
			if c > 0 {
				us = append(us, sign|(c-1))
			}
			if c < 1<<63 {
				us = append(us, sign|c)
			}
		}
	}
	return us
}

func TestDiscreteGaussianMatchesNative(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(15, 16))
	for _, sigma := range []float64{1, 2.5} {
		g := mustGaussian(t, sigma)
		us := boundaryWords(g)
		for range 200 {
			us = append(us, rng.Uint64())
		}
		a := gaussAssignment(g, us)
		opts := []test.TestingOption{test.WithValidAssignment(a)}
		// Off by one either way, at a low, a middle and the top word.
		for _, k := range []int{0, 1, len(us) / 2, len(us) - 1} {
			for _, d := range []int64{-1, 1} {
				b := *a
				b.Z = slices.Clone(a.Z)
				b.Z[k] = commit.FromInt64(g.Sample(us[k]) + d)
				opts = append(opts, test.WithInvalidAssignment(&b))
			}
		}
		// The wrong sign: a word whose sample is not 0, negated.
		k := slices.IndexFunc(us, func(u uint64) bool { return g.Sample(u) != 0 })
		wrongSign := *a
		wrongSign.Z = slices.Clone(a.Z)
		wrongSign.Z[k] = commit.FromInt64(-g.Sample(us[k]))
		opts = append(opts, test.WithInvalidAssignment(&wrongSign))
		// A word from the next interval, same outputs.
		wrongWord := *a
		wrongWord.U = slices.Clone(a.U)
		wrongWord.U[len(us)/2] = g.CDF[1]
		if g.Sample(g.CDF[1]) == g.Sample(us[len(us)/2]) {
			t.Fatal("pick another wrong word")
		}
		opts = append(opts, test.WithInvalidAssignment(&wrongWord))
		assert.CheckCircuit(&gaussCircuit{U: make([]frontend.Variable, len(us)), Z: make([]frontend.Variable, len(us)), dg: g},
			checkOpts(opts...)...)
	}
}

// TestDiscreteGaussianNativeMany compares the circuit with the native
// sampler on many random words in one solve (no invalid cases).
func TestDiscreteGaussianNativeMany(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	g := mustGaussian(t, 40)
	us := make([]uint64, 3000)
	for i := range us {
		us[i] = rng.Uint64()
	}
	c := &gaussCircuit{U: make([]frontend.Variable, len(us)), Z: make([]frontend.Variable, len(us)), dg: g}
	if err := test.IsSolved(c, gaussAssignment(g, us), fieldBN254()); err != nil {
		t.Fatal(err)
	}
}

func TestDiscreteGaussianSingle(t *testing.T) {
	// Sample on one word and the edge of a one-entry table (z = 0 always).
	assert := test.NewAssert(t)
	g := &dp.DiscreteGaussian{Tail: 0, CDF: []uint64{1 << 63}}
	for _, u := range []uint64{0, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		assert.CheckCircuit(&singleGaussCircuit{dg: g}, checkOpts(
			test.WithValidAssignment(&singleGaussCircuit{U: u, Z: 0}),
			test.WithInvalidAssignment(&singleGaussCircuit{U: u, Z: 1}),
			test.WithInvalidAssignment(&singleGaussCircuit{U: u, Z: -1}))...)
	}
}

type singleGaussCircuit struct {
	U, Z frontend.Variable
	dg   *dp.DiscreteGaussian
}

func (c *singleGaussCircuit) Define(api frontend.API) error {
	g, err := NewDiscreteGaussian(api, c.dg.CDF, c.dg.Tail, c.dg.Combination())
	if err != nil {
		return err
	}
	z, err := g.Sample(c.U)
	if err != nil {
		return err
	}
	api.AssertIsEqual(z, c.Z)
	return nil
}

// TestDiscreteGaussianFromKey runs step key -> noise words -> samples.
func TestDiscreteGaussianFromKey(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(17, 18))
	g := mustGaussian(t, 3)
	key := randElement(rng)
	const n = 9
	a := &keyedGaussCircuit{Key: key, gaussCircuit: *gaussAssignment(g, prfWords(t, key, dp.StreamNoise, n))}
	c := &keyedGaussCircuit{gaussCircuit: gaussCircuit{U: make([]frontend.Variable, n), Z: make([]frontend.Variable, n), dg: g}}
	assert.CheckCircuit(c, checkOpts(test.WithValidAssignment(a))...)
}

type keyedGaussCircuit struct {
	Key frontend.Variable
	gaussCircuit
}

func (c *keyedGaussCircuit) Define(api frontend.API) error {
	ws, err := Words(api, c.Key, dp.StreamNoise, len(c.U))
	if err != nil {
		return err
	}
	for i := range ws {
		api.AssertIsEqual(ws[i], c.U[i])
	}
	return c.gaussCircuit.Define(api)
}

// TestDiscreteGaussianHintRejected: |z| off by one either way, and a flipped
// sign bit (at z = 0 too, where both signs give the same sample), are
// rejected at every word, the extremes and table edges included.
func TestDiscreteGaussianHintRejected(t *testing.T) {
	g := mustGaussian(t, 1.5)
	us := []uint64{0, g.CDF[3] - 1, g.CDF[3], 1<<63 - 1, 1 << 63, 1<<63 | g.CDF[0], 1<<63 + 5, math.MaxUint64}
	if g.Sample(0) != 0 || g.Sample(1<<63) != 0 {
		t.Fatal("want words with sample 0 on both signs")
	}
	a := gaussAssignment(g, us)
	c := &gaussCircuit{U: make([]frontend.Variable, len(us)), Z: make([]frontend.Variable, len(us)), dg: g, noOut: true}
	for k := range us {
		for _, d := range []int64{-1, 1} {
			t.Run("abs", func(t *testing.T) {
				assertHintRejected(t, c, a, gaussianIndexHint, tamper(gaussianIndexHint, 2*k+1, d))
			})
		}
		t.Run("sign", func(t *testing.T) {
			assertHintRejected(t, c, a, gaussianIndexHint, flipOutput(gaussianIndexHint, 2*k))
		})
	}
}

// flipOutput wraps a hint and negates its boolean output k.
func flipOutput(hint solver.Hint, k int) solver.Hint {
	return func(f *big.Int, in, out []*big.Int) error {
		if err := hint(f, in, out); err != nil {
			return err
		}
		out[k].Sub(big.NewInt(1), out[k])
		return nil
	}
}

// gaussHintOf is a gaussianIndexHint replacement that answers sign s and
// |z| = k for every word.
func gaussHintOf(s, k int64) solver.Hint {
	return func(_ *big.Int, _, out []*big.Int) error {
		for j := 0; j < len(out); j += 2 {
			out[j].SetInt64(s)
			out[j+1].SetInt64(k)
		}
		return nil
	}
}

func TestNewRejectsBadTables(t *testing.T) {
	c := &badTableCircuit{}
	for name, f := range map[string]func(api frontend.API) error{
		"increasing thresholds": func(api frontend.API) error {
			_, err := NewPoisson(api, []uint64{5, 6}, 2, 1)
			return err
		},
		"rows mismatch": func(api frontend.API) error {
			_, err := NewPoisson(api, []uint64{5}, 2, 1)
			return err
		},
		"decreasing cdf": func(api frontend.API) error {
			_, err := NewDiscreteGaussian(api, []uint64{5, 4, 1 << 63}, 2, []int64{1})
			return err
		},
		"cdf above 2^63": func(api frontend.API) error {
			_, err := NewDiscreteGaussian(api, []uint64{1<<63 + 1, 1 << 63}, 1, []int64{1})
			return err
		},
		"tail mismatch": func(api frontend.API) error {
			_, err := NewDiscreteGaussian(api, []uint64{5, 1 << 63}, 2, []int64{1})
			return err
		},
		"poisson word count": func(api frontend.API) error {
			p, err := NewPoisson(api, []uint64{5}, 1, 2)
			if err != nil {
				return err
			}
			_, err = p.Sample([]frontend.Variable{1, 2})
			return err
		},
	} {
		c.f = f
		if _, err := frontend.Compile(fieldBN254(), r1cs.NewBuilder, c); !errors.Is(err, ErrParams) {
			t.Errorf("%s: got %v, want ErrParams", name, err)
		}
	}
}

type badTableCircuit struct {
	X frontend.Variable
	f func(api frontend.API) error
}

func (c *badTableCircuit) Define(api frontend.API) error { return c.f(api) }

// TestUnusedGadgets: gadgets built but never sampled add no table, which
// would not solve without queries.
func TestUnusedGadgets(t *testing.T) {
	test.NewAssert(t).CheckCircuit(&unusedCircuit{}, checkOpts(test.WithValidAssignment(&unusedCircuit{X: 1}))...)
}

type unusedCircuit struct{ X frontend.Variable }

func (c *unusedCircuit) Define(api frontend.API) error {
	if _, err := NewDiscreteGaussian(api, []uint64{1, 2, 1 << 63}, 2, []int64{1}); err != nil {
		return err
	}
	if _, err := NewPoisson(api, []uint64{3, 2}, 2, 1); err != nil {
		return err
	}
	api.AssertIsEqual(c.X, 1)
	return nil
}

// TestOversizedWordRejected: a word of 2^64 or p-1 (which Words never gives)
// fits no interval, whatever the hint says, so the gadgets need no prior
// range check of their words.
func TestOversizedWordRejected(t *testing.T) {
	s := mustSampler(t, 8, 0.5, 2)
	g := mustGaussian(t, 1)
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	pm1 := new(big.Int).Sub(fieldBN254(), big.NewInt(1))
	for _, u := range []*big.Int{two64, pm1} {
		pc := newPoissonCircuit(s)
		pc.noOut = true
		pa := newPoissonCircuit(s)
		for j := range pa.Words {
			pa.Words[j] = u
		}
		for j := range pa.Gaps { // outputs unused (noOut) but assigned
			pa.Gaps[j], pa.Positions[j], pa.Padding[j] = 0, 0, 0
		}
		pa.Truncated = 0
		for _, gap := range []int64{0, int64(s.Rows)} { // the first and the last interval
			assertRejectedWith(t, pc, pa, poissonGapHint, constHint(big.NewInt(gap)))
		}
		gc := &gaussCircuit{U: make([]frontend.Variable, 1), Z: make([]frontend.Variable, 1), dg: g, noOut: true}
		ga := &gaussCircuit{U: []frontend.Variable{u}, Z: []frontend.Variable{0}}
		for _, sign := range []int64{0, 1} {
			for _, k := range []int64{0, int64(len(g.CDF) - 1)} {
				assertRejectedWith(t, gc, ga, gaussianIndexHint, gaussHintOf(sign, k))
			}
		}
	}
}

// convolvedAssignment assigns words and their noise samples a*x + b*y.
func convolvedAssignment(g *dp.DiscreteGaussian, us []uint64) *gaussCircuit {
	z := g.SampleVector(us)
	a := &gaussCircuit{U: make([]frontend.Variable, len(us)), Z: make([]frontend.Variable, len(z))}
	for i, u := range us {
		a.U[i] = u
	}
	for i, v := range z {
		a.Z[i] = commit.FromInt64(v)
	}
	return a
}

// TestConvolvedGaussianMatchesNative: noise a*x + b*y from word pairs, the
// extremes and the table edges included, equals dp's; a sample off by one,
// swapped words and a wrong table sample of either word are rejected.
func TestConvolvedGaussianMatchesNative(t *testing.T) {
	g, err := dp.NewConvolvedGaussian(40, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(21, 22))
	us := boundaryWords(g)
	for range 101 {
		us = append(us, rng.Uint64())
	}
	us = us[:len(us)/2*2]
	a := convolvedAssignment(g, us)
	n := len(a.Z)
	opts := []test.TestingOption{test.WithValidAssignment(a)}
	for _, k := range []int{0, n / 2, n - 1} {
		b := *a
		b.Z = slices.Clone(a.Z)
		b.Z[k] = commit.FromInt64(g.SampleVector(us[2*k : 2*k+2])[0] + 1)
		opts = append(opts, test.WithInvalidAssignment(&b))
	}
	k := -1
	for i := range n {
		if g.Sample(us[2*i]) != g.Sample(us[2*i+1]) {
			k = i
			break
		}
	}
	if k < 0 {
		t.Fatal("no pair of different table samples")
	}
	swapped := *a
	swapped.U = slices.Clone(a.U)
	swapped.U[2*k], swapped.U[2*k+1] = a.U[2*k+1], a.U[2*k]
	opts = append(opts, test.WithInvalidAssignment(&swapped))
	c := &gaussCircuit{U: make([]frontend.Variable, len(us)), Z: make([]frontend.Variable, n), dg: g}
	test.NewAssert(t).CheckCircuit(c, checkOpts(opts...)...)

	// A table sample off by one or of the wrong sign, on either word of a pair.
	noOut := &gaussCircuit{U: make([]frontend.Variable, len(us)), Z: make([]frontend.Variable, n), dg: g, noOut: true}
	for _, w := range []int{2 * k, 2*k + 1} {
		assertRejectedWith(t, noOut, a, gaussianIndexHint, tamper(gaussianIndexHint, 2*w+1, 1))
		assertRejectedWith(t, noOut, a, gaussianIndexHint, flipOutput(gaussianIndexHint, 2*w))
	}
}
