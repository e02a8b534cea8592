package data

import (
	"errors"
	"math"
	"testing"

	"github.com/zkdp/zkdp/commit"
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
	if _, err := (&Quantized{}).Commit(); !errors.Is(err, commit.ErrEmptyTree) {
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
	tree, err := q.Commit()
	if err != nil {
		t.Fatal(err)
	}
	again, err := q.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if tree.Root() != again.Root() || tree.Len() != q.Len() {
		t.Fatal("commit is not deterministic")
	}
	// The leaf is exactly the packed hash of (x_i, y_i).
	row := append(append([]int64(nil), q.X[3]...), int64(q.Y[3]))
	want, err := commit.HashPacked(commit.TagLeaf, row, q.LeafBits())
	if err != nil {
		t.Fatal(err)
	}
	if leaf, err := q.Leaf(3); err != nil || leaf != want {
		t.Fatalf("Leaf(3) is not HashPacked(TagLeaf, x_3 || y_3): %v", err)
	}
	if _, err := q.Leaf(q.Len()); !errors.Is(err, ErrShape) {
		t.Fatalf("Leaf past the end: %v", err)
	}
	for _, i := range []int{0, 1, 200, q.Len() - 1} {
		path, err := tree.Path(i)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := q.Leaf(i)
		if err != nil {
			t.Fatal(err)
		}
		if commit.RootFromPath(leaf, i, path) != tree.Root() {
			t.Fatalf("row %d: Merkle path does not reach the root", i)
		}
	}
	// One unit in the last place of one feature, or one label, moves the root.
	q.X[100][7]++
	changed, err := q.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if changed.Root() == tree.Root() {
		t.Fatal("changing one quantized value kept the root")
	}
	q.X[100][7]--
	q.Y[100] = 1 - q.Y[100]
	relabeled, err := q.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if relabeled.Root() == tree.Root() {
		t.Fatal("changing one label kept the root")
	}
}
