package trainer

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/run"
)

// ErrPrivacy is returned when the requested privacy cannot be met.
var ErrPrivacy = dp.ErrPrivacy

// ErrContinued: a run cannot continue the given released model (another
// shape or format, or weights that are not its run's M_T).
var ErrContinued = errors.New("trainer: cannot continue the released model")

// samplerShare is the part of delta first reserved for the samplers'
// distance from the ideal mechanism (tables, tail cut, batch padding); a run
// whose samplers need more reserves more (see makePlan).
const samplerShare = 1e-2

// Setup is everything a training run starts from.
type Setup struct {
	Dataset     *data.Dataset
	Training    Config
	Format      fixedpoint.Format
	Seed        dp.Seed    // secret PRF seed s
	Beacon      fr.Element // public beacon b
	BeaconGiven bool       // false when the trainer drew b itself: not fit for an audit
	// Source, if set, is written to private/ so that the prover can reload
	// the committed rows.
	Source *run.DataSource
	// From, if set, is the released model the run continues (zkdp train
	// --from): W_0 is its W_T and the params name it as their parent.
	From *run.Released
}

// Options are knobs that do not change the run's result.
type Options struct {
	Logger   *slog.Logger
	Progress func(step, total int) // called after each step
}

// Privacy is the run's guarantee and where its delta comes from.
type Privacy = dp.RunPrivacy

// Curve holds per-evaluation metrics of the released quantized model W_t,
// all public: the accountant composes over every step, so it covers the
// release of each iterate W_t (a function of the noisy sums), and the
// metrics are measured on the test split, outside the guarantee (the report
// says so). Nothing in it is computed on a training row.
type Curve struct {
	Steps        []int     `json:"steps"`
	TestLoss     []float64 `json:"test_loss"`     // mean cross-entropy of W_t on the test split
	TestAccuracy []float64 `json:"test_accuracy"` // of W_t on the test split
	Epsilon      []float64 `json:"epsilon"`
}

// ReferenceCurve holds the float reference's metrics: the same batches and
// noise in float arithmetic. They are outside the DP mechanism (the batch
// loss is computed on a private batch without noise, and reveals its size;
// the float model is a second release the accountant does not cover), so
// they are written to private/ only.
type ReferenceCurve struct {
	Steps             []int     `json:"steps"`
	BatchLoss         []float64 `json:"batch_loss"` // mean over the private batch (0 for an empty batch)
	FloatTestAccuracy []float64 `json:"float_test_accuracy"`
}

// Result is a finished run, ready to be written.
type Result struct {
	Params            run.Params
	Transcript        run.Transcript
	Model             run.Model
	Secret            run.Secret
	Batches           []run.StepBatch
	Weights           [][]int64 // W_0..W_T
	Privacy           Privacy
	Curve             Curve          // public
	Reference         ReferenceCurve // private
	TestLabels        []int
	TestPredictions   []int // quantized model
	FloatPredictions  []int
	TestAccuracy      float64
	FloatTestAccuracy float64
	// QuantizedFloatAccuracy is the float reference model's weights rounded
	// to the fixed-point format and run with the fixed-point forward pass (the
	// circuit's semantics): the accuracy lost by quantizing a float model for
	// proving, as zkML tools report it.
	QuantizedFloatAccuracy float64
	TruncatedSteps         int
	Classes                []string
	Source                 *run.DataSource
	// ScalingFromPrivateData: the dataset's bounds and categories were read
	// off the private rows; every report says the run is outside the
	// guarantee.
	ScalingFromPrivateData bool
	// ClippedRows and DroppedRows count the rows (train and test) with a
	// value clipped to its public bounds and those dropped for a '?':
	// statistics of the private rows, reported in private/ only.
	ClippedRows, DroppedRows int
	// Lineage, for a run that continues a released model on records it
	// shares with that model's runs, is the guarantee of those records
	// over all of them (run.Params.ComposedPrivacy); nil otherwise.
	Lineage *LineagePrivacy
}

