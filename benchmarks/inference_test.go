package benchmarks

import (
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/inference"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/prover"
)

// BenchmarkInferenceProve times one Groth16 proof (witness included) of one
// inference of the MNIST MLP 784-56-10 with a hashed input, for the fixed
// binding (the verifying key commits to the model). Weights and input are
// random: proving time does not depend on their values.
//
//	go test -run '^$' -bench InferenceProve -benchtime 5x ./benchmarks/
func BenchmarkInferenceProve(b *testing.B) {
	widths := []int{784, 56, 10}
	f := fixedpoint.DefaultFormat()
	rng := rand.New(rand.NewPCG(7, 7))
	w := make([]int64, fixedpoint.NumParams(widths))
	for i := range w {
		w[i] = int64(rng.NormFloat64() * 0.05 * float64(f.One()))
	}
	x := make([]int64, 784)
	for i := range x {
		x[i] = int64(rng.Float64() * float64(f.One()))
	}
	spec := inference.Spec{Widths: widths, Format: f, Batch: 1, Binding: inference.Fixed, Visibility: inference.Hashed, Weights: w}
	c, err := inference.New(spec)
	if err != nil {
		b.Fatal(err)
	}
	ccs, err := prover.Compile(c)
	if err != nil {
		b.Fatal(err)
	}
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		a, _, err := inference.Assign(spec, w, [][]int64{x})
		if err != nil {
			b.Fatal(err)
		}
		wit, err := frontend.NewWitness(a, ecc.BN254.ScalarField())
		if err != nil {
			b.Fatal(err)
		}
		proof, err := groth16.Prove(ccs, pk, wit)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		pub, _ := wit.Public()
		if err := groth16.Verify(proof, vk, pub); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(ccs.GetNbConstraints()), "constraints")
}
