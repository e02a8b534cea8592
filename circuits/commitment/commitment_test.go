package commitment

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/math/bits"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/circuits/lookup"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
)

// fast are the options every check uses: BN254 only (the commitments are
// BN254 elements) and the solver instead of the prover, so the package tests
// stay in seconds. The prover_checks build tag runs Groth16 end to end.
var fast = []test.TestingOption{test.WithCurves(ecc.BN254), test.NoProverChecks()}

func opts(extra ...test.TestingOption) []test.TestingOption {
	return append(append([]test.TestingOption{}, fast...), extra...)
}

// packedCircuit asserts Digest = HashPacked(Tag, Vals, Bits).
type packedCircuit struct {
	Vals   []frontend.Variable
	Digest frontend.Variable `gnark:",public"`

	Tag       uint64 `gnark:"-"`
	Bits      uint   `gnark:"-"`
	Unchecked bool   `gnark:"-"`
}

func (c *packedCircuit) Define(api frontend.API) error {
	var d frontend.Variable
	if c.Unchecked {
		d = HashPackedUnchecked(api, c.Tag, c.Vals, c.Bits)
	} else {
		d = HashPacked(api, c.Tag, c.Vals, c.Bits)
	}
	api.AssertIsEqual(d, c.Digest)
	return nil
}

// fe embeds a signed integer in the field, as commit.FromInt64 does.
func fe(v int64) *big.Int {
	e := commit.FromInt64(v)
	var b big.Int
	e.BigInt(&b)
	return &b
}

func feOf(e fr.Element) *big.Int {
	var b big.Int
	e.BigInt(&b)
	return &b
}

// loosePacked is commit.HashPacked without its range check: the digest a
// prover would claim for out-of-range values if the circuit did not bound
// them. vals are arbitrary integers, reduced in the field.
func loosePacked(tag uint64, vals []*big.Int, bits uint) fr.Element {
	per := commit.SlotsPerElement(bits)
	off := new(big.Int).Lsh(big.NewInt(1), bits)
	var elems []fr.Element
	for start := 0; start < len(vals); start += per {
		acc := new(big.Int)
		for k := start; k < min(start+per, len(vals)); k++ {
			slot := new(big.Int).Add(vals[k], off)
			acc.Add(acc, slot.Lsh(slot, uint(k-start)*(bits+1)))
		}
		var e fr.Element
		e.SetBigInt(acc)
		elems = append(elems, e)
	}
	return commit.Sponge(commit.PackedIV(tag, len(vals), bits), elems)
}

func bigs(vals []int64) []*big.Int {
	out := make([]*big.Int, len(vals))
	for i, v := range vals {
		out[i] = big.NewInt(v)
	}
	return out
}

func packedAssignment(t *testing.T, tag uint64, vals []int64, bits uint) *packedCircuit {
	t.Helper()
	d, err := commit.HashPacked(tag, vals, bits)
	if err != nil {
		t.Fatal(err)
	}
	a := &packedCircuit{Vals: make([]frontend.Variable, len(vals)), Digest: feOf(d)}
	for i, v := range vals {
		a.Vals[i] = fe(v)
	}
	return a
}

// randomVals draws n values with |v| < 2^bits, with both extremes and zero
// among them.
func randomVals(rng *rand.Rand, n int, bits uint) []int64 {
	lim := int64(1) << bits
	vals := make([]int64, n)
	for i := range vals {
		vals[i] = rng.Int64N(2*lim-1) - (lim - 1)
	}
	for i, v := range []int64{lim - 1, -(lim - 1), 0} {
		if i < n {
			vals[rng.IntN(n)] = v
		}
	}
	return vals
}

