package commitment

import (
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/frontend/cs/scs"
	permposeidon2 "github.com/consensys/gnark/std/permutation/poseidon2"

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
		// The alternative to a binary path that the flat membership was
		// weighed against: a 16-ary tree of width-16 permutations.
		{"16-ary Merkle path depth 3 (4096 leaves)", newWideMerkle(3)},
		{"16-ary Merkle path depth 4 (65536 leaves)", newWideMerkle(4)},
		// The flat membership of digits-sized data (N_pub = 1472, 64
		// features, 17-bit slots: 5 packed elements a row) and of 234 slots.
		{"flat dataset digits (1472 x 5 elements) and 234 lookups", newFlatCost(1472, 5, 234)},
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

// wideMerkleCircuit opens a leaf of a 16-ary tree whose nodes are the
// width-16 Poseidon2 permutation's state[1] over their 16 children: the
// prover gives every level's 16 children, the circuit checks that the
// index's digit selects the current node among them. Measured only (see
// docs/ARCHITECTURE.md): it is not a zkdp commitment.
type wideMerkleCircuit struct {
	Leaf, Index frontend.Variable
	Children    [][]frontend.Variable
	Root        frontend.Variable `gnark:",public"`
}

func newWideMerkle(depth int) *wideMerkleCircuit {
	c := &wideMerkleCircuit{Children: make([][]frontend.Variable, depth)}
	for d := range c.Children {
		c.Children[d] = make([]frontend.Variable, commit.SpongeWidth)
	}
	return c
}

func (c *wideMerkleCircuit) Define(api frontend.API) error {
	perm, err := permposeidon2.NewPoseidon2FromParameters(api, commit.SpongeWidth, commit.SpongeFullRounds, commit.SpongePartialRounds)
	if err != nil {
		return err
	}
	bits := api.ToBinary(c.Index, 4*len(c.Children))
	cur := c.Leaf
	for d, children := range c.Children {
		b := bits[4*d : 4*d+4]
		// The digit's one-hot vector from two 2-bit one-hots.
		two := func(lo, hi frontend.Variable) []frontend.Variable {
			both := api.Mul(lo, hi)
			return []frontend.Variable{api.Sub(api.Add(1, both), api.Add(lo, hi)), api.Sub(lo, both), api.Sub(hi, both), both}
		}
		low, high := two(b[0], b[1]), two(b[2], b[3])
		selected := frontend.Variable(0)
		for h := range high {
			for l := range low {
				selected = api.Add(selected, api.Mul(api.Mul(high[h], low[l]), children[4*h+l]))
			}
		}
		api.AssertIsEqual(selected, cur)
		state := append([]frontend.Variable{}, children...)
		if err := perm.Permutation(state); err != nil {
			return err
		}
		cur = state[1]
	}
	api.AssertIsEqual(cur, c.Root)
	return nil
}

// flatCostCircuit is a flat dataset commitment of Rows rows of K packed
// elements and Slots lookups into it, as the step circuit pays (without
// the slots' range checks, which a tree pays too).
type flatCostCircuit struct {
	Dataset   [][]frontend.Variable
	Slots     [][]frontend.Variable
	Positions []frontend.Variable
	Active    []frontend.Variable
	Salt      frontend.Variable
	Root      frontend.Variable `gnark:",public"`
}

func newFlatCost(rows, k, slots int) *flatCostCircuit {
	c := &flatCostCircuit{Positions: make([]frontend.Variable, slots), Active: make([]frontend.Variable, slots)}
	for range rows {
		c.Dataset = append(c.Dataset, make([]frontend.Variable, k))
	}
	for range slots {
		c.Slots = append(c.Slots, make([]frontend.Variable, k))
	}
	return c
}

func (c *flatCostCircuit) Define(api frontend.API) error {
	api.AssertIsEqual(FlatRoot(api, c.Dataset, 66, 17, c.Salt), c.Root)
	AssertRowsInDataset(api, c.Dataset, c.Positions, c.Slots, c.Active)
	return nil
}
