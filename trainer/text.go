package trainer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/backbone"
	"github.com/zkdp/zkdp/backbone/glove"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/datasets"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/metrics"
	"github.com/zkdp/zkdp/run"
)

// TextConfig is the `text:` section of a token-level (NER) config: how a
// sentence becomes a record. Every field is public.
type TextConfig struct {
	MaxTokens int `mapstructure:"max_tokens"` // R: a training sentence is padded or cut to R token slots
	Window    int `mapstructure:"window"`     // features of tokens i-W..i+W
	VocabSize int `mapstructure:"vocab_size"` // GloVe's first vocab_size words, in GloVe's frequency order
	// Patience: evaluations on the validation split without a better entity
	// micro F1 before training stops early (0: never).
	Patience int `mapstructure:"patience"`
}

// Validate lists every problem, each naming its key.
func (c TextConfig) Validate() []error {
	var errs []error
	add := func(key, msg string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: text.%s: %s", ErrInvalidConfig, key, fmt.Sprintf(msg, args...)))
	}
	if c.MaxTokens < 1 || c.MaxTokens > 512 {
		add("max_tokens", "must be in [1, 512], got %d", c.MaxTokens)
	}
	if c.Window < 0 || c.Window > 5 {
		add("window", "must be in [0, 5], got %d", c.Window)
	}
	if c.VocabSize < 1 || c.VocabSize > 400000 {
		add("vocab_size", "must be in [1, 400000], got %d", c.VocabSize)
	}
	if c.Patience < 0 {
		add("patience", "must not be negative, got %d", c.Patience)
	}
	return errs
}

// BIOTags are the tags of the PER/ORG/LOC corpora, in class order.
var BIOTags = []string{"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"}

// EntityTypes are the entity types of BIOTags, in report order.
var EntityTypes = []string{"PER", "ORG", "LOC"}

// Corpus is a token-level corpus split into train/validation/test sentences.
type Corpus struct {
	Name                    string
	Train, Validation, Test []data.Sentence
}

