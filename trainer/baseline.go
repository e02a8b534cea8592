package trainer

import (
	"context"
	"fmt"

	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
)

// Baseline trains the same model without privacy in float64 with Gorgonia:
// the same Poisson batches, clipping, learning rate and steps, but no noise
// (sigma = 0). It returns the test accuracy, so the gap to a DP run is the
// cost of the noise alone. (Unclipped SGD at a learning rate tuned for
// clipped gradients would diverge, which says nothing about privacy.)
func Baseline(ctx context.Context, s Setup) (float64, error) {
	cfg, ds := s.Training, s.Dataset
	if errs := cfg.Validate(); len(errs) > 0 {
		return 0, fmt.Errorf("trainer: baseline: %w", errs[0])
	}
	widths := append(append([]int{len(ds.Features)}, cfg.Hidden...), len(ds.Classes))
	rows, err := rowBound(ds) // the DP run's sampler and step size use the public bound
	if err != nil {
		return 0, err
	}
	maxBatch := cfg.MaxBatch
	if maxBatch == 0 {
		maxBatch = dp.MaxBatchFor(rows, cfg.SamplingRate, cfg.Steps, cfg.Delta*samplerShare/100)
	}
	sampler, err := dp.NewPoissonSampler(rows, cfg.SamplingRate, maxBatch)
	if err != nil {
		return 0, fmt.Errorf("trainer: baseline: %w", err)
	}
	// The DP run's own W_0, so that the gap is the noise's alone.
	params, err := Plan(s)
	if err != nil {
		return 0, fmt.Errorf("trainer: baseline: %w", err)
	}
	flat, err := initialWeights(params, s.From, s.Beacon)
	if err != nil {
		return 0, fmt.Errorf("trainer: baseline: %w", err)
	}
	qm, err := fixedpoint.Unflatten(widths, flat)
	if err != nil {
		return 0, err
	}
	model := toFloat(s.Format, qm)
	net, err := newFloatNet(widths, maxBatch)
	if err != nil {
		return 0, err
	}
	stepSize := cfg.LearningRate / (cfg.SamplingRate * float64(rows))
	zeroNoise := make([]int64, fixedpoint.NumParams(widths))
	for t := range cfg.Steps {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		words, err := dp.Words(dp.StepKey(s.Seed, s.Beacon, t), dp.StreamSampling, maxBatch+1)
		if err != nil {
			return 0, fmt.Errorf("trainer: step %d: %w", t, err)
		}
		batch := sampler.Sample(words)
		var xs [][]float64
		var ys []int
		for _, idx := range batch.Indices {
			if idx < ds.Train.Len() { // a padding row of the bound adds nothing
				xs, ys = append(xs, ds.Train.X[idx]), append(ys, ds.Train.Y[idx])
			}
		}
		net.setWeights(model)
		grad, _, err := net.clippedSum(xs, ys, effectiveClip(cfg.ClipNorm, s.Format, fixedpoint.NumParams(widths)))
		if err != nil {
			return 0, err
		}
		applyFloatUpdate(model, grad, zeroNoise, 0, stepSize)
	}
	net.setWeights(model)
	preds, err := net.predict(ds.Test.X)
	if err != nil {
		return 0, err
	}
	return fraction(preds, ds.Test.Y), nil
}
