package data

import (
	"errors"
	"fmt"
	"github.com/zkdp/zkdp/dp"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestLoadBreastCancerCounts(t *testing.T) {
	cfg, err := DefaultConfig("breast_cancer")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Load(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	counts := classCounts(ds.Train, 2)
	for c, n := range classCounts(ds.Test, 2) {
		counts[c] += n
	}
	if counts[0] != 212 || counts[1] != 357 {
		t.Fatalf("class counts %v, want [212 357] (malignant, benign)", counts)
	}
	if ds.Test.Len() != 114 || ds.Train.Len() != 455 {
		t.Fatalf("split %d/%d, want 455/114", ds.Train.Len(), ds.Test.Len())
	}
	assertScaled(t, ds)
}

func classCounts(s Split, k int) []int {
	counts := make([]int, k)
	for _, y := range s.Y {
		counts[y]++
	}
	return counts
}

// assertScaled checks every feature is in [0,1] and every row is full width.
func assertScaled(t *testing.T, ds *Dataset) {
	t.Helper()
	for _, s := range []Split{ds.Train, ds.Test} {
		for i, row := range s.X {
			if len(row) != len(ds.Features) {
				t.Fatalf("row %d has %d features, want %d", i, len(row), len(ds.Features))
			}
			for j, v := range row {
				if !(v >= -1 && v <= 1) {
					t.Fatalf("row %d feature %s = %v, outside [-1,1]", i, ds.Features[j], v)
				}
			}
			if s.Y[i] < 0 || s.Y[i] >= len(ds.Classes) {
				t.Fatalf("row %d label %d", i, s.Y[i])
			}
		}
	}
}

// fixture returns the default config of dataset name, reading from
// testdata/dir and with the given missing policy ("" keeps the default).
func fixture(t *testing.T, name, dir, missing string) Config {
	t.Helper()
	cfg, err := DefaultConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dir = filepath.Join("testdata", dir)
	if missing != "" {
		cfg.Missing = missing
	}
	return cfg
}

func TestLoadRejectsBadRows(t *testing.T) {
	tests := []struct {
		dataset, dir, missing string
		file                  string
		line                  int
		field                 string
		sentinel              error
		message               string // the whole error, when worth pinning
	}{
		{"breast_cancer", "bc_too_few_fields", "", "breast_cancer.csv", 4, "target", ErrColumnCount,
			`breast_cancer.csv:4: field "target": wrong number of fields: got 30, want 31`},
		{"breast_cancer", "bc_too_many_fields", "", "breast_cancer.csv", 4, "", ErrColumnCount,
			`breast_cancer.csv:4: wrong number of fields: got 32, want 31`},
		{"breast_cancer", "bc_not_number", "", "breast_cancer.csv", 4, "mean texture", ErrNotNumber,
			`breast_cancer.csv:4: field "mean texture": "abc" is not a number`},
		{"breast_cancer", "bc_nan", "", "breast_cancer.csv", 4, "worst area", ErrNotFinite,
			`breast_cancer.csv:4: field "worst area": "NaN" is not finite`},
		{"breast_cancer", "bc_inf", "", "breast_cancer.csv", 4, "radius error", ErrNotFinite, ""},
		{"breast_cancer", "bc_overflow", "", "breast_cancer.csv", 4, "mean radius", ErrNotFinite, ""},
		{"breast_cancer", "bc_unknown_label", "", "breast_cancer.csv", 4, "target", ErrUnknownLabel, ""},
		{"breast_cancer", "bc_missing", "", "breast_cancer.csv", 4, "mean compactness", ErrMissingValue, ""},
		{"breast_cancer", "bc_bad_header", "", "breast_cancer.csv", 1, "", ErrBadHeader, ""},
		{"digits", "digits_too_many_fields", "", "digits.csv", 6, "", ErrColumnCount, ""},
		{"adult", "adult_not_number", "", "adult.data", 3, "age", ErrNotNumber,
			`adult.data:3: field "age": "abc" is not a number`},
		{"adult", "adult_unknown_category", "", "adult.data", 3, "workclass", ErrUnknownCategory, ""},
		{"adult", "adult_unknown_label", "", "adult.data", 3, "income", ErrUnknownLabel, ""},
		{"adult", "adult_missing", MissingError, "adult.data", 3, "occupation", ErrMissingValue,
			`adult.data:3: field "occupation": missing value "?" (data.missing is "error")`},
		{"adult", "adult_bad_test_label", "", "adult.test", 3, "income", ErrUnknownLabel, ""},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			_, err := Load(fixture(t, tt.dataset, tt.dir, tt.missing), 1)
			var rowErr *RowError
			if !errors.As(err, &rowErr) {
				t.Fatalf("got %v, want a *RowError", err)
			}
			if rowErr.File != tt.file || rowErr.Line != tt.line || rowErr.Field != tt.field {
				t.Fatalf("error names %s:%d field %q, want %s:%d field %q (%v)",
					rowErr.File, rowErr.Line, rowErr.Field, tt.file, tt.line, tt.field, err)
			}
			if !errors.Is(err, tt.sentinel) || !errors.Is(err, ErrBadRow) {
				t.Fatalf("%v: does not match %v and ErrBadRow", err, tt.sentinel)
			}
			if tt.message != "" && err.Error() != tt.message {
				t.Fatalf("message %q, want %q", err, tt.message)
			}
		})
	}
}

