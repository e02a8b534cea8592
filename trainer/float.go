package trainer

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// floatNet is the model as a Gorgonia graph over a padded batch: for each
// layer z = [a, 1] W + e, with W of shape (in+1) x out (the last row is the
// bias) and e a zero input whose gradient is the per-example delta dL/dz,
// which Gorgonia cannot give for an inner node. Padding rows have y = 0, so
// they add nothing to the loss and get a zero delta.
type floatNet struct {
	widths []int
	batch  int
	vm     G.VM
	x, y   *G.Node
	w      []*G.Node // (in+1) x out per layer
	deltas []*G.Node // dL/de per layer, batch x out
	acts   []G.Value // augmented input of each layer, read during the run
	loss   G.Value
}

func newFloatNet(widths []int, batch int) (*floatNet, error) {
	g := G.NewGraph()
	n := &floatNet{widths: widths, batch: batch, acts: make([]G.Value, len(widths)-1)}
	n.x = G.NewMatrix(g, tensor.Float64, G.WithShape(batch, widths[0]), G.WithName("x"), G.WithInit(G.Zeroes()))
	n.y = G.NewMatrix(g, tensor.Float64, G.WithShape(batch, widths[len(widths)-1]), G.WithName("y"), G.WithInit(G.Zeroes()))
	ones := G.NewMatrix(g, tensor.Float64, G.WithShape(batch, 1), G.WithName("ones"), G.WithInit(G.Ones()))
	var es []*G.Node
	act := n.x
	var logits *G.Node
	for l := 1; l < len(widths); l++ {
		w := G.NewMatrix(g, tensor.Float64, G.WithShape(widths[l-1]+1, widths[l]), G.WithName(fmt.Sprintf("w%d", l)), G.WithInit(G.Zeroes()))
		e := G.NewMatrix(g, tensor.Float64, G.WithShape(batch, widths[l]), G.WithName(fmt.Sprintf("e%d", l)), G.WithInit(G.Zeroes()))
		aug, err := G.Concat(1, act, ones)
		if err != nil {
			return nil, fmt.Errorf("trainer: building the float graph: %w", err)
		}
		G.Read(aug, &n.acts[l-1])
		z, err := G.Mul(aug, w)
		if err == nil {
			z, err = G.Add(z, e)
		}
		if err != nil {
			return nil, fmt.Errorf("trainer: building the float graph: %w", err)
		}
		n.w = append(n.w, w)
		es = append(es, e)
		if l == len(widths)-1 {
			logits = z
		} else if act, err = G.Rectify(z); err != nil {
			return nil, fmt.Errorf("trainer: building the float graph: %w", err)
		}
	}
	prob, err := G.SoftMax(logits)
	if err != nil {
		return nil, fmt.Errorf("trainer: building the float graph: %w", err)
	}
	logp, err := G.Log(prob)
	var loss *G.Node
	if err == nil {
		var prod *G.Node
		if prod, err = G.HadamardProd(n.y, logp); err == nil {
			if loss, err = G.Sum(prod); err == nil {
				loss, err = G.Neg(loss)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("trainer: building the float loss: %w", err)
	}
	G.Read(loss, &n.loss)
	grads, err := G.Grad(loss, es...)
	if err != nil {
		return nil, fmt.Errorf("trainer: differentiating the float loss: %w", err)
	}
	n.deltas = grads
	n.vm = G.NewTapeMachine(g)
	return n, nil
}

// setWeights copies a model (layers of W out x in and b) into the graph.
func (n *floatNet) setWeights(layers []floatLayer) {
	for l, layer := range layers {
		data := n.w[l].Value().Data().([]float64)
		out := n.widths[l+1]
		in := n.widths[l]
		for r := range out {
			for c := range in {
				data[c*out+r] = layer.W[r][c]
			}
			data[in*out+r] = layer.B[r]
		}
	}
}

// run evaluates the graph on rows (at most batch of them; the rest is padding).
func (n *floatNet) run(xs [][]float64, labels []int) error {
	xd := n.x.Value().Data().([]float64)
	yd := n.y.Value().Data().([]float64)
	clear(xd)
	clear(yd)
	d, k := n.widths[0], n.widths[len(n.widths)-1]
	for i, row := range xs {
		copy(xd[i*d:(i+1)*d], row)
		if labels != nil {
			yd[i*k+labels[i]] = 1
		}
	}
	defer n.vm.Reset()
	if err := n.vm.RunAll(); err != nil {
		return fmt.Errorf("trainer: running the float graph: %w", err)
	}
	return nil
}

// floatLayer is a dense layer in float64, W out x in.
type floatLayer struct {
	W [][]float64
	B []float64
}

// clippedSum runs the graph on a batch and returns the sum of per-example
// gradients clipped to norm clip, flattened like fixedpoint.Model, and the
// batch's summed loss.
func (n *floatNet) clippedSum(xs [][]float64, labels []int, clip float64) ([]float64, float64, error) {
	if err := n.run(xs, labels); err != nil {
		return nil, 0, err
	}
	L := len(n.widths) - 1
	deltas := make([][]float64, L)
	acts := make([][]float64, L)
	for l := range L {
		deltas[l] = append([]float64(nil), n.deltas[l].Value().Data().([]float64)...)
		acts[l] = append([]float64(nil), n.acts[l].Data().([]float64)...)
	}
	var sum []float64
	offsets := make([]int, L)
	for l := range L {
		offsets[l] = len(sum)
		sum = append(sum, make([]float64, n.widths[l+1]*(n.widths[l]+1))...)
	}
	for i := range xs {
		norm2 := 0.0
		for l := range L {
			in, out := n.widths[l]+1, n.widths[l+1]
			dd, aa := 0.0, 0.0
			for _, v := range deltas[l][i*out : (i+1)*out] {
				dd += v * v
			}
			for _, v := range acts[l][i*in : (i+1)*in] {
				aa += v * v
			}
			norm2 += dd * aa
		}
		scale := 1.0
		if norm := math.Sqrt(norm2); norm > clip {
			scale = clip / norm
		}
		for l := range L {
			in, out := n.widths[l]+1, n.widths[l+1]
			delta := deltas[l][i*out : (i+1)*out]
			act := acts[l][i*in : (i+1)*in]
			// layout: W row-major (out x (in-1)), then b
			for r := range out {
				for c := range in - 1 {
					sum[offsets[l]+r*(in-1)+c] += scale * delta[r] * act[c]
				}
				sum[offsets[l]+out*(in-1)+r] += scale * delta[r]
			}
		}
	}
	return sum, n.loss.Data().(float64), nil
}

// predict returns the argmax class of each row, evaluating in chunks of the
// graph's batch size.
func (n *floatNet) predict(xs [][]float64) ([]int, error) {
	k := n.widths[len(n.widths)-1]
	out := make([]int, 0, len(xs))
	for start := 0; start < len(xs); start += n.batch {
		end := min(start+n.batch, len(xs))
		if err := n.run(xs[start:end], nil); err != nil {
			return nil, err
		}
		// With y = 0 the delta of the last layer is 0; the logits are
		// recovered from the last layer's input and weights instead.
		act := n.acts[len(n.acts)-1].Data().([]float64)
		w := n.w[len(n.w)-1].Value().Data().([]float64)
		in := n.widths[len(n.widths)-2] + 1
		for i := range end - start {
			best, bestZ := 0, math.Inf(-1)
			for c := range k {
				z := 0.0
				for j := range in {
					z += act[i*in+j] * w[j*k+c]
				}
				if z > bestZ {
					best, bestZ = c, z
				}
			}
			out = append(out, best)
		}
	}
	return out, nil
}
