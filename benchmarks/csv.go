package benchmarks

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
)

// CSVResult is the csv section: a generated CSV streamed through data.path,
// quantized and committed.
type CSVResult struct {
	Rows            int     `json:"rows"`
	Columns         int     `json:"columns"` // the label included
	Bytes           int64   `json:"bytes"`
	Cores           int     `json:"cores"`
	LoadSeconds     float64 `json:"load_seconds"`
	QuantizeSeconds float64 `json:"quantize_seconds"`
	CommitSeconds   float64 `json:"commit_seconds"`
	// PeakMemoryMiB is the process's peak resident memory: the scaled and
	// the quantized rows are held, the file's text never is.
	PeakMemoryMiB float64 `json:"peak_memory_mib"`
}

// CSVStream writes a CSV of rows x columns into dir (a header c0..c<n-1>,
// the label c0 in {0,1}, every other column a number in [0,100] with two
// decimals), then loads it through data.path with public bounds, quantizes
// the training split and commits it, timing each phase.
func CSVStream(dir string, rows, columns int) (CSVResult, error) {
	out := CSVResult{Rows: rows, Columns: columns, Cores: runtime.GOMAXPROCS(0)}
	if rows < 10 || columns < 2 {
		return out, fmt.Errorf("benchmarks: csv: want at least 10 rows and 2 columns, got %d x %d", rows, columns)
	}
	path := filepath.Join(dir, fmt.Sprintf("synthetic-%dx%d.csv", rows, columns))
	size, err := writeSyntheticCSV(path, rows, columns)
	if err != nil {
		return out, err
	}
	defer os.Remove(path)
	out.Bytes = size
	cfg := data.Config{Name: "synthetic", Path: path, Label: "c0", Classes: []string{"0", "1"}, TestFraction: 0.1, MaxRows: rows,
		Features: []data.FeatureSpec{{Column: "c*", Kind: data.KindMinMax, Min: 0, Max: 100}}}
	start := time.Now()
	ds, err := data.Load(cfg, 1)
	if err != nil {
		return out, err
	}
	out.LoadSeconds = time.Since(start).Seconds()
	start = time.Now()
	q, err := data.QuantizeSplit(ds.Train, 16)
	if err != nil {
		return out, err
	}
	out.QuantizeSeconds = time.Since(start).Seconds()
	start = time.Now()
	if _, err := q.Commit(dp.RowSalts(dp.SeedFromUint64(1), cfg.MaxRows)); err != nil {
		return out, err
	}
	out.CommitSeconds = time.Since(start).Seconds()
	out.PeakMemoryMiB = peakMiB()
	return out, nil
}

func writeSyntheticCSV(path string, rows, columns int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("benchmarks: csv: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	header := make([]string, columns)
	for c := range header {
		header[c] = fmt.Sprintf("c%d", c)
	}
	fmt.Fprintln(w, strings.Join(header, ","))
	rng := rand.New(rand.NewPCG(1, 2))
	for range rows {
		fmt.Fprintf(w, "%d", rng.IntN(2))
		for c := 1; c < columns; c++ {
			fmt.Fprintf(w, ",%.2f", 100*rng.Float64())
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("benchmarks: csv: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("benchmarks: csv: %w", err)
	}
	return info.Size(), f.Close()
}

func renderCSV(s Saved, md *strings.Builder, _ map[string][]byte) error {
	var r CSVResult
	if err := s.decode(&r); err != nil {
		return err
	}
	md.WriteString("| rows | columns | file | cores | load | quantize | commit | peak memory |\n|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(md, "| %s | %d | %.0f MB | %d | %s | %s | %s | %.0f MiB |\n", thousands(r.Rows), r.Columns, float64(r.Bytes)/1e6, r.Cores,
		seconds(r.LoadSeconds), seconds(r.QuantizeSeconds), seconds(r.CommitSeconds), r.PeakMemoryMiB)
	return nil
}
