package commit

import "fmt"

// Membership is how the dataset commitment D is built, and so how a step
// proof shows that each batch row is a row of D.
type Membership uint8

const (
	// MembershipMerkle: D is the root of a binary Poseidon2 tree over the
	// salted leaves (data.Quantized.Leaf); each batch slot opens its leaf with a path.
	MembershipMerkle Membership = iota
	// MembershipFlat: D is one salted width-16 sponge over every packed row
	// of the row bound (data.FlatRoot); the step circuit rehashes the whole
	// dataset and looks each slot up in it.
	MembershipFlat
	// MembershipLeaves: D is one width-16 sponge over every salted leaf of
	// the row bound, the leaves a tree would have (data.LeavesRoot); the
	// step circuit rehashes the N_pub leaves, hashes each slot's leaf and
	// looks it up among them. For a large row (MNIST's 784 pixels) that is
	// far cheaper than flat, and cheaper than a path per slot once the batch
	// is large: about 37 constraints per row against 190 per level and slot.
	MembershipLeaves
)

func (m Membership) String() string {
	switch m {
	case MembershipMerkle:
		return "merkle"
	case MembershipFlat:
		return "flat"
	case MembershipLeaves:
		return "leaves"
	}
	return fmt.Sprintf("membership(%d)", uint8(m))
}

// PackedRowLen is the number of field elements a dataset slot's row
// (features, label, flag) packs into, its features at fracBits fractional
// bits (Pack at fracBits + 1).
func PackedRowLen(features int, fracBits uint) int {
	per := SlotsPerElement(fracBits + 1)
	return (features + 2 + per - 1) / per
}
