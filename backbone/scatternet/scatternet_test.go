package scatternet

import (
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// testImage is a fixed 28 x 28 image in [0, 1]: a thick ring and a slanted
// stroke (a digit-like shape) plus seeded noise, zero on a 4-pixel border.
func testImage() []float64 {
	const size = 28
	rng := rand.New(rand.NewPCG(16, 28))
	img := make([]float64, size*size)
	for r := 4; r < size-4; r++ {
		for c := 4; c < size-4; c++ {
			d := math.Hypot(float64(r)-10, float64(c)-14)
			v := math.Exp(-(d - 5) * (d - 5) / 3)
			if s := math.Abs(float64(c) - 14 - 0.4*(float64(r)-14)); r > 12 && s < 1.5 {
				v = max(v, 1-s/1.5)
			}
			img[r*size+c] = min(1, v+0.1*rng.Float64())
		}
	}
	return img
}

func mustNew(t testing.TB, cfg Config) *Network {
	t.Helper()
	net, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// directScattering is the reference: every convolution computed directly in
// the spatial domain, as a circular sum over the n x n grid with the spatial
// filters from Kymatio's formulas (gabor, morlet), never a Fourier
// transform; the low-pass output is then read at the multiples of 2^J. It
// shares nothing with Apply's path but the filter formulas and the padding.
func directScattering(net *Network, img []float64) []float64 {
	n, size, cfg := net.n, net.cfg.Size, net.cfg
	x := make([]complex128, n*n)
	for r := range size {
		for c := range size {
			x[r*n+c] = complex(img[r*size+c], 0)
		}
	}
	conv := func(a, f []complex128) []complex128 {
		out := make([]complex128, n*n)
		for ur := range n {
			for uc := range n {
				var s complex128
				for vr := range n {
					for vc := range n {
						if a[vr*n+vc] != 0 {
							s += a[vr*n+vc] * f[((ur-vr+n)%n)*n+(uc-vc+n)%n]
						}
					}
				}
				out[ur*n+uc] = s
			}
		}
		return out
	}
	abs := func(a []complex128) []complex128 {
		out := make([]complex128, len(a))
		for i, v := range a {
			out[i] = complex(cmplx.Abs(v), 0)
		}
		return out
	}
	phi := lowpass(n, cfg.J)
	s, k := cfg.OutSide(), 1<<cfg.J
	var out []float64
	// sample reads the low-pass of a at the output points only.
	sample := func(a []complex128) {
		for r := range s {
			for c := range s {
				var v complex128
				for vr := range n {
					for vc := range n {
						v += a[vr*n+vc] * phi[((r*k-vr+n)%n)*n+(c*k-vc+n)%n]
					}
				}
				out = append(out, real(v))
			}
		}
	}
	sample(x)
	var u1 [][]complex128
	for j := range cfg.J {
		for l := range cfg.L {
			u := abs(conv(x, wavelet(n, j, l, cfg.L)))
			u1 = append(u1, u)
			sample(u)
		}
	}
	if cfg.Order == 2 {
		for j1 := range cfg.J {
			for l1 := range cfg.L {
				for j2 := j1 + 1; j2 < cfg.J; j2++ {
					for l2 := range cfg.L {
						sample(abs(conv(u1[j1*cfg.L+l1], wavelet(n, j2, l2, cfg.L))))
					}
				}
			}
		}
	}
	return out
}

// TestAgainstDirectConvolution compares the FFT path (Fourier filters,
// paired real transforms, subsampling by aliasing in the Fourier domain)
// with directScattering on a fixed image, first and second order.
func TestAgainstDirectConvolution(t *testing.T) {
	img := testImage()
	for _, order := range []int{1, 2} {
		net := mustNew(t, Config{Size: 28, J: 2, L: 8, Order: order})
		got := make([]float64, net.OutputWidth())
		net.Scatter(got, img)
		want := directScattering(net, img)
		if len(want) != len(got) {
			t.Fatalf("order %d: %d features, reference %d", order, len(got), len(want))
		}
		var maxAbs, maxErr float64
		for i := range got {
			maxAbs = max(maxAbs, math.Abs(want[i]))
			maxErr = max(maxErr, math.Abs(got[i]-want[i]))
		}
		if maxErr > 1e-10*maxAbs || maxAbs == 0 {
			t.Errorf("order %d: max |FFT - direct| = %g (max |direct| %g)", order, maxErr, maxAbs)
		}
	}
}

// TestHandDerived checks values worked out by hand from Kymatio's formulas.
// The low-pass is a Gaussian of sigma 0.8*2^(J-1) = 1.6 divided by
// 2*3.1415*sigma^2, so (the periodized sum of a Gaussian over the integer
// grid being 2 pi sigma^2 to within e^{-2 pi^2 sigma^2}) its transform at
// 0 is pi/3.1415; a Morlet wavelet sums to 0 by construction; and the order-0
// output of a unit impulse at (0, 0) is the low-pass itself sampled at
// multiples of 4: exp(-16 (r^2+c^2) / (2*1.6^2)) / (2*3.1415*1.6^2).
func TestHandDerived(t *testing.T) {
	net := mustNew(t, Config{Size: 28, J: 2, L: 8, Order: 1})
	if got, want := net.phi[0], math.Pi/3.1415; math.Abs(got-want) > 1e-12 {
		t.Errorf("phi_hat(0) = %.15f, want pi/3.1415 = %.15f", got, want)
	}
	for k, psi := range net.psi {
		if math.Abs(psi[0]) > 1e-12 {
			t.Errorf("psi_hat[%d](0) = %g, want 0", k, psi[0])
		}
	}
	img := make([]float64, 28*28)
	img[0] = 1
	out := make([]float64, net.OutputWidth())
	net.Scatter(out, img)
	for _, rc := range [][2]int{{0, 0}, {0, 1}, {1, 1}, {2, 0}} {
		r, c := rc[0], rc[1]
		d2 := float64(16 * (r*r + c*c))
		want := math.Exp(-d2/(2*1.6*1.6)) / (2 * 3.1415 * 1.6 * 1.6)
		if got := out[r*7+c]; math.Abs(got-want) > 1e-12 {
			t.Errorf("S0 of an impulse at (%d,%d) = %.15g, want %.15g", r, c, got, want)
		}
	}
}

// TestTranslation: moving the image by a multiple of 2^J moves every
// channel by one output sample (exact: the grid is periodic and the ring
// stays inside the image); moving it by one pixel changes the features
// far less than the pixels (the scattering is stable to small shifts).
func TestTranslation(t *testing.T) {
	const size = 28
	net := mustNew(t, Config{Size: size, J: 2, L: 8, Order: 2})
	img := testImage()
	shift := func(dr, dc int) []float64 {
		out := make([]float64, size*size)
		for r := range size {
			for c := range size {
				if sr, sc := r-dr, c-dc; sr >= 0 && sr < size && sc >= 0 && sc < size {
					out[r*size+c] = img[sr*size+sc]
				}
			}
		}
		return out
	}
	base := make([]float64, net.OutputWidth())
	net.Scatter(base, img)
	moved := make([]float64, net.OutputWidth())
	net.Scatter(moved, shift(4, 4)) // the border is 4 pixels wide: nothing falls off
	s := net.cfg.OutSide()
	for ch := range net.cfg.Channels() {
		for r := 1; r < s; r++ {
			for c := 1; c < s; c++ {
				a, b := base[ch*s*s+(r-1)*s+c-1], moved[ch*s*s+r*s+c]
				if math.Abs(a-b) > 1e-12 {
					t.Fatalf("channel %d: S(shifted)[%d,%d] = %g, S[%d,%d] = %g", ch, r, c, b, r-1, c-1, a)
				}
			}
		}
	}
	net.Scatter(moved, shift(1, 0))
	rel := func(a, b []float64) float64 {
		var d, n float64
		for i := range a {
			d += (a[i] - b[i]) * (a[i] - b[i])
			n += a[i] * a[i]
		}
		return math.Sqrt(d / n)
	}
	pix, feat := rel(img, shift(1, 0)), rel(base, moved)
	if feat > pix*2/3 {
		t.Errorf("a one-pixel shift changes the pixels by %.3f, the features by %.3f: want at most two thirds", pix, feat)
	}
	t.Logf("one-pixel shift: pixels change by %.3f, features by %.3f (relative L2)", pix, feat)
}

// TestEnergy checks the transform's energy accounting. With LP(w) =
// phi_hat(w)^2 + sum |psi_hat(w)|^2, Parseval gives ||x*phi||^2 + sum
// ||x*psi||^2 = (1/n^2) sum_w LP(w) |x_hat(w)|^2, so the first layer's
// energy lies within [min LP, max LP] * ||x||^2 (the Littlewood-Paley frame
// bounds), and the modulus keeps each ||x*psi||^2. The test computes the
// left side with the package's modulus and the right side directly.
func TestEnergy(t *testing.T) {
	net := mustNew(t, Config{Size: 28, J: 2, L: 8, Order: 1})
	n := net.n
	img := testImage()
	w := net.newWorkspace()
	for r := range 28 {
		for c := range 28 {
			w.xhat[r*n+c] = complex(img[r*28+c], 0)
		}
	}
	var ex float64
	for _, v := range img {
		ex += v * v
	}
	w.fft.forward(w.xhat)
	var layer, lp float64
	minLP, maxLP := math.Inf(1), 0.0
	for i := range w.xhat {
		lw := net.phi[i] * net.phi[i]
		for _, psi := range net.psi {
			lw += psi[i] * psi[i]
		}
		minLP, maxLP = min(minLP, lw), max(maxLP, lw)
		p := real(w.xhat[i])*real(w.xhat[i]) + imag(w.xhat[i])*imag(w.xhat[i])
		lp += lw * p / float64(n*n)
		layer += net.phi[i] * net.phi[i] * p / float64(n*n)
	}
	for _, psi := range net.psi {
		net.modulus(w, w.xhat, psi, w.u, false)
		for _, v := range w.u {
			layer += real(v) * real(v)
		}
	}
	if math.Abs(layer-lp) > 1e-9*lp {
		t.Errorf("first-layer energy %g, Parseval with the filters says %g", layer, lp)
	}
	if layer < minLP*ex || layer > maxLP*ex {
		t.Errorf("first-layer energy %g outside the frame bounds [%g, %g] * ||x||^2 = %g", layer, minLP, maxLP, ex)
	}
	t.Logf("Littlewood-Paley bounds [%.3f, %.3f]; energy ratio %.3f", minLP, maxLP, layer/ex)
}

// TestFFT compares the 2-D transform with the DFT's definition.
func TestFFT(t *testing.T) {
	const n = 8
	f := newFFT2(n)
	rng := rand.New(rand.NewPCG(1, 2))
	a := make([]complex128, n*n)
	for i := range a {
		a[i] = complex(rng.NormFloat64(), rng.NormFloat64())
	}
	got := append([]complex128(nil), a...)
	f.forward(got)
	for kr := range n {
		for kc := range n {
			var s complex128
			for r := range n {
				for c := range n {
					s += a[r*n+c] * cmplx.Exp(complex(0, -2*math.Pi*float64(kr*r+kc*c)/n))
				}
			}
			if cmplx.Abs(s-got[kr*n+kc]) > 1e-9 {
				t.Fatalf("X[%d,%d] = %v, DFT %v", kr, kc, got[kr*n+kc], s)
			}
		}
	}
	f.inverse(got)
	for i := range got {
		if cmplx.Abs(got[i]/n/n-a[i]) > 1e-12 {
			t.Fatalf("inverse(forward(a))[%d] = %v, want %v", i, got[i]/n/n, a[i])
		}
	}
}

// TestIdentity: the identity names the configuration and changes with it.
func TestIdentity(t *testing.T) {
	a := mustNew(t, Config{Size: 28, J: 2, L: 8, Order: 1}).Identity()
	b := mustNew(t, Config{Size: 28, J: 2, L: 8, Order: 2}).Identity()
	c := mustNew(t, Config{Size: 28, J: 2, L: 6, Order: 1}).Identity()
	if a.Name != Name || a.Version != Version || a.Config != "J=2 L=8 order=1 size=28" || a.Features != 17*49 || len(a.Hash) != 64 {
		t.Errorf("identity %+v", a)
	}
	if b.Features != 81*49 {
		t.Errorf("order 2: %d features, want 81*49", b.Features)
	}
	if a.Hash == c.Hash {
		t.Error("L=8 and L=6 filter banks hash alike")
	}
	if _, err := New(Config{Size: 28, J: 2, L: 7, Order: 1}); err == nil {
		t.Error("odd L accepted")
	}
}

func BenchmarkApply(b *testing.B) {
	for _, order := range []int{1, 2} {
		net := mustNew(b, Config{Size: 28, J: 2, L: 8, Order: order})
		img, out := testImage(), make([]float64, net.OutputWidth())
		b.Run(map[int]string{1: "order1", 2: "order2"}[order], func(b *testing.B) {
			for range b.N {
				net.Scatter(out, img)
			}
		})
	}
}

// TestGroupNormalization works one record through by hand: a record whose
// channel 0 is constant maps it to 0 (the epsilon keeps the division
// finite), and a group holding the values a and b in equal numbers maps
// them to -1/clip and +1/clip (mean (a+b)/2, standard deviation |b-a|/2, up
// to the epsilon).
func TestGroupNormalization(t *testing.T) {
	cfg := Config{Size: 28, J: 2, L: 8, Order: 1, Group: 16, Clip: 4}
	net := mustNew(t, cfg)
	x := make([]float64, net.OutputWidth())
	for i := range x {
		x[i] = 0.25
		if i >= 49 && i%2 == 0 {
			x[i] = 0.75
		}
	}
	// Channels 1..16 hold 392 values each of 0.25 and 0.75 (49*16 = 784).
	net.normalize(x)
	sd := math.Sqrt(0.25*0.25 + groupEpsilon)
	for i, v := range x {
		want := 0.0
		if i >= 49 {
			want = -0.25 / sd / 4
			if i%2 == 0 {
				want = -want
			}
		}
		if math.Abs(v-want) > 1e-12 {
			t.Fatalf("x[%d] = %g, want %g", i, v, want)
		}
	}
	if id := net.Identity(); id.Config != "J=2 L=8 order=1 size=28 group=16 clip=4" {
		t.Errorf("identity config %q", id.Config)
	}
	for _, bad := range []Config{{Size: 28, J: 2, L: 8, Order: 1, Group: 8}, {Size: 28, J: 2, L: 8, Order: 1, Clip: 3}} {
		if _, err := New(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): %v, want ErrConfig", bad, err)
		}
	}
}
