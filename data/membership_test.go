package data

import "testing"

// The membership rule on the shipped shapes (row bound, features, max
// batch at 16 fractional bits): small datasets are committed flat, MNIST and
// Adult as trees.
func TestChooseMembershipShippedShapes(t *testing.T) {
	for _, c := range []struct {
		name                string
		rows, features, max int
		want                Membership
	}{
		{"digits", 1472, 64, 234, MembershipFlat},
		{"breast_cancer", 512, 30, 226, MembershipFlat},
		{"tiny", 32, 30, 25, MembershipFlat},
		{"mnist", 8000, 784, 541, MembershipMerkle},
		{"adult", 32576, 104, 400, MembershipMerkle},
	} {
		flat, merkle := MembershipCosts(c.rows, c.features, 16, c.max)
		if got := ChooseMembership(c.rows, c.features, 16, c.max); got != c.want {
			t.Errorf("%s: %v (flat %d, merkle %d), want %v", c.name, got, flat, merkle, c.want)
		}
	}
	if PackedRowLen(64, 16) != 5 || PackedRowLen(30, 16) != 3 {
		t.Errorf("packed row lengths %d, %d, want 5, 3", PackedRowLen(64, 16), PackedRowLen(30, 16))
	}
}