func TestLoadHeaderRowCount(t *testing.T) {
	_, err := Load(fixture(t, "breast_cancer", "bc_row_count", ""), 1)
	if !errors.Is(err, ErrBadHeader) || !strings.Contains(err.Error(), "breast_cancer.csv") {
		t.Fatalf("got %v, want ErrBadHeader naming the file", err)
	}
}

func TestLoadMissingDir(t *testing.T) {
	if _, err := Load(fixture(t, "adult", "no_such_dir", ""), 1); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want fs.ErrNotExist", err)
	}
}

// TestMissingPolicies loads the same '?' row under each policy.
func TestMissingPolicies(t *testing.T) {
	ds, err := Load(fixture(t, "adult", "adult_missing", MissingCategory), 1)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len() != 4 || ds.Dropped != 0 {
		t.Fatalf("category: %d train rows, %d dropped; want 4, 0", ds.Train.Len(), ds.Dropped)
	}
	slot := slices.Index(ds.Features, "occupation=?")
	if slot < 0 || ds.Train.X[2][slot] != 1 || ds.Train.X[1][slot] != 0 {
		t.Fatalf("category: the '?' occupation slot (%d) is not set on row 2 only", slot)
	}
	ds, err = Load(fixture(t, "adult", "adult_missing", MissingDrop), 1)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len() != 3 || ds.Dropped != 1 || slices.Contains(ds.Features, "occupation=?") {
		t.Fatalf("drop: %d train rows, %d dropped; want 3, 1 and no '?' features", ds.Train.Len(), ds.Dropped)
	}
}

