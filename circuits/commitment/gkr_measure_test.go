package commitment

import (
	"os"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	gkrposeidon2 "github.com/consensys/gnark/std/permutation/poseidon2/gkr-poseidon2"
)

type gkrPathsCircuit struct {
	Leaves []frontend.Variable
	Paths  [][]frontend.Variable
	Root   frontend.Variable `gnark:",public"`
}

func (c *gkrPathsCircuit) Define(api frontend.API) error {
	comp, err := gkrposeidon2.NewCompressor(api)
	if err != nil {
		return err
	}
	acc := frontend.Variable(0)
	for j, path := range c.Paths {
		cur := c.Leaves[j]
		for _, sib := range path {
			cur = comp.Compress(cur, sib)
		}
		acc = api.Add(acc, cur)
	}
	api.AssertIsEqual(acc, c.Root)
	return nil
}

// TestMeasureGKRPaths compiles digits' and MNIST's batch of Merkle paths
// with gnark's GKR Poseidon2 compressor, the alternative that
// docs/ARCHITECTURE.md weighs (minutes to compile, so opt-in).
func TestMeasureGKRPaths(t *testing.T) {
	if os.Getenv("ZKDP_MEASURE_GKR") == "" {
		t.Skip("set ZKDP_MEASURE_GKR=1")
	}
	for _, shape := range [][2]int{{234, 11}, {256, 13}} {
		c := &gkrPathsCircuit{Leaves: make([]frontend.Variable, shape[0])}
		for range shape[0] {
			c.Paths = append(c.Paths, make([]frontend.Variable, shape[1]))
		}
		cs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("GKR Poseidon2: %d paths of depth %d: %d R1CS constraints (%.1f per compression)", shape[0], shape[1], cs.GetNbConstraints(), float64(cs.GetNbConstraints())/float64(shape[0]*shape[1]))
	}
}
