package glove

import (
	"bytes"
	"testing"
)

func tinyVectors(t *testing.T) *Vectors {
	t.Helper()
	out, _ := convertTiny(t, Options{VocabSize: 3, FracBits: 12})
	v, err := Read(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The window of token i holds the vectors of i-W..i+W, zeros outside the
// sentence and for unknown words, each scaled by 1/max|v|, then the flags.
func TestWindowFeatures(t *testing.T) {
	v := tinyVectors(t) // the, ",", paris; max |v| = 2
	w := NewWindow(v, 1)
	if w.Features() != 3*(3+len(Flags)) || len(w.Names()) != w.Features() {
		t.Fatalf("%d features, %d names", w.Features(), len(w.Names()))
	}
	xs := w.Sentence([]string{"The", "#Paris", "ZKDP"})
	flag := func(x []float64, pos int, name string) float64 {
		for i, f := range Flags {
			if f == name {
				return x[3*3+pos*len(Flags)+i]
			}
		}
		t.Fatalf("no flag %s", name)
		return 0
	}
	x := xs[0]
	// Position 0 (token -1) is outside: zeros and the flag.
	if x[0] != 0 || flag(x, 0, "outside") != 1 {
		t.Errorf("token -1 of the first token: %v, outside %v", x[:3], flag(x, 0, "outside"))
	}
	// Position 1 is "The" -> "the" = (1.5, -2, 0) / 2.
	if x[3] != 0.75 || x[4] != -1 || x[5] != 0 || flag(x, 1, "init_cap") != 1 {
		t.Errorf("centre of the first token: %v", x[3:6])
	}
	// Position 2 is "#Paris" -> "paris" without its '#', a hashtag.
	if x[6] != float64(-1364)/4096/2 || flag(x, 2, "hashtag") != 1 {
		t.Errorf("token +1 of the first token: %v", x[6:9])
	}
	// "ZKDP" is outside the vocabulary: zeros, unknown, all caps.
	z := xs[2]
	if z[3] != 0 || flag(z, 1, "unknown") != 1 || flag(z, 1, "all_caps") != 1 || flag(z, 2, "outside") != 1 {
		t.Errorf("unknown last token: %v", z)
	}
	for _, x := range xs {
		for _, f := range x {
			if f < -1 || f > 1 {
				t.Fatalf("feature %v outside [-1, 1]", f)
			}
		}
	}
}
