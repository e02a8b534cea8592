package data

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkdp/zkdp/dp"
)

func BenchmarkCommitAdult(b *testing.B) {
	cfg, _ := DefaultConfig("adult")
	ds, err := Load(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	q, err := QuantizeSplit(ds.Train, 16)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := q.Commit(dp.RowSalts(testSeed, q.Len())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCSVStream loads, quantizes and commits a generated CSV of 1M rows
// and 50 columns (49 minmax features and the label) through data.path: the
// figures of RESULTS.md's "Any CSV" line. Peak memory is the process's
// (run it alone under /usr/bin/time -v); the CSV is generated once into
// $ZKDP_BENCH_DIR (default: a temporary folder).
//
//	go test -c -o /tmp/data.test ./data && /usr/bin/time -v /tmp/data.test \
//	  -test.run '^$' -test.bench 'CSVStream/rows=1000000' -test.benchtime 1x
func BenchmarkCSVStream(b *testing.B) {
	for _, rows := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			const cols = 50
			path := benchCSV(b, rows, cols)
			cfg := Config{Name: "bench", Path: path, Label: "c0", Classes: []string{"0", "1"}, TestFraction: 0.1, MaxRows: rows,
				Features: []FeatureSpec{{Column: "c*", Kind: KindMinMax, Min: 0, Max: 100}}}
			for b.Loop() {
				start := time.Now()
				ds, err := Load(cfg, 1)
				if err != nil {
					b.Fatal(err)
				}
				loaded := time.Since(start)
				q, err := QuantizeSplit(ds.Train, 16)
				if err != nil {
					b.Fatal(err)
				}
				quantized := time.Since(start)
				if _, err := q.Commit(dp.RowSalts(testSeed, cfg.MaxRows)); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(loaded.Seconds(), "load_s")
				b.ReportMetric((quantized - loaded).Seconds(), "quantize_s")
				b.ReportMetric((time.Since(start) - quantized).Seconds(), "commit_s")
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				b.ReportMetric(float64(m.HeapSys)/(1<<20), "heap_sys_MB")
				if kb, ok := peakRSSKiB(); ok {
					b.ReportMetric(float64(kb)/(1<<10), "peak_rss_MB")
				}
			}
		})
	}
}

// benchCSV writes (once) a CSV of rows x cols: a header c0..c<cols-1>, the
// label c0 in {0,1}, the other columns numbers in [0,100] with two decimals.
func benchCSV(b *testing.B, rows, cols int) string {
	b.Helper()
	dir := os.Getenv("ZKDP_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("bench-%dx%d.csv", rows, cols))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for c := range cols {
		if c > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, "c%d", c)
	}
	w.WriteByte('\n')
	rng := rand.New(rand.NewPCG(1, 2))
	for range rows {
		fmt.Fprintf(w, "%d", rng.IntN(2))
		for c := 1; c < cols; c++ {
			fmt.Fprintf(w, ",%.2f", 100*rng.Float64())
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// peakRSSKiB reads the process's peak resident set (VmHWM) on Linux.
func peakRSSKiB() (int, bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb, err == nil
		}
	}
	return 0, false
}
