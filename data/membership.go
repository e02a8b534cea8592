package data

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/commit"
)

// Membership is how the dataset commitment D is built (commit.Membership,
// which the step circuit reads too).
type Membership = commit.Membership

// The two formats.
const (
	MembershipMerkle = commit.MembershipMerkle
	MembershipFlat   = commit.MembershipFlat
	MembershipLeaves = commit.MembershipLeaves
)

// R1CS costs of the pieces the membership rule weighs, measured in
// circuits/commitment's stats.csv: a width-16 sponge permutation and one
// level of a width-2 Merkle path (its compression and side select).
const (
	costSpongePermutation = 555
	costMerkleLevel       = 190
)

// MembershipCosts estimates the R1CS constraints that each format spends on
// membership in a step circuit over rows slots (N_pub) of features
// quantized to fracBits, with maxBatch slots per batch. Every format pays
// the slot rows' range checks, which are left out.
//
//   - flat: the sponge over rows * k packed elements and the salt, and per
//     row its k-element compression, its lookup fraction and the range check
//     of its multiplicity;
//   - merkle: per slot its leaf's sponge (k elements and the salt) and one
//     compression and select per level;
//   - leaves: the sponge over rows leaves, per row its lookup fraction and
//     multiplicity check, and per slot its leaf's sponge and its lookup.
func MembershipCosts(rows, features int, fracBits uint, maxBatch int) map[Membership]int {
	k := PackedRowLen(features, fracBits)
	depth := 0
	for 1<<depth < rows {
		depth++
	}
	perms := func(elems int) int { return (elems + commit.SpongeRate - 1) / commit.SpongeRate }
	leaf := perms(k+1) * costSpongePermutation
	return map[Membership]int{
		MembershipFlat:   perms(rows*k+1)*costSpongePermutation + rows*(k+2) + maxBatch*(k+1),
		MembershipMerkle: maxBatch * (leaf + depth*costMerkleLevel),
		MembershipLeaves: perms(rows)*costSpongePermutation + rows*3 + maxBatch*(leaf+2),
	}
}

// ChooseMembership is the format of a dataset's commitment: the one of least
// estimated cost (flat for small datasets such as digits and breast cancer,
// leaves for MNIST's 8,000 x 784), Merkle on a tie. It depends only on
// public parameters, so the trainer, the prover and a verifier compiling the
// step circuit agree on it.
func ChooseMembership(rows, features int, fracBits uint, maxBatch int) Membership {
	costs := MembershipCosts(rows, features, fracBits, maxBatch)
	best := MembershipMerkle
	for _, m := range []Membership{MembershipFlat, MembershipLeaves} {
		if costs[m] < costs[best] {
			best = m
		}
	}
	return best
}

// PackedRowLen is commit.PackedRowLen: the field elements a slot's row
// (features, label, flag) packs into at LeafBits.
func PackedRowLen(features int, fracBits uint) int { return commit.PackedRowLen(features, fracBits) }

// PackedSlot is slot i's row packed as a flat commitment holds it:
// commit.Pack(x_i || y_i || flag_i, LeafBits()), Slot(i)'s values.
func (q *Quantized) PackedSlot(i int) ([]fr.Element, error) {
	if i < 0 {
		return nil, fmt.Errorf("%w: row %d", ErrShape, i)
	}
	x, label, flag := q.Slot(i)
	row := make([]int64, len(x)+2)
	copy(row, x)
	row[len(x)], row[len(x)+1] = int64(label), flag
	packed, err := commit.Pack(row, q.LeafBits())
	if err != nil {
		return nil, fmt.Errorf("data: row %d: %w", i, err)
	}
	return packed, nil
}