// LineagePrivacy is the composed guarantee of the records that a continued
// run shares with the runs before it.
type LineagePrivacy struct {
	Runs    int     `json:"runs"` // this run and the earlier runs composed with it
	Privacy Privacy `json:"privacy"`
}

// lineagePrivacy composes p's lineage (nil for a run whose records are
// new to its lineage).
func lineagePrivacy(p run.Params) (*LineagePrivacy, error) {
	runs := len(p.Lineage())
	if runs == 1 {
		return nil, nil
	}
	g, err := p.ComposedPrivacy()
	if err != nil {
		return nil, fmt.Errorf("trainer: composing the lineage's privacy: %w", err)
	}
	return &LineagePrivacy{Runs: runs, Privacy: g}, nil
}

// plan is the public parameters derived before any private computation.
type plan struct {
	noiseMultiplier float64
	privacy         Privacy
	sampler         *dp.PoissonSampler
	noise           *dp.DiscreteGaussian
	step            fixedpoint.StepParams
	maxBatch        int
	expectedBatch   float64 // qN
}

// draw is step key's randomness: its Poisson batch and its noise, one
// sample per parameter.
func (p *plan) draw(key fr.Element, nParams int) (dp.Batch, []int64, error) {
	words, err := dp.Words(key, dp.StreamSampling, p.maxBatch+1)
	if err != nil {
		return dp.Batch{}, nil, err
	}
	noise, err := p.noise.Noise(key, nParams)
	if err != nil {
		return dp.Batch{}, nil, err
	}
	return p.sampler.Sample(words), noise, nil
}

func makePlan(cfg Config, f fixedpoint.Format, rows int, nParams int) (*plan, error) {
	maxBatch := cfg.MaxBatch
	if maxBatch == 0 {
		maxBatch = dp.MaxBatchFor(rows, cfg.SamplingRate, cfg.Steps, cfg.Delta*samplerShare/100)
	}
	m := dp.Mechanism{Rows: rows, Params: nParams, SamplingRate: cfg.SamplingRate, NoiseMultiplier: cfg.NoiseMultiplier,
		Steps: cfg.Steps, MaxBatch: maxBatch, Delta: cfg.Delta, Accountant: cfg.Accountant, LatticeBits: f.LatticeBits}
	// Reserve part of delta for the samplers; if their distance needs more
	// (long runs with many parameters), reserve twice what they need and
	// recalibrate. The split is public (params.delta_accountant).
	share := samplerShare
	for range 4 {
		m.DeltaAccountant = cfg.Delta * (1 - share)
		calibrated := false
		if cfg.NoiseMultiplier == 0 {
			s, err := dp.CalibrateNoise(dp.Accountant(cfg.Accountant), cfg.SamplingRate, cfg.Steps, m.DeltaAccountant, cfg.Epsilon)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrPrivacy, err)
			}
			m.NoiseMultiplier, calibrated = s, true
		}
		sampler, noise, priv, err := m.Build()
		if errors.Is(err, dp.ErrSamplerShare) && share < 0.5 {
			share = min(0.5, 2*(priv.Delta-m.DeltaAccountant)/cfg.Delta)
			continue
		}
		if err != nil {
			return nil, err
		}
		priv.Calibrated = calibrated
		p := &plan{noiseMultiplier: m.NoiseMultiplier, maxBatch: m.MaxBatch, sampler: sampler, noise: noise, privacy: priv,
			expectedBatch: m.ExpectedBatch()}
		// run.Params.Validate recomputes these from the published fields alike.
		if p.step, err = fixedpoint.NewStepParams(f, cfg.ClipNorm, cfg.LearningRate, p.expectedBatch, p.noise.Bits()); err != nil {
			return nil, fmt.Errorf("trainer: %w", err)
		}
		return p, nil
	}
	return nil, fmt.Errorf("%w: the samplers' distance from the ideal mechanism needs more than half of delta", ErrPrivacy)
}

