package commit_test

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/commit"
)

// A dataset commitment: leaves are packed hashes of quantized rows, and a row
// is opened with its Merkle path.
func ExampleNewMerkleTree() {
	rows := [][]int64{{65536, -3, 1}, {0, 12, 0}, {7, 7, 1}}
	leaves := make([]fr.Element, len(rows))
	for i, r := range rows {
		leaf, err := commit.HashPacked(commit.TagLeaf, r, 17)
		if err != nil {
			panic(err)
		}
		leaves[i] = leaf
	}
	tree, err := commit.NewMerkleTree(leaves)
	if err != nil {
		panic(err)
	}
	path, _ := tree.Path(2)
	fmt.Println("depth", tree.Depth(), "opens:", commit.RootFromPath(leaves[2], 2, path) == tree.Root())
	// Output: depth 2 opens: true
}
