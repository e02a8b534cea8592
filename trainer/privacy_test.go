package trainer_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkdp/zkdp/internal/testrun"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/trainer"
)

// Nothing outside private/ carries a private value: every file of a trained
// run (report, classification report, plots, public/) is scanned for the
// seed, the row salts, the batches and their sizes, the noise and the loss
// on each private batch; and the plots are drawn from report.json's public
// curve alone. (zkdp prove's outputs are scanned alike in stepproof's
// TestProveVerifyTamper, under prover_checks.)
func TestNothingPrivateOutsidePrivate(t *testing.T) {
	cfg, format := testrun.SmallSteps()
	cfg.Steps, cfg.SamplingRate, cfg.EvalEvery = 6, 0.1, 1
	dir := testrun.Write(t, testrun.Setup(t, cfg, format, 21, 7))
	testrun.AssertNothingPrivate(t, dir)

	var rep trainer.Report
	if err := run.ReadJSON(filepath.Join(dir, run.ReportFile), &rep); err != nil {
		t.Fatal(err)
	}
	plots, err := trainer.RenderPlots(rep.Curve, rep.Privacy)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, run.PlotsDir))
	if err != nil || len(entries) != len(plots) {
		t.Fatalf("plots/ holds %d files, the public curve draws %d (%v)", len(entries), len(plots), err)
	}
	for _, pl := range plots {
		b, err := os.ReadFile(filepath.Join(dir, run.PlotsDir, pl.File))
		if err != nil || !bytes.Equal(b, pl.PNG) {
			t.Errorf("plots/%s is not drawn from report.json's curve alone (%v)", pl.File, err)
		}
	}
}