// prepared is what a run fixes before its beacon exists: the quantized
// splits, the plan and the public parameters. W_0 and M_0
// depend on the beacon (Params.InitialModel).
type prepared struct {
	qtrain, qtest *data.Quantized
	widths        []int
	nParams       int
	plan          *plan
	params        run.Params
	transcript    run.Transcript // params hash, D, S; no beacon, no M_0
	from          *run.Released  // the continued model, or nil
}

// prepare is the part of a run that does not depend on the beacon; Publish
// and Train share it so that what is published is what is trained from.
func prepare(s Setup, log *slog.Logger) (*prepared, error) {
	if errs := s.Training.Validate(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := s.Format.Validate(); err != nil {
		return nil, err
	}
	cfg, f, ds := s.Training, s.Format, s.Dataset
	// D commits to the features at their precision (DataBits); the model
	// reads them at FracBits.
	qdata, err := data.QuantizeSplit(ds.Train, f.DataBits())
	if err != nil {
		return nil, fmt.Errorf("trainer: quantizing the training split: %w", err)
	}
	qtrain := qdata.Scaled(f.DataShift())
	qtest, err := data.QuantizeSplit(ds.Test, f.DataBits())
	if err != nil {
		return nil, fmt.Errorf("trainer: quantizing the test split: %w", err)
	}
	qtest = qtest.Scaled(f.DataShift())
	for i, row := range qtrain.X {
		for j, v := range row {
			if v <= -(1<<f.InputBits) || v >= 1<<f.InputBits {
				return nil, fmt.Errorf("trainer: training row %d feature %q: %w (input_bits %d)", i, ds.Features[j], fixedpoint.ErrOverflow, f.InputBits)
			}
		}
	}
	rows, err := rowBound(ds)
	if err != nil {
		return nil, err
	}
	widths := append(append([]int{len(ds.Features)}, cfg.Hidden...), len(ds.Classes))
	nParams := fixedpoint.NumParams(widths)
	p, err := makePlan(cfg, f, rows, nParams)
	if err != nil {
		return nil, err
	}
	log.Info("plan", "row_bound", rows, "params", nParams, "sigma", p.noiseMultiplier, "epsilon", p.privacy.Epsilon,
		"delta", p.privacy.Delta, "max_batch", p.maxBatch, "noise_scale", p.noise.Sigma)

	params, err := s.paramsOf(widths, rows, p)
	if err != nil {
		return nil, err
	}
	paramsHash, err := params.Hash()
	if err != nil {
		return nil, err
	}
	// D commits to the rows padded to the public bound: the real count N
	// stays private, and neighbouring datasets differ in one slot.
	dataset, err := params.CommitDataset(qdata, s.Seed)
	if err != nil {
		return nil, fmt.Errorf("trainer: committing the dataset: %w", err)
	}
	return &prepared{qtrain: qtrain, qtest: qtest, widths: widths, nParams: nParams, plan: p, params: params, from: s.From,
		transcript: run.Transcript{ParamsHash: commit.Hex(paramsHash), DatasetRoot: commit.Hex(dataset.Root),
			SeedCommitment: commit.Hex(dp.SeedCommitment(s.Seed))}}, nil
}

// initialModel is the run's public W_0 under beacon.
func (pr *prepared) initialModel(beacon fr.Element) (fixedpoint.Model[int64], error) {
	flat, err := initialWeights(pr.params, pr.from, beacon)
	if err != nil {
		return fixedpoint.Model[int64]{}, err
	}
	return fixedpoint.Unflatten(pr.widths, flat)
}

// initialWeights is W_0 of a run of params p: the released model it
// continues (from, whose commitment must be the parent's M_T that p
// names), or the public draw of p and the beacon (run.Params.InitialModel).
func initialWeights(p run.Params, from *run.Released, beacon fr.Element) ([]int64, error) {
	if from == nil {
		flat, err := p.InitialModel(beacon)
		if err != nil {
			return nil, fmt.Errorf("trainer: initial model: %w", err)
		}
		return flat, nil
	}
	m0, err := commit.HashPacked(commit.TagModel, from.Weights, p.Step.WeightBits)
	if err != nil {
		return nil, fmt.Errorf("trainer: the continued model: %w", err)
	}
	if commit.Hex(m0) != from.Parent.Model {
		return nil, fmt.Errorf("%w: the continued model hashes to %s, its run's M_T is %s", ErrContinued, commit.Hex(m0), from.Parent.Model)
	}
	return from.Weights, nil
}

// paramsOf is the run's public parameters, naming the continued run (if
// any) as its parent.
func (s Setup) paramsOf(widths []int, rows int, p *plan) (run.Params, error) {
	params := paramsOf(s.Training, s.Dataset, widths, rows, p)
	if s.From != nil {
		parent := s.From.Parent
		params.Parent = &parent
		if err := params.Validate(); err != nil {
			return params, fmt.Errorf("%w: %w", ErrContinued, err)
		}
	}
	if _, err := params.InitBits(); err != nil {
		return params, fmt.Errorf("trainer: %w", err)
	}
	return params, nil
}

// rowBound is the public row bound N_pub of ds (data.max_rows), checked
// against its training rows: the sampler, the step size, D and params.rows
// use it, never the real count.
func rowBound(ds *data.Dataset) (int, error) {
	if ds.MaxRows < 1 || ds.Train.Len() > ds.MaxRows {
		return 0, fmt.Errorf("trainer: %w: %d training rows, data.max_rows is %d", data.ErrRowBound, ds.Train.Len(), ds.MaxRows)
	}
	return ds.MaxRows, nil
}

// Published is what a run commits to before its beacon exists.
type Published struct {
	Params run.Params
	// Transcript holds the params hash, D and S; its beacon and M_0 (which
	// derives from the beacon) are empty.
	Transcript run.Transcript
}

// Publish computes the commitments a run of s publishes before the beacon
// (params hash, D, S = H(s)) without training; s.Beacon is not read.
// Train from the same Setup (with any beacon) starts from exactly these.
func Publish(s Setup, log *slog.Logger) (Published, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pr, err := prepare(s, log)
	if err != nil {
		return Published{}, err
	}
	return Published{Params: pr.params, Transcript: pr.transcript}, nil
}

// DrawSeeds returns the secret PRF seed and the split seed:
// from crypto/rand, or derived from fixed (config key `seed`: reproducible,
// therefore NOT secret).
func DrawSeeds(fixed *uint64) (dp.Seed, uint64, error) {
	if fixed != nil {
		return dp.SeedFromUint64(*fixed), *fixed, nil
	}
	seed, err := dp.NewSeed()
	if err != nil {
		return seed, 0, err
	}
	var b [8]byte
	if _, err := cryptorand.Read(b[:]); err != nil {
		return seed, 0, fmt.Errorf("trainer: drawing the split seed: %w", err)
	}
	return seed, binary.LittleEndian.Uint64(b[:]), nil
}

// Train runs DP-SGD as Setup describes.
func Train(ctx context.Context, s Setup, opts Options) (*Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pr, err := prepare(s, log)
	if err != nil {
		return nil, err
	}
	cfg, f, ds := s.Training, s.Format, s.Dataset
	qtrain, qtest, p, widths, nParams := pr.qtrain, pr.qtest, pr.plan, pr.widths, pr.nParams
	model, err := pr.initialModel(s.Beacon)
	if err != nil {
		return nil, err
	}
	tr := pr.transcript
	tr.Beacon, tr.BeaconSource, tr.AuditReady = commit.Hex(s.Beacon), run.BeaconGiven, s.BeaconGiven
	if !s.BeaconGiven {
		tr.BeaconSource = run.BeaconSelfDrawn
	}
	res := &Result{
		Params:     pr.params,
		Privacy:    p.privacy,
		Secret:     run.Secret{Seed: commit.Hex(s.Seed)},
		Classes:    ds.Classes,
		Transcript: tr,
		TestLabels: qtest.Y,
		Source:     s.Source,

		ScalingFromPrivateData: ds.ScalingFromPrivateData,
		ClippedRows:            ds.Clipped,
		DroppedRows:            ds.Dropped,
	}
	if res.Lineage, err = lineagePrivacy(pr.params); err != nil {
		return nil, err
	}
	if err := res.appendModel(model, f); err != nil {
		return nil, fmt.Errorf("trainer: W_0: %w", err)
	}

	net, err := newFloatNet(widths, max(p.maxBatch, 1))
	if err != nil {
		return nil, err
	}
	fmodel := toFloat(f, model)
	epsCurve, err := dp.EpsilonCurve(dp.Accountant(cfg.Accountant), dp.Segment{SamplingRate: cfg.SamplingRate, NoiseMultiplier: p.noiseMultiplier, Steps: cfg.Steps}, p.privacy.DeltaAccountant)
	if err != nil {
		return nil, fmt.Errorf("trainer: epsilon curve: %w", err)
	}
	onehots := make([][]int64, len(ds.Classes))
	for k := range onehots {
		onehots[k] = make([]int64, len(ds.Classes))
		onehots[k][k] = 1
	}
	noiseScale := cfg.ClipNorm / float64(f.LatticeUnits())
	floatClip := effectiveClip(cfg.ClipNorm, f, nParams)
	stepSize := cfg.LearningRate / p.expectedBatch
	evaluate := func(step int, batchLoss float64) error {
		acc, loss, _ := evaluateQuantized(f, model, qtest)
		net.setWeights(fmodel)
		fp, err := net.predict(ds.Test.X)
		if err != nil {
			return err
		}
		eps := 0.0
		if step > 0 {
			eps = epsCurve[step-1]
		}
		c := &res.Curve
		c.Steps, c.TestLoss, c.TestAccuracy, c.Epsilon = append(c.Steps, step), append(c.TestLoss, loss), append(c.TestAccuracy, acc), append(c.Epsilon, eps)
		r := &res.Reference
		r.Steps, r.BatchLoss, r.FloatTestAccuracy = append(r.Steps, step), append(r.BatchLoss, batchLoss), append(r.FloatTestAccuracy, fraction(fp, ds.Test.Y))
		return nil
	}
	if err := evaluate(0, math.Log(float64(len(ds.Classes)))); err != nil {
		return nil, err
	}
	for t := range cfg.Steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("trainer: stopped at step %d: %w", t, err)
		}
		key := dp.StepKey(s.Seed, s.Beacon, t)
		batch, noise, err := p.draw(key, nParams)
		if err != nil {
			return nil, fmt.Errorf("trainer: step %d: %w", t, err)
		}
		if batch.Truncated {
			res.TruncatedSteps++
			log.Warn("batch truncated to the public maximum", "step", t, "max_batch", p.maxBatch)
		}
		res.Batches = append(res.Batches, run.StepBatch{Step: t, Indices: batch.Indices, Truncated: batch.Truncated})

		// The batch is sampled over the row bound: a padding row takes its
		// slot with mask 0, as in the circuit, and adds nothing.
		xs := make([][]int64, len(batch.Indices))
		ys := make([][]int64, len(batch.Indices))
		mask := make([]int64, len(batch.Indices))
		var fxs [][]float64
		var labels []int
		for i, idx := range batch.Indices {
			var label int
			xs[i], label, mask[i] = qtrain.Slot(idx)
			ys[i] = onehots[label]
			if mask[i] == data.FlagReal {
				fxs, labels = append(fxs, ds.Train.X[idx]), append(labels, ds.Train.Y[idx])
			}
		}
		native := &fixedpoint.Native{}
		model, _ = fixedpoint.Step[int64](native, p.step, model, xs, ys, mask, noise)
		if err := native.Err(); err != nil {
			return nil, fmt.Errorf("trainer: quantized step %d: %w", t, err)
		}
		if err := res.appendModel(model, f); err != nil {
			return nil, fmt.Errorf("trainer: step %d: %w", t, err)
		}

		net.setWeights(fmodel)
		sum, loss, err := net.clippedSum(fxs, labels, floatClip)
		if err != nil {
			return nil, fmt.Errorf("trainer: float step %d: %w", t, err)
		}
		applyFloatUpdate(fmodel, sum, noise, noiseScale, stepSize)
		if len(labels) > 0 {
			loss /= float64(len(labels))
		}
		if (t+1)%cfg.EvalEvery == 0 || t+1 == cfg.Steps {
			if err := evaluate(t+1, loss); err != nil {
				return nil, err
			}
		}
		if opts.Progress != nil {
			opts.Progress(t+1, cfg.Steps)
		}
	}
	res.TestAccuracy, _, res.TestPredictions = evaluateQuantized(f, model, qtest)
	net.setWeights(fmodel)
	if res.FloatPredictions, err = net.predict(ds.Test.X); err != nil {
		return nil, err
	}
	res.FloatTestAccuracy = fraction(res.FloatPredictions, ds.Test.Y)
	qref, err := fromFloat(f, widths, fmodel)
	if err != nil {
		return nil, fmt.Errorf("trainer: quantizing the float reference: %w", err)
	}
	res.QuantizedFloatAccuracy, _, _ = evaluateQuantized(f, qref, qtest)
	res.Model = run.Model{Widths: widths, Format: f, Weights: model.Flatten(),
		Commitment: res.Transcript.ModelCommitments[len(res.Transcript.ModelCommitments)-1]}
	log.Info("trained", "test_accuracy", res.TestAccuracy, "float_test_accuracy", res.FloatTestAccuracy, "epsilon", res.Privacy.Epsilon)
	return res, nil
}

