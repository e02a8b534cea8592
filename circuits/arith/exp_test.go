package arith

import (
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/fixedpoint"
)

// expCircuit checks ExpNeg of each input against a public value.
type expCircuit struct {
	V   []frontend.Variable
	Exp []frontend.Variable `gnark:",public"`
}

func (c *expCircuit) Define(api frontend.API) error {
	a := New(api)
	for i, v := range c.V {
		api.AssertIsEqual(fixedpoint.ExpNeg[frontend.Variable](a, fixedpoint.DefaultFormat(), v), c.Exp[i])
	}
	return nil
}

// ExpNeg by table lookups in a circuit equals the native one on the edges of
// the split (multiples of 2^k and their neighbours), the clamp and random
// inputs; an output one unit off is rejected.
func TestExpNegNativeEqualsCircuit(t *testing.T) {
	f := fixedpoint.DefaultFormat()
	lo := -f.ExpRange * f.One()
	inputs := []int64{0, -1, -2, -1023, -1024, -1025, -2047, -2048, -2049, lo + 1, lo, lo - 1, 2 * lo, -(int64(1) << (f.ActBits + 1)) + 1}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 32 {
		inputs = append(inputs, -rng.Int64N(-lo+1))
	}
	n := &fixedpoint.Native{}
	want := make([]int64, len(inputs))
	for i, v := range inputs {
		want[i] = fixedpoint.ExpNeg[int64](n, f, v)
	}
	if err := n.Err(); err != nil {
		t.Fatal(err)
	}
	circuit := &expCircuit{V: make([]frontend.Variable, len(inputs)), Exp: make([]frontend.Variable, len(inputs))}
	valid := &expCircuit{V: vars(inputs), Exp: vars(want)}
	var invalid []test.TestingOption
	for _, i := range []int{0, 4, 10, 20} {
		off := append([]int64{}, want...)
		off[i]++
		invalid = append(invalid, test.WithInvalidAssignment(&expCircuit{V: vars(inputs), Exp: vars(off)}))
	}
	opts := append([]test.TestingOption{test.WithValidAssignment(valid),
		test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16), test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks()}, invalid...)
	test.NewAssert(t).CheckCircuit(circuit, opts...)
}

// lookupCircuit reads a small table.
type lookupCircuit struct {
	I, V frontend.Variable
}

var smallTable = &fixedpoint.Table{Name: "small", Values: []int64{7, 11, 13, 17}}

func (c *lookupCircuit) Define(api frontend.API) error {
	api.AssertIsEqual(New(api).Lookup(smallTable, c.I), c.V)
	return nil
}

// A read returns the entry at its index, and an index outside the table has
// no entry: the lookup argument bounds it.
func TestLookupBoundsItsIndex(t *testing.T) {
	test.NewAssert(t).CheckCircuit(&lookupCircuit{},
		test.WithValidAssignment(&lookupCircuit{I: 0, V: 7}),
		test.WithValidAssignment(&lookupCircuit{I: 3, V: 17}),
		test.WithInvalidAssignment(&lookupCircuit{I: 1, V: 13}),
		test.WithInvalidAssignment(&lookupCircuit{I: 4, V: 0}),
		test.WithInvalidAssignment(&lookupCircuit{I: -1, V: 17}),
		test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16), test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())
}
