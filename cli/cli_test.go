package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
)

func execute(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Execute(context.Background(), args, IO{Out: &out, Err: &errb})
	return out.String(), errb.String(), code
}

func TestPrivacyJSON(t *testing.T) {
	out, errs, code := execute(t, "privacy", "--sampling-rate", "0.0025", "--noise-multiplier", "1.3", "--steps", "6000", "--delta", "1e-5", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not one JSON object: %q", out)
	}
	// TensorFlow Privacy's reference: epsilon 0.7242 at order 19.
	if eps := v["epsilon"].(float64); eps < 0.7241 || eps > 0.7243 || v["order"].(float64) != 19 || v["accountant"] != "rdp" || v["delta"].(float64) != 1e-5 {
		t.Fatalf("got %v", v)
	}
}

func TestPrivacyCalibrates(t *testing.T) {
	out, errs, code := execute(t, "privacy", "--sampling-rate", "0.01", "--epsilon", "1", "--steps", "1000", "--delta", "1e-5", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	v := map[string]float64{"noise_multiplier": raw["noise_multiplier"].(float64), "epsilon": raw["epsilon"].(float64)}
	if v["noise_multiplier"] <= 0 || v["epsilon"] > 1 || v["epsilon"] < 0.999 {
		t.Fatalf("got %v", raw)
	}
}

func TestPrivacyRejectsBadInput(t *testing.T) {
	cases := map[string][]string{
		"q above 1":      {"--sampling-rate", "1.5", "--noise-multiplier", "1", "--steps", "10"},
		"negative sigma": {"--sampling-rate", "0.1", "--noise-multiplier", "-1", "--steps", "10"},
		"delta 1":        {"--sampling-rate", "0.1", "--noise-multiplier", "1", "--steps", "10", "--delta", "1"},
		"steps 0":        {"--sampling-rate", "0.1", "--noise-multiplier", "1", "--steps", "0"},
		"no sigma":       {"--sampling-rate", "0.1", "--steps", "10"},
		"both":           {"--sampling-rate", "0.1", "--steps", "10", "--epsilon", "1", "--noise-multiplier", "1"},
	}
	for name, args := range cases {
		_, errs, code := execute(t, append([]string{"privacy"}, args...)...)
		if code == 0 || !strings.Contains(errs, "zkdp:") {
			t.Errorf("%s: exit %d, stderr %q", name, code, errs)
		}
	}
}

// `zkdp train` end to end on the quickstart config, then `privacy --run`
// recomputes the run's epsilon from public files alone.
func TestTrainThenPrivacyRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	out, errs, code := execute(t, "train", "--config", "quickstart", "--out", dir, "--seed", "4", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "test accuracy") {
		t.Fatalf("summary missing: %q", out)
	}
	var report map[string]any
	b, err := os.ReadFile(filepath.Join(dir, run.ReportFile))
	if err != nil || json.Unmarshal(b, &report) != nil {
		t.Fatalf("report.json: %v", err)
	}
	if report["audit_ready"] != false {
		t.Fatal("a run with a config seed and no beacon must not be audit-ready")
	}
	out, errs, code = execute(t, "privacy", "--run", dir, "--json")
	if code != 0 {
		t.Fatalf("privacy --run: exit %d: %s", code, errs)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v["epsilon"] != report["epsilon"] || v["delta"] != report["delta"] {
		t.Fatalf("recomputed %v/%v, report says %v/%v", v["epsilon"], v["delta"], report["epsilon"], report["delta"])
	}
	if v["adjacency"] != dp.AdjacencyAddRemove {
		t.Fatalf("privacy --run names the adjacency %v, want %q", v["adjacency"], dp.AdjacencyAddRemove)
	}
	// A finished run is not overwritten without --force.
	if _, errs, code := execute(t, "train", "--config", "quickstart", "--out", dir, "--seed", "4"); code == 0 || !strings.Contains(errs, "--force") {
		t.Fatalf("overwrote a finished run: exit %d %q", code, errs)
	}
}

// `zkdp train --from` continues a run's released model on the same
// records: its M_0 is the earlier M_T, and `privacy --run` states the
// composed epsilon of both runs, as the report does; a released model that
// is not its run's M_T is refused.
func TestTrainFromThenPrivacyRun(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "parent")
	if _, errs, code := execute(t, "train", "--config", "quickstart", "--out", parent, "--seed", "4", "--steps", "4", "--log-level", "warn"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	child := filepath.Join(t.TempDir(), "child")
	out, errs, code := execute(t, "train", "--config", "quickstart", "--out", child, "--seed", "5", "--steps", "3", "--from", parent, "--log-level", "warn")
	if code != 0 {
		t.Fatalf("train --from: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "continues the model") || !strings.Contains(out, "over all 2 runs") {
		t.Fatalf("the summary does not name the lineage: %q", out)
	}
	var pt, ct run.Transcript
	if run.ReadJSON((&run.Dir{Root: parent}).Public(run.TranscriptFile), &pt) != nil || run.ReadJSON((&run.Dir{Root: child}).Public(run.TranscriptFile), &ct) != nil {
		t.Fatal("transcripts")
	}
	if ct.ModelCommitments[0] != pt.ModelCommitments[len(pt.ModelCommitments)-1] {
		t.Fatalf("M_0 %s is not the earlier M_T", ct.ModelCommitments[0])
	}
	var report map[string]any
	b, err := os.ReadFile(filepath.Join(child, run.ReportFile))
	if err != nil || json.Unmarshal(b, &report) != nil {
		t.Fatalf("report.json: %v", err)
	}
	lineage := report["lineage_privacy"].(map[string]any)["privacy"].(map[string]any)
	out, errs, code = execute(t, "privacy", "--run", child, "--json")
	if code != 0 {
		t.Fatalf("privacy --run: exit %d: %s", code, errs)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v["lineage_epsilon"] != lineage["epsilon"] || v["lineage_delta"] != lineage["delta"] || v["lineage_runs"] != 2.0 {
		t.Fatalf("privacy --run says %v, the report %v", v, lineage)
	}
	if v["epsilon"] != report["epsilon"] || !(v["lineage_epsilon"].(float64) > v["epsilon"].(float64)) {
		t.Fatalf("the run's own epsilon %v (report %v), composed %v", v["epsilon"], report["epsilon"], v["lineage_epsilon"])
	}
	// A tampered released model is refused.
	modelPath := (&run.Dir{Root: parent}).Public(run.ModelFile)
	var m run.Model
	if err := run.ReadJSON(modelPath, &m); err != nil {
		t.Fatal(err)
	}
	m.Weights[len(m.Weights)-1]++
	if err := run.WriteJSON(modelPath, m, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	_, errs, code = execute(t, "train", "--config", "quickstart", "--out", filepath.Join(t.TempDir(), "c2"), "--seed", "5", "--steps", "3", "--from", parent)
	if code == 0 || !strings.Contains(errs, "not the run's M_T") {
		t.Fatalf("a tampered released model: exit %d, %q", code, errs)
	}
}

func TestTrainRejectsInvalidConfigBeforeWork(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(cfg, []byte("data:\n  name: breast_cancer\ntraining:\n  steps: -1\n  sampling_rate: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	_, errs, code := execute(t, "train", "--config", cfg, "--out", dir)
	if code == 0 {
		t.Fatal("invalid config accepted")
	}
	for _, key := range []string{"training.steps", "training.sampling_rate", "data.features"} {
		if !strings.Contains(errs, key) {
			t.Errorf("error does not name %s: %s", key, errs)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("the run directory was created for an invalid config")
	}
}

func TestConfigDumpAndVersion(t *testing.T) {
	t.Setenv("ZKDP_TRAINING_STEPS", "77")
	out, errs, code := execute(t, "config", "dump", "--config", "digits")
	if code != 0 || !strings.Contains(out, "\n  steps: 77\n") || !strings.Contains(out, "name: digits") {
		t.Fatalf("exit %d %s\n%s", code, errs, out)
	}
	// The dump is a config file: read back, it gives the same Config.
	path := filepath.Join(t.TempDir(), "dump.yaml")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Unsetenv("ZKDP_TRAINING_STEPS") // t.Setenv above restores it after the test
	l := config.NewLoader()
	if err := l.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := l.Load()
	if err != nil {
		t.Fatalf("the dump does not load: %v", err)
	}
	if back.Training.Steps != 77 || back.Data.Name != "digits" || !reflect.DeepEqual(config.Settings(back), settingsOf(t, "digits", 77)) {
		t.Errorf("the dump read back differs: %+v", back.Training)
	}
	out, _, code = execute(t, "version")
	// A test binary records no dependencies, so only the first line is checked.
	if code != 0 || !regexp.MustCompile(`^zkdp \S+ \(go1\.\d+`).MatchString(out) {
		t.Fatalf("version: %q", out)
	}
}

// settingsOf is a shipped config's decoded settings with training.steps replaced.
func settingsOf(t *testing.T, name string, steps int) map[string]any {
	t.Helper()
	l := config.NewLoader()
	if err := l.ReadFile(name); err != nil {
		t.Fatal(err)
	}
	c, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	c.Training.Steps = steps
	return config.Settings(c)
}

func TestBenchCircuitsJSON(t *testing.T) {
	out, errs, code := execute(t, "bench", "circuits", "--config", "quickstart", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var v struct {
		Circuits []struct {
			Name                       string  `json:"name"`
			Constraints                int     `json:"constraints"`
			MaxBatch                   int     `json:"max_batch"`
			Params                     int     `json:"params"`
			ConstraintsPerExampleParam float64 `json:"constraints_per_example_param"`
		} `json:"circuits"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v.Circuits) != 3 || v.Circuits[1].Name != "mnist-784-56-10/infer-fixed" || v.Circuits[2].Name != "mnist-784-56-10/infer-committed" || v.Circuits[2].Constraints <= v.Circuits[1].Constraints {
		t.Fatalf("not the expected JSON: %q (%v)", out, err)
	}
	c := v.Circuits[0]
	if c.Name != "quickstart/step" || c.Constraints < 1000 || c.Params != 62 || c.MaxBatch < 1 ||
		c.ConstraintsPerExampleParam != float64(c.Constraints)/float64(c.MaxBatch*c.Params) {
		t.Fatalf("got %+v", c)
	}
}

// zkdp verify checks the transcript's beacon against the expected one
// before any proof: a run trained with a given beacon verifies only with
// --beacon equal to it (or --allow-self-drawn-beacon, which says so).
func TestVerifyChecksBeacon(t *testing.T) {
	t.Setenv("ZKDP_TRAINING_STEPS", "2")
	dir := filepath.Join(t.TempDir(), "run")
	beacon := "0x0000000000000000000000000000000000000000000000000000000000b0ac07"
	if _, errs, code := execute(t, "train", "--config", "quickstart", "--out", dir, "--seed", "1", "--beacon", beacon, "--log-level", "warn"); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no expected beacon": {nil, "not checked against an expected one"},
		"wrong beacon":       {[]string{"--beacon", strings.Replace(beacon, "b0ac07", "b0ac08", 1)}, "not the expected beacon"},
		"malformed beacon":   {[]string{"--beacon", "0xzz"}, "--beacon"},
		// The beacon check passes; the run has no step proofs.
		"expected beacon": {[]string{"--beacon", beacon}, "circuit.json"},
		"allowed":         {[]string{"--allow-self-drawn-beacon"}, "circuit.json"},
	} {
		_, errs, code := execute(t, append([]string{"verify", "--run", dir, "--only", "steps"}, tc.args...)...)
		if code == 0 || !strings.Contains(errs, tc.want) || (tc.want == "circuit.json" && strings.Contains(errs, "beacon")) {
			t.Errorf("%s: exit %d %q, want an error containing %q", name, code, errs, tc.want)
		}
	}
}

func TestInferPredictsAndRejectsBadFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, errs, code := execute(t, "train", "--config", "quickstart", "--out", dir, "--seed", "1", "--log-level", "warn"); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	out, errs, code := execute(t, "infer", "--run", dir, "--row", "0", "--row", "2", "--json")
	if code != 0 {
		t.Fatalf("infer: exit %d: %s", code, errs)
	}
	var res struct {
		Predictions []struct {
			Source string `json:"source"`
			Class  int    `json:"class"`
			Label  *int   `json:"label"`
		} `json:"predictions"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Predictions) != 2 || res.Predictions[1].Source != "row 2" || res.Predictions[1].Label == nil {
		t.Fatalf("got %q (%v)", out, err)
	}
	if _, errs, code := execute(t, "verify", "--run", dir, "--only", "inference", "--allow-self-drawn-beacon"); code == 0 || !strings.Contains(errs, "no inference proofs") {
		t.Fatalf("verify without inference proofs: exit %d %q", code, errs)
	}
	keys := t.TempDir()
	if out, errs, code := execute(t, "infer", "--run", dir, "--row", "4", "--prove", "--keys", keys, "--log-level", "warn"); code != 0 || !strings.Contains(out, "circuit fixed-hashed-b1") {
		t.Fatalf("infer --prove: exit %d %s %s", code, out, errs)
	}
	// zkdp train drew the beacon itself: refused unless allowed, and then
	// every success line says that the prover chose it.
	if _, errs, code := execute(t, "verify", "--run", dir, "--only", "inference", "--dev-keys"); code == 0 || !strings.Contains(errs, "drawn by the prover") || !strings.Contains(errs, "--allow-self-drawn-beacon") {
		t.Fatalf("verify of a self-drawn beacon: exit %d %q", code, errs)
	}
	if out, errs, code := execute(t, "verify", "--run", dir, "--only", "inference", "--allow-self-drawn-beacon", "--dev-keys"); code != 0 || !strings.Contains(out, "verified 1 inference proofs") || !strings.Contains(out, "the beacon was chosen by the prover") {
		t.Fatalf("verify --only inference: exit %d %s %s", code, out, errs)
	}
	checkInferenceKeyTrust(t, dir)
	if _, errs, code := execute(t, "verify", "--run", dir, "--only", "everything"); code == 0 || !strings.Contains(errs, "--only") {
		t.Fatalf("bad --only: exit %d %q", code, errs)
	}
	input := filepath.Join(t.TempDir(), "x.csv")
	os.WriteFile(input, []byte("0.5,0.5\n"), 0o644)
	for name, args := range map[string][]string{
		"row out of range":    {"--row", "100000"},
		"row and input":       {"--row", "1", "--input", input},
		"neither":             {},
		"bad binding":         {"--row", "1", "--model-binding", "baked"},
		"bad visibility":      {"--row", "1", "--input-visibility", "secret"},
		"wrong feature count": {"--input", input},
	} {
		if _, errs, code := execute(t, append([]string{"infer", "--run", dir}, args...)...); code == 0 || errs == "" {
			t.Errorf("%s: exit %d, stderr %q", name, code, errs)
		}
	}
}

// zkdp bench --json prints the saved sections; zkdp bench report renders
// them (the renderer itself is tested in package benchmarks).
func TestBenchSavedSections(t *testing.T) {
	fixtures := filepath.Join("..", "benchmarks", "testdata", "results")
	out, errs, code := execute(t, "bench", "--json", "--results", fixtures)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var v map[string]struct {
		Section string `json:"section"`
		Command string `json:"command"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 5 || v["proving"].Section != "proving" || v["proving"].Command == "" {
		t.Fatalf("got %q (%v)", out, err)
	}
	dir := t.TempDir()
	if _, errs, code := execute(t, "bench", "report", "--results", fixtures, "--dir", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	md, err := os.ReadFile(filepath.Join(dir, "RESULTS.md"))
	if err != nil || !strings.Contains(string(md), "## Gas per transaction\n\nGas of each registry transaction on the simulated chain.\n\nNot measured yet.") {
		t.Fatalf("RESULTS.md: %v\n%s", err, md)
	}
}

// A section saved through the CLI records the command that measured it, as
// it can be typed again.
func TestBenchSaveRecordsCommand(t *testing.T) {
	dir := t.TempDir()
	out, errs, code := execute(t, "bench", "accountant", "--steps", "100", "--calls", "1", "--save", "--results", dir, "--log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 2 || rows[0]["steps"].(float64) != 100 {
		t.Fatalf("got %q (%v)", out, err)
	}
	var saved struct {
		Section string `json:"section"`
		Command string `json:"command"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "accountant.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &saved); err != nil || saved.Section != "accountant" ||
		saved.Command != "zkdp bench accountant --calls 1 --results "+dir+" --steps 100" {
		t.Fatalf("saved %+v (%v)", saved, err)
	}
}

// checkInferenceKeyTrust verifies the inference claim of a run proven with a
// single-party setup (issue #12, point 2): refused without a trusted key;
// accepted with --dev-keys, saying that it proves nothing to a third party;
// accepted with the key pinned in a trusted-keys file, refused with a
// wrong pin.
func checkInferenceKeyTrust(t *testing.T, dir string) {
	t.Helper()
	if out, errs, code := execute(t, "verify", "--run", dir, "--allow-self-drawn-beacon", "--only", "inference"); code == 0 || !strings.Contains(errs, "no trusted key") {
		t.Fatalf("verify of a development key without --dev-keys: exit %d %s %s", code, out, errs)
	}
	out, errs, code := execute(t, "verify", "--run", dir, "--allow-self-drawn-beacon", "--only", "inference", "--dev-keys")
	if code != 0 || !strings.Contains(out, "verified 1 inference proofs") || !strings.HasSuffix(strings.TrimSpace(out), prover.DevWarning) {
		t.Fatalf("verify --only inference --dev-keys: exit %d %s %s", code, out, errs)
	}
	claims, _ := filepath.Glob(filepath.Join(dir, "public", "inference", "infer-[0-9][0-9][0-9][0-9][0-9].json"))
	var claim inferproof.Claim
	if len(claims) != 1 || run.ReadJSON(claims[0], &claim) != nil {
		t.Fatalf("claims %v", claims)
	}
	pin, err := prover.Pin(claim.Circuit, claim.CircuitHash, filepath.Join(dir, "public", "inference", claim.VerifyingKey))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "trusted-keys.json")
	for _, c := range []struct {
		sum  string
		code int
		want string
	}{{pin.VKSHA256, 0, "pinned in " + file}, {strings.Repeat("ab", 32), 1, "pins " + strings.Repeat("ab", 32)}} {
		pin.VKSHA256 = c.sum
		if err := run.WriteJSON(file, prover.PinnedKeys{Keys: []prover.PinnedKey{pin}}, run.PublicMode); err != nil {
			t.Fatal(err)
		}
		out, errs, code := execute(t, "verify", "--run", dir, "--allow-self-drawn-beacon", "--only", "inference", "--trusted-keys", file)
		if code != c.code || !strings.Contains(out+errs, c.want) || strings.Contains(out, "DEVELOPMENT") {
			t.Errorf("verify --trusted-keys with vk_sha256 %s: exit %d %s %s", c.sum, code, out, errs)
		}
	}
}
