package prover

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/frontend"
)

// chain is a circuit of n squarings, to time setup, cached loading and
// proving at a size closer to the step circuit than cubic.
type chain struct {
	X frontend.Variable
	Y frontend.Variable `gnark:",public"`
	n int
}

func (c *chain) Define(api frontend.API) error {
	v := c.X
	for range c.n {
		v = api.Mul(v, v)
	}
	api.AssertIsEqual(v, c.Y)
	return nil
}

// BenchmarkKeyCache times a fresh setup against loading the cached keys, and
// one proof, for 2^16 constraints:
//
//	go test -run '^$' -bench KeyCache -benchtime 1x ./prover
func BenchmarkKeyCache(b *testing.B) {
	const n = 1 << 16
	ccs, err := Compile(&chain{n: n})
	if err != nil {
		b.Fatal(err)
	}
	c := &KeyCache{Dir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)}
	for b.Loop() {
		s := time.Now()
		if _, _, err := c.Setup(ccs, "chain"); err != nil {
			b.Fatal(err)
		}
		setup := time.Since(s)
		s = time.Now()
		pk, vk, err := c.Setup(ccs, "chain")
		if err != nil {
			b.Fatal(err)
		}
		load := time.Since(s)
		b.ReportMetric(setup.Seconds(), "setup-s")
		b.ReportMetric(load.Seconds(), "load-s")

		// x = 1 keeps every square at 1.
		jobs := []Job{{Name: "chain", Path: b.TempDir() + "/chain.proof", Witness: func() (witness.Witness, error) {
			return frontend.NewWitness(&chain{X: 1, Y: 1, n: n}, ecc.BN254.ScalarField())
		}}}
		sum, err := ProveAll(context.Background(), ccs, pk, vk, jobs, Options{Workers: 1, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(sum.Durations["chain"].Seconds(), "prove-s")
	}
}