// LoadCorpus reads a shipped corpus with its own splits: name.train,
// name.dev (the validation split) and name.test.
func LoadCorpus(name string) (*Corpus, error) {
	fsys, err := datasets.Open(name)
	if err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	c := &Corpus{Name: name}
	for _, part := range []struct {
		file string
		dst  *[]data.Sentence
	}{{name + ".train", &c.Train}, {name + ".dev", &c.Validation}, {name + ".test", &c.Test}} {
		if *part.dst, err = data.ReadCoNLL(fsys, part.file, BIOTags); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// TextSetup is everything a text run starts from.
type TextSetup struct {
	Corpus   *Corpus
	Window   *glove.Window
	Training Config
	Text     TextConfig
	Format   fixedpoint.Format
	MaxRows  int    // N_pub, the public bound on the training sentences
	Seed     uint64 // fixes the secret PRF seed (reproducible, hence not secret)
	// NonPrivate trains the float reference without clipping or noise (the
	// non-private row of the results table); no quantized model.
	NonPrivate bool
}

// TextResult is a finished text run.
type TextResult struct {
	Backbone  backbone.Identity `json:"backbone"`
	Unit      string            `json:"privacy_unit"`
	Privacy   Privacy           `json:"privacy"`
	Widths    []int             `json:"widths"`
	MaxTokens int               `json:"max_tokens"`
	// CutShare is the share of the training tokens beyond max_tokens: a
	// statistic of the private rows (report it in private/ only).
	CutShare      float64 `json:"-"`
	BestStep      int     `json:"best_step"`       // the released iterate, chosen on the validation split
	FloatBestStep int     `json:"float_best_step"` // the float reference's
	// Validation curves: entity micro F1 of W_t on the validation split.
	Steps         []int     `json:"steps"`
	ValidationF1  []float64 `json:"validation_f1"`
	FloatValF1    []float64 `json:"float_validation_f1"`
	Test          metrics.Report
	FloatTest     metrics.Report
	Confusion     [][]int  `json:"test_confusion"` // [gold tag][predicted tag], tokens of the test split
	Tags          []string `json:"tags"`
	TestSentences int      `json:"test_sentences"`
	Model         fixedpoint.Model[int64]
	// Params are the run's public parameters, the backbone's identity and
	// the record's rows included.
	Params run.Params
}

// textBatch is the records of one step: rows*slots token rows.
type textRecords struct {
	rows   int
	tokens [][][]int64 // per training sentence: its token features, quantized, at most rows of them
	labels [][]int
}

func quantizeTokens(f fixedpoint.Format, xs [][]float64) ([][]int64, error) {
	out := make([][]int64, len(xs))
	for i, x := range xs {
		out[i] = make([]int64, len(x))
		for j, v := range x {
			q, err := f.Quantize(v, f.InputBits)
			if err != nil {
				return nil, fmt.Errorf("token %d feature %d: %w", i, j, err)
			}
			out[i][j] = q
		}
	}
	return out, nil
}

func tagIndex(tag string) int {
	for k, t := range BIOTags {
		if t == tag {
			return k
		}
	}
	return -1
}

// TrainText runs DP-SGD on a token-level corpus with the sentence as the
// privacy unit: each sampled sentence's gradient, summed over its tokens, is
// clipped once (fixedpoint.StepRecords); the accountant is the one of row
// runs, with one record = one sentence. The released iterate is the one with
// the best entity micro F1 on the validation split, whose sentences are,
// like the test split's, outside the guarantee.
func TrainText(ctx context.Context, s TextSetup, opts Options) (*TextResult, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if errs := append(s.Training.Validate(), s.Text.Validate()...); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(s.Training.Hidden) > 0 {
		return nil, fmt.Errorf("%w: training.hidden: a text run trains a softmax head without hidden layers", ErrInvalidConfig)
	}
	if err := s.Format.Validate(); err != nil {
		return nil, err
	}
	cfg, f, R := s.Training, s.Format, s.Text.MaxTokens
	if len(s.Corpus.Train) > s.MaxRows {
		return nil, fmt.Errorf("trainer: %w: %d training sentences, data.max_rows is %d", data.ErrRowBound, len(s.Corpus.Train), s.MaxRows)
	}
	K, D := len(BIOTags), s.Window.Features()
	widths := []int{D, K}
	nParams := fixedpoint.NumParams(widths)

	// Records: each training sentence cut to R tokens.
	recs := textRecords{rows: R}
	total, cut := 0, 0
	for i, sen := range s.Corpus.Train {
		feats := s.Window.Sentence(sen.Tokens)
		total += len(feats)
		if len(feats) > R {
			cut += len(feats) - R
			feats = feats[:R]
		}
		q, err := quantizeTokens(f, feats)
		if err != nil {
			return nil, fmt.Errorf("trainer: training sentence %d: %w", i, err)
		}
		labels := make([]int, len(q))
		for l := range q {
			if labels[l] = tagIndex(sen.Tags[l]); labels[l] < 0 {
				return nil, fmt.Errorf("trainer: training sentence %d token %d: tag %q is not one of %v", i, l, sen.Tags[l], BIOTags)
			}
		}
		recs.tokens, recs.labels = append(recs.tokens, q), append(recs.labels, labels)
	}
	res := &TextResult{Backbone: s.Window.Identity(), Widths: widths, MaxTokens: R, Tags: BIOTags,
		Unit: fmt.Sprintf("one sentence (its gradient summed over its at most %d tokens is clipped once)", R)}
	if total > 0 {
		res.CutShare = float64(cut) / float64(total)
	}

	p, err := makePlan(cfg, f, s.MaxRows, nParams)
	if err != nil {
		return nil, err
	}
	res.Privacy = p.privacy
	id := res.Backbone
	res.Params = run.Params{Version: run.CurrentVersion, Dataset: s.Corpus.Name, Rows: s.MaxRows, Features: D, Classes: K,
		Widths: widths, Steps: cfg.Steps, SamplingRate: cfg.SamplingRate, ExpectedBatch: p.expectedBatch, MaxBatch: p.maxBatch,
		NoiseMultiplier: p.noiseMultiplier, ClipNorm: cfg.ClipNorm, LearningRate: cfg.LearningRate, Delta: cfg.Delta,
		DeltaAccountant: p.privacy.DeltaAccountant, Accountant: cfg.Accountant, Step: p.step, NoiseScale: p.noise.Sigma,
		NoiseTail: p.noise.Tail, Adjacency: dp.AdjacencyAddRemove, Backbone: &id, RecordRows: R}
	log.Info("text plan", "records", s.MaxRows, "rows_per_record", R, "features", D, "params", nParams,
		"sigma", p.noiseMultiplier, "epsilon", p.privacy.Epsilon, "max_batch", p.maxBatch)

	seed := dp.SeedFromUint64(s.Seed)
	var beacon fr.Element
	beacon.SetUint64(s.Seed)
	model, _ := fixedpoint.Unflatten(widths, make([]int64, nParams)) // the head starts at 0
	fmodel := toFloat(f, model)
	best, bestF1 := model, -1.0
	fbest, fbestF1 := cloneLayers(fmodel), -1.0
	noiseScale := cfg.ClipNorm / float64(f.LatticeUnits())
	floatClip := cfg.ClipNorm * float64(f.LatticeUnits()-fixedpoint.ClipMargin(nParams)-fixedpoint.RecordSlack(f, R, D, K)) / float64(f.LatticeUnits())
	stepSize := cfg.LearningRate / p.expectedBatch
	val := newTextEval(s.Window, f, s.Corpus.Validation)
	since := 0
	zeros := make([]int64, D)
	noOne := make([]int64, K)
	onehots := make([][]int64, K)
	for k := range onehots {
		onehots[k] = make([]int64, K)
		onehots[k][k] = 1
	}
	for t := range cfg.Steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("trainer: stopped at step %d: %w", t, err)
		}
		key := dp.StepKey(seed, beacon, t)
		batch, noise, err := p.draw(key, nParams)
		if err != nil {
			return nil, fmt.Errorf("trainer: step %d: %w", t, err)
		}
		var real []int
		for _, idx := range batch.Indices {
			if idx < len(recs.tokens) {
				real = append(real, idx)
			}
		}
		if !s.NonPrivate {
			xs := make([][]int64, 0, len(batch.Indices)*R)
			ys := make([][]int64, 0, len(batch.Indices)*R)
			mask := make([]int64, len(batch.Indices))
			for b, idx := range batch.Indices {
				for l := range R {
					if idx < len(recs.tokens) && l < len(recs.tokens[idx]) {
						xs, ys = append(xs, recs.tokens[idx][l]), append(ys, onehots[recs.labels[idx][l]])
					} else {
						xs, ys = append(xs, zeros), append(ys, noOne) // a padding token or slot
					}
				}
				if idx < len(recs.tokens) {
					mask[b] = 1
				}
			}
			native := &fixedpoint.Native{}
			model, _ = fixedpoint.StepRecords[int64](native, p.step, model, R, xs, ys, mask, noise)
			if err := native.Err(); err != nil {
				return nil, fmt.Errorf("trainer: quantized step %d: %w", t, err)
			}
		}
		sum := floatRecordSum(f, fmodel, recs, real, floatClip, s.NonPrivate)
		if s.NonPrivate {
			for i := range noise {
				noise[i] = 0
			}
		}
		applyFloatUpdate(fmodel, sum, noise, noiseScale, stepSize)

		if (t+1)%cfg.EvalEvery == 0 || t+1 == cfg.Steps {
			res.Steps = append(res.Steps, t+1)
			ff1 := val.floatReport(fmodel).Micro.F1
			res.FloatValF1 = append(res.FloatValF1, ff1)
			if ff1 > fbestF1 {
				fbest, fbestF1, res.FloatBestStep = cloneLayers(fmodel), ff1, t+1
			}
			improved := ff1 > fbestF1-1e-12 && s.NonPrivate
			if !s.NonPrivate {
				qf1 := val.quantizedReport(model).Micro.F1
				res.ValidationF1 = append(res.ValidationF1, qf1)
				if qf1 > bestF1 {
					best, bestF1, res.BestStep, improved = model, qf1, t+1, true
				}
			}
			log.Info("validation", "step", t+1, "entity_micro_f1", bestF1, "float_entity_micro_f1", ff1)
			if improved {
				since = 0
			} else if since++; s.Text.Patience > 0 && since >= s.Text.Patience {
				log.Info("early stop", "step", t+1)
				break
			}
		}
		if opts.Progress != nil {
			opts.Progress(t+1, cfg.Steps)
		}
	}
	test := newTextEval(s.Window, f, s.Corpus.Test)
	res.TestSentences = len(s.Corpus.Test)
	res.FloatTest = test.floatReport(fbest)
	if !s.NonPrivate {
		res.Model = best
		res.Test = test.quantizedReport(best)
		res.Confusion = test.confusion
	}
	return res, nil
}

