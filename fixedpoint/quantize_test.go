package fixedpoint

import (
	"errors"
	"math"
	"testing"
)

func TestQuantizeRounding(t *testing.T) {
	tests := []struct {
		x        float64
		fracBits uint
		want     int64
	}{
		{0, 16, 0},
		{1, 16, 1 << 16},
		{-1, 16, -(1 << 16)},
		{0.5, 0, 1},   // tie rounds away from zero...
		{-0.5, 0, -1}, // ...on both sides
		{2.5, 0, 3},   // not to even
		{-2.5, 0, -3},
		{0.375, 2, 2}, // 1.5 -> 2
		{math.Nextafter(0.5, 0), 0, 0},
		{1.0 / 3, 16, 21845},   // 21845.33
		{-1.0 / 3, 16, -21845}, // symmetric
		{2.0 / 3, 16, 43691},   // 43690.67
		{-math.Ldexp(1, 63), 0, math.MinInt64},
		{0.75, 62, 3 << 60},
	}
	for _, tt := range tests {
		got, err := Quantize(tt.x, tt.fracBits)
		if err != nil || got != tt.want {
			t.Errorf("Quantize(%v, %d) = %d, %v; want %d", tt.x, tt.fracBits, got, err, tt.want)
		}
	}
}

func TestQuantizeErrors(t *testing.T) {
	tests := []struct {
		x        float64
		fracBits uint
		want     error
	}{
		{math.NaN(), 16, ErrDomain},
		{math.Inf(1), 16, ErrDomain},
		{math.Inf(-1), 16, ErrDomain},
		{math.Ldexp(1, 63), 0, ErrOverflow},
		{1, 63, ErrFormat},
		{1, math.MaxUint, ErrFormat},
		{2, 62, ErrOverflow},
		{-1e300, 62, ErrOverflow},
	}
	for _, tt := range tests {
		if _, err := Quantize(tt.x, tt.fracBits); !errors.Is(err, tt.want) {
			t.Errorf("Quantize(%v, %d): got %v, want %v", tt.x, tt.fracBits, err, tt.want)
		}
	}
}
