package benchmarks

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkdp/zkdp/prover"
)

// BenchmarkInferenceProve is `zkdp bench inference`: Groth16 proofs of the
// trained MNIST MLP 784-56-10 on held-out images (hashed inputs), fixed and
// committed model binding, one input and a batch of 8. The model is
// $ZKDP_BENCH_MNIST_RUN, else runs/mnist, trained there when missing.
//
//	go test -run '^$' -bench InferenceProve -benchtime 3x -timeout 1h ./benchmarks/
func BenchmarkInferenceProve(b *testing.B) {
	dir := os.Getenv("ZKDP_BENCH_MNIST_RUN")
	if dir == "" {
		dir = filepath.Join("runs", "mnist")
	}
	keys, err := prover.DefaultKeyCache()
	if err != nil {
		b.Fatal(err)
	}
	r, err := InferenceMNIST(context.Background(), dir, b.N, keys, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("accuracy: released %.4f, float %.4f, float rounded to fixed point %.4f", r.ReleasedAccuracy, r.FloatAccuracy, r.FloatRoundedAccuracy)
	for _, p := range r.Proofs {
		b.Logf("%s b%d: %d constraints, %.3f s per proof, %.3f s per inference", p.Binding, p.Batch, p.Constraints, p.ProveSeconds, p.ProveSeconds/float64(p.Batch))
	}
	b.ReportMetric(r.Proofs[0].ProveSeconds, "s/fixed-proof")
	b.ReportMetric(r.Proofs[1].ProveSeconds, "s/committed-proof")
	b.ReportMetric(r.Proofs[3].ProveSeconds, "s/model-hash-floor")
}
