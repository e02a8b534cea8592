package inference

import (
	"flag"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"

	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/internal/constraintstats"
)

var update = flag.Bool("update", false, "rewrite testdata/stats.csv with the measured constraint counts")

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
			ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
			if err != nil {
				t.Fatal(err)
			}
			measured["inference/"+label] = constraintstats.Row{Params: fixedpoint.NumParams(widths), Constraints: ccs.GetNbConstraints()}
			t.Logf("inference/%s: %d constraints", label, ccs.GetNbConstraints())
		}
	}
	constraintstats.Check(t, "testdata/stats.csv", measured, *update)
}
