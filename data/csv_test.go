package data

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// patientsHeader has the label in the middle, as a data holder's export may.
const patientsHeader = "id,age,sex,diagnosis,income,ward_a,ward_b"

// patientsConfig is a data.path config for patients.csv: every feature
// kind, a pattern, and public bounds.
func patientsConfig(path string) Config {
	return Config{
		Name: "patients", Path: path, Label: "diagnosis", Classes: []string{"healthy", "sick"},
		TestFraction: 0.5, MaxRows: 64,
		Features: []FeatureSpec{
			{Column: "id", Kind: KindDrop},
			{Column: "age", Kind: KindMinMax, Min: 0, Max: 100},
			{Column: "sex", Kind: KindOneHot, Categories: []string{"F", "M"}},
			{Column: "income", Kind: KindLogMinMax, Min: 0, Max: 1e6},
			{Column: "ward_*", Kind: KindMinMax, Min: 0, Max: 10},
		},
	}
}

// writeCSV writes lines to dir/name and returns its path.
func writeCSV(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadCSVWithHeader(t *testing.T) {
	dir := t.TempDir()
	path := writeCSV(t, dir, "patients.csv", "\ufeff"+patientsHeader, // a spreadsheet's byte order mark
		"1,50,F,sick,9999,5,0",
		"2, 20, M, healthy, 0, 10, 2",
		`3,"100",M,healthy,999999,0,1`,
		"4,0,F,sick,10,1,1", "")
	ds, err := Load(patientsConfig(path), 1)
	if err != nil {
		t.Fatal(err)
	}
	wantFeatures := []string{"age", "sex=F", "sex=M", "sex=?", "income", "ward_a", "ward_b"}
	if !slices.Equal(ds.Features, wantFeatures) || !slices.Equal(ds.Classes, []string{"healthy", "sick"}) {
		t.Fatalf("features %q classes %q, want %q and [healthy sick]", ds.Features, ds.Classes, wantFeatures)
	}
	if ds.Train.Len() != 2 || ds.Test.Len() != 2 || ds.Clipped != 0 {
		t.Fatalf("split %d/%d, %d clipped; want 2/2, 0", ds.Train.Len(), ds.Test.Len(), ds.Clipped)
	}
	assertScaled(t, ds)

	// A test file with the same header replaces the split.
	cfg := patientsConfig(path)
	cfg.TestFraction = 0
	cfg.TestPath = writeCSV(t, dir, "patients_test.csv", patientsHeader, "5,30,M,sick,5,3,3")
	if ds, err = Load(cfg, 1); err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len() != 4 || ds.Test.Len() != 1 || ds.Test.Y[0] != 1 {
		t.Fatalf("with data.test_path: split %d/%d, test label %v", ds.Train.Len(), ds.Test.Len(), ds.Test.Y)
	}
	want := []float64{0.3, 0, 1, 0, 0, 0.3, 0.3}
	want[4] = scale(5, FeatureSpec{Kind: KindLogMinMax, Min: 0, Max: 1e6})
	if !slices.Equal(ds.Test.X[0], want) {
		t.Fatalf("test row %v, want %v", ds.Test.X[0], want)
	}
}

func TestLoadCSVErrors(t *testing.T) {
	tests := []struct {
		name     string
		lines    []string
		edit     func(*Config)
		line     int
		field    string
		sentinel error
		message  string // the error after the file's path, when worth pinning
	}{
		{name: "missing label column", lines: []string{"id,age,sex,outcome,income,ward_a,ward_b", "1,50,F,sick,1,1,1"},
			line: 1, field: "diagnosis", sentinel: ErrBadHeader,
			message: `:1: field "diagnosis": bad header: no such column (data.label)`},
		{name: "unknown category", lines: []string{patientsHeader, "1,50,F,sick,1,1,1", "2,50,X,sick,1,1,1"},
			line: 3, field: "sex", sentinel: ErrUnknownCategory,
			message: `:3: field "sex": "X" is not a known category (see its categories in data.features)`},
		{name: "malformed number", lines: []string{patientsHeader, "1,5O,F,sick,1,1,1"},
			line: 2, field: "age", sentinel: ErrNotNumber, message: `:2: field "age": "5O" is not a number`},
		{name: "ragged row", lines: []string{patientsHeader, "1,50,F,sick,1,1,1", "2,50,F,sick,1"},
			line: 3, field: "ward_a", sentinel: ErrColumnCount,
			message: `:3: field "ward_a": wrong number of fields: got 5, want 7`},
		{name: "long row", lines: []string{patientsHeader, "1,50,F,sick,1,1,1,1"},
			line: 2, sentinel: ErrColumnCount},
		{name: "empty file", lines: []string{""}, line: 1, sentinel: ErrNoRows},
		{name: "header only", lines: []string{patientsHeader}, line: 2, sentinel: ErrNoRows},
		{name: "bad quote", lines: []string{patientsHeader, `1,5"0,F,sick,1,1,1`}, line: 2, sentinel: ErrMalformed},
		{name: "unknown label", lines: []string{patientsHeader, "1,50,F,ill,1,1,1"}, line: 2, field: "diagnosis", sentinel: ErrUnknownLabel},
		{name: "repeated column", lines: []string{"id,age,sex,diagnosis,income,ward_a,age"}, line: 1, field: "age", sentinel: ErrBadHeader},
		{name: "out of range", lines: []string{patientsHeader, "1,50,F,sick,1,1,1", "2,101,F,sick,1,1,1"},
			edit: func(c *Config) { c.OutOfRange = OutOfRangeError }, line: 3, field: "age", sentinel: ErrOutOfRange,
			message: `:3: field "age": value is outside the column's public bounds [0, 100] (data.out_of_range is "error")`},
		{name: "test file header", lines: []string{patientsHeader, "1,50,F,sick,1,1,1"},
			edit: func(c *Config) { c.TestFraction, c.TestPath = 0, c.Path+".test" }, line: 1, sentinel: ErrBadHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeCSV(t, dir, "patients.csv", tt.lines...)
			writeCSV(t, dir, "patients.csv.test", "id,age,sex,diagnosis,income,ward_b,ward_a", "1,50,F,sick,1,1,1")
			cfg := patientsConfig(path)
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			_, err := Load(cfg, 1)
			var rowErr *RowError
			if !errors.As(err, &rowErr) {
				t.Fatalf("got %v, want a *RowError", err)
			}
			if !strings.HasPrefix(rowErr.File, path) || rowErr.Line != tt.line || rowErr.Field != tt.field {
				t.Fatalf("error names %s:%d field %q, want %s:%d field %q (%v)", rowErr.File, rowErr.Line, rowErr.Field, path, tt.line, tt.field, err)
			}
			if !errors.Is(err, tt.sentinel) || !errors.Is(err, ErrBadRow) {
				t.Fatalf("%v: does not match %v and ErrBadRow", err, tt.sentinel)
			}
			if tt.message != "" && err.Error() != path+tt.message {
				t.Fatalf("message %q, want %q", err, path+tt.message)
			}
		})
	}
}

