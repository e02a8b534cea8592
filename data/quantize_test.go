package data

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
)

func TestQuantizeSplitErrors(t *testing.T) {
	if _, err := QuantizeSplit(Split{X: [][]float64{{0}}, Y: nil}, 8); !errors.Is(err, ErrShape) {
		t.Errorf("labels missing: got %v", err)
	}
	if _, err := QuantizeSplit(Split{X: [][]float64{{0, 1}, {0}}, Y: []int{0, 1}}, 8); !errors.Is(err, ErrShape) {
		t.Errorf("ragged rows: got %v", err)
	}
	if _, err := QuantizeSplit(Split{X: [][]float64{{0, math.NaN()}}, Y: []int{0}}, 8); !errors.Is(err, fixedpoint.ErrDomain) {
		t.Errorf("NaN feature: got %v", err)
	}
	if _, err := (&Quantized{}).Commit(nil); !errors.Is(err, commit.ErrEmptyTree) {
		t.Errorf("empty commit: got %v", err)
	}
}

func TestCommit(t *testing.T) {
	cfg, err := DefaultConfig("breast_cancer")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Load(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	q, err := QuantizeSplit(ds.Train, 16)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := q.Commit(dp.RowSalts(testSeed, q.Len()))
	if err != nil {
		t.Fatal(err)
	}
	again, err := q.Commit(dp.RowSalts(testSeed, q.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if tree.Root() != again.Root() || tree.Len() != q.Len() {
		t.Fatal("commit is not deterministic")
	}
	// The leaf is exactly the salted packed hash of (x_i, y_i, real flag 1).
	row := append(append([]int64(nil), q.X[3]...), int64(q.Y[3]), FlagReal)
	salts := dp.RowSalts(testSeed, q.Len())
	want, err := commit.HashPackedSalted(commit.TagLeaf, row, q.LeafBits(), salts[3])
	if err != nil {
		t.Fatal(err)
	}
	if leaf, err := q.Leaf(3, salts[3]); err != nil || leaf != want {
		t.Fatalf("Leaf(3) is not HashPackedSalted(TagLeaf, x_3 || y_3 || 1, salt_3): %v", err)
	}
	if _, err := q.Leaf(-1, salts[0]); !errors.Is(err, ErrShape) {
		t.Fatalf("Leaf before the start: %v", err)
	}
	for _, i := range []int{0, 1, 200, q.Len() - 1} {
		path, err := tree.Path(i)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := q.Leaf(i, salts[i])
		if err != nil {
			t.Fatal(err)
		}
		if commit.RootFromPath(leaf, i, path) != tree.Root() {
			t.Fatalf("row %d: Merkle path does not reach the root", i)
		}
	}
	// One unit in the last place of one feature, or one label, moves the root.
	q.X[100][7]++
	changed, err := q.Commit(dp.RowSalts(testSeed, q.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if changed.Root() == tree.Root() {
		t.Fatal("changing one quantized value kept the root")
	}
	q.X[100][7]--
	q.Y[100] = 1 - q.Y[100]
	relabeled, err := q.Commit(dp.RowSalts(testSeed, q.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if relabeled.Root() == tree.Root() {
		t.Fatal("changing one label kept the root")
	}
	q.Y[100] = 1 - q.Y[100]
	// The same rows under another seed's salts: another root, so D cannot
	// be recomputed, nor a guessed row tested, without the secret seed.
	resalted, err := q.Commit(dp.RowSalts(dp.SeedFromUint64(4), q.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if resalted.Root() == tree.Root() {
		t.Fatal("other salts kept the root")
	}
	if _, err := q.Commit(salts[1:]); !errors.Is(err, ErrShape) {
		t.Fatalf("one salt short: got %v", err)
	}
}

// D of N real rows padded to a row bound N_pub > N differs from D of the
// unpadded rows, and its padding leaves are zero rows with real flag 0 and
// their own salts: the leaf of a padding slot differs from every real leaf
// and from the padding leaf under another salt.
func TestCommitPadsToTheRowBound(t *testing.T) {
	cfg, err := DefaultConfig("breast_cancer")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Load(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	q, err := QuantizeSplit(ds.Train, 16)
	if err != nil {
		t.Fatal(err)
	}
	if ds.MaxRows <= q.Len() {
		t.Fatalf("breast cancer's row bound %d does not exceed its %d rows", ds.MaxRows, q.Len())
	}
	unpadded, err := q.Commit(dp.RowSalts(testSeed, q.Len()))
	if err != nil {
		t.Fatal(err)
	}
	salts := dp.RowSalts(testSeed, ds.MaxRows)
	padded, err := q.Commit(salts)
	if err != nil {
		t.Fatal(err)
	}
	if padded.Root() == unpadded.Root() {
		t.Fatal("padding to the row bound kept D")
	}
	if padded.Len() != ds.MaxRows {
		t.Fatalf("the padded tree has %d leaves, want %d", padded.Len(), ds.MaxRows)
	}
	n := q.Len()
	zeros := make([]int64, len(q.X[0])+2) // features, label 0, flag 0
	want, err := commit.HashPackedSalted(commit.TagLeaf, zeros, q.LeafBits(), salts[n])
	if err != nil {
		t.Fatal(err)
	}
	got, err := q.Leaf(n, salts[n])
	if err != nil || got != want {
		t.Fatalf("padding leaf %d is not HashPackedSalted(TagLeaf, 0 || 0 || 0, salt): %v", n, err)
	}
	if other, _ := q.Leaf(n+1, salts[n+1]); other == got {
		t.Fatal("two padding leaves are equal: their salts do not hide them")
	}
	x, label, flag := q.Slot(n)
	if flag != FlagPadding || label != 0 || len(x) != len(q.X[0]) {
		t.Fatalf("Slot(%d) = %v, %d, %d: not a padding row", n, x, label, flag)
	}
	if _, _, flag := q.Slot(n - 1); flag != FlagReal {
		t.Fatalf("Slot(%d) of a real row has flag %d", n-1, flag)
	}
	path, err := padded.Path(ds.MaxRows - 1)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := q.Leaf(ds.MaxRows-1, salts[ds.MaxRows-1])
	if commit.RootFromPath(last, ds.MaxRows-1, path) != padded.Root() {
		t.Fatal("the last padding leaf does not open")
	}
}

// More training rows than data.max_rows is an error naming the field.
func TestRowBoundExceeded(t *testing.T) {
	cfg, err := DefaultConfig("breast_cancer")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxRows = 400
	_, err = Load(cfg, 5)
	if !errors.Is(err, ErrRowBound) || !strings.Contains(err.Error(), "data.max_rows") {
		t.Fatalf("455 rows under a bound of 400: got %v", err)
	}
	cfg.MaxRows = 0
	if _, err = Load(cfg, 5); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "data.max_rows") {
		t.Fatalf("no row bound: got %v", err)
	}
}

// testSeed salts the test commitments.
var testSeed = dp.SeedFromUint64(3)
