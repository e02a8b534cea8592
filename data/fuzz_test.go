package data

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/zkdp/zkdp/datasets"
	"github.com/zkdp/zkdp/dp"
)

// FuzzParseRow feeds arbitrary lines to every dataset's row parser, under
// every missing-value policy: they must never panic, and either return an
// in-range row or a *RowError that names the file and line.
func FuzzParseRow(f *testing.F) {
	bc, err := fsysLines("breast_cancer", "breast_cancer.csv", 3)
	if err != nil {
		f.Fatal(err)
	}
	adult, err := fsysLines("adult", "adult.data", 2)
	if err != nil {
		f.Fatal(err)
	}
	digits, err := fsysLines("digits", "digits.csv", 2)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range append(append(append(bc, adult...), digits...),
		"", ",", "?", "NaN", "1e999,"+strings.Repeat("0,", 30),
		"38, Private, 1, HS-grad, 9, Divorced, ?, Not-in-family, White, Male, 0, 0, 40, United-States, >50K.",
		"38, Private, 1, HS-grad, 9, Divorced, ?, Not-in-family, White, Male, -5, 1e400, 40, United-States, <=50K",
	) {
		f.Add(seed)
	}
	parsers := map[string]*rowParser{}
	for _, name := range Names() {
		for _, missing := range []string{MissingCategory, MissingDrop, MissingError} {
			cfg, err := DefaultConfig(name)
			if err != nil {
				f.Fatal(err)
			}
			cfg.Missing = missing
			parsers[name+"/"+missing] = newRowParser(schemas[name], cfg)
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		for key, p := range parsers {
			x, y, _, err := p.parseRecord("f", 7, strings.Split(line, ","))
			if err != nil {
				var rowErr *RowError
				if !errors.As(err, &rowErr) || rowErr.File != "f" || rowErr.Line != 7 {
					t.Fatalf("%s: %q: error %v is not a RowError for f:7", key, line, err)
				}
				continue
			}
			if len(x) != p.width || y < 0 || y >= len(p.sch.classes) {
				t.Fatalf("%s: %q: %d features, label %d", key, line, len(x), y)
			}
			for _, v := range x {
				if !(v >= -1 && v <= 1) {
					t.Fatalf("%s: %q: feature %v outside [-1,1]", key, line, v)
				}
			}
		}
	})
}

// fuzzFiles are the files FuzzLoad fills, by dataset: the training file and,
// for adult, the published test file.
var fuzzFiles = []struct{ name, train, test string }{
	{"breast_cancer", "breast_cancer.csv", ""},
	{"digits", "digits.csv", ""},
	{"adult", "adult.data", "adult.test"},
}

// FuzzLoad loads arbitrary file contents as each dataset: never a panic;
// a failure wraps one of the package's sentinels; a success has non-empty
// splits of in-range rows that quantize and commit. Seeds: the head of each
// shipped file, here, and in testdata/fuzz the cases that once failed.
func FuzzLoad(f *testing.F) {
	for i, ff := range fuzzFiles {
		train, err := fsysLines(ff.name, ff.train, 6)
		if err != nil {
			f.Fatal(err)
		}
		test := []string{}
		if ff.test != "" {
			if test, err = fsysLines(ff.name, ff.test, 4); err != nil {
				f.Fatal(err)
			}
		}
		f.Add(uint8(i), strings.Join(train, "\n"), strings.Join(test, "\n"))
		f.Add(uint8(i), strings.Join(train, "\r\n")+"\n\n", "")
	}
	f.Add(uint8(0), "3,30,malignant,benign\n", "")
	f.Add(uint8(2), "", "x")
	f.Fuzz(func(t *testing.T, which uint8, train, test string) {
		ff := fuzzFiles[int(which)%len(fuzzFiles)]
		cfg, err := DefaultConfig(ff.name)
		if err != nil {
			t.Fatal(err)
		}
		fsys := fstest.MapFS{ff.train: {Data: []byte(train)}}
		if ff.test != "" {
			fsys[ff.test] = &fstest.MapFile{Data: []byte(test)}
		}
		ds, err := load(cfg, fsys, 1)
		if err != nil {
			for _, sentinel := range []error{ErrBadRow, ErrBadHeader, ErrNoRows, ErrSplit} {
				if errors.Is(err, sentinel) {
					return
				}
			}
			t.Fatalf("%s: error %v wraps none of the package's sentinels", ff.name, err)
		}
		for _, s := range []Split{ds.Train, ds.Test} {
			if s.Len() == 0 || len(s.X) != s.Len() {
				t.Fatalf("%s: a split of %d rows and %d labels", ff.name, len(s.X), s.Len())
			}
			for i, row := range s.X {
				if len(row) != len(ds.Features) || s.Y[i] < 0 || s.Y[i] >= len(ds.Classes) {
					t.Fatalf("%s: row %d: %d features, label %d", ff.name, i, len(row), s.Y[i])
				}
			}
		}
		q, err := QuantizeSplit(ds.Train, 16)
		if err != nil {
			t.Fatalf("%s: parsed rows do not quantize: %v", ff.name, err)
		}
		if _, err := q.Commit(dp.RowSalts(testSeed, q.Len())); err != nil {
			t.Fatalf("%s: parsed rows do not commit: %v", ff.name, err)
		}
	})
}

