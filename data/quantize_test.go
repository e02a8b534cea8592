package data

import (
	"errors"
	"math"
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
	// The leaf is exactly the salted packed hash of (x_i, y_i).
	row := append(append([]int64(nil), q.X[3]...), int64(q.Y[3]))
	salts := dp.RowSalts(testSeed, q.Len())
	want, err := commit.HashPackedSalted(commit.TagLeaf, row, q.LeafBits(), salts[3])
	if err != nil {
		t.Fatal(err)
	}
	if leaf, err := q.Leaf(3, salts[3]); err != nil || leaf != want {
		t.Fatalf("Leaf(3) is not HashPackedSalted(TagLeaf, x_3 || y_3, salt_3): %v", err)
	}
	if _, err := q.Leaf(q.Len(), salts[0]); !errors.Is(err, ErrShape) {
		t.Fatalf("Leaf past the end: %v", err)
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

// testSeed salts the test commitments.
var testSeed = dp.SeedFromUint64(3)
