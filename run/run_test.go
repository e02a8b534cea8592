package run

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkdp/zkdp/backbone"
)

func TestWriteFileIsAtomicAndKeepsMode(t *testing.T) {
	d, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := d.Private(SecretFile)
	if err := WriteFile(path, []byte("one"), PrivateMode); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two"), PrivateMode); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "two" {
		t.Fatalf("got %q, %v", b, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("left %d entries in private/", len(entries))
	}
	// A write into a missing folder fails and names the path.
	bad := filepath.Join(d.Root, "missing", "x.json")
	if err := WriteFile(bad, []byte("x"), PublicMode); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
}

func TestCreateRestrictsPrivate(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, PrivateDir), 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(root); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(root, PrivateDir))
	if st.Mode().Perm() != 0o700 {
		t.Fatalf("private/ mode %v, want 0700", st.Mode().Perm())
	}
	if _, err := Open(root); !errors.Is(err, ErrNotRun) {
		t.Fatalf("a run without params opened: %v", err)
	}
}

func TestWeightsRoundTrip(t *testing.T) {
	d, _ := Create(t.TempDir())
	w := [][]int64{{1, -2, 3}, {-1 << 40, 0, 7}}
	if err := WriteWeights(d.Private(WeightsFile), w); err != nil {
		t.Fatal(err)
	}
	got, err := ReadWeights(d.Private(WeightsFile), 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range w {
		for j := range w[i] {
			if got[i][j] != w[i][j] {
				t.Fatalf("[%d][%d] = %d, want %d", i, j, got[i][j], w[i][j])
			}
		}
	}
	if _, err := ReadWeights(d.Private(WeightsFile), 4); err == nil {
		t.Fatal("a file of 3-parameter models read as 4-parameter models")
	}
}

func TestReadJSONRejectsUnknownFields(t *testing.T) {
	d, _ := Create(t.TempDir())
	path := d.Public(ParamsFile)
	if err := os.WriteFile(path, []byte(`{"version":1,"surprise":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var p Params
	if err := ReadJSON(path, &p); err == nil {
		t.Fatal("unknown field accepted")
	}
}

// quickstartParams are the quickstart run's public parameters.
func quickstartParams(t *testing.T) Params {
	t.Helper()
	var p Params
	if err := ReadJSON(writeTemp(t, []byte(quickstartParamsJSON)), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

const quickstartParamsJSON = `{"version": 1, "dataset": "breast_cancer", "rows": 512, "features": 30, "classes": 2,
 "widths": [30, 2], "steps": 10, "sampling_rate": 0.05, "expected_batch_size": 25.6, "max_batch_size": 62,
 "noise_multiplier": 1.407470703125, "clip_norm": 0.5, "learning_rate": 4.5, "delta": 0.00001,
 "delta_accountant": 0.0000099, "accountant": "rdp",
 "fixed_point": {"frac_bits": 16, "input_bits": 17, "weight_bits": 22, "act_bits": 26, "exp_range": 16,
  "exp_frac_bits": 30, "lattice_bits": 6, "update_frac_bits": 24,
  "clip_norm_raw": 32768, "step_size_raw": 1509949440, "noise_bits": 11},
 "noise_scale_lattice": 90.078125, "noise_tail": 1262,
 "adjacency": "add/remove one record (row count hidden behind the public bound N_pub)"}`

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParamsValidate(t *testing.T) {
	if err := quickstartParams(t).Validate(); err != nil {
		t.Fatalf("the quickstart's params: %v", err)
	}
	for field, change := range map[string]func(*Params){
		"version":             func(p *Params) { p.Version = 2 },
		"widths":              func(p *Params) { p.Widths = []int{30} },
		"widths[1]":           func(p *Params) { p.Widths[1] = 0 },
		"features":            func(p *Params) { p.Features = 31 },
		"steps":               func(p *Params) { p.Steps = 0 },
		"sampling_rate":       func(p *Params) { p.SamplingRate = 1.5 },
		"max_batch_size":      func(p *Params) { p.MaxBatch = p.Rows + 1 },
		"noise_multiplier":    func(p *Params) { p.NoiseMultiplier = 0 },
		"delta_accountant":    func(p *Params) { p.DeltaAccountant = 2 * p.Delta },
		"accountant":          func(p *Params) { p.Accountant = "gdp" },
		"fixed_point":         func(p *Params) { p.Step.FracBits = 40 },
		"noise_scale_lattice": func(p *Params) { p.NoiseScale = -1 },
		"adjacency":           func(p *Params) { p.Adjacency = "replace one record" },
		// Fields the circuit does not read, recomputed from those it does.
		"learning_rate":          func(p *Params) { p.LearningRate = 0.5 },
		"clip_norm":              func(p *Params) { p.ClipNorm = 0.25 },
		"expected_batch_size":    func(p *Params) { p.ExpectedBatch = 40 },
		"noise_tail":             func(p *Params) { p.NoiseTail = 5 },
		"fixed_point.noise_bits": func(p *Params) { p.Step.NoiseBits = 30 },
		"noise_scale_lattice ":   func(p *Params) { p.NoiseScale = 1000 },
		"init_scale":             func(p *Params) { p.InitScale = math.Inf(1) },
	} {
		field = strings.TrimSpace(field)
		p := quickstartParams(t)
		change(&p)
		err := p.Validate()
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), field+":") {
			t.Errorf("%s: got %v, want ErrMalformed naming %s", field, err, field)
		}
	}
}

func TestReadJSONRejects(t *testing.T) {
	var p Params
	for name, body := range map[string]string{
		"unknown field":   `{"version": 1, "epsilon": 3}`,
		"trailing value":  quickstartParamsJSON + ` {}`,
		"trailing brace":  quickstartParamsJSON + `}`,
		"wrong type":      `{"rows": "455"}`,
		"not JSON at all": "\x00\x01",
	} {
		if err := ReadJSON(writeTemp(t, []byte(body)), &p); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	if err := ReadJSON(writeTemp(t, []byte(quickstartParamsJSON+"\n\n")), &p); err != nil {
		t.Errorf("trailing white space: %v", err)
	}
	if err := ReadJSON(filepath.Join(t.TempDir(), "none.json"), &p); !errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrMalformed) {
		t.Errorf("missing file: %v", err)
	}
}

// TestParamsValidateBoundsSizes: sizes an untrusted params.json could blow
// up are refused, naming the field, before anything is allocated from them.
func TestParamsValidateBoundsSizes(t *testing.T) {
	for field, change := range map[string]func(*Params){
		"rows":             func(p *Params) { p.Rows, p.MaxBatch = 1<<40, 1<<40 },
		"noise_tail":       func(p *Params) { p.NoiseTail = 1 << 40 },
		"noise_multiplier": func(p *Params) { p.NoiseMultiplier, p.NoiseScale = 1<<20, 1<<26 },
		"steps":            func(p *Params) { p.Steps = 1 << 40 },
		"widths":           func(p *Params) { p.Widths = make([]int, 1<<20) },
		"widths ":          func(p *Params) { p.Widths = []int{30, 4096, 4096, 4096, 2} },
	} {
		field = strings.TrimSpace(field)
		p := quickstartParams(t)
		change(&p)
		start := time.Now()
		err := p.Validate()
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), field+":") {
			t.Errorf("%s: got %v, want ErrMalformed naming %s", field, err, field)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: Validate took %v: it built something from the size", field, d)
		}
	}
}

// A released model's shape is bounded before anything is sized from it: a
// width whose parameter count would overflow is refused, naming the field.
func TestModelValidate(t *testing.T) {
	good := Model{Widths: []int{3, 2}, Format: quickstartParams(t).Step.Format, Weights: make([]int64, 8)}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, change := range map[string]func(*Model){
		"widths[0]": func(m *Model) { m.Widths = []int{1 << 40, 2}; m.Weights = nil },
		"widths":    func(m *Model) { m.Widths = make([]int, 100) },
		"weights":   func(m *Model) { m.Weights = m.Weights[:7] },
		"format":    func(m *Model) { m.Format.FracBits = 40 },
	} {
		m := good
		m.Widths = append([]int(nil), good.Widths...)
		change(&m)
		if err := m.Validate(); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), field+":") {
			t.Errorf("%s: got %v, want ErrMalformed naming %s", field, err, field)
		}
	}
}

// TestParamsBackbone: a backbone's identity is part of the params hash (a
// different filter bank gives a different run), a run without one hashes
// as before (the field is omitted), and a malformed identity is refused.
func TestParamsBackbone(t *testing.T) {
	p := quickstartParams(t)
	before, err := p.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(p); strings.Contains(string(b), "backbone") {
		t.Fatalf("params without a backbone encode it: %s", b)
	}
	id := backbone.Identity{Name: "scatternet", Version: "1", Config: "J=2 L=8 order=1 size=28",
		Hash: strings.Repeat("ab", 32), Features: p.Features}
	p.Backbone = &id
	if err := p.Validate(); err != nil {
		t.Fatalf("valid backbone: %v", err)
	}
	with, _ := p.Hash()
	other := id
	other.Hash = strings.Repeat("cd", 32)
	p.Backbone = &other
	changed, _ := p.Hash()
	if with == before || changed == with {
		t.Errorf("params hash ignores the backbone: %v %v %v", before, with, changed)
	}
	for field, change := range map[string]func(*backbone.Identity){
		"backbone":          func(b *backbone.Identity) { b.Name = "" },
		"backbone.hash":     func(b *backbone.Identity) { b.Hash = "ABCD" },
		"backbone.features": func(b *backbone.Identity) { b.Features++ },
	} {
		b := id
		change(&b)
		p.Backbone = &b
		if err := p.Validate(); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), field+":") {
			t.Errorf("%s: got %v, want ErrMalformed naming %s", field, err, field)
		}
	}
}

// A continued run's params name a valid parent of the same model shape and
// weight format, by well-formed commitments, at most MaxLineage levels up;
// its lineage (for composition) follows the links that share rows.
func TestParamsParent(t *testing.T) {
	base := quickstartParams(t)
	child := func(parent Params, shares bool) Params {
		p := base
		p.Parent = &Parent{Params: parent, RunCommitment: "0x" + strings.Repeat("01", 32), Model: "0x" + strings.Repeat("02", 32), SharesRows: shares}
		return p
	}
	p := child(base, true)
	if err := p.Validate(); err != nil {
		t.Fatalf("a valid continued run: %v", err)
	}
	if h1, _ := p.Hash(); h1 == must(base.Hash()) {
		t.Fatal("the parent does not change the params hash")
	}
	cases := map[string]func(*Params){
		"another shape":     func(p *Params) { p.Parent.Params.Widths = []int{p.Widths[0], 4, p.Widths[1]} },
		"other weight bits": func(p *Params) { p.Parent.Params.Step.WeightBits++ },
		"a malformed model": func(p *Params) { p.Parent.Model = "zz" },
		"no run commitment": func(p *Params) { p.Parent.RunCommitment = "" },
		"an invalid parent": func(p *Params) { p.Parent.Params.Steps = 0 },
	}
	for name, tamper := range cases {
		q := child(base, true)
		parent := *q.Parent
		q.Parent = &parent
		tamper(&q)
		if err := q.Validate(); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "parent") {
			t.Errorf("%s: got %v, want ErrMalformed naming the parent", name, err)
		}
	}
	deep := base
	for range MaxLineage + 1 {
		deep = child(deep, true)
	}
	if err := deep.Validate(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a lineage of %d levels: %v", MaxLineage+1, err)
	}
	// Lineage: this run, its parent (shared rows), not the grandparent
	// (the parent's records were new).
	grand := base
	grand.Steps = 7
	mid := child(grand, false)
	mid.Steps = 5
	if l := child(mid, true).Lineage(); len(l) != 2 || l[1].Steps != 5 {
		t.Fatalf("lineage of %d runs", len(l))
	}
	if l := child(mid, false).Lineage(); len(l) != 1 {
		t.Fatalf("new records: a lineage of %d runs", len(l))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