// FlatRoot is a flat dataset commitment: Sponge(DatasetIV(len(packed),
// rowLen, bits), packed[0] || ... || packed[n-1] || salt), where packed[i] is
// slot i's packed row of rowLen values. One secret salt hides every row,
// as the per-leaf salts of a tree do.
func FlatRoot(packed [][]fr.Element, rowLen int, bits uint, salt fr.Element) fr.Element {
	var elems []fr.Element
	for _, p := range packed {
		elems = append(elems, p...)
	}
	return commit.Sponge(commit.DatasetIV(len(packed), rowLen, bits), append(elems, salt))
}

// Committed is a dataset committed to in its membership format: D, and
// what a step prover needs to show that a row is under it.
type Committed struct {
	Membership Membership
	Root       fr.Element         // D
	Tree       *commit.MerkleTree // MembershipMerkle: the tree, for the paths
	Packed     [][]fr.Element     // MembershipFlat: every slot's packed row
	Salt       fr.Element         // MembershipFlat: the dataset salt
	Leaves     []fr.Element       // MembershipLeaves: every slot's salted leaf
}

// Table is what a step circuit rehashes and looks its slots up in: every
// slot's packed row (flat), every slot's leaf as a one-element row
// (leaves), or nothing (Merkle).
func (c *Committed) Table() [][]fr.Element {
	switch c.Membership {
	case MembershipFlat:
		return c.Packed
	case MembershipLeaves:
		out := make([][]fr.Element, len(c.Leaves))
		for i := range c.Leaves {
			out[i] = c.Leaves[i : i+1]
		}
		return out
	}
	return nil
}

// LeavesRoot is a leaves dataset commitment: Sponge(LeavesIV(len(leaves)),
// leaves), over the salted leaves (Quantized.Leaf) of every slot of the row
// bound. The per-row salts hide each row, as under a tree.
func LeavesRoot(leaves []fr.Element) fr.Element {
	return commit.Sponge(commit.LeavesIV(len(leaves)), leaves)
}

// CommitLeaves is the leaves commitment over the rows padded to len(salts)
// slots, the public row bound N_pub, one salt per slot (dp.RowSalts).
func (q *Quantized) CommitLeaves(salts []fr.Element) (*Committed, error) {
	leaves, err := q.Leaves(salts)
	if err != nil {
		return nil, err
	}
	return &Committed{Membership: MembershipLeaves, Root: LeavesRoot(leaves), Leaves: leaves}, nil
}

// CommitFlat is the flat commitment over the rows padded to rows slots (the
// public row bound N_pub) with the secret dataset salt.
func (q *Quantized) CommitFlat(rows int, salt fr.Element) (*Committed, error) {
	if err := q.checkShape(rows); err != nil {
		return nil, err
	}
	packed := make([][]fr.Element, rows)
	for i := range packed {
		var err error
		if packed[i], err = q.PackedSlot(i); err != nil {
			return nil, err
		}
	}
	width := 0
	if q.Len() > 0 {
		width = len(q.X[0])
	}
	root := FlatRoot(packed, width+2, q.LeafBits(), salt)
	return &Committed{Membership: MembershipFlat, Root: root, Packed: packed, Salt: salt}, nil
}

// CommitMerkle is Commit's tree as a Committed.
func (q *Quantized) CommitMerkle(salts []fr.Element) (*Committed, error) {
	tree, err := q.Commit(salts)
	if err != nil {
		return nil, err
	}
	return &Committed{Membership: MembershipMerkle, Root: tree.Root(), Tree: tree}, nil
}

// checkShape checks that q is rectangular and fits rows slots.
func (q *Quantized) checkShape(rows int) error {
	if len(q.X) != len(q.Y) {
		return fmt.Errorf("%w: %d feature rows, %d labels", ErrShape, len(q.X), len(q.Y))
	}
	if rows < len(q.Y) || rows < 1 {
		return fmt.Errorf("%w: a row bound of %d for %d rows", ErrShape, rows, len(q.Y))
	}
	for i := range q.X {
		if len(q.X[i]) != len(q.X[0]) {
			return fmt.Errorf("%w: row %d has %d features, row 0 has %d", ErrShape, i, len(q.X[i]), len(q.X[0]))
		}
	}
	return nil
}
