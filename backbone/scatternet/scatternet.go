// Package scatternet is a ScatterNet backbone: the 2-D Morlet wavelet
// scattering transform of Bruna & Mallat (2013) with Kymatio's filter bank
// (Andreux et al. 2020), J scales and L angles, as Tramèr & Boneh (2021)
// put before a DP linear head. It has no learned weights, so it is public
// by construction; its Identity commits to the configuration and the
// filter bank's hash.
//
// The image (side Size) is zero-padded at the bottom and right to the
// smallest power of two n >= Size + 2^J and treated as periodic. Every
// convolution is computed at full resolution (no intermediate subsampling,
// unlike Kymatio, so the result is exactly the circular convolutions a
// direct spatial computation gives); only the final low-pass is subsampled
// by 2^J, in the Fourier domain. The outputs are the ceil(Size/2^J)^2
// samples at multiples of 2^J over the image, per channel:
//
//	order 0: x*phi                                   1 channel
//	order 1: |x*psi_{j,l}|*phi                       J*L channels
//	order 2: ||x*psi_{j1,l1}|*psi_{j2,l2}|*phi, j1<j2  L^2*J(J-1)/2 channels
package scatternet

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"strconv"
	"sync"

	"github.com/zkdp/zkdp/backbone"
)

// Name and Version identify this implementation in a run's params. Bump
// Version whenever the same Config would give different features.
const (
	Name    = "scatternet"
	Version = "1"
)

// ErrConfig matches every error New returns for a bad configuration.
var ErrConfig = errors.New("scatternet: invalid config")

// Config chooses the transform and the per-record normalization after it.
type Config struct {
	Size  int // image side in pixels (28 for MNIST); images are Size x Size, row-major
	J     int // scales, 1..4
	L     int // angles, an even number in 2..16
	Order int // 1 or 2
	// Group, if not 0, normalizes each record on its own (group
	// normalization, as Tramer & Boneh put before their linear heads):
	// channel 0 is one group, the others form consecutive groups of Group
	// channels, and each group's values are shifted to mean 0 and scaled to
	// variance 1. It uses one record only, so it costs no privacy.
	Group int
	// Clip, with Group, divides the normalized values by Clip and clips
	// them to [-1, 1], the bounded range the fixed-point features need.
	Clip float64
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Size < 4 || c.Size > 256:
		return fmt.Errorf("%w: size %d, want 4..256", ErrConfig, c.Size)
	case c.J < 1 || c.J > 4:
		return fmt.Errorf("%w: J %d, want 1..4", ErrConfig, c.J)
	case c.L < 2 || c.L > 16 || c.L%2 != 0:
		return fmt.Errorf("%w: L %d, want an even number in 2..16", ErrConfig, c.L)
	case c.Order != 1 && c.Order != 2:
		return fmt.Errorf("%w: order %d, want 1 or 2", ErrConfig, c.Order)
	case c.Group < 0 || c.Group > c.Channels():
		return fmt.Errorf("%w: group %d, want 0 (no normalization) to %d channels", ErrConfig, c.Group, c.Channels())
	case c.Group > 0 && !(c.Clip > 0 && c.Clip <= 1e3):
		return fmt.Errorf("%w: clip %v, want (0, 1000] with group normalization", ErrConfig, c.Clip)
	case c.Group == 0 && c.Clip != 0:
		return fmt.Errorf("%w: clip %v applies only with group normalization", ErrConfig, c.Clip)
	}
	return nil
}

// Channels is the number of output channels.
func (c Config) Channels() int {
	ch := 1 + c.J*c.L
	if c.Order == 2 {
		ch += c.L * c.L * c.J * (c.J - 1) / 2
	}
	return ch
}

// OutSide is the side of each channel's output, ceil(Size/2^J).
func (c Config) OutSide() int { return (c.Size + 1<<c.J - 1) >> c.J }

// String is the canonical form that goes into the Identity.
func (c Config) String() string {
	s := fmt.Sprintf("J=%d L=%d order=%d size=%d", c.J, c.L, c.Order, c.Size)
	if c.Group > 0 {
		s += fmt.Sprintf(" group=%d clip=%s", c.Group, strconv.FormatFloat(c.Clip, 'g', -1, 64))
	}
	return s
}