// paramsOf assembles the public parameters of a planned run; rows is the
// public row bound N_pub.
func paramsOf(cfg Config, ds *data.Dataset, widths []int, rows int, p *plan) run.Params {
	return run.Params{
		Version: run.CurrentVersion, Dataset: ds.Name, Rows: rows, Features: len(ds.Features), Classes: len(ds.Classes),
		Widths: widths, Steps: cfg.Steps, SamplingRate: cfg.SamplingRate, ExpectedBatch: p.expectedBatch,
		MaxBatch: p.maxBatch, NoiseMultiplier: p.noiseMultiplier, ClipNorm: cfg.ClipNorm, LearningRate: cfg.LearningRate,
		Delta: cfg.Delta, DeltaAccountant: p.privacy.DeltaAccountant, Accountant: cfg.Accountant, Step: p.step,
		NoiseScale: p.noise.Sigma, NoiseTail: p.noise.Tail, Adjacency: dp.AdjacencyAddRemove, InitScale: cfg.InitScale,
		Backbone: ds.Backbone,
	}
}

// Plan returns the public parameters a run of s would have, without
// training: enough to build its step circuit (e.g. to measure it).
func Plan(s Setup) (run.Params, error) {
	if errs := s.Training.Validate(); len(errs) > 0 {
		return run.Params{}, errors.Join(errs...)
	}
	if err := s.Format.Validate(); err != nil {
		return run.Params{}, err
	}
	ds := s.Dataset
	rows, err := rowBound(ds)
	if err != nil {
		return run.Params{}, err
	}
	widths := append(append([]int{len(ds.Features)}, s.Training.Hidden...), len(ds.Classes))
	p, err := makePlan(s.Training, s.Format, rows, fixedpoint.NumParams(widths))
	if err != nil {
		return run.Params{}, err
	}
	return s.paramsOf(widths, rows, p)
}

