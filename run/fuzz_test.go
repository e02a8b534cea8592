package run

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzKinds are the files of a run directory that ReadJSON decodes, by
// the fuzz input's first argument.
var fuzzKinds = []func() any{
	func() any { return new(Params) },
	func() any { return new(Transcript) },
	func() any { return new(Model) },
	func() any { return new([]StepBatch) },
	func() any { return new(Secret) },
	func() any { return new(DataSource) },
}

// FuzzReadJSON decodes arbitrary bytes as each kind of run file: never a
// panic, and every failure wraps ErrMalformed. Decoded params are validated,
// which must fail with ErrMalformed or pass, and so are decoded models. Seeds (testdata/fuzz): the
// quickstart's params, transcript and model.
func FuzzReadJSON(f *testing.F) {
	f.Add(uint8(0), []byte(`{"version": 1, "widths": [], "steps": -1, "fixed_point": {}}`))
	f.Add(uint8(0), []byte(`{"version": 1, "parent": {"params": {"version": 1, "parent": {"params": {}, "model": "0x1"}}, "run_commitment": "0x2", "model": "zz", "shares_rows": true}}`))
	f.Add(uint8(1), []byte(`{"model_commitments": ["0x00"]} {}`))
	f.Add(uint8(3), []byte(`[{"step": 0, "indices": [1, 2]}]`))
	f.Add(uint8(5), []byte(`{"data": {"name": "adult", "features": [{"column": "age", "kind": "minmax", "max": 1}]}, "split_seed": 3}`))
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		path := filepath.Join(t.TempDir(), "f.json")
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		v := fuzzKinds[int(kind)%len(fuzzKinds)]()
		if err := ReadJSON(path, v); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if p, ok := v.(*Params); ok {
			if err := p.Validate(); err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("Validate: %v does not wrap ErrMalformed", err)
			}
		}
		if m, ok := v.(*Model); ok {
			if err := m.Validate(); err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("Validate: %v does not wrap ErrMalformed", err)
			}
		}
	})
}