// Network is a built filter bank; Apply is safe for concurrent use.
type Network struct {
	cfg  Config
	n    int         // padded side
	m    int         // n / 2^J, the subsampled side
	psi  [][]float64 // psi[j*L+l]: the wavelet's Fourier transform (real, as Kymatio keeps it)
	phi  []float64   // the low-pass's Fourier transform
	id   backbone.Identity
	fft  *fft2
	pool sync.Pool // *workspace
}

var _ backbone.Map = (*Network)(nil)

// New builds the filter bank of cfg.
func New(cfg Config) (*Network, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := 1
	for n < cfg.Size+1<<cfg.J {
		n <<= 1
	}
	net := &Network{cfg: cfg, n: n, m: n >> cfg.J, fft: newFFT2(n)}
	for j := range cfg.J {
		for l := range cfg.L {
			net.psi = append(net.psi, fourierReal(net.fft, wavelet(n, j, l, cfg.L)))
		}
	}
	net.phi = fourierReal(net.fft, lowpass(n, cfg.J))
	net.id = backbone.Identity{Name: Name, Version: Version, Config: cfg.String(),
		Hash: backbone.WeightsHash(append(net.psi, net.phi)...), Features: net.OutputWidth()}
	net.pool.New = func() any { return net.newWorkspace() }
	return net, nil
}

// Config returns the configuration.
func (net *Network) Config() Config { return net.cfg }

// Identity implements backbone.Map.
func (net *Network) Identity() backbone.Identity { return net.id }

// InputWidth is Size^2.
func (net *Network) InputWidth() int { return net.cfg.Size * net.cfg.Size }

// OutputWidth is Channels * OutSide^2.
func (net *Network) OutputWidth() int {
	s := net.cfg.OutSide()
	return net.cfg.Channels() * s * s
}

// FeatureNames are scatter_<channel>_<row>_<col>, channels in Kymatio's
// order: order 0, then order 1 by (j, l), then order 2 by (j1, l1, j2, l2).
func (net *Network) FeatureNames() []string {
	s := net.cfg.OutSide()
	out := make([]string, 0, net.OutputWidth())
	for ch := range net.cfg.Channels() {
		for r := range s {
			for c := range s {
				out = append(out, fmt.Sprintf("scatter_%d_%d_%d", ch, r, c))
			}
		}
	}
	return out
}

// workspace is one goroutine's scratch.
type workspace struct {
	fft   *fft2
	xhat  []complex128   // the padded image's transform
	u     []complex128   // one full-resolution signal (two, packed as real and imaginary parts)
	v     []complex128   // the filtered signal before its modulus
	u1hat [][]complex128 // order 2: the transforms of |x*psi| for every first-order path
	small []complex128   // m x m
	sfft  *fft2          // m x m transform
}

func (net *Network) newWorkspace() *workspace {
	w := &workspace{fft: net.fft.clone(), xhat: make([]complex128, net.n*net.n), u: make([]complex128, net.n*net.n),
		v: make([]complex128, net.n*net.n), small: make([]complex128, net.m*net.m), sfft: newFFT2(net.m)}
	if net.cfg.Order == 2 {
		for range net.psi {
			w.u1hat = append(w.u1hat, make([]complex128, net.n*net.n))
		}
	}
	return w
}

// Apply writes the features of the Size x Size image src to dst
// (OutputWidth values, channel-major): the scattering coefficients, group
// normalized if the Config says so.
func (net *Network) Apply(dst, src []float64) {
	net.Scatter(dst, src)
	if net.cfg.Group > 0 {
		net.normalize(dst)
	}
}

// groupEpsilon is added to each group's variance, as in GroupNorm, so that
// a flat group (a blank image's) maps to zeros instead of dividing by 0.
const groupEpsilon = 1e-5

// normalize group-normalizes the scattering coefficients x in place, then
// divides by Clip and clips to [-1, 1].
func (net *Network) normalize(x []float64) {
	s2 := net.cfg.OutSide() * net.cfg.OutSide()
	for lo := 0; lo < net.cfg.Channels(); {
		hi := min(net.cfg.Channels(), lo+net.cfg.Group)
		if lo == 0 {
			hi = 1
		}
		g := x[lo*s2 : hi*s2]
		var mean, variance float64
		for _, v := range g {
			mean += v
		}
		mean /= float64(len(g))
		for _, v := range g {
			variance += (v - mean) * (v - mean)
		}
		scale := 1 / (math.Sqrt(variance/float64(len(g))+groupEpsilon) * net.cfg.Clip)
		for i, v := range g {
			g[i] = min(1, max(-1, (v-mean)*scale))
		}
		lo = hi
	}
}

