package commitment

import (
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
)

// flatCircuit is the flat membership as the step circuit uses it: D is the
// flat commitment of Dataset under Salt, and every active slot's row
// (features, label, flag, packed with range checks) is the row at its
// position.
type flatCircuit struct {
	Root      frontend.Variable `gnark:",public"`
	Dataset   [][]frontend.Variable
	Salt      frontend.Variable
	X         [][]frontend.Variable
	Labels    []frontend.Variable
	Flags     []frontend.Variable
	Positions []frontend.Variable
	Active    []frontend.Variable

	FracBits uint `gnark:"-"`
}

func (c *flatCircuit) Define(api frontend.API) error {
	features := len(c.X[0])
	api.AssertIsEqual(FlatRoot(api, c.Dataset, features+2, c.FracBits+1, c.Salt), c.Root)
	slots := make([][]frontend.Variable, len(c.X))
	for j, x := range c.X {
		api.AssertIsBoolean(c.Flags[j])
		api.AssertIsBoolean(c.Active[j])
		slots[j] = Pack(api, append(append(append([]frontend.Variable{}, x...), c.Labels[j]), c.Flags[j]), c.FracBits+1)
	}
	AssertRowsInDataset(api, c.Dataset, c.Positions, slots, c.Active)
	return nil
}

// flatFixture is a small quantized dataset of 6 rows padded to 8, committed
// flat, and a batch of 4 slots: rows 5, 2 and 7 (a padding row) and an
// inactive slot holding garbage.
type flatFixture struct {
	q         *data.Quantized
	committed *data.Committed
	positions []int
	active    []int
}

const flatFracBits = 4

func newFlatFixture(t *testing.T) *flatFixture {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	q := &data.Quantized{FracBits: flatFracBits}
	for range 6 {
		// 50 features at 5-bit slots: two packed elements per row.
		q.X = append(q.X, randomVals(rng, 50, flatFracBits))
		q.Y = append(q.Y, rng.IntN(3))
	}
	c, err := q.CommitFlat(8, dp.DatasetSalt(dp.SeedFromUint64(9)))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Packed[0]) != 2 || data.PackedRowLen(50, flatFracBits) != 2 {
		t.Fatalf("rows pack into %d elements, want 2", len(c.Packed[0]))
	}
	return &flatFixture{q: q, committed: c, positions: []int{5, 2, 7, 0}, active: []int{1, 1, 1, 0}}
}

// assignment is the honest witness, with every slot's row taken from
// rowOf(j) (the row at its position unless a test says otherwise).
func (f *flatFixture) assignment(rowOf func(j int) int) *flatCircuit {
	c := f.shape()
	c.Root, c.Salt = f.committed.Root, f.committed.Salt
	for i, row := range f.committed.Packed {
		for l, e := range row {
			c.Dataset[i][l] = e
		}
	}
	for j, p := range f.positions {
		x, label, flag := f.q.Slot(rowOf(j))
		if f.active[j] == 0 {
			x, label, flag = make([]int64, len(x)), 2, 1 // anything: not looked up
			x[0] = 3
		}
		for k, v := range x {
			c.X[j][k] = v
		}
		c.Labels[j], c.Flags[j], c.Positions[j], c.Active[j] = label, flag, p, f.active[j]
	}
	return c
}

func (f *flatFixture) honest() *flatCircuit {
	return f.assignment(func(j int) int { return f.positions[j] })
}

func (f *flatFixture) shape() *flatCircuit {
	b := len(f.positions)
	c := &flatCircuit{FracBits: flatFracBits, X: make([][]frontend.Variable, b), Labels: make([]frontend.Variable, b),
		Flags: make([]frontend.Variable, b), Positions: make([]frontend.Variable, b), Active: make([]frontend.Variable, b)}
	for j := range c.X {
		c.X[j] = make([]frontend.Variable, len(f.q.X[0]))
	}
	for range f.committed.Packed {
		c.Dataset = append(c.Dataset, make([]frontend.Variable, 2))
	}
	return c
}

// The circuit's flat commitment is data.FlatRoot (native vs circuit), and
// the lookup accepts the honest batch, padding row and inactive slot
// included; each tampered slot, dataset or salt is rejected.
func TestFlatMembership(t *testing.T) {
	f := newFlatFixture(t)
	tampered := map[string]func(c *flatCircuit){
		// Slot 0 holds row 4, a row of the dataset, but not the one at its position.
		"row not the dataset's at its position": func(c *flatCircuit) {
			x, label, flag := f.q.Slot(4)
			for k, v := range x {
				c.X[0][k] = v
			}
			c.Labels[0], c.Flags[0] = label, flag
		},
		// Slot 0 claims position 4 with row 5's values.
		"wrong position":  func(c *flatCircuit) { c.Positions[0] = 4 },
		"wrong label":     func(c *flatCircuit) { c.Labels[1] = (f.q.Y[2] + 1) % 3 },
		"changed feature": func(c *flatCircuit) { c.X[1][7] = c.X[1][7].(int64) + 1 },
		// The padding row at 7 claimed real, and a real row claimed padding.
		"padding row claimed real": func(c *flatCircuit) { c.Flags[2] = data.FlagReal },
		"real row claimed padding": func(c *flatCircuit) { c.Flags[0] = data.FlagPadding },
		// A slot outside the row bound.
		"position beyond the dataset": func(c *flatCircuit) { c.Positions[2] = 8 },
		// An unsampled row of the witness dataset changed: D is not its hash.
		"dataset does not hash to D": func(c *flatCircuit) {
			var e fr.Element
			e.SetUint64(1)
			e.Add(&e, &f.committed.Packed[3][1])
			c.Dataset[3][1] = e
		},
		"changed salt": func(c *flatCircuit) { var e fr.Element; e.SetUint64(5); c.Salt = e },
		// An active slot made inactive: the caller's mask, not the lookup,
		// keeps it out of the step; here only that a fake row passes is checked.
		"inactive slot made active": func(c *flatCircuit) { c.Active[3] = 1 },
	}
	options := []test.TestingOption{test.WithValidAssignment(f.honest())}
	for name, change := range tampered {
		c := f.honest()
		change(c)
		if err := test.IsSolved(f.shape(), c, ecc.BN254.ScalarField()); err == nil {
			t.Errorf("%s: accepted", name)
		}
		options = append(options, test.WithInvalidAssignment(c))
	}
	test.NewAssert(t).CheckCircuit(f.shape(), append(options, test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16),
		test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())...)
}

