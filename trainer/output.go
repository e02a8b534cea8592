package trainer

import (
	"bytes"
	"fmt"
	"io/fs"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/zkdp/zkdp/data"
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
	TestAccuracy      float64 `json:"test_accuracy"` // the released model on the test split
	// RowBound is the public bound N_pub the training rows are padded to
	// (params.rows); the real count is private.
	RowBound        int      `json:"row_bound"`
	TestRows        int      `json:"test_rows"`
	DatasetRoot     string   `json:"dataset_root"`
	SeedCommitment  string   `json:"seed_commitment"`
	Beacon          string   `json:"beacon"`
	BeaconSource    string   `json:"beacon_source"`
	AuditReady      bool     `json:"audit_ready"`
	ModelCommitment string   `json:"model_commitment"`
	ParamsHash      string   `json:"params_hash"`
	Notes           []string `json:"notes"`
	Curve           Curve    `json:"curve"` // the released model after each step, on the test split
	// ParentRun is the run commitment of the run whose released model this
	// run continues (params.parent), and Lineage the guarantee of the
	// records it shares with its lineage, composed over all its runs.
	ParentRun string          `json:"parent_run_commitment,omitempty"`
	Lineage   *LineagePrivacy `json:"lineage_privacy,omitempty"`
}

// PrivateReport is private/reference.json: what the owner may look at but
// must not publish, since it is outside the DP mechanism: the float
// reference (the same batches and noise in float arithmetic), its loss on
// each private batch, and how many batches were truncated (a function of
// the secret batch sizes).
type PrivateReport struct {
	FloatTestAccuracy float64 `json:"float_test_accuracy"`
	// QuantizedFloatAccuracy: the float reference's weights rounded to the
	// format and run in fixed point (quantization loss of inference alone).
	QuantizedFloatAccuracy float64        `json:"quantized_float_accuracy"`
	TruncatedSteps         int            `json:"truncated_steps"`
	Curve                  ReferenceCurve `json:"curve"`
	// ClippedRows counts the rows (train and test) holding a value clipped
	// to its column's public bounds (data.out_of_range: clip), and
	// DroppedRows those dropped for a '?' (data.missing: drop). Both are
	// counts over the private rows, released without noise: publishing
	// them would leak outside the guarantee, so they stay here.
	ClippedRows int `json:"clipped_rows"`
	DroppedRows int `json:"dropped_rows"`
}

// Report summarizes the result.
func (r *Result) Report(model string) Report {
	rep := Report{
		Dataset: r.Params.Dataset, Model: model, Steps: r.Params.Steps, SamplingRate: r.Params.SamplingRate,
		ExpectedBatchSize: r.Params.ExpectedBatch, MaxBatchSize: r.Params.MaxBatch, NoiseMultiplier: r.Params.NoiseMultiplier,
		ClipNorm: r.Params.ClipNorm, LearningRate: r.Params.LearningRate, Epsilon: r.Privacy.Epsilon, Delta: r.Privacy.Delta,
		Privacy: r.Privacy, TestAccuracy: r.TestAccuracy, RowBound: r.Params.Rows, TestRows: len(r.TestLabels),
		DatasetRoot: r.Transcript.DatasetRoot, SeedCommitment: r.Transcript.SeedCommitment, Beacon: r.Transcript.Beacon,
		BeaconSource: r.Transcript.BeaconSource, AuditReady: r.Transcript.AuditReady, ModelCommitment: r.Model.Commitment,
		ParamsHash: r.Transcript.ParamsHash, Curve: r.Curve,
	}
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("delta %.6g = accountant %.6g + (1+e^eps) * %.3g (noise table precision and tail cut at %d sigma, Poisson table precision, padding to %d rows)",
			r.Privacy.Delta, r.Privacy.DeltaAccountant, r.Privacy.SamplerDistance, dp.TailSigmas, r.Params.MaxBatch),
		fmt.Sprintf("(epsilon, delta) holds for neighbouring datasets under %s: the rows are padded to %d with rows that never contribute", dp.AdjacencyAddRemove, r.Params.Rows),
		"test accuracy is measured on the test split, outside the privacy guarantee, which covers the training rows only",
		"the curve is the released model after each step (every step's noisy update is covered by the accountant), measured on the test split; nothing here is computed on a training row (the float reference's statistics stay in private/)")
	if r.ScalingFromPrivateData {
		rep.Notes = append(rep.Notes, data.ScalingFromDataNote)
	}
	if par := r.Params.Parent; par != nil {
		rep.ParentRun, rep.Lineage = par.RunCommitment, r.Lineage
		rep.Notes = append(rep.Notes, fmt.Sprintf("this run continues the released model %s of run %s (W_0 is its W_T)", par.Model, par.RunCommitment))
	}
	if note := r.lineageNote(); note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	if !r.Transcript.AuditReady {
		rep.Notes = append(rep.Notes, "the beacon was drawn by the trainer after the seed: this run is NOT fit for an audit (give a beacon fixed after the seed commitment was published)")
	}
	return rep
}

