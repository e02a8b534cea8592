package trainer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/run"
)

func smallSetup(t *testing.T, seed uint64) Setup {
	t.Helper()
	dc, err := data.DefaultConfig("breast_cancer")
	if err != nil {
		t.Fatal(err)
	}
	dc.Center = true
	ds, err := data.Load(dc, seed)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Steps, cfg.SamplingRate, cfg.ClipNorm, cfg.LearningRate, cfg.Epsilon = 20, 0.1, 1, 2, 2
	cfg.EvalEvery = 5
	var beacon fr.Element
	beacon.SetUint64(2024)
	return Setup{Dataset: ds, Training: cfg, Format: fixedpoint.DefaultFormat(), Seed: dp.SeedFromUint64(seed),
		Beacon: beacon, BeaconGiven: true}
}

func trainInto(t *testing.T, s Setup, dir string) *Result {
	t.Helper()
	res, err := Train(context.Background(), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := run.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Write(d, s.Training.ModelName()); err != nil {
		t.Fatal(err)
	}
	return res
}

func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Same seed and beacon give the same bytes in every file of the run.
func TestTrainDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	trainInto(t, smallSetup(t, 3), a)
	trainInto(t, smallSetup(t, 3), b)
	fa, fb := readTree(t, a), readTree(t, b)
	if len(fa) != len(fb) || len(fa) < 10 {
		t.Fatalf("runs hold %d and %d files", len(fa), len(fb))
	}
	for name, ba := range fa {
		if !bytes.Equal(ba, fb[name]) {
			t.Errorf("%s differs between two runs with the same seed and beacon", name)
		}
	}
	// A different beacon changes the batches, hence the model.
	other := smallSetup(t, 3)
	other.Beacon.SetUint64(2025)
	res, err := Train(context.Background(), other, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var tr run.Transcript
	if err := run.ReadJSON(filepath.Join(a, run.PublicDir, run.TranscriptFile), &tr); err != nil {
		t.Fatal(err)
	}
	if res.Model.Commitment == tr.ModelCommitments[len(tr.ModelCommitments)-1] {
		t.Fatal("a different beacon gave the same model")
	}
}

// The run directory keeps secrets in private/ only, with owner-only modes,
// and every public commitment checks out against the private witness.
func TestRunDirectorySeparatesSecrets(t *testing.T) {
	dir := t.TempDir()
	s := smallSetup(t, 5)
	res := trainInto(t, s, dir)
	st, err := os.Stat(filepath.Join(dir, run.PrivateDir))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("private dir mode %v, %v", st.Mode().Perm(), err)
	}
	files := readTree(t, dir)
	seedHex := commit.Hex(s.Seed)
	for name, b := range files {
		path := filepath.Join(dir, name)
		st, _ := os.Stat(path)
		if filepath.Dir(name) == run.PrivateDir {
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
			}
			continue
		}
		if bytes.Contains(b, []byte(seedHex[2:])) {
			t.Errorf("public file %s contains the secret seed", name)
		}
		if bytes.Contains(b, []byte(`"indices"`)) {
			t.Errorf("public file %s contains batch indices", name)
		}
	}
	// M_t in the transcript is the commitment of the private W_t.
	weights, err := run.ReadWeights(filepath.Join(dir, run.PrivateDir, run.WeightsFile), fixedpoint.NumParams(res.Params.Widths))
	if err != nil {
		t.Fatal(err)
	}
	if len(weights) != s.Training.Steps+1 {
		t.Fatalf("%d weight vectors, want %d", len(weights), s.Training.Steps+1)
	}
	for i, w := range weights {
		c, err := ModelCommitment(s.Format, w)
		if err != nil || commit.Hex(c) != res.Transcript.ModelCommitments[i] {
			t.Fatalf("M_%d does not match W_%d (%v)", i, i, err)
		}
	}
	for _, key := range []string{"dataset", "model", "steps", "sampling_rate", "expected_batch_size", "noise_multiplier",
		"clip_norm", "epsilon", "delta", "test_accuracy", "test_loss", "dataset_root", "seed_commitment", "beacon", "model_commitment"} {
		if !bytes.Contains(files[run.ReportFile], []byte(`"`+key+`"`)) {
			t.Errorf("report.json lacks %q", key)
		}
	}
	// The float reference's statistics are private.
	for _, key := range []string{"float_test_accuracy", "quantized_float_accuracy", "batch_loss", "truncated_steps"} {
		if bytes.Contains(files[run.ReportFile], []byte(`"`+key+`"`)) {
			t.Errorf("report.json holds %q", key)
		}
		if !bytes.Contains(files[filepath.Join(run.PrivateDir, run.ReferenceFile)], []byte(`"`+key+`"`)) {
			t.Errorf("private/%s lacks %q", run.ReferenceFile, key)
		}
	}
	// The public curve is the released model W_t after each evaluated step,
	// on the test split, and the params pass the verifier's checks.
	q, err := data.QuantizeSplit(s.Dataset.Test, s.Format.FracBits)
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range res.Curve.Steps {
		m, err := fixedpoint.Unflatten(res.Params.Widths, weights[step])
		if err != nil {
			t.Fatal(err)
		}
		acc, loss, _ := evaluateQuantized(s.Format, m, q)
		if acc != res.Curve.TestAccuracy[i] || loss != res.Curve.TestLoss[i] {
			t.Errorf("curve at step %d: (%v, %v), W_%d on the test split gives (%v, %v)", step, res.Curve.TestAccuracy[i], res.Curve.TestLoss[i], step, acc, loss)
		}
	}
	if err := res.Params.Validate(); err != nil {
		t.Errorf("the trainer's params fail Validate: %v", err)
	}
}

