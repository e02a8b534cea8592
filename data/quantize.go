package data

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/fixedpoint"
)

// ErrShape is returned for a ragged split.
var ErrShape = errors.New("data: ragged or mismatched split")

// Quantized is a split in fixed point: X[i][j] = fixedpoint.Quantize(split.X[i][j], FracBits).
type Quantized struct {
	X        [][]int64
	Y        []int
	FracBits uint
}

// QuantizeSplit quantizes every feature of s; labels are copied.
func QuantizeSplit(s Split, fracBits uint) (*Quantized, error) {
	if len(s.X) != len(s.Y) {
		return nil, fmt.Errorf("%w: %d feature rows, %d labels", ErrShape, len(s.X), len(s.Y))
	}
	q := &Quantized{X: make([][]int64, len(s.X)), Y: make([]int, len(s.Y)), FracBits: fracBits}
	copy(q.Y, s.Y)
	for i, row := range s.X {
		if len(row) != len(s.X[0]) {
			return nil, fmt.Errorf("%w: row %d has %d features, row 0 has %d", ErrShape, i, len(row), len(s.X[0]))
		}
		q.X[i] = make([]int64, len(row))
		for j, v := range row {
			var err error
			if q.X[i][j], err = fixedpoint.Quantize(v, fracBits); err != nil {
				return nil, fmt.Errorf("data: row %d feature %d: %w", i, j, err)
			}
		}
	}
	return q, nil
}

// Scaled is q with every feature multiplied by 2^shift, at FracBits + shift:
// features quantized at a format's DataBits, ready for the model at its
// FracBits (shift = DataShift). It is q itself for a zero shift.
func (q *Quantized) Scaled(shift uint) *Quantized {
	if shift == 0 {
		return q
	}
	out := &Quantized{X: make([][]int64, len(q.X)), Y: q.Y, FracBits: q.FracBits + shift}
	for i, row := range q.X {
		out.X[i] = make([]int64, len(row))
		for j, v := range row {
			out.X[i][j] = v << shift
		}
	}
	return out
}

// Len is the number of rows.
func (q *Quantized) Len() int { return len(q.Y) }

// Padding rows. The committed dataset has one leaf per slot of the public
// row bound N_pub (data.max_rows): slots 0..Len()-1 hold the real rows, the
// rest padding rows of zero features, label 0 and real flag 0, salted like
// real rows so that D does not tell them apart. The step circuit masks a
// sampled row whose flag is 0, so a padding row never contributes: datasets
// that differ by one record differ in one slot turning real or padding,
// which is the add/remove adjacency the accountant assumes, and N stays
// private.
const (
	FlagPadding int64 = 0
	FlagReal    int64 = 1
)

// Slot is slot i's row as the step proof opens it: row i's features, label
// and FlagReal for i < Len(), and the padding row (zeros, label 0,
// FlagPadding) for Len() <= i. i must not be negative.
func (q *Quantized) Slot(i int) (x []int64, label int, flag int64) {
	if i < q.Len() {
		return q.X[i], q.Y[i], FlagReal
	}
	width := 0
	if q.Len() > 0 {
		width = len(q.X[0])
	}
	return make([]int64, width), 0, FlagPadding
}

// Leaf is slot i's Merkle leaf, commit.HashPackedSalted(TagLeaf,
// x_i || y_i || flag_i, LeafBits, salt) with Slot(i)'s values: the secret
// salt keeps D from revealing a row that can be guessed, and from telling a
// padding row from a real one. i must not be negative.
func (q *Quantized) Leaf(i int, salt fr.Element) (fr.Element, error) {
	if i < 0 {
		return fr.Element{}, fmt.Errorf("%w: row %d", ErrShape, i)
	}
	x, label, flag := q.Slot(i)
	leaf, err := LeafOf(x, label, flag, q.LeafBits(), salt)
	if err != nil {
		return leaf, fmt.Errorf("data: row %d: %w", i, err)
	}
	return leaf, nil
}

// LeafOf is the leaf of a row with quantized features x, a label and a real
// flag (FlagReal or FlagPadding): commit.HashPackedSalted(TagLeaf,
// x || label || flag, bits, salt).
func LeafOf(x []int64, label int, flag int64, bits uint, salt fr.Element) (fr.Element, error) {
	row := make([]int64, len(x)+2)
	copy(row, x)
	row[len(x)], row[len(x)+1] = int64(label), flag
	return commit.HashPackedSalted(commit.TagLeaf, row, bits, salt)
}

// LeafBits is the packing slot of a leaf's values: features are within
// [-1, 1], so |v| <= 2^FracBits < 2^(FracBits+1), and labels are small.
func (q *Quantized) LeafBits() uint { return q.FracBits + 1 }

// Commit builds the Merkle tree over the rows padded to len(salts) slots,
// the public row bound N_pub: one salt per slot (dp.RowSalts(s, N_pub)),
// Leaf(i, salts[i]) at slot i. Its root is the dataset commitment D.
func (q *Quantized) Commit(salts []fr.Element) (*commit.MerkleTree, error) {
	leaves, err := q.Leaves(salts)
	if err != nil {
		return nil, err
	}
	tree, err := commit.NewMerkleTree(leaves)
	if err != nil {
		return nil, fmt.Errorf("data: commit: %w", err)
	}
	return tree, nil
}

// Leaves is Leaf(i, salts[i]) of every slot i of the row bound len(salts).
func (q *Quantized) Leaves(salts []fr.Element) ([]fr.Element, error) {
	if len(q.X) != len(q.Y) {
		return nil, fmt.Errorf("%w: %d feature rows, %d labels", ErrShape, len(q.X), len(q.Y))
	}
	if len(salts) < len(q.Y) {
		return nil, fmt.Errorf("%w: %d salts (the row bound) for %d rows", ErrShape, len(salts), len(q.Y))
	}
	for i := range q.X {
		if len(q.X[i]) != len(q.X[0]) {
			return nil, fmt.Errorf("%w: row %d has %d features, row 0 has %d", ErrShape, i, len(q.X[i]), len(q.X[0]))
		}
	}
	// Leaves are independent Poseidon2 hashes (Adult's 32561 rows take about
	// 50 CPU-seconds), so hash them on every core; the result does not depend
	// on the scheduling.
	leaves := make([]fr.Element, len(salts))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(leaves)))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(leaves) && errs[w] == nil; i += workers {
				leaves[i], errs[w] = q.Leaf(i, salts[i])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return leaves, nil
}
