package scatternet

import (
	"math"
	"math/cmplx"
)

// kymatioPi is the constant Kymatio's gabor_2d divides by (2*3.1415*sigma^2
// / slant): kept so that the filters are Kymatio's to the last bit of the
// formula, not only up to a factor.
const kymatioPi = 3.1415

// gabor is Kymatio's gabor_2d: an n x n Gabor filter, periodized over the
// 5 x 5 neighbouring periods, centred at (0, 0), row-major. x runs down the
// rows and y along them, as numpy's mgrid does.
func gabor(n int, sigma, theta, xi, slant float64) []complex128 {
	cos, sin := math.Cos(theta), math.Sin(theta)
	// curv = R D R^-1 / (2 sigma^2), R the rotation by theta, D = diag(1, slant^2).
	d := slant * slant
	c00 := (cos*cos + d*sin*sin) / (2 * sigma * sigma)
	c01 := (cos*sin - d*sin*cos) / (2 * sigma * sigma) // = curv[1][0]
	c11 := (sin*sin + d*cos*cos) / (2 * sigma * sigma)
	g := make([]complex128, n*n)
	for r := range n {
		for c := range n {
			var sum complex128
			for ex := -2; ex <= 2; ex++ {
				for ey := -2; ey <= 2; ey++ {
					x, y := float64(r+ex*n), float64(c+ey*n)
					arg := complex(-(c00*x*x + 2*c01*x*y + c11*y*y), x*cos*xi+y*sin*xi)
					sum += cmplx.Exp(arg)
				}
			}
			g[r*n+c] = sum / complex(2*kymatioPi*sigma*sigma/slant, 0)
		}
	}
	return g
}

// morlet is Kymatio's morlet_2d: a Gabor filter minus its envelope scaled
// so that the filter sums to zero.
func morlet(n int, sigma, theta, xi, slant float64) []complex128 {
	wave := gabor(n, sigma, theta, xi, slant)
	env := gabor(n, sigma, theta, 0, slant)
	var sw, se complex128
	for i := range wave {
		sw += wave[i]
		se += env[i]
	}
	k := sw / se
	for i := range wave {
		wave[i] -= k * env[i]
	}
	return wave
}

// wavelet returns the spatial Morlet wavelet psi_{j,l} of Kymatio's
// filter_bank: sigma 0.8*2^j, angle (L/2-1-l)*pi/L, centre frequency
// 3/4*pi/2^j, slant 4/L.
func wavelet(n, j, l, L int) []complex128 {
	theta := float64(L-L/2-1-l) * math.Pi / float64(L)
	return morlet(n, 0.8*math.Exp2(float64(j)), theta, 0.75*math.Pi/math.Exp2(float64(j)), 4/float64(L))
}

// lowpass returns Kymatio's spatial low-pass phi: a Gaussian of sigma
// 0.8*2^(J-1).
func lowpass(n, J int) []complex128 {
	return gabor(n, 0.8*math.Exp2(float64(J-1)), 0, 0, 1)
}

// fourierReal is Kymatio's np.real(fft2(filter)).
func fourierReal(f *fft2, spatial []complex128) []float64 {
	a := append([]complex128(nil), spatial...)
	f.forward(a)
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = real(v)
	}
	return out
}
