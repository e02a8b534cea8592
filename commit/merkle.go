package commit

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// ErrEmptyTree is returned for a tree without leaves.
var ErrEmptyTree = errors.New("commit: a Merkle tree needs at least one leaf")

// ErrLeafIndex is returned when a proof is asked for a leaf that does not exist.
var ErrLeafIndex = errors.New("commit: leaf index out of range")

// MerkleTree is a binary Poseidon2 tree of fixed depth. Leaves beyond the
// real ones are the zero element; the sampler never selects them, and the
// step circuit checks every opened index against the public row count.
type MerkleTree struct {
	levels [][]fr.Element // levels[0] = padded leaves, last = [root]
	count  int            // real leaves
}

// NewMerkleTree builds the tree over leaves, padded to a power of two.
func NewMerkleTree(leaves []fr.Element) (*MerkleTree, error) {
	if len(leaves) == 0 {
		return nil, ErrEmptyTree
	}
	width := 1
	for width < len(leaves) {
		width *= 2
	}
	level := make([]fr.Element, width)
	copy(level, leaves)
	t := &MerkleTree{levels: [][]fr.Element{level}, count: len(leaves)}
	for len(level) > 1 {
		next := make([]fr.Element, len(level)/2)
		for i := range next {
			next[i] = Node(level[2*i], level[2*i+1])
		}
		t.levels = append(t.levels, next)
		level = next
	}
	return t, nil
}

// Root is the tree's commitment.
func (t *MerkleTree) Root() fr.Element { return t.levels[len(t.levels)-1][0] }

// Depth is the number of siblings on every path.
func (t *MerkleTree) Depth() int { return len(t.levels) - 1 }

// Len is the number of real leaves.
func (t *MerkleTree) Len() int { return t.count }

// Path returns the siblings from the leaf level up to the root's children.
// The index's bits, lowest first, say on which side each sibling lies.
func (t *MerkleTree) Path(index int) ([]fr.Element, error) {
	if index < 0 || index >= t.count {
		return nil, fmt.Errorf("%w: %d not in [0,%d)", ErrLeafIndex, index, t.count)
	}
	path := make([]fr.Element, t.Depth())
	for d := range path {
		path[d] = t.levels[d][index^1]
		index >>= 1
	}
	return path, nil
}

// RootFromPath recomputes the root from a leaf, its index and its path.
func RootFromPath(leaf fr.Element, index int, path []fr.Element) fr.Element {
	cur := leaf
	for _, sib := range path {
		if index&1 == 0 {
			cur = Node(cur, sib)
		} else {
			cur = Node(sib, cur)
		}
		index >>= 1
	}
	return cur
}
