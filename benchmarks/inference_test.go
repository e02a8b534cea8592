package benchmarks

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

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

// BenchmarkInferenceProve times one Groth16 proof (witness, proof,
// verification and files included; the cached key setup excluded) of
// inferences of the trained MNIST MLP 784-56-10 on held-out images with
// hashed inputs, for both model bindings, and a batch of 8 for the committed
// binding, whose model hash is then paid once for eight inferences. Compare
// with circomlib-ml (73,416 constraints, 2.35 s) and EZKL (2.66 s in
// resources mode, 38 s in accuracy mode).
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
		binding string
		batch   int
	}{{"fixed/b1", "fixed", 1}, {"committed/b1", "committed", 1}, {"committed/b8", "committed", 8}} {
		b.Run(tc.name, func(b *testing.B) {
			// A scratch copy of the run's public files, so the benchmark
			// never adds claims to the real run.
			scratch := copyRun(b, dir)
			opts := inferproof.ProveOptions{Options: inferproof.Options{Binding: tc.binding, Visibility: "hashed"}, Keys: keys}
			inputs := held.Rows[:tc.batch]
			// Warm the key cache (the setup is not what is measured).
			claim, err := inferproof.Prove(context.Background(), scratch, inputs, opts)
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for range b.N {
				if _, err := inferproof.Prove(context.Background(), scratch, inputs, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(claim.Constraints), "constraints")
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N*tc.batch), "s/inference")
			b.ReportMetric(float64(after.Sys)/(1<<20), "MiB-sys")
		})
	}
}

// copyRun copies the public files and the private data source of a run into
// a temporary run directory.
func copyRun(b *testing.B, dir string) string {
	b.Helper()
	dst := filepath.Join(b.TempDir(), "run")
	d, err := run.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	src := &run.Dir{Root: dir}
	for _, f := range []struct{ from, to string }{
		{src.Public(run.ParamsFile), d.Public(run.ParamsFile)},
		{src.Public(run.TranscriptFile), d.Public(run.TranscriptFile)},
		{src.Public(run.ModelFile), d.Public(run.ModelFile)},
		{src.Private(run.DataSourceFile), d.Private(run.DataSourceFile)},
	} {
		raw, err := os.ReadFile(f.from)
		if err != nil {
			b.Fatal(err)
		}
		if err := run.WriteFile(f.to, raw, run.PrivateMode); err != nil {
			b.Fatal(err)
		}
	}
	return dst
}
