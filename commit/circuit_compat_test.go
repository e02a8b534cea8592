package commit

import (
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	gnarkposeidon2 "github.com/consensys/gnark/std/hash/poseidon2"
	permposeidon2 "github.com/consensys/gnark/std/permutation/poseidon2"
	"github.com/consensys/gnark/test"
)

// hashCompatCircuit recomputes Hash and Node with gnark's in-circuit Poseidon2,
// proving that the native commitments can be opened inside step circuits.
type hashCompatCircuit struct {
	Tag      frontend.Variable
	Inputs   [3]frontend.Variable
	Digest   frontend.Variable `gnark:",public"`
	Left     frontend.Variable
	Right    frontend.Variable
	NodeHash frontend.Variable `gnark:",public"`
}

func (c *hashCompatCircuit) Define(api frontend.API) error {
	h, err := gnarkposeidon2.New(api)
	if err != nil {
		return err
	}
	h.Write(c.Tag)
	h.Write(c.Inputs[:]...)
	api.AssertIsEqual(h.Sum(), c.Digest)
	perm, err := permposeidon2.NewPoseidon2(api)
	if err != nil {
		return err
	}
	api.AssertIsEqual(perm.Compress(c.Left, c.Right), c.NodeHash)
	return nil
}

func TestNativeMatchesCircuit(t *testing.T) {
	assert := test.NewAssert(t)
	vals := []int64{7, -3, 1 << 40}
	l, r := FromInt64(11), FromInt64(-12)
	valid := &hashCompatCircuit{
		Tag:      TagModel,
		Inputs:   [3]frontend.Variable{vals[0], vals[1], vals[2]},
		Digest:   HashInts(TagModel, vals),
		Left:     l,
		Right:    r,
		NodeHash: Node(l, r),
	}
	// The negative input must be embedded as p-3, as FromInt64 does.
	neg := FromInt64(vals[1])
	valid.Inputs[1] = neg
	wrong := *valid
	wrong.Digest = HashInts(TagLeaf, vals)
	wrongNode := *valid
	wrongNode.NodeHash = Node(r, l)
	assert.CheckCircuit(&hashCompatCircuit{},
		test.WithValidAssignment(valid),
		test.WithInvalidAssignment(&wrong),
		test.WithInvalidAssignment(&wrongNode),
		test.WithCurves(ecc.BN254), test.NoProverChecks())
}
