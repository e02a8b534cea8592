package lookup_test

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/circuits/lookup"
)

// weightCircuit takes signed 23-bit weights as limbs and proves their sum.
type weightCircuit struct {
	Limbs [4]frontend.Variable // two weights, two limbs each
	Sum   frontend.Variable    `gnark:",public"`
}

// widths is the split that MNIST's 44,530 weights get: two limbs, so two
// lookups per weight, and tables of 4,096 and 2,048 entries.
var widths = lookup.Split(23, 44530)

func (c *weightCircuit) Define(api frontend.API) error {
	r := lookup.New(api)
	total := frontend.Variable(0)
	for i := 0; i < len(c.Limbs); i += len(widths) {
		limbs := c.Limbs[i : i+len(widths)]
		r.CheckLimbs(limbs, widths)
		// w = limbs - 2^22, so -2^22 <= w < 2^22 with no further check.
		total = api.Add(total, api.Sub(lookup.Recompose(api, limbs, widths), 1<<22))
	}
	api.AssertIsEqual(total, c.Sum)
	return nil
}

// Weights held as limbs: each costs one constraint per limb, and the weight
// itself is a free linear combination.
func ExampleRanges_CheckLimbs() {
	assign := func(ws ...int64) *weightCircuit {
		var c weightCircuit
		var sum int64
		for i, w := range ws {
			l, _ := lookup.Limbs(w+1<<22, widths)
			c.Limbs[2*i], c.Limbs[2*i+1] = l[0], l[1]
			sum += w
		}
		c.Sum = sum
		return &c
	}
	fmt.Println("limb widths:", widths)
	fmt.Println("valid:", test.IsSolved(&weightCircuit{}, assign(-4_000_000, 1234), ecc.BN254.ScalarField()) == nil)
	wide := assign(-4_000_000, 1234)
	wide.Limbs[1] = 1 << 11 // a top limb of 12 bits: the weight would be 2^23 too large
	fmt.Println("top limb too wide:", test.IsSolved(&weightCircuit{}, wide, ecc.BN254.ScalarField()) == nil)
	// Output:
	// limb widths: [12 11]
	// valid: true
	// top limb too wide: false
}
