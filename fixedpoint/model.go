package fixedpoint

import (
	"errors"
	"fmt"
)

// ErrShape is returned when a model, an input or a gradient does not have the
// expected shape.
var ErrShape = errors.New("fixedpoint: shape mismatch")

// Layer is a dense layer z = W a + b; W is out x in.
type Layer[V any] struct {
	W [][]V
	B []V
}

// Model is a stack of dense layers with ReLU between them and a softmax
// cross-entropy head. Widths are [in, hidden..., classes].
type Model[V any] struct {
	Layers []Layer[V]
}

// Widths returns [in, hidden..., out].
func (m Model[V]) Widths() []int {
	w := []int{len(m.Layers[0].W[0])}
	for _, l := range m.Layers {
		w = append(w, len(l.B))
	}
	return w
}

// NumParams is the number of weights and biases.
func NumParams(widths []int) int {
	n := 0
	for i := 1; i < len(widths); i++ {
		n += widths[i] * (widths[i-1] + 1)
	}
	return n
}

// Flatten lists the parameters layer by layer: W row-major, then b. This
// order is the order of gradients, noise and the model commitment.
func (m Model[V]) Flatten() []V {
	var out []V
	for _, l := range m.Layers {
		for _, row := range l.W {
			out = append(out, row...)
		}
		out = append(out, l.B...)
	}
	return out
}

// Unflatten is the inverse of Flatten for the given widths.
func Unflatten[V any](widths []int, flat []V) (Model[V], error) {
	if len(widths) < 2 {
		return Model[V]{}, fmt.Errorf("%w: a model needs at least an input and an output width, got %v", ErrShape, widths)
	}
	if n := NumParams(widths); len(flat) != n {
		return Model[V]{}, fmt.Errorf("%w: widths %v need %d parameters, got %d", ErrShape, widths, n, len(flat))
	}
	return fromFlat(widths, flat), nil
}

// fromFlat slices flat into layers; len(flat) must be NumParams(widths).
func fromFlat[V any](widths []int, flat []V) Model[V] {
	var m Model[V]
	pos := 0
	for i := 1; i < len(widths); i++ {
		in, out := widths[i-1], widths[i]
		l := Layer[V]{W: make([][]V, out)}
		for r := range out {
			l.W[r] = flat[pos : pos+in : pos+in]
			pos += in
		}
		l.B = flat[pos : pos+out : pos+out]
		pos += out
		m.Layers = append(m.Layers, l)
	}
	return m
}

// Trace is what a forward pass keeps for the backward pass.
type Trace[V any] struct {
	Acts   [][]V // Acts[0] = input, Acts[l] = output of layer l (ReLU for hidden layers)
	PreAct [][]V // PreAct[l] = z of layer l+1
	Logits []V
}

// Forward runs the quantized forward pass of one input: ForwardBatch of a
// batch of one.
func Forward[V any](a Arith[V], f Format, m Model[V], x []V) Trace[V] {
	return ForwardBatch(a, f, m, [][]V{x})[0]
}

// ForwardBatch runs the quantized forward pass of every input of a batch:
// z = floor(W a / 2^f) + b, one rescale per output; ReLU between layers;
// the last z are the logits. Each layer's products for the whole batch are
// one matrix product Z = A W^T (a circuit checks it at once). The inputs
// must satisfy |x| < 2^InputBits and the weights |w| < 2^WeightBits.
func ForwardBatch[V any](a Arith[V], f Format, m Model[V], xs [][]V) []Trace[V] {
	ts := make([]Trace[V], len(xs))
	for b, x := range xs {
		ts[b].Acts = [][]V{x}
	}
	acts, actBits := xs, f.InputBits
	for li, l := range m.Layers {
		dots := layerProducts(a, l.W, acts, f.WeightBits, actBits)
		next := make([][]V, len(xs))
		for b := range xs {
			z := make([]V, len(l.B))
			for r := range z {
				z[r] = a.Add(a.Rescale(dots[b][r], f.FracBits, f.ActBits), l.B[r])
			}
			ts[b].PreAct = append(ts[b].PreAct, z)
			if li == len(m.Layers)-1 {
				ts[b].Logits = z
				continue
			}
			next[b] = make([]V, len(z))
			for r := range z {
				next[b][r] = a.Select(a.IsNegative(z[r], f.ActBits+1), a.Const(0), z[r])
			}
			ts[b].Acts = append(ts[b].Acts, next[b])
		}
		// IsNegative bounded z by 2^(ActBits+1), and ReLU keeps z or 0.
		acts, actBits = next, f.ActBits+1
	}
	return ts
}

// layerProducts is W a for every input a of a batch: one matrix product
// A W^T, or for a single input W's matrix-vector product (which a circuit
// may pack, see MatVecer).
func layerProducts[V any](a Arith[V], w [][]V, acts [][]V, wBits, aBits uint) [][]V {
	if len(acts) == 1 {
		return [][]V{matVec(a, w, acts[0], wBits, aBits)}
	}
	return MatMul(a, acts, Transpose(w), aBits, wBits)
}

// matVec is W x, through a's MatVec when it has one.
func matVec[V any](a Arith[V], w [][]V, x []V, wBits, xBits uint) []V {
	if mv, ok := a.(MatVecer[V]); ok {
		return mv.MatVec(w, x, wBits, xBits)
	}
	out := make([]V, len(w))
	for r := range w {
		out[r] = Dot(a, w[r], x)
	}
	return out
}

// Softmax returns p_k = floor(e_k * 2^f / sum e) with e_k = ExpNeg(z_k - max z).
func Softmax[V any](a Arith[V], f Format, logits []V) []V {
	m := Max(a, logits, f.ActBits)
	e := make([]V, len(logits))
	sum := a.Const(0)
	for k, z := range logits {
		e[k] = ExpNeg(a, f, a.Sub(z, m))
		sum = a.Add(sum, e[k])
	}
	p := make([]V, len(logits))
	for k := range e {
		// sum <= len(logits) * 2^f since every e_k <= 1.
		p[k] = a.Div(a.Mul(e[k], a.Const(f.One())), sum, f.FracBits+1, bitsFor(len(logits), f.FracBits+1))
	}
	return p
}
