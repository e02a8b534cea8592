package benchmarks

import (
	"context"
	"testing"

	"github.com/zkdp/zkdp/prover"
)

// BenchmarkGas is `zkdp bench gas`: every registry transaction of the
// quickstart pipeline on the simulated chain, and the registry's bookkeeping
// per step against a bare verifier call.
//
//	go test -run '^$' -bench Gas -benchtime 1x -timeout 1h ./benchmarks/
func BenchmarkGas(b *testing.B) {
	keys, err := prover.DefaultKeyCache()
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		rows, err := Gas(context.Background(), b.TempDir(), keys, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rows {
			b.Logf("%-60s %10d  %s", r.Transaction, r.Gas, r.Note)
		}
	}
}
