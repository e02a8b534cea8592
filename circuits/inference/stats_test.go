package inference

import (
	"testing"

	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/internal/constraintstats"
)

// TestConstraintStats compares the inference circuits' sizes with
// testdata/stats.csv exactly: one inference with a hashed input, for the
// digits head and for the MNIST MLP 784-56-10 of the zkML comparison, under
// both bindings.
func TestConstraintStats(t *testing.T) {
	measured := map[string]constraintstats.Row{}
	for name, widths := range map[string][]int{"digits-64-10": {64, 10}, "mnist-784-56-10": {784, 56, 10}} {
		for _, b := range []Binding{Committed, Fixed} {
			spec := Spec{Widths: widths, Format: fixedpoint.DefaultFormat(), Batch: 1, Binding: b, Visibility: Hashed}
			label := name + "/infer-committed"
			if b == Fixed {
				spec.Weights, label = SampleWeights(widths, spec.Format), name+"/infer-fixed"
			}
			c, err := New(spec)
			if err != nil {
				t.Fatal(err)
			}
			row := constraintstats.Row{Params: fixedpoint.NumParams(widths), Constraints: constraintstats.Count(t, c)}
			measured[label] = row
			t.Logf("inference/%s: %d constraints", label, row.Constraints)
		}
	}
	constraintstats.Check(t, measured)
}