func TestLoadCSVConfigAgainstHeader(t *testing.T) {
	path := writeCSV(t, t.TempDir(), "patients.csv", patientsHeader, "1,50,F,sick,1,1,1")
	cfg := patientsConfig(path)
	cfg.Features = append(cfg.Features[1:], FeatureSpec{Column: "weight", Kind: KindMinMax, Min: 0, Max: 1})
	_, err := Load(cfg, 1)
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("got %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{path + ":1:", `"weight" is not a column of ` + path, `no entry for column "id"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v: does not say %q", err, want)
		}
	}
}

func TestValidatePathConfig(t *testing.T) {
	cfg := patientsConfig("patients.csv")
	cfg.Classes = []string{"healthy", Placeholder}
	cfg.Features[2].Categories = []string{Placeholder}
	cfg.Dir = "x"
	var got []string
	for _, err := range cfg.Validate() {
		got = append(got, err.Error())
	}
	want := []string{
		"data.dir: only applies to a shipped dataset; data.path names your file",
		"data.classes[1]: placeholder left: list the label's values from public knowledge",
		"data.features[2].categories[0]: placeholder left: list the categories from public knowledge (a codebook), never from the data",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Validate:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	shipped, err := DefaultConfig("adult")
	if err != nil {
		t.Fatal(err)
	}
	shipped.Label = "income"
	if errs := shipped.Validate(); len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "data.label: only applies with data.path") {
		t.Fatalf("a shipped dataset with data.label: %v", errs)
	}
}