// lineageNote states the total guarantee of the records a continued run
// shares with its lineage; empty when there are none.
func (r *Result) lineageNote() string {
	l := r.Lineage
	if l == nil {
		return ""
	}
	return fmt.Sprintf("records shared with the %d earlier run(s) of its lineage are (epsilon = %.4g, delta = %.3g)-differentially private over all %d runs (this run alone: epsilon = %.4g)",
		l.Runs-1, l.Privacy.Epsilon, l.Privacy.Delta, l.Runs, r.Privacy.Epsilon)
}

// PrivateReport is the owner's view of what it must not publish.
func (r *Result) PrivateReport() PrivateReport {
	return PrivateReport{FloatTestAccuracy: r.FloatTestAccuracy, QuantizedFloatAccuracy: r.QuantizedFloatAccuracy,
		TruncatedSteps: r.TruncatedSteps, Curve: r.Reference, ClippedRows: r.ClippedRows, DroppedRows: r.DroppedRows}
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
		{d.Private(run.ReferenceFile), r.PrivateReport(), 0o600},
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
	if r.ScalingFromPrivateData {
		text += "WARNING: " + data.ScalingFromDataNote + ".\n"
	}
	if note := r.lineageNote(); note != "" {
		text += note + ".\n"
	}
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
	plots, err := RenderPlots(r.Curve, r.Privacy)
	if err != nil {
		return err
	}
	for _, pl := range plots {
		if err := run.WriteFile(d.Path(run.PlotsDir, pl.File), pl.PNG, run.PublicMode); err != nil {
			return err
		}
	}
	return nil
}

// Plot is one rendered public plot.
type Plot struct {
	File string // under plots/
	PNG  []byte
}

// RenderPlots draws the public plots from the public curve and guarantee
// alone (report.json holds both), so that they carry nothing else.
func RenderPlots(c Curve, priv Privacy) ([]Plot, error) {
	steps := make([]float64, len(c.Steps))
	for i, s := range c.Steps {
		steps[i] = float64(s)
	}
	type series struct {
		name string
		ys   []float64
	}
	specs := []struct {
		file, title, ylabel string
		lines               []series
	}{
		{"loss.png", "Test loss of the released model (test split)", "cross-entropy", []series{{"released model", c.TestLoss}}},
		{"accuracy.png", "Test accuracy of the released model (test split)", "accuracy", []series{{"released model", c.TestAccuracy}}},
		{"epsilon.png", fmt.Sprintf("Privacy spent (delta = %.3g)", priv.Delta), "epsilon", []series{{priv.Accountant, c.Epsilon}}},
	}
	var out []Plot
	for _, pl := range specs {
		p := plot.New()
		p.Title.Text = pl.title
		p.X.Label.Text = "step"
		p.Y.Label.Text = pl.ylabel
		var args []any
		for _, s := range pl.lines {
			if len(s.ys) != len(steps) {
				return nil, fmt.Errorf("trainer: plotting %s: %d values for %d steps", pl.file, len(s.ys), len(steps))
			}
			pts := make(plotter.XYs, len(steps))
			for i := range steps {
				pts[i].X, pts[i].Y = steps[i], s.ys[i]
			}
			args = append(args, s.name, pts)
		}
		if err := plotutil.AddLines(p, args...); err != nil {
			return nil, fmt.Errorf("trainer: plotting %s: %w", pl.file, err)
		}
		w, err := p.WriterTo(6*vg.Inch, 4*vg.Inch, "png")
		if err != nil {
			return nil, fmt.Errorf("trainer: rendering %s: %w", pl.file, err)
		}
		var buf bytes.Buffer
		if _, err := w.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("trainer: rendering %s: %w", pl.file, err)
		}
		out = append(out, Plot{File: pl.file, PNG: buf.Bytes()})
	}
	return out, nil
}
