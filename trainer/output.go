package trainer

import (
	"bytes"
	"fmt"
	"io/fs"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/metrics"
	"github.com/zkdp/zkdp/run"
)

// Report is report.json: the run's summary, public.
type Report struct {
	Dataset           string  `json:"dataset"`
	Model             string  `json:"model"`
	Steps             int     `json:"steps"`
	SamplingRate      float64 `json:"sampling_rate"`
	ExpectedBatchSize float64 `json:"expected_batch_size"`
	MaxBatchSize      int     `json:"max_batch_size"`
	NoiseMultiplier   float64 `json:"noise_multiplier"`
	ClipNorm          float64 `json:"clip_norm"`
	LearningRate      float64 `json:"learning_rate"`
	Epsilon           float64 `json:"epsilon"`
	Delta             float64 `json:"delta"`
	Privacy           Privacy `json:"privacy"`
	TestAccuracy      float64 `json:"test_accuracy"`
	FloatTestAccuracy float64 `json:"float_test_accuracy"`
	// QuantizedFloatAccuracy: the float reference's weights rounded to the
	// format and run in fixed point (quantization loss of inference alone).
	QuantizedFloatAccuracy float64 `json:"quantized_float_accuracy"`
	// RowBound is the public bound N_pub the training rows are padded to
	// (params.rows); the real count is private.
	RowBound        int      `json:"row_bound"`
	TestRows        int      `json:"test_rows"`
	TruncatedSteps  int      `json:"truncated_steps"`
	DatasetRoot     string   `json:"dataset_root"`
	SeedCommitment  string   `json:"seed_commitment"`
	Beacon          string   `json:"beacon"`
	BeaconSource    string   `json:"beacon_source"`
	AuditReady      bool     `json:"audit_ready"`
	ModelCommitment string   `json:"model_commitment"`
	ParamsHash      string   `json:"params_hash"`
	Notes           []string `json:"notes"`
	Curve           Curve    `json:"curve"`
}

// Report summarizes the result.
func (r *Result) Report(model string) Report {
	rep := Report{
		Dataset: r.Params.Dataset, Model: model, Steps: r.Params.Steps, SamplingRate: r.Params.SamplingRate,
		ExpectedBatchSize: r.Params.ExpectedBatch, MaxBatchSize: r.Params.MaxBatch, NoiseMultiplier: r.Params.NoiseMultiplier,
		ClipNorm: r.Params.ClipNorm, LearningRate: r.Params.LearningRate, Epsilon: r.Privacy.Epsilon, Delta: r.Privacy.Delta,
		Privacy: r.Privacy, TestAccuracy: r.TestAccuracy, FloatTestAccuracy: r.FloatTestAccuracy, QuantizedFloatAccuracy: r.QuantizedFloatAccuracy,
		RowBound: r.Params.Rows, TestRows: len(r.TestLabels), TruncatedSteps: r.TruncatedSteps,
		DatasetRoot: r.Transcript.DatasetRoot, SeedCommitment: r.Transcript.SeedCommitment, Beacon: r.Transcript.Beacon,
		BeaconSource: r.Transcript.BeaconSource, AuditReady: r.Transcript.AuditReady, ModelCommitment: r.Model.Commitment,
		ParamsHash: r.Transcript.ParamsHash, Curve: r.Curve,
	}
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("delta %.6g = accountant %.6g + (1+e^eps) * %.3g (noise table precision and tail cut at %d sigma, Poisson table precision, padding to %d rows)",
			r.Privacy.Delta, r.Privacy.DeltaAccountant, r.Privacy.SamplerDistance, dp.TailSigmas, r.Params.MaxBatch),
		fmt.Sprintf("(epsilon, delta) holds for neighbouring datasets under %s: the rows are padded to %d with rows that never contribute", dp.AdjacencyAddRemove, r.Params.Rows),
		"test accuracy is measured on the test split, outside the privacy guarantee, which covers the training rows only")
	if !r.Transcript.AuditReady {
		rep.Notes = append(rep.Notes, "the beacon was drawn by the trainer after the seed: this run is NOT fit for an audit (give a beacon fixed after the seed commitment was published)")
	}
	if r.TruncatedSteps > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d batches exceeded the public maximum and were truncated (accounted for in delta)", r.TruncatedSteps))
	}
	return rep
}