func TestLoosePackedMatchesNative(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bits := range []uint{1, 17, 62} {
		vals := randomVals(rng, 40, bits)
		want, err := commit.HashPacked(commit.TagModel, vals, bits)
		if err != nil {
			t.Fatal(err)
		}
		if got := loosePacked(commit.TagModel, bigs(vals), bits); got != want {
			t.Fatalf("bits=%d: the test's reference packing disagrees with commit.HashPacked", bits)
		}
	}
}

func TestHashPackedMatchesNative(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, bits := range []uint{1, 5, 17, 22, 62} {
		per := commit.SlotsPerElement(bits)
		lengths := []int{1, per - 1, per, per + 1, 2*per + 3}
		if bits == 17 {
			// Sponge block edges: 15, 16 and 31 packed elements.
			lengths = append(lengths, commit.SpongeRate*per, commit.SpongeRate*per+1, 2*commit.SpongeRate*per+1)
		}
		for _, n := range lengths {
			if n < 1 {
				continue
			}
			vals := randomVals(rng, n, bits)
			valid := packedAssignment(t, commit.TagModel, vals, bits)
			lim := int64(1) << bits

			// A changed value, still in range.
			changed := packedAssignment(t, commit.TagModel, vals, bits)
			j := rng.IntN(n)
			if vals[j] > 0 {
				changed.Vals[j] = fe(vals[j] - 1)
			} else {
				changed.Vals[j] = fe(vals[j] + 1)
			}
			// Another tag: domains must not mix.
			otherTag := packedAssignment(t, commit.TagLeaf, vals, bits)
			// A dropped value: the length is part of the digest.
			var shorter *packedCircuit
			if n > 1 {
				d, _ := commit.HashPacked(commit.TagModel, vals[:n-1], bits)
				shorter = packedAssignment(t, commit.TagModel, vals, bits)
				shorter.Vals[n-1] = 0
				shorter.Digest = feOf(d)
			}
			// Out of the slot range on either side, with the digest a loose
			// packing would give: only the range check rejects these.
			var outOfRange []*packedCircuit
			for _, bad := range []*big.Int{big.NewInt(lim), new(big.Int).Neg(big.NewInt(lim + 1)), new(big.Int).Lsh(big.NewInt(1), 200)} {
				raw := bigs(vals)
				raw[j] = bad
				a := packedAssignment(t, commit.TagModel, vals, bits)
				a.Vals[j] = new(big.Int).Mod(bad, ecc.BN254.ScalarField())
				a.Digest = feOf(loosePacked(commit.TagModel, raw, bits))
				outOfRange = append(outOfRange, a)
			}

			o := opts(test.WithValidAssignment(valid),
				test.WithInvalidAssignment(changed),
				test.WithInvalidAssignment(otherTag))
			if shorter != nil {
				o = append(o, test.WithInvalidAssignment(shorter))
			}
			for _, a := range outOfRange {
				o = append(o, test.WithInvalidAssignment(a))
			}
			assert.Run(func(assert *test.Assert) {
				assert.CheckCircuit(&packedCircuit{Vals: make([]frontend.Variable, n), Tag: commit.TagModel, Bits: bits}, o...)
			}, fmt.Sprintf("bits=%d/n=%d", bits, n))
		}
	}
}