// One quantized step against the Gorgonia float reference from the same
// weights, batch and noise: every parameter agrees within the stated bound,
// lr/(qN) * C/C_l * |B| * (1 + 2^-6 + 2e-3*C_l) + 2 ulp (per example one
// lattice unit of floor, the clip scale's rounding and the softmax
// approximation; then the update's floor).
func TestQuantizedStepMatchesFloatReference(t *testing.T) {
	s := smallSetup(t, 7)
	f := s.Format
	q, err := data.QuantizeSplit(s.Dataset.Train, f.FracBits)
	if err != nil {
		t.Fatal(err)
	}
	widths := []int{len(s.Dataset.Features), len(s.Dataset.Classes)}
	p, err := makePlan(s.Training, f, q.Len(), fixedpoint.NumParams(widths))
	if err != nil {
		t.Fatal(err)
	}
	// A non-trivial starting point: a model trained for a few steps.
	res, err := Train(context.Background(), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	model, _ := fixedpoint.Unflatten(widths, res.Model.Weights)
	net, err := newFloatNet(widths, p.maxBatch)
	if err != nil {
		t.Fatal(err)
	}
	for step := range 5 {
		key := dp.StepKey(s.Seed, s.Beacon, 100+step)
		batch, noise, err := p.draw(key, len(res.Model.Weights))
		if err != nil {
			t.Fatal(err)
		}
		var xs, ys [][]int64
		var mask []int64
		var fx [][]float64
		var labels []int
		for _, i := range batch.Indices {
			oh := make([]int64, 2)
			oh[q.Y[i]] = 1
			xs, ys, mask = append(xs, q.X[i]), append(ys, oh), append(mask, 1)
			fx, labels = append(fx, s.Dataset.Train.X[i]), append(labels, s.Dataset.Train.Y[i])
		}
		n := &fixedpoint.Native{}
		next, _ := fixedpoint.Step[int64](n, p.step, model, xs, ys, mask, noise)
		if n.Err() != nil {
			t.Fatal(n.Err())
		}
		fm := toFloat(f, model)
		net.setWeights(fm)
		sum, _, err := net.clippedSum(fx, labels, effectiveClip(s.Training.ClipNorm, f, len(res.Model.Weights)))
		if err != nil {
			t.Fatal(err)
		}
		stepSize := s.Training.LearningRate / (s.Training.SamplingRate * float64(q.Len()))
		unit := s.Training.ClipNorm / float64(f.LatticeUnits())
		applyFloatUpdate(fm, sum, noise, unit, stepSize)
		// Per entry: one lattice unit of floor, 2^-6 of the scale's rounding,
		// and the softmax approximation (2e-3 of C_l); then the update's floor.
		bound := stepSize*unit*float64(len(xs))*(1+1.0/64+2e-3*float64(f.LatticeUnits())) + 2/float64(f.One())
		got := next.Flatten()
		want := flattenFloat(fm)
		for i := range got {
			if d := math.Abs(f.Float(got[i]) - want[i]); d > bound {
				t.Fatalf("step %d param %d: quantized %v, float %v, |diff| %.3g > bound %.3g", step, i, f.Float(got[i]), want[i], d, bound)
			}
		}
		model = next
	}
}

func flattenFloat(m []floatLayer) []float64 {
	var out []float64
	for _, l := range m {
		for _, row := range l.W {
			out = append(out, row...)
		}
		out = append(out, l.B...)
	}
	return out
}

func TestMechanismRecomputesPrivacy(t *testing.T) {
	res, err := Train(context.Background(), smallSetup(t, 9), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := res.Params.Mechanism().Guarantee()
	if err != nil {
		t.Fatal(err)
	}
	if got.Epsilon != res.Privacy.Epsilon || got.Delta != res.Privacy.Delta {
		t.Fatalf("recomputed (%v, %v), run claims (%v, %v)", got.Epsilon, got.Delta, res.Privacy.Epsilon, res.Privacy.Delta)
	}
	if res.Privacy.Epsilon > 2 || res.Privacy.Delta > 1e-5 {
		t.Fatalf("calibrated run exceeds its budget: %+v", res.Privacy)
	}
}

func TestConfigValidateListsEveryProblem(t *testing.T) {
	c := Config{Steps: 0, SamplingRate: 2, ClipNorm: -1, LearningRate: 0, Delta: 1, Accountant: "x", EvalEvery: 0}
	errs := c.Validate()
	if len(errs) < 7 {
		t.Fatalf("got %d problems: %v", len(errs), errs)
	}
	for _, key := range []string{"training.steps", "training.sampling_rate", "training.clip_norm", "training.learning_rate", "training.delta", "training.accountant", "training.eval_every"} {
		found := false
		for _, e := range errs {
			if bytes.Contains([]byte(e.Error()), []byte(key)) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem names %s", key)
		}
	}
}

// fromFloat inverts toFloat on lattice weights, so quantizing the float
// reference measures rounding only.
func TestFromFloatInvertsToFloat(t *testing.T) {
	f := fixedpoint.DefaultFormat()
	widths := []int{5, 4, 3}
	bits, err := dp.InitBits(widths, f, 1)
	if err != nil {
		t.Fatal(err)
	}
	w, err := dp.InitialWeights(widths, bits, dp.SeedFromUint64(7))
	if err != nil {
		t.Fatal(err)
	}
	for i := range w {
		w[i] += int64(i) - 20 // non-zero biases and some negative weights
	}
	m, err := fixedpoint.Unflatten(widths, w)
	if err != nil {
		t.Fatal(err)
	}
	back, err := fromFloat(f, widths, toFloat(f, m))
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Flatten(); !slices.Equal(got, w) {
		t.Fatalf("round trip changed the weights:\n%v\n%v", got, w)
	}
}

// NaN and infinities fail validation (a NaN noise multiplier once passed).
func TestConfigValidateRejectsNonFinite(t *testing.T) {
	ok := DefaultConfig()
	ok.Steps, ok.SamplingRate, ok.ClipNorm, ok.LearningRate, ok.NoiseMultiplier = 10, 0.05, 0.5, 4, 1.2
	if errs := ok.Validate(); len(errs) > 0 {
		t.Fatalf("valid config rejected: %v", errs)
	}
	for key, set := range map[string]func(*Config, float64){
		"noise_multiplier": func(c *Config, x float64) { c.NoiseMultiplier = x },
		"clip_norm":        func(c *Config, x float64) { c.ClipNorm = x },
		"learning_rate":    func(c *Config, x float64) { c.LearningRate = x },
		"init_scale":       func(c *Config, x float64) { c.InitScale = x },
	} {
		for _, x := range []float64{math.NaN(), math.Inf(1)} {
			c := ok
			set(&c, x)
			errs := c.Validate()
			if len(errs) != 1 || !errors.Is(errs[0], ErrInvalidConfig) || !strings.Contains(errs[0].Error(), "training."+key) {
				t.Errorf("%s = %v: got %v", key, x, errs)
			}
		}
	}
	c := ok
	c.NoiseMultiplier, c.Epsilon = 0, math.Inf(1)
	if errs := c.Validate(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "training.epsilon") {
		t.Errorf("epsilon +Inf: got %v", errs)
	}
}

// What Publish commits to before any beacon exists (params hash, D, S, M_0)
// is what Train starts from, whatever beacon comes later.
func TestPublishMatchesTrain(t *testing.T) {
	s := smallSetup(t, 4)
	s.Beacon = fr.Element{} // Publish must not read it
	pub, err := Publish(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pub.Transcript.Beacon != "" || len(pub.Transcript.ModelCommitments) != 0 {
		t.Fatalf("published transcript %+v: want no beacon and no M_0 (it derives from the beacon)", pub.Transcript)
	}
	m0 := map[string]bool{}
	for _, b := range []uint64{7, 8} {
		s.Beacon.SetUint64(b)
		res, err := Train(context.Background(), s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, want := res.Transcript, pub.Transcript
		if got.ParamsHash != want.ParamsHash || got.DatasetRoot != want.DatasetRoot || got.SeedCommitment != want.SeedCommitment {
			t.Fatalf("beacon %d: trained from %+v, published %+v", b, got, want)
		}
		if h, err := res.Params.Hash(); err != nil || commit.Hex(h) != want.ParamsHash {
			t.Fatalf("beacon %d: params hash %v %v", b, h, err)
		}
		if got.Beacon != commit.Hex(s.Beacon) || len(got.ModelCommitments) != s.Training.Steps+1 {
			t.Fatalf("beacon %d: transcript %+v", b, got)
		}
		// The trainer starts from the public W_0 of the params and beacon.
		w0, err := res.Params.InitialModel(s.Beacon)
		if err != nil || !slices.Equal(w0, res.Weights[0]) {
			t.Fatalf("beacon %d: W_0 is not Params.InitialModel (%v)", b, err)
		}
		m0[got.ModelCommitments[0]] = true
	}
	if len(s.Training.Hidden) > 0 && len(m0) != 2 {
		t.Fatal("two beacons gave the same W_0")
	}
}

// A fixed seed gives the same secret and split seed each time; without one
// two draws differ.
func TestDrawSeeds(t *testing.T) {
	v := uint64(9)
	a, ia, err := DrawSeeds(&v)
	b, ib, err2 := DrawSeeds(&v)
	if err != nil || err2 != nil || a != b || ia != 9 || ib != 9 || a != dp.SeedFromUint64(9) {
		t.Fatalf("fixed seeds: %v %v %v %v", a, b, err, err2)
	}
	c, ic, err := DrawSeeds(nil)
	d, id, err2 := DrawSeeds(nil)
	if err != nil || err2 != nil || c == d || ic == id {
		t.Fatalf("drawn seeds repeat: %v %v %d %d", c, d, ic, id)
	}
}

// The real row count N is private: params.rows is the public bound N_pub,
// the expected batch size is q N_pub, and neither N nor q N appears as a
// number in any file outside private/ (the released weights, integers that
// may equal N by chance, aside). Before the row bound, params.rows was N.
func TestRowCountStaysPrivate(t *testing.T) {
	dir := t.TempDir()
	s := smallSetup(t, 5)
	n, bound := s.Dataset.Train.Len(), s.Dataset.MaxRows
	if n >= bound {
		t.Fatalf("%d rows under a bound of %d: nothing is hidden", n, bound)
	}
	res := trainInto(t, s, dir)
	var p run.Params
	if err := run.ReadJSON(filepath.Join(dir, run.PublicDir, run.ParamsFile), &p); err != nil {
		t.Fatal(err)
	}
	if p.Rows != bound || res.Params.Rows != bound || p.ExpectedBatch != s.Training.SamplingRate*float64(bound) {
		t.Fatalf("params: rows %d, expected batch %v; want the bound %d and q*bound", p.Rows, p.ExpectedBatch, bound)
	}
	if p.Adjacency != dp.AdjacencyAddRemove {
		t.Fatalf("params name the adjacency %q", p.Adjacency)
	}
	secret := map[float64]string{float64(n): "N", s.Training.SamplingRate * float64(n): "q*N"}
	// A number token: not part of a longer number, a decimal or a hex string.
	token := regexp.MustCompile(`(^|[^0-9A-Za-z.])` + strconv.Itoa(n) + `($|[^0-9A-Za-z]|\.[^0-9])`)
	var walk func(name, at string, v any)
	walk = func(name, at string, v any) {
		switch v := v.(type) {
		case float64:
			if what, ok := secret[v]; ok {
				t.Errorf("%s: %s is %v, the private %s", name, at, v, what)
			}
		case string:
			if token.MatchString(v) {
				t.Errorf("%s: %s = %q names the private row count %d", name, at, v, n)
			}
		case []any:
			for i, e := range v {
				walk(name, fmt.Sprintf("%s[%d]", at, i), e)
			}
		case map[string]any:
			for k, e := range v {
				if name == filepath.Join(run.PublicDir, run.ModelFile) && k == "weights" {
					continue // the DP release itself
				}
				walk(name, at+"."+k, e)
			}
		}
	}
	checked := 0
	for name, b := range readTree(t, dir) {
		switch {
		case filepath.Dir(name) == run.PrivateDir:
		case strings.HasSuffix(name, ".json"):
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			walk(name, "", v)
			checked++
		case strings.HasSuffix(name, ".txt"):
			if token.Match(b) {
				t.Errorf("%s names the private row count %d", name, n)
			}
			checked++
		}
	}
	if checked < 4 {
		t.Fatalf("checked %d public files", checked)
	}
}

// report.json and the classification report name the adjacency the
// guarantee holds for.
func TestReportNamesAdjacency(t *testing.T) {
	dir := t.TempDir()
	trainInto(t, smallSetup(t, 5), dir)
	files := readTree(t, dir)
	var rep Report
	if err := json.Unmarshal(files[run.ReportFile], &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Privacy.Adjacency != dp.AdjacencyAddRemove {
		t.Errorf("report.json privacy.adjacency = %q, want %q", rep.Privacy.Adjacency, dp.AdjacencyAddRemove)
	}
	if !slices.ContainsFunc(rep.Notes, func(s string) bool { return strings.Contains(s, dp.AdjacencyAddRemove) }) {
		t.Errorf("report.json's notes do not name the adjacency: %q", rep.Notes)
	}
	if !bytes.Contains(files["classification_report.txt"], []byte(dp.AdjacencyAddRemove)) {
		t.Errorf("classification_report.txt does not name the adjacency:\n%s", files["classification_report.txt"])
	}
}

// A dataset scaled from its own rows is marked in every report, and the
// clipped-row count (a statistic of the rows) stays in private/.
func TestReportMarksScalingFromData(t *testing.T) {
	s := smallSetup(t, 5)
	dir := t.TempDir()
	res := trainInto(t, s, dir)
	files := readTree(t, dir)
	if bytes.Contains(files[run.ReportFile], []byte(data.ScalingFromDataNote)) || bytes.Contains(files["classification_report.txt"], []byte(data.ScalingFromDataNote)) {
		t.Fatal("a run with public scaling is marked as scaled from the data")
	}
	if s.Dataset.Clipped == 0 || res.ClippedRows != s.Dataset.Clipped {
		t.Fatalf("breast_cancer's rounded public ranges clip %d rows, the result says %d", s.Dataset.Clipped, res.ClippedRows)
	}
	var private PrivateReport
	if err := json.Unmarshal(files[filepath.Join(run.PrivateDir, run.ReferenceFile)], &private); err != nil {
		t.Fatal(err)
	}
	if private.ClippedRows != s.Dataset.Clipped {
		t.Fatalf("private/%s: clipped_rows %d, want %d", run.ReferenceFile, private.ClippedRows, s.Dataset.Clipped)
	}
	for name, body := range files {
		if !strings.HasPrefix(name, run.PrivateDir) && bytes.Contains(body, []byte("clipped")) {
			t.Errorf("%s, a public file, mentions the clipped rows", name)
		}
	}

	s.Dataset.ScalingFromPrivateData = true
	dir = t.TempDir()
	trainInto(t, s, dir)
	files = readTree(t, dir)
	var rep Report
	if err := json.Unmarshal(files[run.ReportFile], &rep); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rep.Notes, data.ScalingFromDataNote) {
		t.Errorf("report.json's notes do not say the scaling came from the data: %q", rep.Notes)
	}
	if !bytes.Contains(files["classification_report.txt"], []byte(data.ScalingFromDataNote)) {
		t.Errorf("classification_report.txt does not say the scaling came from the data:\n%s", files["classification_report.txt"])
	}
}
