package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// maxGuessedCategories is the most distinct values a text column may hold
// for `zkdp init` to guess kind onehot; a column with more looks like an
// identifier or free text, and is guessed drop.
const maxGuessedCategories = 32

// ColumnSurvey is what `zkdp init` learned about one column of a CSV. The
// observed values are private: a skeleton shows them only when the user
// asks for scaling from the data.
type ColumnSurvey struct {
	Name    string
	Numeric bool // every value but '?' parses as a finite number
	Missing bool // some value is '?'
	numbers int  // values parsed as numbers
	min     float64
	max     float64
	values  map[string]bool // distinct values but '?', up to maxGuessedCategories+1
}

// Kind is the guessed feature kind: minmax for a numeric column, onehot for
// text with few distinct values, drop otherwise.
func (c *ColumnSurvey) Kind() string {
	switch {
	case c.Numeric:
		return KindMinMax
	case len(c.values) <= maxGuessedCategories:
		return KindOneHot
	}
	return KindDrop
}

// Survey is one pass over a CSV file with a header, for `zkdp init`.
type Survey struct {
	Path    string
	Label   *ColumnSurvey
	Columns []*ColumnSurvey // in file order, the label excepted
	Rows    int
}

// SurveyCSV streams the CSV at path (a header, then rows) and guesses each
// column's kind. Every row must have the header's field count.
func SurveyCSV(path, label string) (*Survey, error) {
	fsys := hostFiles{}
	header, err := readHeader(fsys, path)
	if err != nil {
		return nil, err
	}
	labelAt := slices.Index(header, label)
	if labelAt < 0 {
		return nil, &RowError{File: path, Line: 1, Field: label, Err: fmt.Errorf("%w: no such column (--label)", ErrBadHeader)}
	}
	cols := make([]*ColumnSurvey, len(header))
	for i, name := range header {
		cols[i] = &ColumnSurvey{Name: name, Numeric: true, values: map[string]bool{}}
	}
	f, err := fsys.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	r := newCSVReader(f, "")
	s := &Survey{Path: path}
	for first := true; ; first = false {
		fields, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(path, r, err)
		}
		if first {
			continue
		}
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue
		}
		line, _ := r.FieldPos(0)
		if len(fields) != len(header) {
			return nil, &RowError{File: path, Line: line, Err: fmt.Errorf("%w: got %d, want %d", ErrColumnCount, len(fields), len(header))}
		}
		trim(fields)
		for i, v := range fields {
			cols[i].observe(v)
		}
		s.Rows++
	}
	if s.Rows == 0 {
		return nil, &RowError{File: path, Line: 2, Err: fmt.Errorf("%w: the file holds no data row", ErrNoRows)}
	}
	s.Label = cols[labelAt]
	s.Columns = slices.Delete(cols, labelAt, labelAt+1)
	return s, nil
}

func (c *ColumnSurvey) observe(v string) {
	if v == MissingMarker {
		c.Missing = true
		return
	}
	if len(c.values) <= maxGuessedCategories {
		c.values[v] = true
	}
	if !c.Numeric {
		return
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || !isFinite(x) {
		c.Numeric = false
		return
	}
	if c.numbers == 0 {
		c.min, c.max = x, x
	}
	c.numbers++
	c.min, c.max = min(c.min, x), max(c.max, x)
}

// sortedValues lists the distinct values, numerically for a numeric column.
func (c *ColumnSurvey) sortedValues() []string {
	out := make([]string, 0, len(c.values))
	for v := range c.values {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b string) int {
		if c.Numeric {
			x, _ := strconv.ParseFloat(a, 64)
			y, _ := strconv.ParseFloat(b, 64)
			if x != y {
				if x < y {
					return -1
				}
				return 1
			}
		}
		return strings.Compare(a, b)
	})
	return out
}

// ErrTooManyClasses is returned by Skeleton under fromData when the label
// column holds more distinct values than a classifier here takes.
var ErrTooManyClasses = errors.New("data: too many label values to list")

