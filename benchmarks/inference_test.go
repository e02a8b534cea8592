package benchmarks

import "testing"

// BenchmarkInferenceProve is `zkdp bench inference`: one Groth16 proof
// (witness included) of one inference of the MNIST MLP 784-56-10 with the
// model fixed in the circuit and a hashed input.
//
//	go test -run '^$' -bench InferenceProve -benchtime 5x ./benchmarks/
func BenchmarkInferenceProve(b *testing.B) {
	r, err := InferenceMNIST(b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(r.Constraints), "constraints")
	b.ReportMetric(r.ProveSeconds, "s/proof")
}
