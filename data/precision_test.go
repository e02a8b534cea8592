package data

import (
	"testing"
)

// Digits' features are multiples of 2^-4: quantized at 4 fractional bits and
// scaled to 16 they are the values quantized at 16, so committing them at 4
// bits (configs/digits.yaml data_frac_bits) changes no input of the model.
func TestDigitsFeaturesAreExactAtFourBits(t *testing.T) {
	dc, err := DefaultConfig("digits")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Load(dc, 1)
	if err != nil {
		t.Fatal(err)
	}
	fine, err := QuantizeSplit(ds.Train, 16)
	if err != nil {
		t.Fatal(err)
	}
	coarse, err := QuantizeSplit(ds.Train, 4)
	if err != nil {
		t.Fatal(err)
	}
	scaled := coarse.Scaled(12)
	if scaled.FracBits != 16 || len(scaled.X) != len(fine.X) {
		t.Fatalf("scaled to %d bits, %d rows", scaled.FracBits, len(scaled.X))
	}
	for i := range fine.X {
		for j := range fine.X[i] {
			if scaled.X[i][j] != fine.X[i][j] {
				t.Fatalf("row %d feature %d: %d at 4 bits scaled, %d at 16", i, j, scaled.X[i][j], fine.X[i][j])
			}
		}
	}
	if coarse.Scaled(0) != coarse {
		t.Fatal("a zero shift copies")
	}
}
