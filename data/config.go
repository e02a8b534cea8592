// Package data loads zkdp's training datasets, validates every row, scales
// features with public constants, quantizes them to fixed point and commits
// to the quantized rows with a Poseidon2 Merkle tree.
//
// Scaling uses only the data-independent constants in Config.Features, never
// statistics of the data itself: a min, max or mean computed from the
// training rows would depend on every row and leak outside the DP-SGD privacy
// budget.
package data

import (
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
)

// Feature kinds accepted in FeatureSpec.Kind.
const (
	KindMinMax    = "minmax"     // (x-min)/(max-min), clamped to [0,1]
	KindLogMinMax = "log_minmax" // minmax applied to log1p(x), log1p(min), log1p(max)
	KindOneHot    = "onehot"     // one 0/1 feature per category
	KindDrop      = "drop"       // column is read but not used
)

// Missing-value policies accepted in Config.Missing. A missing value is a
// field holding exactly MissingMarker.
const (
	// MissingCategory treats '?' as one more category of every onehot column
	// (feature "<column>=?"), so no row is dropped and the test set keeps
	// every row; '?' in a numeric column is still an error. It is the default.
	MissingCategory = "category"
	// MissingDrop drops every row holding '?' in a used column; Dataset.Dropped
	// counts them.
	MissingDrop = "drop"
	// MissingError rejects any '?' with ErrMissingValue.
	MissingError = "error"
)

// MissingMarker is how the UCI files write a missing value.
const MissingMarker = "?"

// MaxRowBound caps data.max_rows: the Merkle tree and the Poisson table of
// the step circuit have one entry per row slot (2^24 is far above every
// shipped dataset and still fits in memory).
const MaxRowBound = 1 << 24

// ErrInvalidConfig matches every error Config.Validate returns.
var ErrInvalidConfig = errors.New("data: invalid config")

// Config is the `data:` section of a zkdp config file, decoded by
// viper/mapstructure.
type Config struct {
	// Name is the dataset: breast_cancer, digits or adult.
	Name string `mapstructure:"name"`
	// Dir, if set, is a folder to read the dataset's files from instead of
	// the copy embedded in the binary (same file names and format).
	Dir string `mapstructure:"dir"`
	// TestFraction is the share of rows held out for testing, in (0,1), for
	// datasets without a published test split (breast_cancer, digits). It
	// must be 0 for adult, which uses adult.test.
	TestFraction float64 `mapstructure:"test_fraction"`
	// Features gives one public, data-independent scaling rule per source
	// column (every column except the label), in any order.
	Features []FeatureSpec `mapstructure:"features"`
	// Missing is the policy for '?' fields: "category" (the default when
	// empty: '?' becomes its own one-hot category, no row is dropped),
	// "drop" (drop the row) or "error".
	Missing string `mapstructure:"missing"`
	// Center maps minmax and log_minmax features to [-1, 1] instead of
	// [0, 1] (onehot features stay 0/1). Centered inputs condition a linear
	// model better, which matters under DP-SGD's few, noisy steps.
	Center bool `mapstructure:"center"`
	// MaxRows is the public bound N_pub on the training rows, required. The
	// run publishes it instead of the real row count: the committed dataset
	// is padded to this many rows with padding rows that never contribute to
	// a gradient, so the guarantee holds for adding or removing one record
	// while the real count stays private. It must come from public knowledge
	// (a documented dataset size, a registry's capacity), never from the
	// private rows. The step circuit's Poisson table and maximum batch grow
	// with it, so pick the smallest bound the public already knows.
	MaxRows int `mapstructure:"max_rows"`
}

// FeatureSpec says how one source column becomes model features.
type FeatureSpec struct {
	// Column is the source column's name, as in the dataset's header, or a
	// path.Match pattern such as "pixel_*" covering every matching column
	// that no explicit entry names.
	Column string `mapstructure:"column"`
	// Kind is minmax, log_minmax, onehot or drop.
	Kind string `mapstructure:"kind"`
	// Min is a minmax or log_minmax column's lower bound; values below are
	// clamped. Like max, it must come from public documentation, not the data.
	Min float64 `mapstructure:"min"`
	// Max is a minmax or log_minmax column's upper bound; values above are clamped.
	Max float64 `mapstructure:"max"`
	// Categories are the onehot column's values, in feature order. '?' is
	// not listed: data.missing decides what it means.
	Categories []string `mapstructure:"categories"`
}

