package commit

import (
	"errors"
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func TestHashDomainSeparation(t *testing.T) {
	x := []int64{1, -2, 3}
	if HashInts(TagLeaf, x) == HashInts(TagModel, x) {
		t.Fatal("different tags gave the same hash")
	}
	if HashInts(TagLeaf, x) != HashInts(TagLeaf, []int64{1, -2, 3}) {
		t.Fatal("hash is not deterministic")
	}
	if HashInts(TagLeaf, x) == HashInts(TagLeaf, []int64{1, 2, 3}) {
		t.Fatal("sign of a value did not change the hash")
	}
}

func TestFromInt64Negative(t *testing.T) {
	a, b := FromInt64(-5), FromInt64(5)
	var sum fr.Element
	sum.Add(&a, &b)
	if !sum.IsZero() {
		t.Fatalf("-5 + 5 = %s, want 0", sum.String())
	}
}

func TestHexRoundTrip(t *testing.T) {
	e := HashInts(TagSeed, []int64{42})
	got, err := ParseHex(Hex(e))
	if err != nil || got != e {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if _, err := ParseHex("0x12"); !errors.Is(err, ErrBadHex) {
		t.Fatalf("short hex: got %v, want ErrBadHex", err)
	}
	if _, err := ParseHex("0x" + "ff" + Hex(e)[4:]); !errors.Is(err, ErrBadHex) {
		t.Fatalf("non-canonical hex: got %v, want ErrBadHex", err)
	}
}

func TestMerklePaths(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8, 13} {
		leaves := make([]fr.Element, n)
		for i := range leaves {
			leaves[i] = HashInts(TagLeaf, []int64{int64(i), int64(n)})
		}
		tree, err := NewMerkleTree(leaves)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			path, err := tree.Path(i)
			if err != nil {
				t.Fatal(err)
			}
			if RootFromPath(leaves[i], i, path) != tree.Root() {
				t.Fatalf("n=%d leaf %d: path does not reach the root", n, i)
			}
			// A different leaf at the same place must not reach the root.
			if RootFromPath(HashInts(TagLeaf, []int64{-1}), i, path) == tree.Root() {
				t.Fatalf("n=%d leaf %d: a forged leaf reached the root", n, i)
			}
			if n > 1 && RootFromPath(leaves[i], i^1, path) == tree.Root() {
				t.Fatalf("n=%d leaf %d: a wrong index reached the root", n, i)
			}
		}
		if _, err := tree.Path(n); !errors.Is(err, ErrLeafIndex) {
			t.Fatalf("index past the end: got %v", err)
		}
	}
	if _, err := NewMerkleTree(nil); !errors.Is(err, ErrEmptyTree) {
		t.Fatalf("empty tree: got %v", err)
	}
}

func TestPack(t *testing.T) {
	vals := []int64{0, 1, -1, 1<<17 - 1, -(1<<17 - 1)}
	for range 30 {
		vals = append(vals, int64(len(vals)*7919%(1<<17))-(1<<16))
	}
	packed, err := Pack(vals, 17)
	if err != nil {
		t.Fatal(err)
	}
	per := SlotsPerElement(17)
	if len(packed) != (len(vals)+per-1)/per {
		t.Fatalf("%d elements for %d values at %d per element", len(packed), len(vals), per)
	}
	// Unpack the first element by hand.
	var b big.Int
	packed[0].BigInt(&b)
	mask := new(big.Int).Lsh(big.NewInt(1), 18)
	for i := range per {
		var slot big.Int
		slot.Mod(&b, mask)
		if got := slot.Int64() - 1<<17; got != vals[i] {
			t.Fatalf("slot %d holds %d, want %d", i, got, vals[i])
		}
		b.Rsh(&b, 18)
	}
	if _, err := Pack([]int64{1 << 17}, 17); !errors.Is(err, ErrPackRange) {
		t.Fatalf("out-of-range value: %v", err)
	}
	h1, _ := HashPacked(TagModel, vals, 17)
	h2, _ := HashPacked(TagModel, vals[:len(vals)-1], 17)
	h3, _ := HashPacked(TagModel, vals, 18)
	if h1 == h2 || h1 == h3 {
		t.Fatal("length or slot width does not change the hash")
	}
}
