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

// Len is the number of rows.
func (q *Quantized) Len() int { return len(q.Y) }

// Leaf is row i's Merkle leaf, commit.HashPackedSalted(TagLeaf, x_i || y_i,
// LeafBits, salt): the secret salt keeps D from revealing a row that can be
// guessed. i must be in [0, Len()), as for a slice index.
func (q *Quantized) Leaf(i int, salt fr.Element) (fr.Element, error) {
	if i < 0 || i >= q.Len() {
		return fr.Element{}, fmt.Errorf("%w: row %d of %d", ErrShape, i, q.Len())
	}
	row := make([]int64, len(q.X[i])+1)
	copy(row, q.X[i])
	row[len(row)-1] = int64(q.Y[i])
	leaf, err := commit.HashPackedSalted(commit.TagLeaf, row, q.LeafBits(), salt)
	if err != nil {
		return leaf, fmt.Errorf("data: row %d: %w", i, err)
	}
	return leaf, nil
}

// LeafBits is the packing slot of a leaf's values: features are within
// [-1, 1], so |v| <= 2^FracBits < 2^(FracBits+1), and labels are small.
func (q *Quantized) LeafBits() uint { return q.FracBits + 1 }

// Commit builds the Merkle tree over every row's Leaf with its salt (one per
// row, dp.RowSalts); its root is the dataset commitment D.
func (q *Quantized) Commit(salts []fr.Element) (*commit.MerkleTree, error) {
	if len(q.X) != len(q.Y) {
		return nil, fmt.Errorf("%w: %d feature rows, %d labels", ErrShape, len(q.X), len(q.Y))
	}
	if len(salts) != len(q.Y) {
		return nil, fmt.Errorf("%w: %d salts for %d rows", ErrShape, len(salts), len(q.Y))
	}
	for i := range q.X {
		if len(q.X[i]) != len(q.X[0]) {
			return nil, fmt.Errorf("%w: row %d has %d features, row 0 has %d", ErrShape, i, len(q.X[i]), len(q.X[0]))
		}
	}
	// Leaves are independent Poseidon2 hashes (Adult's 32561 rows take about
	// 50 CPU-seconds), so hash them on every core; the result does not depend
	// on the scheduling.
	leaves := make([]fr.Element, q.Len())
	workers := min(runtime.GOMAXPROCS(0), len(leaves))
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
	tree, err := commit.NewMerkleTree(leaves)
	if err != nil {
		return nil, fmt.Errorf("data: commit: %w", err)
	}
	return tree, nil
}
