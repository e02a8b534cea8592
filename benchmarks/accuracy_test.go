package benchmarks

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/configs"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/trainer"
)

// benchSeeds are the seeds averaged over; ZKDP_BENCH_SEEDS="6,7,8,9,10"
// measures any other five.
func benchSeeds(b *testing.B) []uint64 {
	raw := os.Getenv("ZKDP_BENCH_SEEDS")
	if raw == "" {
		return []uint64{1, 2, 3, 4, 5}
	}
	var out []uint64
	for _, f := range strings.Split(raw, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			b.Fatalf("ZKDP_BENCH_SEEDS: %q: %v", f, err)
		}
		out = append(out, v)
	}
	return out
}

func loadShipped(b *testing.B, name string) config.Config {
	b.Helper()
	l := config.NewLoader()
	if err := l.ReadFile(name); err != nil {
		b.Fatal(err)
	}
	cfg, err := l.Load()
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// seededSetup is the run a benchmark seed stands for: the seed fixes the
// split, the initialization, the PRF seed and the beacon. adjust, if not
// nil, may change the loaded dataset first.
func seededSetup(b *testing.B, cfg config.Config, seed uint64, adjust func(*data.Dataset, uint64)) trainer.Setup {
	b.Helper()
	ds, err := data.Load(cfg.Data, seed)
	if err != nil {
		b.Fatal(err)
	}
	if adjust != nil {
		adjust(ds, seed)
	}
	var beacon fr.Element
	beacon.SetUint64(seed + 1000)
	return trainer.Setup{Dataset: ds, Training: cfg.Training, Format: cfg.FixedPoint,
		Seed: dp.SeedFromUint64(seed), Beacon: beacon, BeaconGiven: true, InitSeed: seed}
}

// BenchmarkAccuracy trains every shipped config once per seed (the seed fixes
// the split, the initialization, the PRF seed and the beacon) and reports the
// mean test accuracy of the released quantized model, of the float reference
// and of the non-private baseline, with epsilon at delta = 1e-5.
//
//	go test -run '^$' -bench Accuracy -benchtime 1x -timeout 2h ./benchmarks/
func BenchmarkAccuracy(b *testing.B) {
	for _, name := range configs.Names() {
		b.Run(name, func(b *testing.B) {
			cfg := loadShipped(b, name)
			seeds := benchSeeds(b)
			for range b.N {
				var q, f, base, eps, delta float64
				for _, seed := range seeds {
					s := seededSetup(b, cfg, seed, nil)
					res, err := trainer.Train(context.Background(), s, trainer.Options{})
					if err != nil {
						b.Fatal(err)
					}
					nonPrivate, err := trainer.Baseline(context.Background(), s)
					if err != nil {
						b.Fatal(err)
					}
					q += res.TestAccuracy
					f += res.FloatTestAccuracy
					base += nonPrivate
					eps, delta = res.Privacy.Epsilon, res.Privacy.Delta
				}
				n := float64(len(seeds))
				b.ReportMetric(100*q/n, "quantized_acc_%")
				b.ReportMetric(100*f/n, "float_acc_%")
				b.ReportMetric(100*base/n, "nonprivate_acc_%")
				b.ReportMetric(eps, "epsilon")
				b.Logf("| %s | %s | %.4g | %.3g | %.2f | %.2f | %.2f | %.2f | %v |", name, cfg.Training.ModelName(), eps, delta,
					100*q/n, 100*f/n, 100*(q-f)/n, 100*base/n, seeds)
			}
		})
	}
}

// BenchmarkTrain20Steps measures a 20-step run per shipped config: loading
// is outside the timer; quantizing, committing the dataset (Merkle root),
// planning the privacy and 20 quantized steps with their float reference are
// inside.
func BenchmarkTrain20Steps(b *testing.B) {
	for _, name := range configs.Names() {
		b.Run(name, func(b *testing.B) {
			cfg := loadShipped(b, name)
			ds, err := data.Load(cfg.Data, 1)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Training.Steps, cfg.Training.EvalEvery = 20, 20
			s := trainer.Setup{Dataset: ds, Training: cfg.Training, Format: cfg.FixedPoint, Seed: dp.SeedFromUint64(1), BeaconGiven: true}
			b.ResetTimer()
			for range b.N {
				if _, err := trainer.Train(context.Background(), s, trainer.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
