package step

import (
	"flag"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"

	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/internal/constraintstats"
)

var update = flag.Bool("update", false, "rewrite testdata/stats.csv with the measured constraint counts")

// TestConstraintStats compares the step circuit of the tiny trained run
// (24 rows, 30 features, 2 classes, 4 lattice bits) with testdata/stats.csv
// exactly. The shipped configs' step circuits are measured by
// TestShippedStepSizes (opt-in: they take seconds to minutes to compile).
func TestConstraintStats(t *testing.T) {
	r := newTinyRun(t)
	c, err := New(r.spec)
	if err != nil {
		t.Fatal(err)
	}
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
	if err != nil {
		t.Fatal(err)
	}
	row := constraintstats.Row{Params: fixedpoint.NumParams(r.spec.Widths), Constraints: ccs.GetNbConstraints()}
	t.Logf("step/tiny: %d constraints, max batch %d", row.Constraints, r.spec.MaxBatch)
	constraintstats.Check(t, "testdata/stats.csv", map[string]constraintstats.Row{"step/tiny": row}, *update)
}
