package benchmarks

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
	"github.com/zkdp/zkdp/trainer"
)

// squaringChain is gnark's plain baseline: n constraints x_{i+1} = x_i^2 + i.
type squaringChain struct {
	X, Y frontend.Variable
	n    int
}

func (c *squaringChain) Define(api frontend.API) error {
	x := c.X
	for i := range c.n {
		x = api.Add(api.Mul(x, x), i)
	}
	api.AssertIsEqual(x, c.Y)
	return nil
}

// BenchmarkStepProvingThroughput proves every step of a quickstart run
// (witness building from private/ and circuit compilation included, key
// setup excluded: it is cached) and, in the same run, gnark's plain Groth16
// on a squaring chain of the same size; it reports both throughputs in
// constraints per second and their ratio.
//
//	go test -run '^$' -bench StepProvingThroughput -benchtime 1x -timeout 1h ./benchmarks/
func BenchmarkStepProvingThroughput(b *testing.B) {
	cfg := loadShipped(b, "quickstart")
	s := seededSetup(b, cfg, 1, nil)
	src := run.DataSource{Data: cfg.Data, SplitSeed: 1}
	s.Source = &src
	res, err := trainer.Train(context.Background(), s, trainer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "run")
	d, err := run.Create(dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := res.Write(d, cfg.Training.ModelName()); err != nil {
		b.Fatal(err)
	}
	keys := &prover.KeyCache{Dir: b.TempDir()}
	ctx := context.Background()
	// Warm the key cache (setup is not part of proving).
	if _, err := stepproof.Prove(ctx, dir, stepproof.Options{Workers: 1, Keys: keys}); err != nil {
		b.Fatal(err)
	}
	size, err := stepproof.Measure("quickstart/step", res.Params)
	if err != nil {
		b.Fatal(err)
	}
	steps := res.Params.Steps

	// The plain circuit of the same size.
	plain := &squaringChain{n: size.Constraints - 1}
	ccs, err := prover.Compile(plain)
	if err != nil {
		b.Fatal(err)
	}
	pk, _, err := groth16.Setup(ccs)
	if err != nil {
		b.Fatal(err)
	}
	x := int64(3)
	assignment := &squaringChain{X: x, Y: chainValue(x, plain.n)}

	b.ResetTimer()
	for range b.N {
		if err := os.RemoveAll(d.Public(run.ProofsDir)); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		sum, err := stepproof.Prove(ctx, dir, stepproof.Options{Workers: 1, Keys: keys})
		if err != nil || sum.Proven != steps {
			b.Fatalf("%+v %v", sum, err)
		}
		stepTime := time.Since(start)

		start = time.Now()
		for range steps {
			w, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := groth16.Prove(ccs, pk, w); err != nil {
				b.Fatal(err)
			}
		}
		plainTime := time.Since(start)

		stepRate := float64(size.Constraints*steps) / stepTime.Seconds()
		plainRate := float64(ccs.GetNbConstraints()*steps) / plainTime.Seconds()
		b.ReportMetric(stepRate, "step_constraints/s")
		b.ReportMetric(plainRate, "plain_constraints/s")
		b.ReportMetric(stepRate/plainRate, "ratio")
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
			b.ReportMetric(float64(ru.Maxrss)/1024, "peak_MiB") // Linux reports KiB
		}
		b.Logf("%d steps of %d constraints in %s; plain %d-constraint proofs in %s", steps, size.Constraints, stepTime, ccs.GetNbConstraints(), plainTime)
	}
}

// chainValue is the squaring chain's output mod the BN254 scalar field.
func chainValue(x int64, n int) frontend.Variable {
	v, c := big.NewInt(x), new(big.Int)
	mod := ecc.BN254.ScalarField()
	for i := range n {
		v.Mul(v, v)
		c.SetInt64(int64(i))
		v.Add(v, c)
		v.Mod(v, mod)
	}
	return v
}