func TestLoadDigitsCounts(t *testing.T) {
	cfg, err := DefaultConfig("digits")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Load(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	counts := classCounts(ds.Train, 10)
	for c, n := range classCounts(ds.Test, 10) {
		counts[c] += n
	}
	// Per-class counts from datasets/digits/SOURCE.txt.
	want := []int{178, 182, 177, 183, 181, 182, 181, 179, 174, 180}
	if !slices.Equal(counts, want) || ds.Train.Len()+ds.Test.Len() != 1797 {
		t.Fatalf("class counts %v, want %v (1797 rows)", counts, want)
	}
	if len(ds.Features) != 64 {
		t.Fatalf("%d features, want 64", len(ds.Features))
	}
	assertScaled(t, ds)
}

func TestLoadAdultCounts(t *testing.T) {
	cfg, err := DefaultConfig("adult")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Load(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := classCounts(ds.Train, 2); ds.Train.Len() != 32561 || got[1] != 7841 {
		t.Fatalf("train: %d rows, classes %v; want 32561 with 7841 >50K", ds.Train.Len(), got)
	}
	if got := classCounts(ds.Test, 2); ds.Test.Len() != 16281 || got[1] != 3846 {
		t.Fatalf("test: %d rows, classes %v; want 16281 with 3846 >50K", ds.Test.Len(), got)
	}
	// 5 numeric columns + 99 categories + one '?' slot per categorical column.
	if len(ds.Features) != 5+99+8 || ds.Dropped != 0 {
		t.Fatalf("%d features, %d dropped; want 112, 0", len(ds.Features), ds.Dropped)
	}
	if !slices.Equal(ds.Classes, []string{"<=50K", ">50K"}) {
		t.Fatalf("classes %v", ds.Classes)
	}
	assertScaled(t, ds)
}

func TestSplitDeterminism(t *testing.T) {
	cfg, err := DefaultConfig("breast_cancer")
	if err != nil {
		t.Fatal(err)
	}
	root := func(seed uint64) (Split, string) {
		ds, err := Load(cfg, seed)
		if err != nil {
			t.Fatal(err)
		}
		q, err := QuantizeSplit(ds.Train, 16)
		if err != nil {
			t.Fatal(err)
		}
		tree, err := q.Commit(dp.RowSalts(testSeed, q.Len()))
		if err != nil {
			t.Fatal(err)
		}
		r := tree.Root()
		return ds.Test, r.String()
	}
	testA, rootA := root(42)
	testB, rootB := root(42)
	testC, rootC := root(43)
	if !reflect.DeepEqual(testA, testB) || rootA != rootB {
		t.Fatal("the same split seed gave a different split or root")
	}
	if reflect.DeepEqual(testA, testC) || rootA == rootC {
		t.Fatal("a different split seed gave the same split or root")
	}
}

// TestSplitRowsPinned pins the shuffle, so a change to it (which would change
// every committed dataset root) is caught.
func TestSplitRowsPinned(t *testing.T) {
	all := Split{X: make([][]float64, 10), Y: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}
	_, test, err := splitRows(all, 0.3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{3, 7, 8}; !slices.Equal(test.Y, want) {
		t.Fatalf("seed 1 moved rows %v to test, want %v", test.Y, want)
	}
	if _, _, err := splitRows(all, 0.01, 1); err == nil {
		t.Fatal("a split leaving an empty test set was accepted")
	}
}

// ExampleLoad loads the embedded breast cancer data with the shipped
// constants and commits to the quantized training rows.
func ExampleLoad() {
	cfg, err := DefaultConfig("breast_cancer")
	if err != nil {
		fmt.Println(err)
		return
	}
	ds, err := Load(cfg, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	q, err := QuantizeSplit(ds.Train, 16)
	if err != nil {
		fmt.Println(err)
		return
	}
	tree, err := q.Commit(dp.RowSalts(testSeed, q.Len()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ds.Name, len(ds.Features), "features,", ds.Classes)
	fmt.Println("train", ds.Train.Len(), "test", ds.Test.Len(), "tree depth", tree.Depth())
	// Output:
	// breast_cancer 30 features, [malignant benign]
	// train 455 test 114 tree depth 9
}

// Center maps numeric features to [-1, 1] and leaves one-hot features 0/1.
func TestCenter(t *testing.T) {
	cfg, err := DefaultConfig("adult")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Center = false
	plain, err := Load(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Center = true
	centered, err := Load(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	for j, name := range plain.Features {
		a, b := plain.Train.X[0][j], centered.Train.X[0][j]
		if strings.Contains(name, "=") {
			if a != b {
				t.Fatalf("one-hot %s changed: %v -> %v", name, a, b)
			}
		} else if b != 2*a-1 {
			t.Fatalf("numeric %s: %v -> %v, want %v", name, a, b, 2*a-1)
		}
	}
}
