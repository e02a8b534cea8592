package inference

import (
	"math/rand/v2"
	"testing"

	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/internal/constraintstats"
)

// TestConstraintStats compares the inference circuits' sizes with
// testdata/stats.csv exactly: one inference with a hashed input, for the
// digits head and for the MNIST MLP 784-56-10 of the zkML comparison, under
// both bindings.
func TestConstraintStats(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	measured := map[string]constraintstats.Row{}
	for name, widths := range map[string][]int{"digits_64_10": {64, 10}, "mnist_784_56_10": {784, 56, 10}} {
		w, _ := randomCase(rng, widths, 1)
		for _, b := range []Binding{Committed, Fixed} {
			spec := Spec{Widths: widths, Format: fixedpoint.DefaultFormat(), Batch: 1, Binding: b, Visibility: Hashed}
			label := name + "/committed"
			if b == Fixed {
				spec.Weights, label = w, name+"/fixed"
			}
			c, err := New(spec)
			if err != nil {
				t.Fatal(err)
			}
			row := constraintstats.Row{Params: fixedpoint.NumParams(widths), Constraints: constraintstats.Count(t, c)}
			measured["inference/"+label] = row
			t.Logf("inference/%s: %d constraints", label, row.Constraints)
		}
	}
	constraintstats.Check(t, measured)
}
