package trainer

import (
	"bytes"
	"fmt"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/zkdp/zkdp/backbone"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/metrics"
	"github.com/zkdp/zkdp/run"
)

// Files of a text run, beside report.json.
const (
	NERReportFile    = "ner_report.txt"
	ConfusionPlot    = "confusion.png"
	TextPrivateFile  = "reference.json"
	textReportFormat = "entity-level (conlleval/seqeval semantics)"
)

// TextReport is report.json of a text run: public.
type TextReport struct {
	Dataset        string            `json:"dataset"`
	Model          string            `json:"model"`
	PrivacyUnit    string            `json:"privacy_unit"`
	Privacy        Privacy           `json:"privacy"`
	Backbone       backbone.Identity `json:"backbone"`
	Scoring        string            `json:"scoring"`
	Test           metrics.Report    `json:"test"` // the released model on the test split
	TestSentences  int               `json:"test_sentences"`
	ReleasedStep   int               `json:"released_step"`
	Steps          []int             `json:"steps"`
	ValidationF1   []float64         `json:"validation_entity_micro_f1"`
	Tags           []string          `json:"tags"`
	TestConfusion  [][]int           `json:"test_confusion"` // [gold tag][predicted tag]
	Notes          []string          `json:"notes"`
	NonPrivateOnly bool              `json:"non_private_only,omitempty"`
}

// TextPrivateReport is private/reference.json of a text run: the float
// reference (a second release the accountant does not cover) and the share
// of training tokens cut at max_tokens (a statistic of the private rows).
type TextPrivateReport struct {
	FloatTest         metrics.Report `json:"float_test"`
	FloatBestStep     int            `json:"float_best_step"`
	FloatValidationF1 []float64      `json:"float_validation_entity_micro_f1"`
	TrainCutShare     float64        `json:"train_cut_share"`
}

// Report is the public summary.
func (r *TextResult) Report(dataset string) TextReport {
	rep := TextReport{Dataset: dataset, Model: "softmax head on frozen GloVe window features", PrivacyUnit: r.Unit,
		Privacy: r.Privacy, Backbone: r.Backbone, Scoring: textReportFormat, Test: r.Test, TestSentences: r.TestSentences,
		ReleasedStep: r.BestStep, Steps: r.Steps, ValidationF1: r.ValidationF1, Tags: r.Tags, TestConfusion: r.Confusion}
	rep.Notes = []string{
		fmt.Sprintf("(epsilon, delta) = (%.4g, %.3g) under %s with one record = one sentence: a sentence's gradient, summed over its tokens, is clipped once, so adding or removing a whole sentence is what the guarantee covers", r.Privacy.Epsilon, r.Privacy.Delta, dp.AdjacencyAddRemove),
		"the released iterate was chosen by entity micro F1 on the validation split (early stopping); the validation sentences, like the test sentences, are outside the guarantee, which covers the training sentences only",
		"the scores are entity-level: an entity counts only when its type and both boundaries match (conlleval/seqeval)",
		"the backbone (GloVe vectors, window, casing flags) is public and named in backbone; that the features of the private sentences were computed with it is the data holder's claim, as the sentences themselves are",
	}
	if r.Test.Micro.Support == 0 {
		rep.NonPrivateOnly = true
		rep.Notes = append(rep.Notes, "non-private reference run: no clipping, no noise, no quantized model; see private/reference.json")
	}
	return rep
}

// Write stores the text run: report.json, ner_report.txt and the confusion
// plot (public), private/reference.json (0600).
func (r *TextResult) Write(d *run.Dir, dataset string) error {
	if err := run.WriteJSON(d.Private(TextPrivateFile), TextPrivateReport{FloatTest: r.FloatTest, FloatBestStep: r.FloatBestStep,
		FloatValidationF1: r.FloatValF1, TrainCutShare: r.CutShare}, run.PrivateMode); err != nil {
		return err
	}
	if err := run.WriteJSON(d.Public(run.ParamsFile), r.Params, run.PublicMode); err != nil {
		return err
	}
	rep := r.Report(dataset)
	var b strings.Builder
	fmt.Fprintf(&b, "NER on %s, %s, released model (step %d) on the test split (%d sentences)\n\n", dataset, textReportFormat, r.BestStep, r.TestSentences)
	b.WriteString(r.Test.Text())
	b.WriteString("\n")
	for _, n := range rep.Notes {
		b.WriteString("- " + n + "\n")
	}
	if err := run.WriteFile(d.Path(NERReportFile), []byte(b.String()), run.PublicMode); err != nil {
		return err
	}
	if len(r.Confusion) > 0 {
		png, err := ConfusionPNG(r.Tags, r.Confusion, "Test tags of the released model (rows: gold, columns: predicted)")
		if err != nil {
			return err
		}
		if err := run.WriteFile(d.Path(run.PlotsDir, ConfusionPlot), png, run.PublicMode); err != nil {
			return err
		}
	}
	return run.WriteJSON(d.Path(run.ReportFile), rep, run.PublicMode)
}

// confusionGrid is a confusion matrix as a heat map grid, rows normalized
// (the share of each gold tag's tokens).
type confusionGrid struct{ m *mat.Dense }

func (g confusionGrid) Dims() (c, r int)   { r, c = g.m.Dims(); return c, r }
func (g confusionGrid) Z(c, r int) float64 { return g.m.At(r, c) }
func (g confusionGrid) X(c int) float64    { return float64(c) }
func (g confusionGrid) Y(r int) float64    { return float64(r) }

// ConfusionPNG draws a confusion matrix, each gold row normalized.
func ConfusionPNG(labels []string, counts [][]int, title string) ([]byte, error) {
	k := len(labels)
	m := mat.NewDense(k, k, nil)
	for i := range k {
		total := 0
		for _, c := range counts[i] {
			total += c
		}
		for j := range k {
			if total > 0 {
				// Row 0 at the top: the grid's Y grows upwards.
				m.Set(k-1-i, j, float64(counts[i][j])/float64(total))
			}
		}
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "predicted"
	p.Y.Label.Text = "gold"
	hm := plotter.NewHeatMap(confusionGrid{m}, palette.Heat(12, 1))
	hm.Min, hm.Max = 0, 1
	p.Add(hm)
	ticks := func(reverse bool) plot.ConstantTicks {
		var t plot.ConstantTicks
		for i, l := range labels {
			v := float64(i)
			if reverse {
				v = float64(k - 1 - i)
			}
			t = append(t, plot.Tick{Value: v, Label: l})
		}
		return t
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks(false), ticks(true)
	w, err := p.WriterTo(6*vg.Inch, 5*vg.Inch, "png")
	if err != nil {
		return nil, fmt.Errorf("trainer: rendering the confusion matrix: %w", err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("trainer: rendering the confusion matrix: %w", err)
	}
	return buf.Bytes(), nil
}
