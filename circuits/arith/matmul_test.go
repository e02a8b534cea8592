package arith

import (
	"math/big"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/fixedpoint"
)

// matMulCircuit checks MatMul against the product computed outside.
type matMulCircuit struct {
	X, Y [][]frontend.Variable
	Z    [][]frontend.Variable `gnark:",public"`
}

func (c *matMulCircuit) Define(api frontend.API) error {
	z := New(api).MatMul(c.X, c.Y, 20, 20)
	for i := range z {
		for j := range z[i] {
			api.AssertIsEqual(z[i][j], c.Z[i][j])
		}
	}
	return nil
}

func randomMatrix(rng *rand.Rand, n, m int, bound int64) [][]int64 {
	out := make([][]int64, n)
	for i := range out {
		out[i] = make([]int64, m)
		for j := range out[i] {
			out[i][j] = rng.Int64N(2*bound+1) - bound
		}
	}
	return out
}

func matrixVars(x [][]int64) [][]frontend.Variable {
	out := make([][]frontend.Variable, len(x))
	for i := range x {
		out[i] = vars(x[i])
	}
	return out
}

func shapeOf(n, m int) [][]frontend.Variable {
	out := make([][]frontend.Variable, n)
	for i := range out {
		out[i] = make([]frontend.Variable, m)
	}
	return out
}

func nativeProduct(x, y [][]int64) [][]int64 {
	return fixedpoint.MatMul[int64](&fixedpoint.Native{}, x, y, 20, 20)
}

// A product checked by random evaluation: the honest product (extreme
// entries included) is accepted; any changed entry is rejected, in the test
// engine and in the compiled R1CS.
func TestMatMulChecksEveryEntry(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(31, 32))
	n, k, m := 6, 5, 4
	x, y := randomMatrix(rng, n, k, 1<<20), randomMatrix(rng, k, m, 1<<20)
	x[0][0], y[0][0] = -(1 << 20), -(1 << 20)
	z := nativeProduct(x, y)
	circuit := &matMulCircuit{X: shapeOf(n, k), Y: shapeOf(k, m), Z: shapeOf(n, m)}
	opts := []test.TestingOption{test.WithValidAssignment(&matMulCircuit{X: matrixVars(x), Y: matrixVars(y), Z: matrixVars(z)})}
	for _, pos := range [][2]int{{0, 0}, {n - 1, m - 1}, {2, 1}} {
		for _, d := range []int64{1, -1, 1 << 40} {
			wrong := nativeProduct(x, y)
			wrong[pos[0]][pos[1]] += d
			opts = append(opts, test.WithInvalidAssignment(&matMulCircuit{X: matrixVars(x), Y: matrixVars(y), Z: matrixVars(wrong)}))
		}
	}
	assert.CheckCircuit(circuit, append(opts, test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16),
		test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())...)
}

// wrongProduct is MatMulHint with entry `at` of the result moved by delta,
// keeping the entries' sum (a change that a check of the sum alone misses).
func wrongProduct(at int, delta int64, calls *atomic.Int32) solver.Hint {
	return func(field *big.Int, in, out []*big.Int) error {
		if err := MatMulHint(field, in, out); err != nil {
			return err
		}
		calls.Add(1)
		out[at].Add(out[at], big.NewInt(delta)).Mod(out[at], field)
		other := (at + 1) % len(out)
		out[other].Sub(out[other], big.NewInt(delta)).Mod(out[other], field)
		return nil
	}
}

// A result hint that answers a wrong product, with the circuit's outputs left
// free: the random evaluation alone rejects it, in a step with a batch large
// enough for every product to take the random-evaluation path.
func TestStepRejectsWrongProductHint(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	c := randomStep(t, rng, []int{8, 6, 4}, 8, 1)
	circuit, assignment := c.unpinned()
	ccs, w := compiled(t, circuit, assignment)
	var honest atomic.Int32
	count := func(f *big.Int, in, out []*big.Int) error { honest.Add(1); return MatMulHint(f, in, out) }
	if err := ccs.IsSolved(w, solver.OverrideHint(solver.GetHintID(MatMulHint), count)); err != nil {
		t.Fatalf("honest witness rejected: %v", err)
	}
	// forward x2, backward x1, gradient sums x2
	if honest.Load() != 5 {
		t.Fatalf("%d products took the random-evaluation path, want 5", honest.Load())
	}
	for _, delta := range []int64{1, -1, 1 << 30} {
		var calls atomic.Int32
		if err := ccs.IsSolved(w, solver.OverrideHint(solver.GetHintID(MatMulHint), wrongProduct(3, delta, &calls))); err == nil {
			t.Errorf("products moved by %d (%d hints) were accepted", delta, calls.Load())
		}
	}
}

// The native step and the circuit agree where every product is checked by
// random evaluation: batches of 8 and 16, a hidden layer, padding slots.
func TestStepNativeEqualsCircuitBatched(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	for _, tc := range []struct {
		widths []int
		batch  int
	}{{[]int{8, 4}, 16}, {[]int{8, 6, 4}, 8}, {[]int{10, 5, 5, 3}, 8}} {
		for _, scale := range []float64{0.05, 2} {
			c := randomStep(t, rng, tc.widths, tc.batch, scale)
			if err := test.IsSolved(c.circuit(), c.assignment(), ecc.BN254.ScalarField()); err != nil {
				t.Fatalf("widths %v, batch %d, scale %v: the circuit rejects the native step: %v", tc.widths, tc.batch, scale, err)
			}
			wrong := c.assignment()
			wrong.Next[len(c.next)-1] = c.next[len(c.next)-1] + 1
			if err := test.IsSolved(c.circuit(), wrong, ecc.BN254.ScalarField()); err == nil {
				t.Fatalf("widths %v, batch %d: a changed W_{t+1} was accepted", tc.widths, tc.batch)
			}
		}
	}
}