// ModelCommitment is M = H(W): the packed Poseidon2 hash of the flattened
// weights, each within the format's weight bound.
func ModelCommitment(f fixedpoint.Format, weights []int64) (fr.Element, error) {
	return commit.HashPacked(commit.TagModel, weights, f.WeightBits)
}

func (r *Result) appendModel(m fixedpoint.Model[int64], f fixedpoint.Format) error {
	w := m.Flatten()
	c, err := ModelCommitment(f, w)
	if err != nil {
		return fmt.Errorf("trainer: model commitment: %w", err)
	}
	r.Weights = append(r.Weights, w)
	r.Transcript.ModelCommitments = append(r.Transcript.ModelCommitments, commit.Hex(c))
	return nil
}

// effectiveClip is the norm the quantized step clips to, C*(C_l - margin)/C_l
// (the margin absorbs rounding), so the float reference clips alike.
func effectiveClip(clip float64, f fixedpoint.Format, nParams int) float64 {
	return clip * float64(f.LatticeUnits()-fixedpoint.ClipMargin(nParams)) / float64(f.LatticeUnits())
}

func applyFloatUpdate(m []floatLayer, sum []float64, noise []int64, noiseScale, stepSize float64) {
	i := 0
	for _, l := range m {
		for r := range l.W {
			for c := range l.W[r] {
				l.W[r][c] -= stepSize * (sum[i] + float64(noise[i])*noiseScale)
				i++
			}
		}
		for r := range l.B {
			l.B[r] -= stepSize * (sum[i] + float64(noise[i])*noiseScale)
			i++
		}
	}
}

