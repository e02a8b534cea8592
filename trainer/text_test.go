package trainer

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/backbone/glove"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/run"
)

func tinyWindow(t *testing.T) *glove.Window {
	t.Helper()
	in, err := os.Open(filepath.Join("..", "backbone", "glove", "testdata", "tiny.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var buf bytes.Buffer
	if _, err := glove.Convert(in, &buf, glove.Options{VocabSize: 3, FracBits: 12}); err != nil {
		t.Fatal(err)
	}
	v, err := glove.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return glove.NewWindow(v, 1)
}

func sentence(s string) data.Sentence {
	var out data.Sentence
	for _, tt := range strings.Fields(s) {
		tok, tag, _ := strings.Cut(tt, "/")
		out.Tokens, out.Tags = append(out.Tokens, tok), append(out.Tags, tag)
	}
	return out
}

// A text run end to end on a tiny corpus: the sentence is the unit (the
// report says so), a sentence longer than max_tokens is cut, the quantized
// and float runs agree, and the run directory holds the NER report.
func TestTrainTextTiny(t *testing.T) {
	var train []data.Sentence
	for range 12 {
		train = append(train, sentence("the/O Paris/B-LOC ,/O zkdp/B-ORG ZKDP/I-ORG"), sentence("Paris/B-PER the/O"))
	}
	corpus := &Corpus{Name: "tiny", Train: train, Validation: train[:4], Test: train[:6]}
	cfg := Config{Steps: 8, SamplingRate: 0.5, ClipNorm: 1, LearningRate: 2, NoiseMultiplier: 2, Delta: 1e-5,
		Accountant: "rdp", EvalEvery: 4, InitScale: 1}
	s := TextSetup{Corpus: corpus, Window: tinyWindow(t), Training: cfg, Text: TextConfig{MaxTokens: 4, Window: 1, VocabSize: 3},
		Format: fixedpoint.DefaultFormat(), MaxRows: 32, Seed: 7}
	res, err := TrainText(context.Background(), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := 12.0 / 84; res.CutShare != want { // one of five tokens cut in half the sentences
		t.Errorf("cut share %v, want %v", res.CutShare, want)
	}
	if len(res.Steps) != 2 || res.BestStep == 0 || len(res.Test.Classes) != 3 {
		t.Fatalf("steps %v best %d classes %v", res.Steps, res.BestStep, res.Test.Classes)
	}
	if d := res.Test.Micro.F1 - res.FloatTest.Micro.F1; d > 0.2 || d < -0.2 {
		t.Errorf("quantized F1 %v, float %v", res.Test.Micro.F1, res.FloatTest.Micro.F1)
	}
	dir, err := run.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Write(dir, "tiny"); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(dir.Path(run.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	var rep TextReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.PrivacyUnit, "sentence") || rep.Backbone.Name != glove.Name || !strings.Contains(strings.Join(rep.Notes, " "), "validation") {
		t.Errorf("report: unit %q, backbone %+v, notes %q", rep.PrivacyUnit, rep.Backbone, rep.Notes)
	}
	if bytes.Contains(raw, []byte("cut_share")) {
		t.Error("the training cut share (private) is in report.json")
	}
	if res.Params.Backbone == nil || res.Params.Backbone.Hash == "" || res.Params.RecordRows != 4 {
		t.Errorf("params: backbone %+v, record rows %d", res.Params.Backbone, res.Params.RecordRows)
	}
	for _, f := range []string{dir.Public(run.ParamsFile), dir.Path(NERReportFile), dir.Path(run.PlotsDir, ConfusionPlot), dir.Private(TextPrivateFile)} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
}