// SkeletonOptions configure Skeleton.
type SkeletonOptions struct {
	// Name is data.name; empty: the file's base name without extension.
	Name string
	// FromData fills bounds, categories, classes and max_rows with what the
	// private rows hold, and marks the config scaling_from_private_data.
	FromData bool
}

// Skeleton writes a config for s: one feature per column with its guessed
// kind, and, unless opts.FromData, an explicit Placeholder for every bound,
// category list, the classes and max_rows, each to be filled from public
// knowledge. It returns how many placeholders it wrote.
func Skeleton(w io.Writer, s *Survey, opts SkeletonOptions) (placeholders int, err error) {
	name := opts.Name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(s.Path), filepath.Ext(s.Path))
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	placeholder := func(what string) string {
		placeholders++
		return quote(Placeholder + " (" + what + ")")
	}
	list := func(values []string) string {
		quoted := make([]string, len(values))
		for i, v := range values {
			quoted[i] = quote(v)
		}
		return "[" + strings.Join(quoted, ", ") + "]"
	}
	number := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

	line("# zkdp config for %s, written by `zkdp init`.", filepath.Base(s.Path))
	if opts.FromData {
		line("#")
		line("# WARNING: scaling derived from the private data: outside the DP guarantee.")
		line("# The bounds, categories, classes and max_rows below were read off the")
		line("# private rows (zkdp init --from-data): statistics of every row, released")
		line("# without noise. Every report of a run on this config says so. Replace")
		line("# them with values from public knowledge and drop")
		line("# scaling_from_private_data to be covered.")
	} else {
		line("#")
		line("# Every bound (min, max), category list, the classes and max_rows must")
		line("# come from public knowledge: a data dictionary, a codebook, a documented")
		line("# range. A value read off the private rows depends on every row and is")
		line("# released outside the DP-SGD privacy budget. zkdp refuses this file while")
		line("# a %s is left; a value outside its bounds is clipped", PlaceholderPrefix)
		line("# (out_of_range: error rejects the row instead).")
	}
	line("data:")
	line("  name: %s", quote(name))
	line("  path: %s", quote(s.Path))
	line("  label: %s", quote(s.Label.Name))
	line("  # The label's values, in class order: label i is classes[i].")
	if opts.FromData {
		if len(s.Label.values) > maxGuessedCategories {
			return 0, fmt.Errorf("%w: %s has over %d distinct values in %s", ErrTooManyClasses, s.Label.Name, maxGuessedCategories, s.Path)
		}
		line("  classes: %s", list(s.Label.sortedValues()))
	} else {
		line("  classes: %s", placeholder("the label's values"))
	}
	line("  test_fraction: 0.2")
	line("  # A public upper bound on the training rows (the run pads to it and")
	line("  # publishes it instead of the real count).")
	if opts.FromData {
		line("  max_rows: %d", (s.Rows+63)/64*64)
		line("  scaling_from_private_data: true")
	} else {
		line("  max_rows: %s", placeholder("a public bound on the row count"))
	}
	line("  out_of_range: clip")
	line("  features:")
	for _, c := range s.Columns {
		kind := c.Kind()
		line("    - column: %s", quote(c.Name))
		switch kind {
		case KindMinMax:
			line("      kind: minmax # numeric (log_minmax suits a long tail)")
			if opts.FromData {
				lo, hi := c.min, c.max
				if !(hi > lo) {
					hi = lo + 1
				}
				line("      min: %s", number(lo))
				line("      max: %s", number(hi))
			} else {
				line("      min: %s", placeholder("documented minimum"))
				line("      max: %s", placeholder("documented maximum"))
			}
		case KindOneHot:
			line("      kind: onehot # few distinct values")
			if opts.FromData {
				line("      categories: %s", list(c.sortedValues()))
			} else {
				line("      categories: %s", placeholder("every value in the codebook"))
			}
		default:
			line("      kind: drop # many distinct values: an identifier or free text? list its categories from a codebook to use it")
		}
	}
	_, err = io.WriteString(w, b.String())
	return placeholders, err
}

// quote writes s as a YAML double-quoted scalar (JSON's syntax is a subset).
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