// fromFloat rounds a float model to the format's weights.
func fromFloat(f fixedpoint.Format, widths []int, m []floatLayer) (fixedpoint.Model[int64], error) {
	var flat []int64
	for _, l := range m {
		// fixedpoint.Model.Flatten's order: each layer's weight rows, then its biases.
		for _, row := range l.W {
			for _, v := range row {
				q, err := f.Quantize(v, f.WeightBits)
				if err != nil {
					return fixedpoint.Model[int64]{}, err
				}
				flat = append(flat, q)
			}
		}
		for _, v := range l.B {
			q, err := f.Quantize(v, f.WeightBits)
			if err != nil {
				return fixedpoint.Model[int64]{}, err
			}
			flat = append(flat, q)
		}
	}
	return fixedpoint.Unflatten(widths, flat)
}

func toFloat(f fixedpoint.Format, m fixedpoint.Model[int64]) []floatLayer {
	out := make([]floatLayer, len(m.Layers))
	for l, layer := range m.Layers {
		out[l].W = make([][]float64, len(layer.W))
		for r, row := range layer.W {
			out[l].W[r] = make([]float64, len(row))
			for c, v := range row {
				out[l].W[r][c] = f.Float(v)
			}
		}
		out[l].B = make([]float64, len(layer.B))
		for r, v := range layer.B {
			out[l].B[r] = f.Float(v)
		}
	}
	return out
}

