// Package data loads zkdp's training datasets (the shipped ones, or any CSV
// file with a header through data.path, both streamed by one loader),
// validates every row, scales features with public constants, quantizes them
// to fixed point and commits to the quantized rows with a Poseidon2 Merkle
// tree.
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

	"github.com/zkdp/zkdp/datasets"
)

// Feature kinds accepted in FeatureSpec.Kind.
const (
	KindMinMax    = "minmax"     // (x-min)/(max-min), clamped to [0,1]
	KindLogMinMax = "log_minmax" // minmax applied to log1p(x), log1p(min), log1p(max)
	KindOneHot    = "onehot"     // one 0/1 feature per category
	KindDrop      = "drop"       // column is read but not used
)

// Policies for a value outside its column's public bounds, accepted in
// Config.OutOfRange.
const (
	// OutOfRangeClip clips the value to the bound (the default). Dataset.Clipped
	// counts the rows clipped: a statistic of the private rows, so it is
	// reported in the run's private/ folder only.
	OutOfRangeClip = "clip"
	// OutOfRangeError rejects the row with ErrOutOfRange, naming the file,
	// line and column.
	OutOfRangeError = "error"
)

// Placeholder is what `zkdp init` writes for every bound and category list
// it cannot know: they must come from public knowledge (a data dictionary, a
// codebook), never from the private rows. A config still holding a value
// that starts with PlaceholderPrefix is rejected.
const (
	PlaceholderPrefix = "PLACEHOLDER"
	Placeholder       = PlaceholderPrefix + ": from a public data dictionary"
)

// IsPlaceholder reports a value `zkdp init` left for the user to fill.
func IsPlaceholder(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), PlaceholderPrefix) }

// ScalingFromDataNote is the warning every report carries when the
// config's bounds and categories were read off the private rows
// (data.scaling_from_private_data, `zkdp init --from-data`).
const ScalingFromDataNote = "scaling derived from the private data: outside the DP guarantee (the bounds and categories are statistics of the training rows, released without noise)"

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
	// Name is the dataset: one of the shipped datasets (breast_cancer,
	// digits, adult, mnist, mnist_full) or, with data.path, any name for your own CSV
	// (it names the run directory and report.json's dataset).
	Name string `mapstructure:"name"`
	// Dir, if set, is a folder to read a shipped dataset's files from
	// instead of the copy embedded in the binary (same file names and format).
	Dir string `mapstructure:"dir"`
	// Path is your own comma-separated file, instead of a shipped dataset:
	// its first line names the columns, every other line is a row. Every
	// column but data.label needs an entry in data.features (`zkdp init`
	// writes a skeleton). A relative path is resolved against the working
	// directory when the config is loaded.
	Path string `mapstructure:"path"`
	// TestPath is an optional held-out test file with the same header as
	// data.path; without it data.test_fraction splits data.path.
	TestPath string `mapstructure:"test_path"`
	// Label is data.path's label column.
	Label string `mapstructure:"label"`
	// Classes are the label column's values (data.path), in class order:
	// label i is Classes[i]. Like bounds, they must be public.
	Classes []string `mapstructure:"classes"`
	// TestFraction is the share of rows held out for testing, in (0,1), for
	// datasets without a published test split (breast_cancer, digits, a
	// data.path without data.test_path). It must be 0 for adult, which uses
	// adult.test, and with data.test_path.
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
	// OutOfRange is the policy for a minmax or log_minmax value outside its
	// public bounds: "clip" (the default when empty: clipped to the bound,
	// the count of clipped rows goes to private/ only, being a statistic of
	// the rows) or "error" (the row is rejected, naming file, line and
	// column). A value is never wrapped.
	OutOfRange string `mapstructure:"out_of_range"`
	// ScalingFromPrivateData marks bounds and categories read off the
	// private rows (`zkdp init --from-data`): they are outside the DP
	// guarantee, and every report says so.
	ScalingFromPrivateData bool `mapstructure:"scaling_from_private_data"`
	// Backbone is an optional public feature stage applied to every
	// scaled record: its outputs, not the columns, are the model's features
	// and what the dataset root commits to, and the run's params name it.
	Backbone BackboneConfig `mapstructure:"backbone"`
}

// Backbones accepted in BackboneConfig.Name.
const (
	BackboneNone       = ""           // the scaled columns are the features
	BackboneScatterNet = "scatternet" // Morlet wavelet scattering of a square image (package backbone/scatternet)
)

