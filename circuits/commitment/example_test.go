package commitment_test

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/circuits/commitment"
	"github.com/zkdp/zkdp/commit"
)

// openRow proves that a quantized row (features and label) is a leaf of the
// dataset committed to by the public root.
type openRow struct {
	X     [2]frontend.Variable
	Label frontend.Variable
	Real  frontend.Variable // 1 for a real row, 0 for a padding row
	Index frontend.Variable
	Path  [2]frontend.Variable
	Salt  frontend.Variable // the row's secret salt
	Root  frontend.Variable `gnark:",public"`
}

func (c *openRow) Define(api frontend.API) error {
	// LeafOf range-checks the row, so X is bounded by 2^(16+1) from here on.
	leaf := commitment.LeafOf(api, c.X[:], c.Label, c.Real, c.Salt, 16)
	commitment.VerifyMembership(api, c.Root, leaf, c.Index, c.Path[:])
	return nil
}

func field(e fr.Element) *big.Int {
	var b big.Int
	e.BigInt(&b)
	return &b
}

// A row of a three-row dataset opened in-circuit against the native root.
func ExampleVerifyMembership() {
	rows := [][]int64{{65536, -3, 1, 1}, {0, 12, 0, 1}, {0, 0, 0, 0}} // two features, the label, the real flag; the last row is padding
	salts := []fr.Element{commit.FromInt64(101), commit.FromInt64(202), commit.FromInt64(303)}
	leaves := make([]fr.Element, len(rows))
	for i, r := range rows {
		leaves[i], _ = commit.HashPackedSalted(commit.TagLeaf, r, 17, salts[i])
	}
	tree, _ := commit.NewMerkleTree(leaves)
	path, _ := tree.Path(1)

	w := &openRow{
		X:     [2]frontend.Variable{0, 12},
		Label: 0,
		Real:  1,
		Index: 1,
		Path:  [2]frontend.Variable{field(path[0]), field(path[1])},
		Salt:  field(salts[1]),
		Root:  field(tree.Root()),
	}
	fmt.Println("opens:", test.IsSolved(&openRow{}, w, ecc.BN254.ScalarField()) == nil)
	w.Salt = field(salts[2])
	fmt.Println("with another row's salt:", test.IsSolved(&openRow{}, w, ecc.BN254.ScalarField()) == nil)
	w.Salt, w.Label = field(salts[1]), 1
	fmt.Println("with another label:", test.IsSolved(&openRow{}, w, ecc.BN254.ScalarField()) == nil)
	w.Label, w.Real = 0, 0
	fmt.Println("as a padding row:", test.IsSolved(&openRow{}, w, ecc.BN254.ScalarField()) == nil)
	// Output:
	// opens: true
	// with another row's salt: false
	// with another label: false
	// as a padding row: false
}