// ConfigError is one problem Config.Validate found.
type ConfigError struct {
	Field string // the config key, e.g. data.features[3].max
	Msg   string
}

// Error renders "field: message".
func (e *ConfigError) Error() string { return e.Field + ": " + e.Msg }

// Is makes every ConfigError match ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// missingPolicy resolves the default.
func (c Config) missingPolicy() string {
	if c.Missing == "" {
		return MissingCategory
	}
	return c.Missing
}

// maxListed bounds how many unspecified columns an error names.
const maxListed = 8

// Validate returns every problem in c (nil if none), each naming its config
// key, e.g. `data.features[3].max: must be > min (got 1 <= 2)`.
func (c Config) Validate() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	sch, known := schemas[c.Name]
	switch {
	case c.Name == "":
		add("data.name", "required (one of %s)", strings.Join(Names(), ", "))
	case !known:
		add("data.name", "unknown dataset %q (one of %s)", c.Name, strings.Join(Names(), ", "))
	}

	if known {
		if sch.testFile != "" {
			if c.TestFraction != 0 {
				add("data.test_fraction", "must be unset for %s, which has a published test split (%s); got %v", c.Name, sch.testFile, c.TestFraction)
			}
		} else if !(c.TestFraction > 0 && c.TestFraction < 1) {
			add("data.test_fraction", "must be in (0,1) for %s (got %v)", c.Name, c.TestFraction)
		}
	} else if math.IsNaN(c.TestFraction) || c.TestFraction < 0 || c.TestFraction >= 1 {
		add("data.test_fraction", "must be in [0,1) (got %v)", c.TestFraction)
	}

	if c.MaxRows < 1 || c.MaxRows > MaxRowBound {
		add("data.max_rows", "required: a public upper bound on the training rows in [1, %d], from public knowledge, never from the data (got %d)", MaxRowBound, c.MaxRows)
	}

	switch c.Missing {
	case "", MissingCategory, MissingDrop, MissingError:
	default:
		add("data.missing", "unknown policy %q (one of %s, %s, %s)", c.Missing, MissingCategory, MissingDrop, MissingError)
	}

	seen := map[string]int{}
	used := 0
	for i, f := range c.Features {
		at := fmt.Sprintf("data.features[%d]", i)
		if isPattern(f.Column) {
			if _, err := path.Match(f.Column, ""); err != nil {
				add(at+".column", "bad pattern %q: %v", f.Column, err)
			} else if known && len(c.patternColumns(i, sch.columns)) == 0 {
				add(at+".column", "pattern %q matches no column of %s left unspecified by the entries before it", f.Column, c.Name)
			}
		}
		switch {
		case f.Column == "":
			add(at+".column", "required")
		case isPattern(f.Column):
			// checked above; the columns it covers are recorded below
		case known && f.Column == sch.label:
			add(at+".column", "%q is the label column, not a feature", f.Column)
		case known && !slices.Contains(sch.columns, f.Column):
			add(at+".column", "%q is not a column of %s", f.Column, c.Name)
		default:
			if j, dup := seen[f.Column]; dup {
				add(at+".column", "%q is already specified by data.features[%d]", f.Column, j)
			} else {
				seen[f.Column] = i
			}
		}
		if f.Kind != KindDrop {
			used++
		}
		errs = append(errs, f.validate(at)...)
	}
	if known {
		for col, f := range c.specsByColumn(sch.columns) {
			if _, ok := seen[col]; !ok && isPattern(f.Column) {
				seen[col] = -1
			}
		}
	}
	if known {
		var missing []string
		for _, col := range sch.columns {
			if _, ok := seen[col]; !ok {
				missing = append(missing, fmt.Sprintf("%q", col))
			}
		}
		if len(missing) > maxListed {
			missing = append(missing[:maxListed], fmt.Sprintf("and %d more", len(missing)-maxListed))
		}
		if len(missing) > 0 {
			add("data.features", "no entry for column %s (use kind: drop to ignore a column, or a pattern such as \"pixel_*\")", strings.Join(missing, ", "))
		}
	}
	if len(c.Features) > 0 && used == 0 {
		add("data.features", "every column is dropped")
	}
	return errs
}

