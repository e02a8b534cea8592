package data

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/zkdp/zkdp/datasets"
)

// FuzzParseRow feeds arbitrary lines to the breast cancer and adult row
// parsers: they must never panic, and either return an in-range row or a
// *RowError that names the file and line.
func FuzzParseRow(f *testing.F) {
	bc, err := fsysLines("breast_cancer", "breast_cancer.csv", 3)
	if err != nil {
		f.Fatal(err)
	}
	adult, err := fsysLines("adult", "adult.data", 2)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range append(append(bc, adult...),
		"", ",", "?", "NaN", "1e999,"+strings.Repeat("0,", 30),
		"38, Private, 1, HS-grad, 9, Divorced, ?, Not-in-family, White, Male, 0, 0, 40, United-States, >50K.",
		"38, Private, 1, HS-grad, 9, Divorced, ?, Not-in-family, White, Male, -5, 1e400, 40, United-States, <=50K",
	) {
		f.Add(seed)
	}
	parsers := map[string]*rowParser{}
	for _, name := range []string{"breast_cancer", "adult"} {
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
			x, y, _, err := p.parseRow("f", 7, line)
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

// FuzzLoadFile loads arbitrary breast_cancer.csv contents: never a panic.
func FuzzLoadFile(f *testing.F) {
	bc, err := fsysLines("breast_cancer", "breast_cancer.csv", 4)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(strings.Join(bc, "\n"))
	f.Add("3,30,malignant,benign\n" + strings.Join(bc[1:], "\r\n") + "\n\n")
	f.Add("")
	f.Add("x")
	cfg, err := DefaultConfig("breast_cancer")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, content string) {
		fsys := fstest.MapFS{"breast_cancer.csv": {Data: []byte(content)}}
		ds, err := load(cfg, fsys, 1)
		if err == nil && (ds.Train.Len() == 0 || ds.Test.Len() == 0) {
			t.Fatalf("loaded an empty split without error")
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
