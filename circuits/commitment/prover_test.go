//go:build prover_checks

package commitment

import (
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/commit"
)

// TestProveRealDatasetRow runs Groth16 setup, proving and verification on an
// opening of a real breast_cancer row against the dataset root, with a packed
// model hash alongside, so the range checks' BSB22 commitment is exercised by
// the prover and not only by the solver.
//
//	go test -tags prover_checks -run TestProve ./circuits/commitment/
func TestProveRealDatasetRow(t *testing.T) {
	assert := test.NewAssert(t)
	q, tree := breastCancer(t)
	valid := rowAssignment(t, q, tree, 17)
	wrong := rowAssignment(t, q, tree, 17)
	wrong.Label = 1 - q.Y[17]
	assert.CheckCircuit(&rowCircuit{X: make([]frontend.Variable, len(q.X[0])), Path: make([]frontend.Variable, tree.Depth()),
		FracBits: q.FracBits},
		test.WithValidAssignment(valid), test.WithInvalidAssignment(wrong),
		test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16))

	vals := []int64{1<<22 - 1, -(1<<22 - 1), 0, 5, -5, 1 << 20, 3, 4, 5, 6, 7, 8, 9}
	assert.CheckCircuit(&packedCircuit{Vals: make([]frontend.Variable, len(vals)), Tag: commit.TagModel, Bits: 22},
		test.WithValidAssignment(packedAssignment(t, commit.TagModel, vals, 22)),
		test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16))
}