// BackboneConfig is the `data.backbone:` section: a fixed public map from
// a record's scaled columns to its features (package backbone).
type BackboneConfig struct {
	// Name is the backbone: empty for none, or scatternet (the record's
	// columns are a square image, row-major, scaled to [0, 1]).
	Name string `mapstructure:"name"`
	// J is scatternet's number of scales; outputs are subsampled by 2^J.
	J int `mapstructure:"j"`
	// L is scatternet's number of angles, even.
	L int `mapstructure:"l"`
	// Order is scatternet's depth: 1 (1+J*L channels) or 2 (adds
	// L^2*J(J-1)/2 channels).
	Order int `mapstructure:"order"`
	// Group, if not 0, normalizes each record's channels on their own in
	// groups of this many (channel 0 alone): no statistic of other records
	// is used, so it costs no privacy.
	Group int `mapstructure:"group"`
	// Clip divides the group-normalized features by this and clips them to
	// [-1, 1]; required with group.
	Clip float64 `mapstructure:"clip"`
}

// FeatureSpec says how one source column becomes model features.
type FeatureSpec struct {
	// Column is the source column's name, as in the dataset's header, or a
	// path.Match pattern such as "pixel_*" covering every matching column
	// that no explicit entry names.
	Column string `mapstructure:"column"`
	// Kind is minmax, log_minmax, onehot or drop.
	Kind string `mapstructure:"kind"`
	// Min is a minmax or log_minmax column's lower bound; a value below is
	// clipped or rejected (data.out_of_range). Like max, it must come from
	// public documentation, not the data.
	Min float64 `mapstructure:"min"`
	// Max is a minmax or log_minmax column's upper bound; a value above is
	// clipped or rejected (data.out_of_range).
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

// outOfRangePolicy resolves the default.
func (c Config) outOfRangePolicy() string {
	if c.OutOfRange == "" {
		return OutOfRangeClip
	}
	return c.OutOfRange
}

// maxListed bounds how many unspecified columns an error names.
const maxListed = 8

// Validate returns every problem in c (nil if none), each naming its config
// key, e.g. `data.features[3].max: must be > min (got 1 <= 2)`. With
// data.path the columns are only known once the file's header is read:
// Load checks the entries against them then.
func (c Config) Validate() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	sch, known := schemas[c.Name]
	if IsCorpus(c.Name) && c.Path == "" {
		return c.validateCorpus()
	}
	switch {
	case c.Path != "":
		known = false
		errs = append(errs, c.validateFile()...)
	case c.Name == "":
		add("data.name", "required (one of %s, or data.path for your own CSV)", strings.Join(Names(), ", "))
	case !known:
		add("data.name", "unknown dataset %q (one of %s, or data.path for your own CSV)", c.Name, strings.Join(Names(), ", "))
	default:
		for key, v := range map[string]bool{"data.test_path": c.TestPath != "", "data.label": c.Label != "", "data.classes": len(c.Classes) > 0} {
			if v {
				add(key, "only applies with data.path (%s's label and classes are fixed)", c.Name)
			}
		}
	}

	hasTestFile := (known && sch.testFile != "") || (c.Path != "" && c.TestPath != "")
	switch {
	case hasTestFile && c.TestFraction != 0:
		add("data.test_fraction", "must be unset for %s, which has a test file; got %v", c.displayName(sch), c.TestFraction)
	case (known || c.Path != "") && !hasTestFile && !(c.TestFraction > 0 && c.TestFraction < 1):
		add("data.test_fraction", "must be in (0,1) for %s (got %v)", c.displayName(sch), c.TestFraction)
	case math.IsNaN(c.TestFraction) || c.TestFraction < 0 || c.TestFraction >= 1:
		add("data.test_fraction", "must be in [0,1) (got %v)", c.TestFraction)
	}

	errs = append(errs, c.Backbone.validate()...)

	if c.MaxRows < 1 || c.MaxRows > MaxRowBound {
		add("data.max_rows", "required: a public upper bound on the training rows in [1, %d], from public knowledge, never from the data (got %d)", MaxRowBound, c.MaxRows)
	}

	switch c.Missing {
	case "", MissingCategory, MissingDrop, MissingError:
	default:
		add("data.missing", "unknown policy %q (one of %s, %s, %s)", c.Missing, MissingCategory, MissingDrop, MissingError)
	}
	switch c.OutOfRange {
	case "", OutOfRangeClip, OutOfRangeError:
	default:
		add("data.out_of_range", "unknown policy %q (one of %s, %s)", c.OutOfRange, OutOfRangeClip, OutOfRangeError)
	}

	seen := map[string]int{}
	used := 0
	for i, f := range c.Features {
		at := fmt.Sprintf("data.features[%d]", i)
		switch {
		case f.Column == "":
			add(at+".column", "required")
		case isPattern(f.Column):
			if _, err := path.Match(f.Column, ""); err != nil {
				add(at+".column", "bad pattern %q: %v", f.Column, err)
			}
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
		errs = append(errs, c.validateColumns(sch.columns, sch.label, c.Name)...)
	}
	if len(c.Features) > 0 && used == 0 {
		add("data.features", "every column is dropped")
	}
	return errs
}

// displayName names the dataset in messages: its name, or data.path.
func (c Config) displayName(sch *schema) string {
	if c.Path != "" || sch == nil {
		return c.Path
	}
	return c.Name
}

// validateFile checks the keys of a data.path config that need no file.
func (c Config) validateFile() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Name == "" {
		add("data.name", "required: a name for your dataset (it names the run directory)")
	}
	if c.Dir != "" {
		add("data.dir", "only applies to a shipped dataset; data.path names your file")
	}
	if c.Label == "" {
		add("data.label", "required with data.path: the label column's name in the header")
	}
	if len(c.Classes) < 2 {
		add("data.classes", "required with data.path: at least two label values, in class order (got %d)", len(c.Classes))
	}
	seen := map[string]int{}
	for j, cls := range c.Classes {
		key := fmt.Sprintf("data.classes[%d]", j)
		switch {
		case IsPlaceholder(cls):
			add(key, "placeholder left: list the label's values from public knowledge")
		case strings.TrimSpace(cls) != cls || cls == "":
			add(key, "%q must be non-empty without surrounding spaces", cls)
		default:
			if k, dup := seen[cls]; dup {
				add(key, "%q repeats classes[%d]", cls, k)
			}
			seen[cls] = j
		}
	}
	if len(c.Features) == 0 {
		add("data.features", "required with data.path: one entry per column but the label (zkdp init --csv writes a skeleton)")
	}
	return errs
}

