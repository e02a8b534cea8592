package arith

import (
	"math/big"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/fixedpoint"
)

// stepCircuit replays fixedpoint.Step in a circuit: the new weights and the
// noisy gradient sum are public and must equal the circuit's computation.
type stepCircuit struct {
	W     []frontend.Variable
	X     [][]frontend.Variable
	Y     [][]frontend.Variable
	Mask  []frontend.Variable
	Noise []frontend.Variable
	Next  []frontend.Variable `gnark:",public"`
	Sum   []frontend.Variable `gnark:",public"`

	widths []int
	params fixedpoint.StepParams
}

func (c *stepCircuit) Define(api frontend.API) error {
	a := New(api)
	m, err := fixedpoint.Unflatten(c.widths, c.W)
	if err != nil {
		return err
	}
	next, sum := fixedpoint.Step[frontend.Variable](a, c.params, m, c.X, c.Y, c.Mask, c.Noise)
	for i, w := range next.Flatten() {
		api.AssertIsEqual(w, c.Next[i])
		api.AssertIsEqual(sum[i], c.Sum[i])
	}
	return nil
}

func vars(v []int64) []frontend.Variable {
	out := make([]frontend.Variable, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

type stepCase struct {
	widths          []int
	w, noise        []int64
	xs, ys          [][]int64
	mask            []int64
	next, sum       []int64
	params          fixedpoint.StepParams
	batch, features int
}

// newStepCase is a step case of params p with random weights (normal, of
// scale weightScale) and noise, and no examples yet.
func newStepCase(rng *rand.Rand, widths []int, p fixedpoint.StepParams, weightScale float64) stepCase {
	c := stepCase{widths: widths, params: p}
	for range fixedpoint.NumParams(widths) {
		c.w = append(c.w, int64(rng.NormFloat64()*weightScale*float64(p.One())))
		c.noise = append(c.noise, int64(rng.NormFloat64()*3000))
	}
	return c
}

// randomRow is a row of n features uniform in [-1, 1).
func randomRow(rng *rand.Rand, f fixedpoint.Format, n int) []int64 {
	x := make([]int64, n)
	for j := range x {
		x[j] = int64((rng.Float64()*2 - 1) * float64(f.One()))
	}
	return x
}

func randomStep(t *testing.T, rng *rand.Rand, widths []int, batch int, weightScale float64) stepCase {
	t.Helper()
	f := fixedpoint.DefaultFormat()
	p, err := fixedpoint.NewStepParams(f, []float64{0.05, 0.5, 1, 4}[rng.IntN(4)], 0.5, 8, 20)
	if err != nil {
		t.Fatal(err)
	}
	c := newStepCase(rng, widths, p, weightScale)
	k := widths[len(widths)-1]
	for b := range batch {
		x := randomRow(rng, f, widths[0])
		y := make([]int64, k)
		y[rng.IntN(k)] = 1
		c.xs, c.ys = append(c.xs, x), append(c.ys, y)
		c.mask = append(c.mask, int64(1-b%3/2)) // some padding slots
	}
	m, _ := fixedpoint.Unflatten(widths, c.w)
	nat := &fixedpoint.Native{}
	next, sum := fixedpoint.Step[int64](nat, p, m, c.xs, c.ys, c.mask, c.noise)
	if err := nat.Err(); err != nil {
		t.Fatal(err)
	}
	c.next, c.sum = next.Flatten(), sum
	return c
}

func (c stepCase) circuit() *stepCircuit {
	out := &stepCircuit{widths: c.widths, params: c.params,
		W: make([]frontend.Variable, len(c.w)), Noise: make([]frontend.Variable, len(c.w)),
		Next: make([]frontend.Variable, len(c.w)), Sum: make([]frontend.Variable, len(c.w)),
		Mask: make([]frontend.Variable, len(c.xs))}
	for range c.xs {
		out.X = append(out.X, make([]frontend.Variable, c.widths[0]))
		out.Y = append(out.Y, make([]frontend.Variable, c.widths[len(c.widths)-1]))
	}
	return out
}

func (c stepCase) assignment() *stepCircuit {
	out := &stepCircuit{W: vars(c.w), Noise: vars(c.noise), Next: vars(c.next), Sum: vars(c.sum), Mask: vars(c.mask)}
	for i := range c.xs {
		out.X = append(out.X, vars(c.xs[i]))
		out.Y = append(out.Y, vars(c.ys[i]))
	}
	return out
}

// The native step and the circuit agree on random inputs: logistic
// regression and a hidden layer, weights small (little clipping) and large
// (heavy clipping), with padding slots.
func TestStepNativeEqualsCircuit(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i, widths := range [][]int{{3, 2}, {5, 4}, {4, 3, 3}, {6, 5, 2}} {
		for _, scale := range []float64{0.05, 2} {
			c := randomStep(t, rng, widths, 3, scale)
			if err := test.IsSolved(c.circuit(), c.assignment(), ecc.BN254.ScalarField()); err != nil {
				t.Fatalf("case %d (widths %v, scale %v): the circuit rejects the native step: %v", i, widths, scale, err)
			}
		}
	}
}

// Changing any output, or any input with the outputs kept, is rejected; the
// compiled R1CS is checked too (not only the test engine).
func TestStepRejectsWrongWitness(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(13, 14))
	c := randomStep(t, rng, []int{3, 2}, 2, 1)
	wrongNext := c.assignment()
	wrongNext.Next[1] = c.next[1] + 1
	wrongSum := c.assignment()
	wrongSum.Sum[0] = c.sum[0] - 1
	wrongNoise := c.assignment()
	wrongNoise.Noise[2] = c.noise[2] + 1
	wrongX := c.assignment()
	wrongX.X[0][1] = c.xs[0][1] + 1000
	wrongLabel := c.assignment()
	wrongLabel.Y[0] = vars([]int64{c.ys[0][1], c.ys[0][0]})
	assert.CheckCircuit(c.circuit(),
		test.WithValidAssignment(c.assignment()),
		test.WithInvalidAssignment(wrongNext),
		test.WithInvalidAssignment(wrongSum),
		test.WithInvalidAssignment(wrongNoise),
		test.WithInvalidAssignment(wrongX),
		test.WithInvalidAssignment(wrongLabel),
		test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16), test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())
}

