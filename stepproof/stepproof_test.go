package stepproof

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/internal/testrun"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
)

// smallRun trains 2 steps on the breast-cancer rows with small batches and a
// coarse noise lattice, so that its step circuit is small (tens of thousands
// of constraints), and writes the run directory.
func smallRun(t *testing.T) string {
	t.Helper()
	cfg, format := testrun.SmallSteps()
	return testrun.Write(t, testrun.Setup(t, cfg, format, 8, 99))
}

// The public side is checked before anything is compiled.
func TestVerifyRejectsInconsistentTranscripts(t *testing.T) {
	dir := smallRun(t)
	d := &run.Dir{Root: dir}
	var tr run.Transcript
	if err := run.ReadJSON(d.Public(run.TranscriptFile), &tr); err != nil {
		t.Fatal(err)
	}
	// A learning rate the fixed-point step size does not come from.
	var p run.Params
	if err := run.ReadJSON(d.Public(run.ParamsFile), &p); err != nil {
		t.Fatal(err)
	}
	p.LearningRate *= 2
	if err := run.WriteJSON(d.Public(run.ParamsFile), p, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dir, prover.KeyTrust{Dev: true}); !errors.Is(err, run.ErrMalformed) || !strings.Contains(err.Error(), "learning_rate") {
		t.Fatalf("false learning rate: got %v, want ErrMalformed naming learning_rate", err)
	}
	// Consistent params other than the ones committed in the transcript.
	p.LearningRate /= 2
	p.Dataset += "-other"
	if err := run.WriteJSON(d.Public(run.ParamsFile), p, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dir, prover.KeyTrust{Dev: true}); !errors.Is(err, ErrChain) {
		t.Fatalf("changed params: got %v, want ErrChain", err)
	}
	// A chain missing a model commitment.
	p.Dataset = strings.TrimSuffix(p.Dataset, "-other")
	if err := run.WriteJSON(d.Public(run.ParamsFile), p, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	tr.ModelCommitments = tr.ModelCommitments[:len(tr.ModelCommitments)-1]
	if err := run.WriteJSON(d.Public(run.TranscriptFile), tr, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dir, prover.KeyTrust{Dev: true}); !errors.Is(err, ErrChain) {
		t.Fatalf("short chain: got %v, want ErrChain", err)
	}
}

func TestSpecFromPublicParams(t *testing.T) {
	dir := smallRun(t)
	var p run.Params
	if err := run.ReadJSON(filepath.Join(dir, run.PublicDir, run.ParamsFile), &p); err != nil {
		t.Fatal(err)
	}
	spec, err := Spec(p)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Depth != 9 || spec.MaxBatch != p.MaxBatch || len(spec.Thresholds) != p.Rows || int64(len(spec.CDF)) != spec.Tail+1 || len(spec.NoiseCoeffs) == 0 {
		t.Fatalf("spec: depth %d, max batch %d, %d thresholds", spec.Depth, spec.MaxBatch, len(spec.Thresholds))
	}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	if spec.Membership != p.Membership() {
		t.Fatalf("spec membership %v, the params choose %v", spec.Membership, p.Membership())
	}
	if _, err := os.Stat(filepath.Join(dir, run.PrivateDir, run.DataSourceFile)); err != nil {
		t.Fatalf("the data source is not in private/: %v", err)
	}
}

// A run whose step would not fit a 24 GiB host is refused before anything
// is compiled; the MNIST MLP at an expected batch of 256 is not.
func TestProveRefusesHugeCircuits(t *testing.T) {
	p := run.Params{Widths: []int{784, 256, 10}, MaxBatch: 541, Rows: 8000, NoiseTail: 9000}
	if _, _, _, err := compile(p); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	mnist := run.Params{Widths: []int{784, 56, 10}, MaxBatch: 358, Rows: 8000, NoiseTail: 9015}
	if n := EstimateConstraints(mnist); n < 9_550_607 || n > MaxConstraints {
		t.Fatalf("the MNIST MLP's step is estimated at %d constraints; 9,550,607 measured", n)
	}
}

// W_0 is public: a transcript whose M_0 is not H(W_0) of the initial model
// that the params and the beacon define is refused before anything is
// compiled, even one whose W_0 differs from it in a single weight (and
// whose M_0 is a valid model commitment). zkdp verify runs this check.
func TestVerifyRejectsPrivateInitialModel(t *testing.T) {
	dir := smallRun(t)
	d := &run.Dir{Root: dir}
	if _, err := ReadPublic(dir); err != nil {
		t.Fatalf("the honest run: %v", err)
	}
	var tr run.Transcript
	if err := run.ReadJSON(d.Public(run.TranscriptFile), &tr); err != nil {
		t.Fatal(err)
	}
	p, err := d.ReadParams()
	if err != nil {
		t.Fatal(err)
	}
	beacon, err := commit.ParseHex(tr.Beacon)
	if err != nil {
		t.Fatal(err)
	}
	w0, err := p.InitialModel(beacon)
	if err != nil {
		t.Fatal(err)
	}
	w0[0] += 3 // a bit of private data written into W_0
	m0, err := commit.HashPacked(commit.TagModel, w0, p.Step.WeightBits)
	if err != nil {
		t.Fatal(err)
	}
	tr.ModelCommitments[0] = commit.Hex(m0)
	if err := run.WriteJSON(d.Public(run.TranscriptFile), tr, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dir, prover.KeyTrust{Dev: true}); !errors.Is(err, ErrInitialModel) {
		t.Fatalf("a private W_0: got %v, want ErrInitialModel", err)
	}
}