// Predict is the quantized model's class for one quantized input.
func Predict(f fixedpoint.Format, m fixedpoint.Model[int64], x []int64) (int, error) {
	n := &fixedpoint.Native{}
	logits := fixedpoint.Forward[int64](n, f, m, x).Logits
	if err := n.Err(); err != nil {
		return 0, err
	}
	return argmax(logits), nil
}

// argmax is the first index of the largest logit, as the circuits prove.
func argmax(logits []int64) int {
	best := 0
	for k, z := range logits {
		if z > logits[best] {
			best = k
		}
	}
	return best
}

// evaluateQuantized runs the quantized model on a split: its accuracy, its
// mean cross-entropy (softmax of the fixed-point logits, in float) and its
// predictions. A row whose forward pass breaks a bound is predicted as class
// 0 and adds the loss of uniform logits.
func evaluateQuantized(f fixedpoint.Format, m fixedpoint.Model[int64], q *data.Quantized) (accuracy, loss float64, preds []int) {
	preds = make([]int, q.Len())
	for i, x := range q.X {
		n := &fixedpoint.Native{}
		logits := fixedpoint.Forward[int64](n, f, m, x).Logits
		if n.Err() != nil {
			loss += math.Log(float64(len(logits)))
			continue
		}
		preds[i] = argmax(logits)
		top, sum := f.Float(logits[preds[i]]), 0.0
		for _, z := range logits {
			sum += math.Exp(f.Float(z) - top)
		}
		loss += top + math.Log(sum) - f.Float(logits[q.Y[i]]) // -log softmax(logits)[y]
	}
	if q.Len() > 0 {
		loss /= float64(q.Len())
	}
	return fraction(preds, q.Y), loss, preds
}

func fraction(preds, labels []int) float64 {
	if len(labels) == 0 {
		return 0
	}
	ok := 0
	for i := range labels {
		if preds[i] == labels[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(labels))
}