// validate checks one spec on its own; at is its config key.
func (f FeatureSpec) validate(at string) []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: at + field, Msg: fmt.Sprintf(format, args...)})
	}
	switch f.Kind {
	case KindMinMax, KindLogMinMax:
		okMin, okMax := isFinite(f.Min), isFinite(f.Max)
		if !okMin {
			add(".min", "must be finite (got %v)", f.Min)
		}
		if !okMax {
			add(".max", "must be finite (got %v)", f.Max)
		}
		if okMin && okMax && !(f.Max > f.Min) {
			add(".max", "must be > min (got %v <= %v)", f.Max, f.Min)
		}
		if f.Kind == KindLogMinMax && okMin && f.Min <= -1 {
			add(".min", "must be > -1 for log_minmax, which takes log1p (got %v)", f.Min)
		}
		if len(f.Categories) > 0 {
			add(".categories", "only apply to kind onehot (kind is %s)", f.Kind)
		}
	case KindOneHot:
		if len(f.Categories) == 0 {
			add(".categories", "required for kind onehot")
		}
		seen := map[string]int{}
		for j, cat := range f.Categories {
			key := fmt.Sprintf(".categories[%d]", j)
			switch {
			case strings.TrimSpace(cat) != cat || cat == "":
				add(key, "%q must be non-empty without surrounding spaces", cat)
			case cat == MissingMarker:
				add(key, "%q is the missing-value marker; set data.missing instead", cat)
			default:
				if k, dup := seen[cat]; dup {
					add(key, "%q repeats categories[%d]", cat, k)
				}
				seen[cat] = j
			}
		}
		if f.Min != 0 || f.Max != 0 {
			add(".min", "min/max only apply to minmax and log_minmax (kind is onehot)")
		}
	case KindDrop:
		if f.Min != 0 || f.Max != 0 || len(f.Categories) > 0 {
			add(".kind", "a dropped column takes no min, max or categories")
		}
	case "":
		add(".kind", "required (one of %s, %s, %s, %s)", KindMinMax, KindLogMinMax, KindOneHot, KindDrop)
	default:
		add(".kind", "unknown kind %q (one of %s, %s, %s, %s)", f.Kind, KindMinMax, KindLogMinMax, KindOneHot, KindDrop)
	}
	return errs
}

// isPattern reports a feature entry whose column is a path.Match pattern
// (e.g. "pixel_*"), which covers every matching column that no explicit
// entry names: MNIST's 784 pixels share one rule.
func isPattern(column string) bool { return strings.ContainsAny(column, "*?[") }

// specsByColumn resolves the entries to one spec per source column: an
// explicit entry wins over a pattern, and an earlier pattern over a later one.
func (c Config) specsByColumn(columns []string) map[string]FeatureSpec {
	specs := map[string]FeatureSpec{}
	for _, f := range c.Features {
		if !isPattern(f.Column) {
			specs[f.Column] = f
		}
	}
	for i, f := range c.Features {
		if isPattern(f.Column) {
			for _, col := range c.patternColumns(i, columns) {
				specs[col] = f
			}
		}
	}
	return specs
}

// patternColumns lists the columns pattern entry i covers: those it matches
// that no explicit entry and no earlier pattern covers.
func (c Config) patternColumns(i int, columns []string) []string {
	var out []string
	for _, col := range columns {
		if !matches(c.Features[i].Column, col) {
			continue
		}
		taken := false
		for j, f := range c.Features {
			if (!isPattern(f.Column) && f.Column == col) || (j < i && isPattern(f.Column) && matches(f.Column, col)) {
				taken = true
				break
			}
		}
		if !taken {
			out = append(out, col)
		}
	}
	return out
}

func matches(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