// Write stores the result in a run directory: public files, the private
// witness (0600) and the report with its plots.
func (r *Result) Write(d *run.Dir, model string) error {
	cls, err := metrics.Classification(r.Classes, r.TestLabels, r.TestPredictions)
	if err != nil {
		return fmt.Errorf("trainer: classification report: %w", err)
	}
	steps := []struct {
		path string
		v    any
		mode fs.FileMode
	}{
		{d.Private(run.SecretFile), r.Secret, 0o600},
		{d.Private(run.BatchesFile), r.Batches, 0o600},
		{d.Public(run.ParamsFile), r.Params, 0o644},
		{d.Public(run.TranscriptFile), r.Transcript, 0o644},
		{d.Public(run.ModelFile), r.Model, 0o644},
		{d.Path("classification_report.json"), cls, 0o644},
	}
	for _, s := range steps {
		if err := run.WriteJSON(s.path, s.v, s.mode); err != nil {
			return err
		}
	}
	if r.Source != nil {
		if err := run.WriteJSON(d.Private(run.DataSourceFile), r.Source, run.PrivateMode); err != nil {
			return err
		}
	}
	if err := run.WriteWeights(d.Private(run.WeightsFile), r.Weights); err != nil {
		return err
	}
	text := cls.Text() + fmt.Sprintf("\nThe model is (epsilon = %.4g, delta = %.3g)-differentially private for %s.\nThe scores above are on the test split, outside the guarantee.\n",
		r.Privacy.Epsilon, r.Privacy.Delta, dp.AdjacencyAddRemove)
	if err := run.WriteFile(d.Path("classification_report.txt"), []byte(text), run.PublicMode); err != nil {
		return err
	}
	if err := r.writePlots(d); err != nil {
		return err
	}
	// The report goes last: its presence marks a complete run.
	return run.WriteJSON(d.Path(run.ReportFile), r.Report(model), run.PublicMode)
}

func (r *Result) writePlots(d *run.Dir) error {
	steps := make([]float64, len(r.Curve.Steps))
	for i, s := range r.Curve.Steps {
		steps[i] = float64(s)
	}
	type series struct {
		name string
		ys   []float64
	}
	plots := []struct {
		file, title, ylabel string
		lines               []series
	}{
		{"loss.png", "Training loss (float reference, batch mean)", "cross-entropy", []series{{"loss", r.Curve.Loss}}},
		{"accuracy.png", "Test accuracy", "accuracy", []series{{"quantized (released)", r.Curve.TestAccuracy}, {"float reference", r.Curve.FloatTestAccuracy}}},
		{"epsilon.png", fmt.Sprintf("Privacy spent (delta = %.3g)", r.Privacy.Delta), "epsilon", []series{{r.Privacy.Accountant, r.Curve.Epsilon}}},
	}
	for _, pl := range plots {
		p := plot.New()
		p.Title.Text = pl.title
		p.X.Label.Text = "step"
		p.Y.Label.Text = pl.ylabel
		var args []any
		for _, s := range pl.lines {
			pts := make(plotter.XYs, len(steps))
			for i := range steps {
				pts[i].X, pts[i].Y = steps[i], s.ys[i]
			}
			args = append(args, s.name, pts)
		}
		if err := plotutil.AddLines(p, args...); err != nil {
			return fmt.Errorf("trainer: plotting %s: %w", pl.file, err)
		}
		w, err := p.WriterTo(6*vg.Inch, 4*vg.Inch, "png")
		if err != nil {
			return fmt.Errorf("trainer: rendering %s: %w", pl.file, err)
		}
		var buf bytes.Buffer
		if _, err := w.WriteTo(&buf); err != nil {
			return fmt.Errorf("trainer: rendering %s: %w", pl.file, err)
		}
		if err := run.WriteFile(d.Path(run.PlotsDir, pl.file), buf.Bytes(), run.PublicMode); err != nil {
			return err
		}
	}
	return nil
}