// Every hint is pinned by constraints: a hint that answers off by one (in
// either direction) makes the honest witness fail to solve.
func TestHintsAreConstrained(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	c := randomStep(t, rng, []int{3, 3, 2}, 2, 1)
	ccs, w := compiled(t, c.circuit(), c.assignment())
	field := ecc.BN254.ScalarField()
	for _, h := range []solver.Hint{FloorDivHint, CeilSqrtHint, IsNegativeHint} {
		for _, delta := range []int64{1, -1} {
			h, delta := h, delta
			var calls atomic.Int32
			wrong := func(f *big.Int, in, out []*big.Int) error {
				if err := h(f, in, out); err != nil {
					return err
				}
				// Corrupt one call in the middle, first output only.
				if calls.Add(1) == 3 {
					out[0].Add(out[0], big.NewInt(delta))
					out[0].Mod(out[0], field)
				}
				return nil
			}
			if err := ccs.IsSolved(w, solver.OverrideHint(solver.GetHintID(h), wrong)); err == nil {
				t.Errorf("%s off by %d was accepted", solver.GetHintName(h), delta)
			}
		}
	}
}

// Range checks hold on the boundaries of the declared bounds.
type boundsCircuit struct {
	V, Q frontend.Variable
}

func (c *boundsCircuit) Define(api frontend.API) error {
	a := New(api)
	api.AssertIsEqual(a.Rescale(c.V, 4, 8), c.Q)
	return nil
}

func TestRescaleBounds(t *testing.T) {
	assert := test.NewAssert(t)
	// floor(v/16) must lie in [-256, 256).
	assert.CheckCircuit(&boundsCircuit{},
		test.WithValidAssignment(&boundsCircuit{V: 255*16 + 15, Q: 255}),
		test.WithValidAssignment(&boundsCircuit{V: -256 * 16, Q: -256}),
		test.WithValidAssignment(&boundsCircuit{V: -17, Q: -2}),
		test.WithInvalidAssignment(&boundsCircuit{V: 256 * 16, Q: 256}),
		test.WithInvalidAssignment(&boundsCircuit{V: -256*16 - 1, Q: -257}),
		test.WithInvalidAssignment(&boundsCircuit{V: -17, Q: -1}),
		test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16), test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())
}

// SubFloor's result is w - floor(v/16) within [-256, 256), for a w the
// caller bounds; its floor has no range check of its own.
type subFloorCircuit struct {
	W, V, R frontend.Variable
}

