package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/zkdp/zkdp/configs"
	"github.com/zkdp/zkdp/data"
)

// FuzzLoad reads arbitrary YAML as a config file: never a panic; a failure
// wraps ErrInvalid; a success is a valid Config whose printed settings (what
// `zkdp config dump` prints) load back as the same Config. Seeds: the
// shipped configs and, in testdata/fuzz, unknown keys, wrong types, aliases
// and the values that once passed validation.
func FuzzLoad(f *testing.F) {
	for _, name := range configs.Names() {
		b, err := configs.Read(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := loadBytes(t, body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load returned an invalid config: %v", err)
		}
		if bad := nonFinite("", Settings(c)); bad != "" {
			t.Fatalf("a valid config has a NaN or infinite %s", bad)
		}
		dump, err := yaml.Marshal(Settings(c))
		if err != nil {
			t.Fatal(err)
		}
		back, err := loadBytes(t, dump)
		if err != nil {
			t.Fatalf("the dump of a valid config does not load: %v\n%s", err, dump)
		}
		if !reflect.DeepEqual(Settings(back), Settings(c)) {
			t.Fatalf("the dump loads as a different config:\n%s", dump)
		}
	})
}

// nonFinite names the first NaN or infinite number in settings, or is "".
func nonFinite(key string, v any) string {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return key
		}
	case map[string]any:
		for k, x := range v {
			if bad := nonFinite(key+"."+k, x); bad != "" {
				return bad
			}
		}
	case []any:
		for i, x := range v {
			if bad := nonFinite(fmt.Sprintf("%s[%d]", key, i), x); bad != "" {
				return bad
			}
		}
	}
	return ""
}

// loadBytes loads body as a config file, without the environment.
func loadBytes(t *testing.T, body []byte) (Config, error) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	l := NewLoader()
	if err := l.ReadFile(path); err != nil {
		return Config{}, err
	}
	return l.Load()
}

// FuzzDataSection reads arbitrary YAML as the data section of a config whose
// other sections are valid: never a panic; a failure wraps ErrInvalid; a
// config that loads holds no placeholder and passes Validate. Seeds: the
// data sections of shipped configs, here, and in testdata/fuzz.
func FuzzDataSection(f *testing.F) {
	for _, section := range []string{
		"  name: patients\n  path: patients.csv\n  label: diagnosis\n  classes: [healthy, sick]\n  test_fraction: 0.2\n  max_rows: 64\n  features:\n    - column: age\n      kind: minmax\n      min: 0\n      max: 120\n",
		"  name: patients\n  path: patients.csv\n  label: diagnosis\n  classes: \"PLACEHOLDER: from a public data dictionary\"\n  max_rows: 64\n",
		"  name: breast_cancer\n  test_fraction: 0.2\n  max_rows: 512\n  out_of_range: error\n  features:\n    - column: \"*\"\n      kind: minmax\n      min: 0\n      max: 1\n",
		"  name: adult\n  label: income\n  max_rows: 1\n  scaling_from_private_data: true\n",
	} {
		f.Add([]byte(section))
	}
	b, err := configs.Read("german_credit")
	if err != nil {
		f.Fatal(err)
	}
	_, after, _ := bytes.Cut(b, []byte("\ndata:\n"))
	section, _, _ := bytes.Cut(after, []byte("\ntraining:"))
	f.Add(section)
	f.Fuzz(func(t *testing.T, section []byte) {
		body := append([]byte("training:\n  steps: 2\n  sampling_rate: 0.1\n  clip_norm: 1\n  learning_rate: 1\n  epsilon: 1\ndata:\n"), section...)
		c, err := loadBytes(t, body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if errs := c.Data.Validate(); len(errs) > 0 {
			t.Fatalf("Load returned an invalid data section: %v", errors.Join(errs...))
		}
		if bytes.Contains(body, []byte(data.PlaceholderPrefix)) && hasPlaceholder(Settings(c)["data"]) {
			t.Fatalf("a config with a placeholder loaded:\n%s", body)
		}
	})
}

// hasPlaceholder reports a placeholder string anywhere in settings.
func hasPlaceholder(v any) bool {
	switch v := v.(type) {
	case string:
		return data.IsPlaceholder(v)
	case map[string]any:
		for _, x := range v {
			if hasPlaceholder(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasPlaceholder(x) {
				return true
			}
		}
	}
	return false
}