// Scatter writes the scattering coefficients of the Size x Size image src
// to dst (OutputWidth values, channel-major), without normalization.
func (net *Network) Scatter(dst, src []float64) {
	w := net.pool.Get().(*workspace)
	defer net.pool.Put(w)
	n, size, s := net.n, net.cfg.Size, net.cfg.OutSide()
	clear(w.xhat)
	for r := range size {
		for c := range size {
			w.xhat[r*n+c] = complex(src[r*size+c], 0)
		}
	}
	w.fft.forward(w.xhat)
	out := dst
	// Order 0: x*phi, subsampled.
	net.lowpassInto(w, w.xhat, out[:s*s], nil)
	out = out[s*s:]
	// Two real signals per forward transform: u = |x*psi_a| + i|x*psi_b|.
	// phi's transform is real and even, so the low-pass of u is S_a + i S_b
	// and one inverse gives both. Every list of paths below has an even
	// length (L is even), so the pairs come out whole.
	order1 := out
	for k := 0; k < len(net.psi); k += 2 {
		net.modulus(w, w.xhat, net.psi[k], w.u, false)
		net.modulus(w, w.xhat, net.psi[k+1], w.u, true)
		w.fft.forward(w.u)
		if w.u1hat != nil {
			net.unpack(w.u, w.u1hat[k], w.u1hat[k+1])
		}
		net.lowpassInto(w, w.u, order1[k*s*s:(k+1)*s*s], order1[(k+1)*s*s:(k+2)*s*s])
	}
	if net.cfg.Order < 2 {
		return
	}
	out = order1[len(net.psi)*s*s:]
	L := net.cfg.L
	for j1 := range net.cfg.J {
		for l1 := range L {
			u1hat := w.u1hat[j1*L+l1]
			for p := (j1 + 1) * L; p < len(net.psi); p += 2 {
				net.modulus(w, u1hat, net.psi[p], w.u, false)
				net.modulus(w, u1hat, net.psi[p+1], w.u, true)
				w.fft.forward(w.u)
				net.lowpassInto(w, w.u, out[:s*s], out[s*s:2*s*s])
				out = out[2*s*s:]
			}
		}
	}
}

// modulus writes |IFFT(xhat*filter)| to the real (imag false) or imaginary
// part of u; the real pass also clears the imaginary part.
func (net *Network) modulus(w *workspace, xhat []complex128, filter []float64, u []complex128, toImag bool) {
	for i, v := range xhat {
		w.v[i] = v * complex(filter[i], 0)
	}
	w.fft.inverse(w.v)
	scale := 1 / float64(len(w.v))
	for i, v := range w.v {
		a := math.Hypot(real(v), imag(v)) * scale
		if toImag {
			u[i] = complex(real(u[i]), a)
		} else {
			u[i] = complex(a, 0)
		}
	}
}

// unpack splits the transform z of a + ib (a, b real) into those of a and b.
func (net *Network) unpack(z, a, b []complex128) {
	n := net.n
	for r := range n {
		for c := range n {
			zc := cmplx.Conj(z[((n-r)%n)*n+(n-c)%n])
			v := z[r*n+c]
			a[r*n+c] = (v + zc) / 2
			b[r*n+c] = (v - zc) / complex(0, 2)
		}
	}
}

// lowpassInto multiplies uhat by phi, subsamples by 2^J (the mean of the
// aliased blocks), inverts at the small size and writes the real part's
// samples over the image to re, the imaginary part's to im (if not nil).
func (net *Network) lowpassInto(w *workspace, uhat []complex128, re, im []float64) {
	n, m, k := net.n, net.m, 1<<net.cfg.J
	clear(w.small)
	for r := range n {
		for c := range n {
			w.small[(r%m)*m+c%m] += uhat[r*n+c] * complex(net.phi[r*n+c], 0)
		}
	}
	w.sfft.inverse(w.small)
	scale := 1 / float64(k*k*m*m)
	s := net.cfg.OutSide()
	for r := range s {
		for c := range s {
			v := w.small[r*m+c] * complex(scale, 0)
			re[r*s+c] = real(v)
			if im != nil {
				im[r*s+c] = imag(v)
			}
		}
	}
}
