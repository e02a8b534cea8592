package fixedpoint_test

import (
	"fmt"

	"github.com/zkdp/zkdp/fixedpoint"
)

// One quantized DP-SGD step on a 2-feature, 2-class logistic regression: the
// native execution checks every bound and reports the first violation. By
// hand: dz = (0.5, -0.5) and (x, 1) = (1, -0.5, 1), so ||G|| = 0.7071*1.5 =
// 1.0607 > C = 1, and each entry is scaled to E = 1024 - ClipMargin(6) = 1019
// lattice units of norm: 0.5*1*1019/1.0607 = 480.3 -> 480, 0.5*(-0.5)*960.7 =
// -240.2 -> -241 (floor); the update is lr/(qN) = 0.25 times 480/1024 ->
// 7680/2^16.
func ExampleStep() {
	f := fixedpoint.DefaultFormat()
	p, err := fixedpoint.NewStepParams(f, 1.0, 0.5, 2, 20)
	if err != nil {
		panic(err)
	}
	model, _ := fixedpoint.Unflatten([]int{2, 2}, make([]int64, fixedpoint.NumParams([]int{2, 2})))
	one := f.One()
	xs := [][]int64{{one, -one / 2}}
	ys := [][]int64{{0, 1}}
	noise := make([]int64, 6)
	n := &fixedpoint.Native{}
	next, sum := fixedpoint.Step[int64](n, p, model, xs, ys, []int64{1}, noise)
	fmt.Println("error:", n.Err())
	fmt.Println("clipped gradient sum (lattice units):", sum)
	fmt.Println("new weights:", next.Flatten())
	// Output:
	// error: <nil>
	// clipped gradient sum (lattice units): [480 -241 -481 240 480 -481]
	// new weights: [-7680 3856 7696 -3840 -7680 7696]
}
