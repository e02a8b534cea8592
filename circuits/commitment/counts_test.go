package commitment

import (
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/frontend/cs/scs"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/internal/constraintstats"
)

// rowsCircuit hashes Rows rows of Width values, as a step circuit hashes a
// batch: the range-check table is paid once and shared.
type rowsCircuit struct {
	Rows   [][]frontend.Variable
	Digest frontend.Variable `gnark:",public"`

	Bits uint `gnark:"-"`
}

func (c *rowsCircuit) Define(api frontend.API) error {
	acc := frontend.Variable(0)
	for _, row := range c.Rows {
		acc = api.Add(acc, HashPacked(api, commit.TagLeaf, row, c.Bits))
	}
	api.AssertIsEqual(acc, c.Digest)
	return nil
}

func newRows(n, width int, bits uint) *rowsCircuit {
	c := &rowsCircuit{Rows: make([][]frontend.Variable, n), Bits: bits}
	for i := range c.Rows {
		c.Rows[i] = make([]frontend.Variable, width)
	}
	return c
}

// TestConstraintCounts compares the R1CS cost of the gadgets the step
// circuit uses with testdata/stats.csv, exactly (-update rewrites it); PLONK
// sizes are logged. Digits rows have 64 pixels and
// a label, Adult rows 112 features and a label, both at FracBits+1 = 17
// bits; the digits model has 650 weights at WeightBits = 22.
func TestConstraintCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles large circuits")
	}
	cases := []struct {
		name    string
		circuit frontend.Circuit
	}{
		{"HashPacked digits row (65 x 17 bits)", newRows(1, 65, 17)},
		{"HashPacked 16 digits rows", newRows(16, 65, 17)},
		{"HashPacked adult row (113 x 17 bits)", newRows(1, 113, 17)},
		{"HashPacked 16 adult rows", newRows(16, 113, 17)},
		{"HashPacked digits model (650 x 22 bits)", newRows(1, 650, 22)},
		{"HashPackedUnchecked digits model (650 x 22 bits)", &packedCircuit{Vals: make([]frontend.Variable, 650), Bits: 22, Unchecked: true}},
		{"Merkle path depth 11", &merkleCircuit{Path: make([]frontend.Variable, 11)}},
		{"Merkle path depth 15", &merkleCircuit{Path: make([]frontend.Variable, 15)}},
		{"digits row opening (LeafOf + depth 11)", &rowCircuit{X: make([]frontend.Variable, 64), Path: make([]frontend.Variable, 11), FracBits: 16}},
		{"adult row opening (LeafOf + depth 15)", &rowCircuit{X: make([]frontend.Variable, 112), Path: make([]frontend.Variable, 15), FracBits: 16}},
	}
	measured := map[string]constraintstats.Row{}
	for _, c := range cases {
		r, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c.circuit)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		p, err := frontend.Compile(ecc.BN254.ScalarField(), scs.NewBuilder, c.circuit)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		t.Logf("%-50s R1CS %7d   PLONK %7d", c.name, r.GetNbConstraints(), p.GetNbConstraints())
		measured[c.name] = constraintstats.Row{Constraints: r.GetNbConstraints()}
	}
	constraintstats.Check(t, measured)
}
