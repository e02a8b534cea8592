package benchmarks

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/solidity"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/inference"

	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/trainer"
)

// mnistRun returns the MNIST MLP 784-56-10 run the inference benchmarks
// prove with: $ZKDP_BENCH_MNIST_RUN, else runs/mnist at the repository root,
// trained there with configs/mnist.yaml and seed 1 when missing (about five
// minutes on two idle cores).
func mnistRun(b *testing.B) string {
	b.Helper()
	dir := os.Getenv("ZKDP_BENCH_MNIST_RUN")
	if dir == "" {
		dir = filepath.Join("..", "runs", "mnist")
	}
	if _, err := os.Stat(filepath.Join(dir, run.PublicDir, run.ModelFile)); err == nil {
		return dir
	}
	b.Logf("training %s (configs/mnist.yaml, seed 1)", dir)
	cfg := loadShipped(b, "mnist")
	s := seededSetup(b, cfg, 1, nil)
	s.Source = &run.DataSource{Data: cfg.Data, SplitSeed: 1}
	res, err := trainer.Train(context.Background(), s, trainer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	d, err := run.Create(dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := res.Write(d, cfg.Training.ModelName()); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkInferenceProve times one Groth16 proof (the witness and the
// proof, in the Solidity mode inference proofs use; compilation and the
// cached key setup excluded, as zkML tools report proving) of inferences of
// the trained MNIST MLP 784-56-10 on held-out images with hashed inputs, for
// both model bindings, and a batch of 8 for the committed binding, whose
// model hash is then paid once for eight inferences. Compare with
// circomlib-ml (73,416 constraints, 2.35 s) and EZKL (2.66 s in resources
// mode, 38 s in accuracy mode). The proofs are checked with inferproof's
// verifier after the timed loop.
//
//	go test -run '^$' -bench InferenceProve -benchtime 3x -timeout 1h ./benchmarks/
func BenchmarkInferenceProve(b *testing.B) {
	dir := mnistRun(b)
	var report struct {
		Quantized      float64 `json:"test_accuracy"`
		Float          float64 `json:"float_test_accuracy"`
		QuantizedFloat float64 `json:"quantized_float_accuracy"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, run.ReportFile))
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(raw, &report); err != nil { // report.json holds much more
		b.Fatal(err)
	}
	b.Logf("MNIST 784-56-10 on the 2,000 held-out images: released (quantized DP-SGD) %.4f, float reference %.4f, float reference rounded to fixed point %.4f",
		report.Quantized, report.Float, report.QuantizedFloat)
	m, err := inferproof.Model(dir)
	if err != nil {
		b.Fatal(err)
	}
	held, err := inferproof.HeldOut(dir, m)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := prover.DefaultKeyCache()
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		binding inference.Binding
		batch   int
	}{{"fixed/b1", inference.Fixed, 1}, {"committed/b1", inference.Committed, 1}, {"committed/b8", inference.Committed, 8}} {
		b.Run(tc.name, func(b *testing.B) {
			spec := inference.Spec{Widths: m.Widths, Format: m.Format, Batch: tc.batch, Binding: tc.binding, Visibility: inference.Hashed}
			if tc.binding == inference.Fixed {
				spec.Weights = m.Weights
			}
			c, err := inference.New(spec)
			if err != nil {
				b.Fatal(err)
			}
			ccs, err := prover.Compile(c)
			if err != nil {
				b.Fatal(err)
			}
			pk, vk, err := keys.Setup(ccs, "inference/bench-"+strings.ReplaceAll(tc.name, "/", "-"))
			if err != nil {
				b.Fatal(err)
			}
			inputs := held.Rows[:tc.batch]
			runtime.GC()
			b.ResetTimer()
			var proof groth16.Proof
			var wit witness.Witness
			for range b.N {
				a, _, err := inference.Assign(spec, m.Weights, inputs)
				if err != nil {
					b.Fatal(err)
				}
				if wit, err = frontend.NewWitness(a, ecc.BN254.ScalarField()); err != nil {
					b.Fatal(err)
				}
				if proof, err = groth16.Prove(ccs, pk, wit, solidity.WithProverTargetSolidityVerifier(backend.GROTH16)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			pub, err := wit.Public()
			if err != nil {
				b.Fatal(err)
			}
			if err := groth16.Verify(proof, vk, pub, solidity.WithVerifierTargetSolidityVerifier(backend.GROTH16)); err != nil {
				b.Fatal(err)
			}
			var mem runtime.MemStats
			runtime.ReadMemStats(&mem)
			b.ReportMetric(float64(ccs.GetNbConstraints()), "constraints")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*tc.batch), "s/inference")
			b.ReportMetric(float64(mem.Sys)/(1<<20), "MiB-sys")
		})
	}
}
