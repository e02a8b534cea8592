package dp

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/zkdp/zkdp/fixedpoint"
)

// W_0's widths follow the He-uniform bound rounded down to a power of two;
// the head, the biases and sub-unit layers are zero; the weights are the
// PRF words' 15-bit chunks, four to a word, low bits first, so another key
// gives another W_0.
func TestInitialWeights(t *testing.T) {
	f := fixedpoint.DefaultFormat()
	widths := []int{30, 4, 2}
	bits, err := InitBits(widths, f, 1)
	if err != nil {
		t.Fatal(err)
	}
	// sqrt(6/30) * 2^16 = 29,308.9: 2^14 <= it < 2^15, so k - 1 = 14.
	if !slices.Equal(bits, []uint{15, 0}) {
		t.Fatalf("bits %v, want [15 0]", bits)
	}
	if b, _ := InitBits(widths, f, 0); !slices.Equal(b, []uint{0, 0}) {
		t.Fatalf("scale 0: bits %v", b)
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), -1, 1e6} {
		if _, err := InitBits(widths, f, bad); !errors.Is(err, ErrInit) {
			t.Errorf("scale %v: %v, want ErrInit", bad, err)
		}
	}
	key := testKey(5)
	w, err := InitialWeights(widths, bits, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != fixedpoint.NumParams(widths) || InitChunks(15) != 4 || InitWords(widths, bits) != 30 {
		t.Fatalf("%d parameters, %d words", len(w), InitWords(widths, bits))
	}
	words, err := Words(key, StreamInit, 30)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := int64(0), int64(0)
	for i := range 120 {
		if want := int64(words[i/4]>>(15*(i%4))%(1<<15)) - 1<<14; w[i] != want {
			t.Fatalf("weight %d = %d, want %d", i, w[i], want)
		}
		lo, hi = min(lo, w[i]), max(hi, w[i])
	}
	if lo < -1<<14 || hi >= 1<<14 || lo > -1<<12 || hi < 1<<12 {
		t.Fatalf("weights span [%d, %d], want most of [-2^14, 2^14)", lo, hi)
	}
	if slices.ContainsFunc(w[120:], func(v int64) bool { return v != 0 }) {
		t.Fatalf("biases or head not zero: %v", w[120:])
	}
	if other, _ := InitialWeights(widths, bits, testKey(6)); slices.Equal(w, other) {
		t.Fatal("another key gave the same W_0")
	}
}