// fsysLines returns the first n lines of a shipped file.
func fsysLines(name, file string, n int) ([]string, error) {
	body, err := readShipped(name, file)
	if err != nil {
		return nil, err
	}
	lines := strings.SplitN(body, "\n", n+1)
	return lines[:min(n, len(lines))], nil
}

func readShipped(name, file string) (string, error) {
	dir, err := datasets.Open(name)
	if err != nil {
		return "", err
	}
	b, err := fs.ReadFile(dir, file)
	return string(b), err
}

// FuzzLoadCSV loads arbitrary train and test files through data.path with
// the patients config (label in the middle, every feature kind, both
// out-of-range policies): never a panic; a failure wraps one of the
// package's sentinels, and a bad row names the file and a line that exists;
// a success has in-range rows. Seeds: here, and in testdata/fuzz.
func FuzzLoadCSV(f *testing.F) {
	f.Add(patientsHeader+"\n1,50,F,sick,1,1,1\n2,20,M,healthy,0,10,2\n", "", false)
	f.Add(patientsHeader+"\r\n1,50,F,sick,1,1,1\r\n2,200,M,healthy,0,10,2\r\n", patientsHeader+"\n3,1,?,sick,1,1,1\n", true)
	f.Add(patientsHeader+"\n\"1\",\"5\"\"0\",F,sick,1,1,1\n", "", false)
	f.Add("id,age,sex,diagnosis\n1,2,3,4\n", "", false)
	f.Add(patientsHeader+"\n1,50,F,sick,1,1\n", "", true)
	f.Add("", "", false)
	f.Fuzz(func(t *testing.T, train, test string, reject bool) {
		cfg := patientsConfig("patients.csv")
		fsys := fstest.MapFS{"patients.csv": {Data: []byte(train)}}
		if test != "" {
			cfg.TestFraction, cfg.TestPath = 0, "patients_test.csv"
			fsys[cfg.TestPath] = &fstest.MapFile{Data: []byte(test)}
		}
		if reject {
			cfg.OutOfRange = OutOfRangeError
		}
		ds, err := load(cfg, fsys, 1)
		if err != nil {
			var rowErr *RowError
			if errors.As(err, &rowErr) {
				body := train
				if rowErr.File == cfg.TestPath {
					body = test
				}
				if rowErr.Line < 1 || rowErr.Line > strings.Count(body, "\n")+2 {
					t.Fatalf("%v: line %d is not in the file", err, rowErr.Line)
				}
			}
			for _, sentinel := range []error{ErrBadRow, ErrInvalidConfig, ErrSplit, ErrRowBound} {
				if errors.Is(err, sentinel) {
					return
				}
			}
			t.Fatalf("error %v wraps none of the package's sentinels", err)
		}
		for _, s := range []Split{ds.Train, ds.Test} {
			for i, row := range s.X {
				if len(row) != len(ds.Features) || s.Y[i] < 0 || s.Y[i] >= len(ds.Classes) {
					t.Fatalf("row %d: %d features, label %d", i, len(row), s.Y[i])
				}
				for _, v := range row {
					if !(v >= 0 && v <= 1) {
						t.Fatalf("row %d: feature %v outside [0,1]", i, v)
					}
				}
			}
		}
	})
}
