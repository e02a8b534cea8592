package benchmarks

import (
	"context"
	"fmt"
	"testing"

	"github.com/zkdp/zkdp/prover"
)

// BenchmarkStepProvingThroughput is `zkdp bench proving`: every step of a
// quickstart run against gnark's plain Groth16 of the same size, in the same
// process (key setup excluded: it is done first, into a temporary cache).
//
//	go test -run '^$' -bench StepProvingThroughput -benchtime 1x -timeout 1h ./benchmarks/
func BenchmarkStepProvingThroughput(b *testing.B) {
	keys := &prover.KeyCache{Dir: b.TempDir()}
	for range b.N {
		r, err := Proving(context.Background(), "quickstart", keys, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.StepRate, "step_constraints/s")
		b.ReportMetric(r.PlainRate, "plain_constraints/s")
		b.ReportMetric(r.Ratio, "ratio")
		b.ReportMetric(r.PeakMemoryMiB, "peak_MiB")
	}
}

// BenchmarkScaling is `zkdp bench scaling`: one step proof of the quickstart
// at three batch sizes, each with its own setup.
//
//	go test -run '^$' -bench Scaling -benchtime 1x -timeout 1h ./benchmarks/
func BenchmarkScaling(b *testing.B) {
	variants := []ScalingVariant{{SamplingRate: 0.01}, {SamplingRate: 0.02}, {SamplingRate: 0.05}}
	for range b.N {
		pts, err := Scaling(context.Background(), "quickstart", variants, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range pts {
			b.ReportMetric(p.ProofSeconds, fmt.Sprintf("s/proof_batch_%d", p.MaxBatch))
		}
	}
}