// data.FlatRoot changes with every row, label, flag and the salt, and
// CommitFlat pads with the padding row.
func TestFlatRootNative(t *testing.T) {
	f := newFlatFixture(t)
	root := f.committed.Root
	salt := dp.DatasetSalt(dp.SeedFromUint64(9))
	again, err := f.q.CommitFlat(8, salt)
	if err != nil || again.Root != root {
		t.Fatalf("not deterministic: %v", err)
	}
	if other, _ := f.q.CommitFlat(8, dp.DatasetSalt(dp.SeedFromUint64(10))); other.Root == root {
		t.Error("the salt does not change D")
	}
	if other, _ := f.q.CommitFlat(9, salt); other.Root == root {
		t.Error("the row bound does not change D")
	}
	f.q.Y[0] = (f.q.Y[0] + 1) % 3
	if other, _ := f.q.CommitFlat(8, salt); other.Root == root {
		t.Error("a label does not change D")
	}
	if _, err := f.q.CommitFlat(5, salt); err == nil {
		t.Error("a row bound below the rows accepted")
	}
}

// A forged multiplicity hint cannot make a slot that is not the row at its
// position pass: here slot 0 holds row 4 at position 5, and the hint counts
// it at 4 instead of 5; and the honest batch with a count moved from a
// sampled row to another is rejected too. (R1CS only: the test engine does
// not run overridden hints.)
func TestFlatMembershipForgedMultiplicities(t *testing.T) {
	f := newFlatFixture(t)
	forge := func(from, to int) solver.Hint {
		return func(m *big.Int, in, out []*big.Int) error {
			if err := MultiplicityHint(m, in, out); err != nil {
				return err
			}
			out[from].Sub(out[from], big.NewInt(1)).Mod(out[from], m)
			out[to].Add(out[to], big.NewInt(1))
			return nil
		}
	}
	wrongRow := f.assignment(func(j int) int {
		if j == 0 {
			return 4
		}
		return f.positions[j]
	})
	for _, c := range []struct {
		w    *flatCircuit
		hint solver.Hint
	}{{wrongRow, forge(5, 4)}, {f.honest(), forge(2, 3)}} {
		test.NewAssert(t).CheckCircuit(f.shape(), test.NoTestEngine(), test.WithInvalidAssignment(c.w),
			test.WithSolverOpts(solver.OverrideHint(solver.GetHintID(MultiplicityHint), c.hint)),
			test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16),
			test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())
	}
}

// leavesRootCircuit is LeavesRoot over its leaves.
type leavesRootCircuit struct {
	Root   frontend.Variable `gnark:",public"`
	Leaves []frontend.Variable
}

func (c *leavesRootCircuit) Define(api frontend.API) error {
	api.AssertIsEqual(LeavesRoot(api, c.Leaves), c.Root)
	return nil
}

// LeavesRoot in-circuit is data.LeavesRoot of CommitLeaves' leaves, which
// change with every row and salt; a changed leaf, dropped or swapped leaves
// give another root.
func TestLeavesRootMatchesNative(t *testing.T) {
	f := newFlatFixture(t)
	salts := dp.RowSalts(dp.SeedFromUint64(9), 8)
	committed, err := f.q.CommitLeaves(salts)
	if err != nil {
		t.Fatal(err)
	}
	if committed.Membership != data.MembershipLeaves || len(committed.Table()) != 8 || len(committed.Table()[3]) != 1 {
		t.Fatalf("leaves commitment: %v, a table of %d rows", committed.Membership, len(committed.Table()))
	}
	leaf3, err := f.q.Leaf(3, salts[3])
	if err != nil || committed.Leaves[3] != leaf3 {
		t.Fatalf("leaf 3 is not the row's salted leaf: %v", err)
	}
	assign := func(root fr.Element, leaves []fr.Element) *leavesRootCircuit {
		c := &leavesRootCircuit{Root: root, Leaves: make([]frontend.Variable, len(leaves))}
		for i, l := range leaves {
			c.Leaves[i] = l
		}
		return c
	}
	changed := slices.Clone(committed.Leaves)
	changed[5].SetUint64(5)
	swapped := slices.Clone(committed.Leaves)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	test.NewAssert(t).CheckCircuit(&leavesRootCircuit{Leaves: make([]frontend.Variable, 8)},
		test.WithValidAssignment(assign(committed.Root, committed.Leaves)),
		test.WithInvalidAssignment(assign(committed.Root, changed)),
		test.WithInvalidAssignment(assign(committed.Root, swapped)),
		test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16), test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())
	if other, _ := f.q.CommitLeaves(dp.RowSalts(dp.SeedFromUint64(10), 8)); other.Root == committed.Root {
		t.Error("the salts do not change D")
	}
	if data.LeavesRoot(committed.Leaves[:7]) == committed.Root {
		t.Error("the row bound does not change D")
	}
}
