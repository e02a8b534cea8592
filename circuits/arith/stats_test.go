package arith

import (
	"testing"

	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/internal/constraintstats"
)

// gradientCircuit is one example's clipped gradient: the per-example part of
// the step circuit, which dominates its size.
type gradientCircuit struct {
	W, X, Y, G []frontend.Variable
	widths     []int
	params     fixedpoint.StepParams
}

func (c *gradientCircuit) Define(api frontend.API) error {
	m, err := fixedpoint.Unflatten(c.widths, c.W)
	if err != nil {
		return err
	}
	g := fixedpoint.ClippedGradient[frontend.Variable](New(api), c.params, m, c.X, c.Y)
	for i := range g {
		api.AssertIsEqual(g[i], c.G[i])
	}
	return nil
}

func newGradientCircuit(widths []int) (*gradientCircuit, error) {
	p, err := fixedpoint.NewStepParams(fixedpoint.DefaultFormat(), 1, 0.5, 64, 20)
	if err != nil {
		return nil, err
	}
	n := fixedpoint.NumParams(widths)
	return &gradientCircuit{widths: widths, params: p, W: make([]frontend.Variable, n), G: make([]frontend.Variable, n),
		X: make([]frontend.Variable, widths[0]), Y: make([]frontend.Variable, widths[len(widths)-1])}, nil
}

// statsCircuits are the measured circuits: the per-example gradient at the
// shapes of the shipped configs (breast cancer 30-2, digits 64-10, Adult
// 112-2) and one with a hidden layer.
var statsCircuits = map[string][]int{
	"clipped_gradient/breast_cancer": {30, 2},
	"clipped_gradient/digits":        {64, 10},
	"clipped_gradient/adult":         {112, 2},
	"clipped_gradient/mlp_64_16_10":  {64, 16, 10},
}

// TestConstraintStats compares the R1CS constraint count of every measured
// circuit with testdata/stats.csv, exactly; -update rewrites the file. A
// missing row is a failure, not a skip.
func TestConstraintStats(t *testing.T) {
	measured := map[string]constraintstats.Row{}
	for name, widths := range statsCircuits {
		c, err := newGradientCircuit(widths)
		if err != nil {
			t.Fatal(err)
		}
		row := constraintstats.Row{Params: fixedpoint.NumParams(widths), Constraints: constraintstats.Count(t, c)}
		measured[name] = row
		t.Logf("%s: %d constraints, %d parameters, %.2f per parameter", name, row.Constraints, row.Params, float64(row.Constraints)/float64(row.Params))
	}
	constraintstats.Check(t, measured)
}
