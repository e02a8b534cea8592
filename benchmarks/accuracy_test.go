package benchmarks

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/data"
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
	cfg, err := LoadConfig(name)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

func seededSetup(b *testing.B, cfg config.Config, seed uint64, adjust func(*data.Dataset, uint64)) trainer.Setup {
	b.Helper()
	s, err := SeededSetup(cfg, seed, adjust)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkAccuracy is `zkdp bench accuracy` per shipped config: the mean
// test accuracy over the seeds of the released model, of the float reference
// and of the same run without noise.
//
//	go test -run '^$' -bench Accuracy -benchtime 1x -timeout 3h ./benchmarks/
func BenchmarkAccuracy(b *testing.B) {
	for _, name := range RowConfigs() {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				rows, err := Accuracy(context.Background(), AccuracyOptions{Configs: []string{name}, Seeds: benchSeeds(b)})
				if err != nil {
					b.Fatal(err)
				}
				r := rows[0]
				b.ReportMetric(100*r.Quantized, "quantized_acc_%")
				b.ReportMetric(100*r.Float, "float_acc_%")
				b.ReportMetric(100*r.NoNoise, "nonoise_acc_%")
				b.ReportMetric(r.Epsilon, "epsilon")
			}
		})
	}
}

// BenchmarkTrain20Steps is `zkdp bench training`: a 20-step run per shipped
// config (loading outside the timer).
func BenchmarkTrain20Steps(b *testing.B) {
	for _, name := range RowConfigs() {
		b.Run(name, func(b *testing.B) {
			if _, err := TrainingSpeed(context.Background(), []string{name}, 20, b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkAccountant is `zkdp bench accountant`: epsilon after 10^5 steps.
func BenchmarkAccountant(b *testing.B) {
	rows, err := AccountantSpeed(100_000, b.N)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range rows {
		b.ReportMetric(r.SecondsPerCall*1e3, r.Accountant+"_ms/call")
	}
}
