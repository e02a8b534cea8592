package step

import (
	"testing"

	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/internal/constraintstats"
)

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
	row := constraintstats.Row{Params: fixedpoint.NumParams(r.spec.Widths), Constraints: constraintstats.Count(t, c)}
	t.Logf("step/tiny: %d constraints, max batch %d", row.Constraints, r.spec.MaxBatch)
	constraintstats.Check(t, map[string]constraintstats.Row{"step/tiny": row})
}
