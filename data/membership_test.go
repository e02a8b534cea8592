package data

import "testing"

// The membership rule on the shipped shapes (row bound, features, max
// batch at 16 fractional bits, MNIST's at its 8): small datasets are
// committed flat, MNIST as leaves, Adult as a tree.
func TestChooseMembershipShippedShapes(t *testing.T) {
	for _, c := range []struct {
		name                string
		rows, features, max int
		bits                uint
		want                Membership
	}{
		{"digits", 1472, 64, 234, 4, MembershipFlat},
		{"breast_cancer", 512, 30, 226, 16, MembershipFlat},
		{"tiny", 32, 30, 25, 16, MembershipFlat},
		{"mnist", 8000, 784, 373, 8, MembershipLeaves},
		{"adult at a batch of 400", 32576, 104, 400, 16, MembershipMerkle},
		{"mnist, a batch of 8", 8000, 784, 8, 8, MembershipMerkle},
	} {
		if got := ChooseMembership(c.rows, c.features, c.bits, c.max); got != c.want {
			t.Errorf("%s: %v (costs %v), want %v", c.name, got, MembershipCosts(c.rows, c.features, c.bits, c.max), c.want)
		}
	}
	if PackedRowLen(64, 16) != 5 || PackedRowLen(30, 16) != 3 {
		t.Errorf("packed row lengths %d, %d, want 5, 3", PackedRowLen(64, 16), PackedRowLen(30, 16))
	}
}