// TestHashPackedAliasing builds the collision the range check exists for:
// v_i + 2^(bits+1) in slot i and v_{i+1} - 1 in slot i+1 pack to the same
// element as the honest (v_i, v_{i+1}). HashPacked rejects it;
// HashPackedUnchecked, whose soundness rests on the caller, accepts it.
func TestHashPackedAliasing(t *testing.T) {
	assert := test.NewAssert(t)
	const bits = 17
	rng := rand.New(rand.NewPCG(5, 6))
	vals := randomVals(rng, 30, bits)
	vals[3], vals[4] = -(1<<bits - 1), 7
	honest := packedAssignment(t, commit.TagLeaf, vals, bits)
	alias := packedAssignment(t, commit.TagLeaf, vals, bits)
	alias.Vals[3] = fe(vals[3] + 1<<(bits+1))
	alias.Vals[4] = fe(vals[4] - 1)
	// Sanity of the construction: a different vector with the same packing.
	if loosePacked(commit.TagLeaf, []*big.Int{big.NewInt(vals[3] + 1<<(bits+1)), big.NewInt(vals[4] - 1)}, bits) != loosePacked(commit.TagLeaf, bigs(vals[3:5]), bits) {
		t.Fatal("the alias does not pack like the honest vector")
	}
	assert.CheckCircuit(&packedCircuit{Vals: make([]frontend.Variable, len(vals)), Tag: commit.TagLeaf, Bits: bits},
		opts(test.WithValidAssignment(honest), test.WithInvalidAssignment(alias))...)
	assert.CheckCircuit(&packedCircuit{Vals: make([]frontend.Variable, len(vals)), Tag: commit.TagLeaf, Bits: bits, Unchecked: true},
		opts(test.WithValidAssignment(honest), test.WithValidAssignment(alias))...)
}

// TestHashPackedLowerEdge pins the bound shared with commit.Pack: -2^bits is
// inside the range (slot 0) and -2^bits - 1 is not.
func TestHashPackedLowerEdge(t *testing.T) {
	assert := test.NewAssert(t)
	const bits = 22
	vals := []int64{5, -(1 << bits), 9}
	edge := packedAssignment(t, commit.TagModel, []int64{5, 0, 9}, bits)
	edge.Vals[1] = fe(-(1 << bits))
	edge.Digest = feOf(loosePacked(commit.TagModel, bigs(vals), bits))
	native, err := commit.HashPacked(commit.TagModel, vals, bits)
	if err != nil || feOf(native).Cmp(edge.Digest.(*big.Int)) != 0 {
		t.Fatalf("commit.HashPacked disagrees at -2^bits: %v", err)
	}
	below := packedAssignment(t, commit.TagModel, []int64{5, 0, 9}, bits)
	below.Vals[1] = fe(-(1 << bits) - 1)
	below.Digest = feOf(loosePacked(commit.TagModel, bigs([]int64{5, -(1 << bits) - 1, 9}), bits))
	assert.CheckCircuit(&packedCircuit{Vals: make([]frontend.Variable, 3), Tag: commit.TagModel, Bits: bits},
		opts(test.WithValidAssignment(edge), test.WithInvalidAssignment(below))...)
}

// merkleCircuit asserts that Leaf sits at Index under Root.
type merkleCircuit struct {
	Leaf  frontend.Variable
	Index frontend.Variable
	Path  []frontend.Variable
	Root  frontend.Variable `gnark:",public"`
}

func (c *merkleCircuit) Define(api frontend.API) error {
	VerifyMembership(api, c.Root, c.Leaf, c.Index, c.Path)
	return nil
}

func merkleAssignment(t *testing.T, tree *commit.MerkleTree, leaf fr.Element, i int) *merkleCircuit {
	t.Helper()
	path, err := tree.Path(i)
	if err != nil {
		t.Fatal(err)
	}
	a := &merkleCircuit{Leaf: feOf(leaf), Index: i, Path: make([]frontend.Variable, len(path)), Root: feOf(tree.Root())}
	for d := range path {
		a.Path[d] = feOf(path[d])
	}
	if commit.RootFromPath(leaf, i, path) != tree.Root() {
		t.Fatalf("leaf %d: native path does not open", i)
	}
	return a
}