func (c *subFloorCircuit) Define(api frontend.API) error {
	a := New(api)
	a.checkSigned(c.W, 8) // the caller's bound
	api.AssertIsEqual(a.SubFloor(c.W, c.V, 4, 8), c.R)
	return nil
}

func TestSubFloorBounds(t *testing.T) {
	assert := test.NewAssert(t)
	assert.CheckCircuit(&subFloorCircuit{},
		test.WithValidAssignment(&subFloorCircuit{W: 255, V: 15, R: 255}),
		test.WithValidAssignment(&subFloorCircuit{W: -256, V: 15, R: -256}),
		test.WithValidAssignment(&subFloorCircuit{W: 0, V: -17, R: 2}),
		test.WithValidAssignment(&subFloorCircuit{W: -1, V: 255*16 + 15, R: -256}),
		test.WithInvalidAssignment(&subFloorCircuit{W: 0, V: -17, R: 1}),      // floor rounded the wrong way
		test.WithInvalidAssignment(&subFloorCircuit{W: -256, V: 16, R: -257}), // below the bound
		test.WithInvalidAssignment(&subFloorCircuit{W: 255, V: -16, R: 256}),  // above it
		test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16), test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())
	// The native step fails where the circuit has no witness.
	for _, tc := range []struct{ w, v int64 }{{-256, 16}, {255, -16}, {256, 0}} {
		n := &fixedpoint.Native{}
		n.SubFloor(tc.w, tc.v, 4, 8)
		if n.Err() == nil {
			t.Errorf("native SubFloor(%d, %d) succeeded", tc.w, tc.v)
		}
	}
}

// A floor answered with another remainder and its field quotient has no
// in-range result: the result's bound and w's bound pin the quotient.
func TestSubFloorRejectsAnotherRemainder(t *testing.T) {
	ccs, w := compiled(t, &subFloorCircuit{}, &subFloorCircuit{W: 3, V: 37, R: 1})
	wrong := func(f *big.Int, in, out []*big.Int) error {
		if err := FloorDivHint(f, in, out); err != nil {
			return err
		}
		d := new(big.Int).Mod(in[1], f)
		out[0].Sub(in[0], new(big.Int).Add(out[1], big.NewInt(1)))
		out[0].Mul(out[0], new(big.Int).ModInverse(d, f)).Mod(out[0], f)
		return nil
	}
	if err := ccs.IsSolved(w, solver.OverrideHint(solver.GetHintID(FloorDivHint), wrong)); err == nil {
		t.Fatal("another remainder with its field quotient was accepted")
	}
}

// unpinnedStep runs fixedpoint.Step without fixing its outputs, as a step
// circuit whose W_{t+1} is only bound by a commitment: whatever the
// constraints accept is a W_{t+1} the prover can publish.
type unpinnedStep struct {
	W     []frontend.Variable
	X     [][]frontend.Variable
	Y     [][]frontend.Variable
	Mask  []frontend.Variable
	Noise []frontend.Variable

	widths []int
	params fixedpoint.StepParams
}

func (c *unpinnedStep) Define(api frontend.API) error {
	m, err := fixedpoint.Unflatten(c.widths, c.W)
	if err != nil {
		return err
	}
	fixedpoint.Step[frontend.Variable](New(api), c.params, m, c.X, c.Y, c.Mask, c.Noise)
	return nil
}

// compiled compiles circuit to R1CS and builds assignment's witness, and
// checks that the honest witness solves.
func compiled(t *testing.T, circuit, assignment frontend.Circuit) (constraint.ConstraintSystem, witness.Witness) {
	t.Helper()
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, circuit)
	if err != nil {
		t.Fatal(err)
	}
	w, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	if err := ccs.IsSolved(w); err != nil {
		t.Fatalf("honest witness rejected: %v", err)
	}
	return ccs, w
}

// unpinned is c's step as an unpinnedStep circuit and its assignment.
func (c stepCase) unpinned() (*unpinnedStep, *unpinnedStep) {
	full := c.circuit()
	circuit := &unpinnedStep{widths: c.widths, params: c.params, W: full.W, Noise: full.Noise, Mask: full.Mask, X: full.X, Y: full.Y}
	assignment := &unpinnedStep{W: vars(c.w), Noise: vars(c.noise), Mask: vars(c.mask)}
	for i := range c.xs {
		assignment.X = append(assignment.X, vars(c.xs[i]))
		assignment.Y = append(assignment.Y, vars(c.ys[i]))
	}
	return circuit, assignment
}

