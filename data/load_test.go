package data

import "testing"

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
				if !(v >= 0 && v <= 1) {
					t.Fatalf("row %d feature %s = %v, outside [0,1]", i, ds.Features[j], v)
				}
			}
			if s.Y[i] < 0 || s.Y[i] >= len(ds.Classes) {
				t.Fatalf("row %d label %d", i, s.Y[i])
			}
		}
	}
}