func TestMerkleEveryLeaf(t *testing.T) {
	assert := test.NewAssert(t)
	for _, n := range []int{1, 2, 5, 8} {
		leaves := make([]fr.Element, n)
		for i := range leaves {
			leaves[i] = commit.HashInts(commit.TagLeaf, []int64{int64(i), int64(n)})
		}
		tree, err := commit.NewMerkleTree(leaves)
		if err != nil {
			t.Fatal(err)
		}
		depth := tree.Depth()
		o := opts()
		for i := range n {
			o = append(o, test.WithValidAssignment(merkleAssignment(t, tree, leaves[i], i)))

			root := merkleAssignment(t, tree, leaves[i], i)
			root.Root = feOf(leaves[i]) // any other root
			if n == 1 {
				root.Root = 12345
			}
			// Past the tree: index + 2^depth has the same low bits, which
			// native RootFromPath would ignore; ToBinary must not.
			past := merkleAssignment(t, tree, leaves[i], i)
			past.Index = i + 1<<depth
			o = append(o, test.WithInvalidAssignment(root), test.WithInvalidAssignment(past))
			if n > 1 {
				other := merkleAssignment(t, tree, leaves[i], i)
				other.Leaf = feOf(leaves[(i+1)%n])
				index := merkleAssignment(t, tree, leaves[i], i)
				index.Index = i ^ 1
				sib := merkleAssignment(t, tree, leaves[i], i)
				sib.Path[depth-1] = 7
				o = append(o, test.WithInvalidAssignment(other), test.WithInvalidAssignment(index), test.WithInvalidAssignment(sib))
			}
		}
		assert.Run(func(assert *test.Assert) {
			assert.CheckCircuit(&merkleCircuit{Path: make([]frontend.Variable, depth)}, o...)
		}, fmt.Sprintf("n=%d", n))
	}
}

// rowCircuit opens a dataset row against the dataset root: the leaf is
// recomputed in-circuit from the row, as the step circuit does.
type rowCircuit struct {
	X     []frontend.Variable
	Label frontend.Variable
	Real  frontend.Variable
	Index frontend.Variable
	Path  []frontend.Variable
	Salt  frontend.Variable
	Root  frontend.Variable `gnark:",public"`

	FracBits uint `gnark:"-"`
}

func (c *rowCircuit) Define(api frontend.API) error {
	VerifyMembership(api, c.Root, LeafOf(api, c.X, c.Label, c.Real, c.Salt, c.FracBits), c.Index, c.Path)
	return nil
}

func rowAssignment(t *testing.T, q *data.Quantized, tree *commit.MerkleTree, i int) *rowCircuit {
	t.Helper()
	path, err := tree.Path(i)
	if err != nil {
		t.Fatal(err)
	}
	x, label, flag := q.Slot(i)
	a := &rowCircuit{X: make([]frontend.Variable, len(x)), Label: label, Real: flag, Index: i,
		Path: make([]frontend.Variable, len(path)), Salt: feOf(dp.RowSalt(testSeed, i)), Root: feOf(tree.Root())}
	for j, v := range x {
		a.X[j] = fe(v)
	}
	for d := range path {
		a.Path[d] = feOf(path[d])
	}
	return a
}

func breastCancer(t *testing.T) (*data.Quantized, *commit.MerkleTree) {
	t.Helper()
	cfg, err := data.DefaultConfig("breast_cancer")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	q, err := data.QuantizeSplit(ds.Train, fixedpoint.DefaultFormat().FracBits)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := q.Commit(dp.RowSalts(testSeed, ds.MaxRows))
	if err != nil {
		t.Fatal(err)
	}
	return q, tree
}

// testSeed salts the test dataset's leaves.
var testSeed = dp.SeedFromUint64(11)