func TestLoadCSVClipsOutOfRange(t *testing.T) {
	path := writeCSV(t, t.TempDir(), "patients.csv", patientsHeader,
		"1,150,F,sick,1,1,1", "2,-3,F,sick,1,11,1", "3,50,F,healthy,1,1,1", "4,50,M,healthy,2e6,1,1")
	ds, err := Load(patientsConfig(path), 1)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Clipped != 3 {
		t.Fatalf("%d rows clipped, want 3", ds.Clipped)
	}
	assertScaled(t, ds)
}

// csvGenerator produces a CSV of rows x cols on the fly (column c0 is the
// label), so that no copy of the text exists outside the reader, and
// samples the heap every sampleBytes read.
type csvGenerator struct {
	rows, cols, row int
	pending         []byte
	read            int
	sampleBytes     int
	nextSample      int
	peakHeap        uint64
}

func (g *csvGenerator) Read(b []byte) (int, error) {
	for len(g.pending) == 0 {
		if g.row > g.rows {
			return 0, io.EOF
		}
		var sb strings.Builder
		for c := range g.cols {
			if c > 0 {
				sb.WriteByte(',')
			}
			if g.row == 0 {
				fmt.Fprintf(&sb, "c%d", c)
			} else {
				fmt.Fprintf(&sb, "%d", (g.row*31+c*7)%100)
			}
		}
		sb.WriteByte('\n')
		g.pending = []byte(sb.String())
		g.row++
	}
	n := copy(b, g.pending)
	g.pending = g.pending[n:]
	g.read += n
	if g.read >= g.nextSample {
		g.nextSample += g.sampleBytes
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		g.peakHeap = max(g.peakHeap, m.HeapAlloc)
	}
	return n, nil
}

// TestLoadCSVStreams loads a generated CSV of about 60 MB, of which one
// column is used, and checks the heap never held a sizeable part of the
// text: the reader keeps one line and reuses its record.
func TestLoadCSVStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 60 MB")
	}
	const rows, cols = 10000, 2000
	var gen *csvGenerator
	open := func() io.Reader {
		gen = &csvGenerator{rows: rows, cols: cols, sampleBytes: 1 << 20}
		return gen
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	cfg := Config{Name: "wide", Path: "wide.csv", Label: "c0", TestFraction: 0.5, MaxRows: rows,
		Features: []FeatureSpec{{Column: "c1", Kind: KindMinMax, Min: 0, Max: 100}, {Column: "c*", Kind: KindDrop}}}
	for i := range 100 {
		cfg.Classes = append(cfg.Classes, fmt.Sprint(i))
	}
	ds, err := load(cfg, singleFile{name: "wide.csv", open: open}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len()+ds.Test.Len() != rows {
		t.Fatalf("%d rows, want %d", ds.Train.Len()+ds.Test.Len(), rows)
	}
	// The rows held are 10,000 one-feature rows (under 1 MB); garbage
	// between collections is bounded by GOGC's share of the live heap.
	text, grew := gen.read, int64(gen.peakHeap)-int64(before.HeapAlloc)
	t.Logf("read %d MB, peak heap growth %.1f MB", text>>20, float64(grew)/(1<<20))
	if grew > int64(text/4) {
		t.Fatalf("the heap grew by %d bytes while reading %d: the loader holds the text", grew, text)
	}
}

// TestLoadCSVLineLimit feeds an endless line: the reader stops after
// maxLineBytes instead of buffering it.
func TestLoadCSVLineLimit(t *testing.T) {
	endless := &countingReader{r: neverEnding('7')}
	cfg := patientsConfig("endless.csv")
	_, err := load(cfg, singleFile{name: "endless.csv", open: func() io.Reader { return endless }}, 1)
	if !errors.Is(err, ErrLineTooLong) || !strings.HasPrefix(err.Error(), "endless.csv:1:") {
		t.Fatalf("got %v, want ErrLineTooLong at endless.csv:1", err)
	}
	if endless.n > 2*maxLineBytes {
		t.Fatalf("read %d bytes of one line, limit %d", endless.n, maxLineBytes)
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// singleFile is an fs.FS of one file whose content open makes afresh at
// each Open, so that a test can generate it on the fly.
type singleFile struct {
	name string
	open func() io.Reader
}

func (s singleFile) Open(name string) (fs.File, error) {
	if name != s.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return streamFile{s.open()}, nil
}

type streamFile struct{ io.Reader }

func (streamFile) Stat() (fs.FileInfo, error) { return nil, errors.ErrUnsupported }
func (streamFile) Close() error               { return nil }
