package data

import (
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/viper"
)

// TestShippedConfigsMatchDefaults decodes each configs/*.yaml the way the CLI
// does (viper + mapstructure) and checks it is exactly DefaultConfig.
func TestShippedConfigsMatchDefaults(t *testing.T) {
	for file, name := range map[string]string{
		"breast_cancer.yaml": "breast_cancer",
		"digits.yaml":        "digits",
		"adult.yaml":         "adult",
		"mnist.yaml":         "mnist",
		"quickstart.yaml":    "breast_cancer",
	} {
		t.Run(file, func(t *testing.T) {
			v := viper.New()
			v.SetConfigFile(filepath.Join("..", "configs", file))
			if err := v.ReadInConfig(); err != nil {
				t.Fatal(err)
			}
			if v.Get("data") == nil {
				t.Fatal("no data section")
			}
			var got Config
			if err := v.UnmarshalKey("data", &got); err != nil {
				t.Fatal(err)
			}
			want, err := DefaultConfig(name)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				for i := range min(len(got.Features), len(want.Features)) {
					if !reflect.DeepEqual(got.Features[i], want.Features[i]) {
						t.Errorf("features[%d]: yaml %+v, default %+v", i, got.Features[i], want.Features[i])
					}
				}
				t.Fatalf("yaml %s differs from DefaultConfig(%q)", file, name)
			}
			if errs := got.Validate(); len(errs) > 0 {
				t.Fatalf("shipped config is invalid: %v", errors.Join(errs...))
			}
		})
	}
}

func TestDefaultConfigUnknown(t *testing.T) {
	if _, err := DefaultConfig("iris"); !errors.Is(err, ErrUnknownDataset) {
		t.Fatalf("got %v, want ErrUnknownDataset", err)
	}
}

// TestValidateListsEveryProblem checks that Validate reports each problem
// separately, naming its key.
func TestValidateListsEveryProblem(t *testing.T) {
	cfg, err := DefaultConfig("breast_cancer")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TestFraction = 1.5
	cfg.Features[3].Min, cfg.Features[3].Max = 2, 1
	cfg.Features[7].Kind = "zscore"
	errs := cfg.Validate()
	want := []string{
		"data.test_fraction: must be in (0,1) for breast_cancer (got 1.5)",
		"data.features[3].max: must be > min (got 1 <= 2)",
		`data.features[7].kind: unknown kind "zscore"`,
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(want), errors.Join(errs...))
	}
	for i, err := range errs {
		if !strings.HasPrefix(err.Error(), want[i]) {
			t.Errorf("error %d = %q, want prefix %q", i, err, want[i])
		}
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("error %d does not match ErrInvalidConfig", i)
		}
	}
	if _, err := Load(cfg, 1); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Load of an invalid config: got %v", err)
	}
}

func TestValidateCases(t *testing.T) {
	adult, err := DefaultConfig("adult")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		edit  func(*Config)
		field string // the key the single error must name
	}{
		{"no name", func(c *Config) { c.Name = "" }, "data.name"},
		{"unknown name", func(c *Config) { c.Name = "iris" }, "data.name"},
		{"adult with test_fraction", func(c *Config) { c.TestFraction = 0.2 }, "data.test_fraction"},
		{"bad missing policy", func(c *Config) { c.Missing = "impute" }, "data.missing"},
		{"unknown column", func(c *Config) {
			c.Features = append(c.Features, FeatureSpec{Column: "height", Kind: KindDrop})
		}, "data.features[14].column"},
		{"duplicate column", func(c *Config) { c.Features = append(c.Features, c.Features[0]) }, "data.features[14].column"},
		{"label as feature", func(c *Config) {
			c.Features = append(c.Features, FeatureSpec{Column: "income", Kind: KindDrop})
		}, "data.features[14].column"},
		{"missing column", func(c *Config) { c.Features = c.Features[1:] }, "data.features"},
		{"onehot without categories", func(c *Config) { c.Features[1].Categories = nil }, "data.features[1].categories"},
		{"repeated category", func(c *Config) {
			c.Features[9].Categories = []string{"Female", "Male", "Female"}
		}, "data.features[9].categories[2]"},
		{"? as a category", func(c *Config) {
			c.Features[9].Categories = []string{"Female", "Male", "?"}
		}, "data.features[9].categories[2]"},
		{"log min <= -1", func(c *Config) { c.Features[10].Min = -1 }, "data.features[10].min"},
		{"infinite max", func(c *Config) { c.Features[0].Max = posInf() }, "data.features[0].max"},
		{"categories on minmax", func(c *Config) { c.Features[0].Categories = []string{"x"} }, "data.features[0].categories"},
		{"no kind", func(c *Config) { c.Features[2].Kind = "" }, "data.features[2].kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := adult
			cfg.Features = cloneSpecs(adult.Features)
			tt.edit(&cfg)
			errs := cfg.Validate()
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1: %v", len(errs), errors.Join(errs...))
			}
			var ce *ConfigError
			if !errors.As(errs[0], &ce) || ce.Field != tt.field {
				t.Fatalf("error %q names %q, want %q", errs[0], ce.Field, tt.field)
			}
		})
	}
}

func cloneSpecs(specs []FeatureSpec) []FeatureSpec {
	out := make([]FeatureSpec, len(specs))
	for i, s := range specs {
		s.Categories = append([]string(nil), s.Categories...)
		out[i] = s
	}
	return out
}

func posInf() float64 { return math.Inf(1) }