func TestOpenRealDatasetRow(t *testing.T) {
	assert := test.NewAssert(t)
	q, tree := breastCancer(t)
	rng := rand.New(rand.NewPCG(7, 8))
	o := opts()
	for range 4 {
		i := rng.IntN(q.Len())
		// Another row with another label, so that swapping rows changes both.
		k := (i + 1) % q.Len()
		for q.Y[k] == q.Y[i] {
			k = (k + 1) % q.Len()
		}
		o = append(o, test.WithValidAssignment(rowAssignment(t, q, tree, i)))

		feat := rowAssignment(t, q, tree, i)
		feat.X[3] = fe(q.X[i][3] + 1)
		label := rowAssignment(t, q, tree, i)
		label.Label = 1 - q.Y[i]
		index := rowAssignment(t, q, tree, i)
		index.Index = k
		sib := rowAssignment(t, q, tree, i)
		sib.Path[0] = feOf(commit.Node(commit.FromInt64(1), commit.FromInt64(2)))
		swapped := rowAssignment(t, q, tree, k)
		swapped.Index, swapped.Path = i, rowAssignment(t, q, tree, i).Path
		root := rowAssignment(t, q, tree, i)
		root.Root = fe(1)
		salt := rowAssignment(t, q, tree, i)
		salt.Salt = feOf(dp.RowSalt(testSeed, k))
		o = append(o, test.WithInvalidAssignment(salt))
		o = append(o, test.WithInvalidAssignment(feat), test.WithInvalidAssignment(label),
			test.WithInvalidAssignment(index), test.WithInvalidAssignment(sib),
			test.WithInvalidAssignment(swapped), test.WithInvalidAssignment(root))
	}
	assert.CheckCircuit(&rowCircuit{X: make([]frontend.Variable, len(q.X[0])), Path: make([]frontend.Variable, tree.Depth()),
		FracBits: q.FracBits}, o...)
}

// A padding leaf of the row bound opens only with its real flag 0: a flag
// of 1 changes the leaf (the flag is in its preimage), and a flag of 2 is not
// boolean (with a zero row, 2*0 would otherwise pass a mask product unseen).
func TestPaddingLeafFlag(t *testing.T) {
	assert := test.NewAssert(t)
	q, tree := breastCancer(t)
	if tree.Len() <= q.Len() {
		t.Fatalf("the breast cancer tree has %d leaves for %d rows: no padding to test", tree.Len(), q.Len())
	}
	pad := q.Len() + 3
	claimReal := rowAssignment(t, q, tree, pad)
	claimReal.Real = 1
	notBoolean := rowAssignment(t, q, tree, pad)
	notBoolean.Real = 2
	realRow := rowAssignment(t, q, tree, 5)
	realRow.Real = 0
	assert.CheckCircuit(&rowCircuit{X: make([]frontend.Variable, len(q.X[0])), Path: make([]frontend.Variable, tree.Depth()), FracBits: q.FracBits},
		append(opts(), test.WithValidAssignment(rowAssignment(t, q, tree, pad)), test.WithValidAssignment(rowAssignment(t, q, tree, tree.Len()-1)),
			test.WithInvalidAssignment(claimReal), test.WithInvalidAssignment(notBoolean), test.WithInvalidAssignment(realRow))...)
}

// TestNotBooleanFlagRejected isolates the boolean check: a leaf hashed with
// flag 2 (as a cheating commitment could be) still does not open.
func TestNotBooleanFlagRejected(t *testing.T) {
	q, _ := breastCancer(t)
	x, label, _ := q.Slot(0)
	salt := dp.RowSalt(testSeed, 0)
	leaf, err := data.LeafOf(x, label, 2, q.LeafBits(), salt)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := commit.NewMerkleTree([]fr.Element{leaf, leaf})
	if err != nil {
		t.Fatal(err)
	}
	path, _ := tree.Path(0)
	a := &rowCircuit{X: make([]frontend.Variable, len(x)), Label: label, Real: 2, Index: 0,
		Path: []frontend.Variable{feOf(path[0])}, Salt: feOf(salt), Root: feOf(tree.Root())}
	for j, v := range x {
		a.X[j] = fe(v)
	}
	if err := test.IsSolved(&rowCircuit{X: make([]frontend.Variable, len(x)), Path: make([]frontend.Variable, 1), FracBits: q.FracBits}, a, ecc.BN254.ScalarField()); err == nil {
		t.Fatal("a leaf with real flag 2 opened")
	}
}