func cloneLayers(m []floatLayer) []floatLayer {
	out := make([]floatLayer, len(m))
	for l, layer := range m {
		out[l].B = append([]float64(nil), layer.B...)
		for _, r := range layer.W {
			out[l].W = append(out[l].W, append([]float64(nil), r...))
		}
	}
	return out
}

// floatRecordSum is the float reference's clipped sum over the batch's
// sentences: each sentence's gradient summed over its tokens, clipped once
// to clip (unclipped when nonPrivate), in Model.Flatten's order.
func floatRecordSum(f fixedpoint.Format, m []floatLayer, recs textRecords, batch []int, clip float64, nonPrivate bool) []float64 {
	W, B := m[0].W, m[0].B
	K, D := len(B), len(W[0])
	sum := make([]float64, K*(D+1))
	g := make([]float64, K*(D+1))
	x := make([]float64, D)
	z := make([]float64, K)
	for _, idx := range batch {
		clear(g)
		for l, q := range recs.tokens[idx] {
			for j, v := range q {
				x[j] = f.Float(v)
			}
			softmaxInto(z, W, B, x)
			z[recs.labels[idx][l]]--
			for k := range K {
				if z[k] == 0 {
					continue
				}
				row := g[k*D : (k+1)*D]
				for j, v := range x {
					row[j] += z[k] * v
				}
				g[K*D+k] += z[k]
			}
		}
		scale := 1.0
		if !nonPrivate {
			n2 := 0.0
			for _, v := range g {
				n2 += v * v
			}
			if n := math.Sqrt(n2); n > clip {
				scale = clip / n
			}
		}
		for i, v := range g {
			sum[i] += scale * v
		}
	}
	return sum
}

