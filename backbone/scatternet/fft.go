package scatternet

import (
	"math"
	"math/bits"
)

// fft2 is an in-place 2-D radix-2 FFT of n x n complex values, n a power of
// two, rows first. Written out (rather than gonum's 1-D transform called per
// line) so that the scattering of one image allocates nothing.
type fft2 struct {
	n       int
	logn    int
	twiddle []complex128 // exp(-2 pi i k / n), k < n/2
	rev     []int        // bit reversal of 0..n-1
	line    []complex128 // scratch: one column
}

func newFFT2(n int) *fft2 {
	f := &fft2{n: n, logn: bits.TrailingZeros(uint(n)), twiddle: make([]complex128, n/2), rev: make([]int, n), line: make([]complex128, n)}
	for k := range f.twiddle {
		s, c := math.Sincos(-2 * math.Pi * float64(k) / float64(n))
		f.twiddle[k] = complex(c, s)
	}
	for i := range f.rev {
		f.rev[i] = int(bits.Reverse(uint(i)) >> (bits.UintSize - f.logn))
	}
	return f
}

// clone shares the tables and owns its scratch, for another goroutine.
func (f *fft2) clone() *fft2 {
	g := *f
	g.line = make([]complex128, f.n)
	return &g
}

// transform1 transforms a in place; inverse conjugates the twiddles (the
// 1/n scaling is left to the caller).
func (f *fft2) transform1(a []complex128, inverse bool) {
	n := f.n
	for i, j := range f.rev {
		if i < j {
			a[i], a[j] = a[j], a[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half, step := size>>1, n/size
		for start := 0; start < n; start += size {
			for k := range half {
				w := f.twiddle[k*step]
				if inverse {
					w = complex(real(w), -imag(w))
				}
				u, v := a[start+k], a[start+k+half]*w
				a[start+k], a[start+k+half] = u+v, u-v
			}
		}
	}
}

// forward transforms the n x n row-major a in place.
func (f *fft2) forward(a []complex128) { f.transform(a, false) }

// inverse is the unnormalized inverse: forward's inverse times n^2.
func (f *fft2) inverse(a []complex128) { f.transform(a, true) }

func (f *fft2) transform(a []complex128, inverse bool) {
	n := f.n
	for r := range n {
		f.transform1(a[r*n:(r+1)*n], inverse)
	}
	for c := range n {
		for r := range n {
			f.line[r] = a[r*n+c]
		}
		f.transform1(f.line, inverse)
		for r := range n {
			a[r*n+c] = f.line[r]
		}
	}
}