func TestLeafOfMatchesNative(t *testing.T) {
	q, _ := breastCancer(t)
	for _, i := range []int{0, q.Len() - 1} {
		salt := dp.RowSalt(testSeed, i)
		want, err := q.Leaf(i, salt)
		if err != nil {
			t.Fatal(err)
		}
		row := append(append([]int64{}, q.X[i]...), int64(q.Y[i]), data.FlagReal)
		got, err := commit.HashPackedSalted(commit.TagLeaf, row, q.LeafBits(), salt)
		if err != nil || got != want || q.LeafBits() != q.FracBits+1 {
			t.Fatalf("row %d: LeafOf's definition drifted from data.Quantized.Leaf", i)
		}
	}
}

// hintByName finds a registered hint whose name ends with suffix, so the
// tests can override gnark's unexported hints.
func hintByName(t *testing.T, suffix string, hints []solver.Hint) solver.HintID {
	t.Helper()
	for _, h := range hints {
		if strings.HasSuffix(solver.GetHintName(h), suffix) {
			return solver.GetHintID(h)
		}
	}
	t.Fatalf("no hint named *%s", suffix)
	return 0
}

// TestWrongHintsRejected substitutes dishonest values for the hints behind
// the range checks and the index bits (the package has no hints of its own)
// and checks the constraint system rejects an otherwise valid witness. The
// test engine does not run these hints, so it is skipped.
func TestWrongHintsRejected(t *testing.T) {
	assert := test.NewAssert(t)
	rng := rand.New(rand.NewPCG(9, 10))
	const nb = 17
	vals := randomVals(rng, 20, nb)
	valid := packedAssignment(t, commit.TagModel, vals, nb)

	// Limbs off by one: the recomposition no longer holds.
	offByOne := func(m *big.Int, in, out []*big.Int) error {
		if err := lookup.SplitHint(m, in, out); err != nil {
			return err
		}
		out[0].Add(out[0], big.NewInt(1))
		return nil
	}
	// Limbs of the value minus 2^(bits+1): each limb passes its table
	// lookup but they recompose to something else.
	wrap := func(m *big.Int, in, out []*big.Int) error {
		shifted := new(big.Int).Sub(in[0], new(big.Int).Lsh(big.NewInt(1), nb+1))
		shifted.Mod(shifted, m)
		return lookup.SplitHint(m, append([]*big.Int{shifted}, in[1:]...), out)
	}
	split := solver.GetHintID(lookup.SplitHint)
	circuit := &packedCircuit{Vals: make([]frontend.Variable, len(vals)), Tag: commit.TagModel, Bits: nb}
	assert.CheckCircuit(circuit, opts(test.WithValidAssignment(valid))...)
	for _, h := range []solver.Hint{offByOne, wrap} {
		assert.CheckCircuit(circuit, opts(test.NoTestEngine(), test.WithInvalidAssignment(valid),
			test.WithSolverOpts(solver.OverrideHint(split, h)))...)
	}

	leaves := make([]fr.Element, 6)
	for i := range leaves {
		leaves[i] = commit.HashInts(commit.TagLeaf, []int64{int64(i)})
	}
	tree, err := commit.NewMerkleTree(leaves)
	if err != nil {
		t.Fatal(err)
	}
	nBits := hintByName(t, ".nBits", bits.GetHints())
	flip := func(m *big.Int, in, out []*big.Int) error {
		for i := range out {
			out[i].SetUint64(uint64(in[0].Bit(i)))
		}
		out[0].SetUint64(1 - out[0].Uint64())
		return nil
	}
	assert.CheckCircuit(&merkleCircuit{Path: make([]frontend.Variable, tree.Depth())},
		opts(test.NoTestEngine(), test.WithInvalidAssignment(merkleAssignment(t, tree, leaves[4], 4)),
			test.WithSolverOpts(solver.OverrideHint(nBits, flip)))...)
}