// softmaxInto sets z to softmax(W x + b).
func softmaxInto(z []float64, W [][]float64, b, x []float64) {
	mx := math.Inf(-1)
	for k := range z {
		s := b[k]
		for j, v := range x {
			s += W[k][j] * v
		}
		z[k], mx = s, max(mx, s)
	}
	total := 0.0
	for k := range z {
		z[k] = math.Exp(z[k] - mx)
		total += z[k]
	}
	for k := range z {
		z[k] /= total
	}
}

// textEval scores models on a public split (validation or test): every
// token of every sentence, uncut.
type textEval struct {
	f         fixedpoint.Format
	qx        [][][]int64
	fx        [][][]float64
	gold      [][]string
	confusion [][]int
}

func newTextEval(w *glove.Window, f fixedpoint.Format, ss []data.Sentence) *textEval {
	e := &textEval{f: f}
	for _, s := range ss {
		feats := w.Sentence(s.Tokens)
		q, _ := quantizeTokens(f, feats) // features lie in [-1, 1]
		e.qx, e.fx, e.gold = append(e.qx, q), append(e.fx, feats), append(e.gold, s.Tags)
	}
	return e
}

func (e *textEval) quantizedReport(m fixedpoint.Model[int64]) metrics.Report {
	e.confusion = make([][]int, len(BIOTags))
	for k := range e.confusion {
		e.confusion[k] = make([]int, len(BIOTags))
	}
	pred := make([][]string, len(e.qx))
	for s, sen := range e.qx {
		pred[s] = make([]string, len(sen))
		for i, x := range sen {
			k, err := Predict(e.f, m, x)
			if err != nil {
				k = 0
			}
			pred[s][i] = BIOTags[k]
			e.confusion[tagIndex(e.gold[s][i])][k]++
		}
	}
	r, _ := metrics.Entities(EntityTypes, e.gold, pred)
	return r
}

func (e *textEval) floatReport(m []floatLayer) metrics.Report {
	pred := make([][]string, len(e.fx))
	z := make([]float64, len(BIOTags))
	for s, sen := range e.fx {
		pred[s] = make([]string, len(sen))
		for i, x := range sen {
			softmaxInto(z, m[0].W, m[0].B, x)
			best := 0
			for k := range z {
				if z[k] > z[best] {
					best = k
				}
			}
			pred[s][i] = BIOTags[best]
		}
	}
	r, _ := metrics.Entities(EntityTypes, e.gold, pred)
	return r
}
