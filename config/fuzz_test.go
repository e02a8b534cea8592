package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/zkdp/zkdp/configs"
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