// anotherRemainder answers FloorDivHint's calls by 2^shift with another
// remainder r' = r XOR 2^bit and the field quotient that goes with it,
// q' = (v - r') / 2^shift mod p: the equality v = q'*2^shift + r' and the
// remainder's range check both hold.
func anotherRemainder(shift, bit uint, calls *atomic.Int32) solver.Hint {
	return func(field *big.Int, in, out []*big.Int) error {
		if err := FloorDivHint(field, in, out); err != nil {
			return err
		}
		if in[1].Cmp(new(big.Int).Lsh(big.NewInt(1), shift)) != 0 {
			return nil
		}
		calls.Add(1)
		out[1].Xor(out[1], new(big.Int).Lsh(big.NewInt(1), bit))
		inv := new(big.Int).ModInverse(in[1], field)
		out[0].Sub(in[0], out[1])
		out[0].Mul(out[0], inv)
		out[0].Mod(out[0], field)
		return nil
	}
}

// The reviewer's forgery: with a step size that has factors of two, another
// remainder of the batch sum's floor, with its field quotient, turns into a
// small change of the update, so without a bound on the quotient the prover
// picks W_{t+1} per parameter. The quotient's range check rejects it.
func TestBatchSumFloorRejectsAnotherRemainder(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	c := randomStep(t, rng, []int{4, 3}, 3, 1)
	// An even step size, as quickstart's and breast cancer's are.
	c.params.StepSize = c.params.StepSize&^7 | 8
	m, _ := fixedpoint.Unflatten(c.widths, c.w)
	nat := &fixedpoint.Native{}
	fixedpoint.Step[int64](nat, c.params, m, c.xs, c.ys, c.mask, c.noise)
	if err := nat.Err(); err != nil {
		t.Fatal(err)
	}
	shift := fixedpoint.GradFracBits(c.params.Format)
	k := uint(3) // 2^3 divides the step size, so (r - r') * eta / 2^shift is an integer
	circuit, assignment := c.unpinned()
	ccs, w := compiled(t, circuit, assignment)
	var calls atomic.Int32
	err := ccs.IsSolved(w, solver.OverrideHint(solver.GetHintID(FloorDivHint), anotherRemainder(shift, shift-k, &calls)))
	if calls.Load() == 0 {
		t.Fatal("the step made no floor by 2^GradFracBits: the test no longer reaches the batch sum")
	}
	if err == nil {
		t.Fatalf("another remainder of the batch sum's floor (%d calls) was accepted: the prover chooses W_{t+1}", calls.Load())
	}
}

// Every FloorDivHint call, whatever its divisor, rejects another remainder
// paired with its field quotient: each quotient is bounded.
func TestEveryQuotientIsBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	c := randomStep(t, rng, []int{3, 3, 2}, 2, 1)
	ccs, w := compiled(t, c.circuit(), c.assignment())
	var total atomic.Int32
	countAll := func(f *big.Int, in, out []*big.Int) error { total.Add(1); return FloorDivHint(f, in, out) }
	if err := ccs.IsSolved(w, solver.OverrideHint(solver.GetHintID(FloorDivHint), countAll)); err != nil {
		t.Fatalf("honest witness rejected: %v", err)
	}
	for call := int32(1); call <= total.Load(); call++ {
		var n atomic.Int32
		wrong := func(f *big.Int, in, out []*big.Int) error {
			if err := FloorDivHint(f, in, out); err != nil {
				return err
			}
			if n.Add(1) != call {
				return nil
			}
			// Another remainder r' = r + 1 (or r - 1 at the top), and the
			// quotient that keeps n = q*d + r' in the field.
			d := new(big.Int).Mod(in[1], f)
			step := big.NewInt(1)
			if new(big.Int).Add(out[1], step).Cmp(d) >= 0 {
				step.Neg(step)
			}
			out[1].Add(out[1], step)
			out[0].Sub(in[0], out[1])
			out[0].Mul(out[0], new(big.Int).ModInverse(d, f))
			out[0].Mod(out[0], f)
			return nil
		}
		if err := ccs.IsSolved(w, solver.OverrideHint(solver.GetHintID(FloorDivHint), wrong)); err == nil {
			t.Errorf("call %d of %d: another remainder with its field quotient was accepted", call, total.Load())
		}
	}
}