// validateColumns checks the feature entries against a dataset's columns:
// each explicit entry names a column other than the label, each pattern
// covers at least one column, and every column has an entry.
func (c Config) validateColumns(columns []string, label, dataset string) []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	for i, f := range c.Features {
		at := fmt.Sprintf("data.features[%d].column", i)
		switch {
		case f.Column == "":
		case isPattern(f.Column):
			if _, err := path.Match(f.Column, ""); err == nil && len(c.patternColumns(i, columns)) == 0 {
				add(at, "pattern %q matches no column of %s left unspecified by the entries before it", f.Column, dataset)
			}
		case f.Column == label:
			add(at, "%q is the label column, not a feature", f.Column)
		case !slices.Contains(columns, f.Column):
			add(at, "%q is not a column of %s", f.Column, dataset)
		}
	}
	specs := c.specsByColumn(columns)
	var missing []string
	for _, col := range columns {
		if _, ok := specs[col]; !ok {
			missing = append(missing, fmt.Sprintf("%q", col))
		}
	}
	if len(missing) > maxListed {
		missing = append(missing[:maxListed], fmt.Sprintf("and %d more", len(missing)-maxListed))
	}
	if len(missing) > 0 {
		add("data.features", "no entry for column %s (use kind: drop to ignore a column, or a pattern such as \"pixel_*\")", strings.Join(missing, ", "))
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
			case IsPlaceholder(cat):
				add(key, "placeholder left: list the categories from public knowledge (a codebook), never from the data")
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

// IsCorpus reports whether name is a shipped token-level corpus
// (datasets.Corpora): its records are sentences, read by ReadCoNLL.
func IsCorpus(name string) bool { return slices.Contains(datasets.Corpora, name) }

// validateCorpus checks the data keys of a corpus config: the corpus has its
// own splits and no columns; the public bound counts sentences.
func (c Config) validateCorpus() []error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.TestFraction != 0 {
		add("data.test_fraction", "must be unset for %s, which has its own train/validation/test splits; got %v", c.Name, c.TestFraction)
	}
	if c.MaxRows < 1 || c.MaxRows > MaxRowBound {
		add("data.max_rows", "required: a public upper bound on the training sentences in [1, %d] (got %d)", MaxRowBound, c.MaxRows)
	}
	if len(c.Features) > 0 || c.Dir != "" || c.Label != "" || len(c.Classes) > 0 || c.TestPath != "" {
		add("data", "%s is a token-level corpus: its features come from the text section, not data.features, dir, label, classes or test_path", c.Name)
	}
	return errs
}
