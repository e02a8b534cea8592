package data

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/zkdp/zkdp/datasets"
)

// Errors a bad row wraps; every *RowError also matches ErrBadRow.
var (
	ErrBadRow          = errors.New("bad row")
	ErrColumnCount     = errors.New("wrong number of fields")
	ErrNotNumber       = errors.New("is not a number")
	ErrNotFinite       = errors.New("is not finite")
	ErrUnknownLabel    = errors.New("is not a known label")
	ErrUnknownCategory = errors.New("is not a known category")
	ErrMissingValue    = errors.New("missing value")
	ErrBadHeader       = errors.New("bad header")
)

// Errors about a file or split as a whole.
var (
	ErrNoRows = errors.New("data: no rows")
	ErrSplit  = errors.New("data: cannot split")
	// ErrRowBound is returned when the training split has more rows than
	// the public bound data.max_rows.
	ErrRowBound = errors.New("data: more training rows than data.max_rows")
)

// maxLineBytes bounds one line, so a file without newlines cannot exhaust memory.
const maxLineBytes = 1 << 20

// RowError is a problem with one line of a data file.
type RowError struct {
	File  string // file name inside the dataset folder, e.g. adult.data
	Line  int    // 1-based, counting header and comment lines
	Field string // column name; "" when the problem is the whole line
	Err   error  // wraps one of the Err* sentinels
}

// Error renders e.g. `adult.data:17: field "age": "abc" is not a number`.
func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: field %q: %v", e.File, e.Line, e.Field, e.Err)
}

// Unwrap returns the specific cause.
func (e *RowError) Unwrap() error { return e.Err }

// Is makes every RowError match ErrBadRow.
func (e *RowError) Is(target error) bool { return target == ErrBadRow }

// Split is one part of a dataset: scaled features and labels.
type Split struct {
	X [][]float64 // X[i] holds row i's features, each within [0,1] ([-1,1] with Config.Center)
	Y []int       // Y[i] is row i's label, in [0, len(Dataset.Classes))
}

// Len is the number of rows.
func (s Split) Len() int { return len(s.Y) }

// Dataset is a loaded, validated and scaled dataset.
type Dataset struct {
	Name     string
	Features []string // output feature names: the column, or "column=category" for onehot
	Classes  []string // class names; label i is Classes[i]
	Train    Split
	Test     Split
	Dropped  int // rows dropped because of '?' under Missing: drop (train and test)
	// MaxRows is the public bound N_pub on the training rows (data.max_rows),
	// at least Train.Len(): the committed dataset is padded to it.
	MaxRows int
}

// Load reads, validates and scales the dataset cfg names. Datasets without a
// published test split are split by cfg.TestFraction with a shuffle fixed by
// splitSeed; both parts keep the file's row order.
func Load(cfg Config, splitSeed uint64) (*Dataset, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("data: config: %w", errors.Join(errs...))
	}
	var (
		fsys fs.FS
		err  error
	)
	if cfg.Dir != "" {
		fsys = os.DirFS(cfg.Dir)
	} else if fsys, err = datasets.Open(cfg.Name); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return load(cfg, fsys, splitSeed)
}

// load is Load on an already validated cfg and an opened folder.
func load(cfg Config, fsys fs.FS, splitSeed uint64) (*Dataset, error) {
	sch := schemas[cfg.Name]
	p := newRowParser(sch, cfg)
	ds := &Dataset{Name: cfg.Name, Features: p.features, Classes: slices.Clone(sch.classes), MaxRows: cfg.MaxRows}
	read := p.readFile
	if sch.format == formatIDX {
		read = p.readIDX
	}
	all, dropped, err := read(fsys, sch.trainFile)
	if err != nil {
		return nil, err
	}
	ds.Dropped += dropped
	if sch.testFile != "" {
		ds.Train = all
		if ds.Test, dropped, err = p.readFile(fsys, sch.testFile); err != nil {
			return nil, err
		}
		ds.Dropped += dropped
	} else if ds.Train, ds.Test, err = splitRows(all, cfg.TestFraction, splitSeed); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrSplit, sch.trainFile, err)
	}
	if ds.Train.Len() > ds.MaxRows {
		return nil, fmt.Errorf("%w: %s: %d training rows, data.max_rows is %d (raise the public bound)", ErrRowBound, sch.trainFile, ds.Train.Len(), ds.MaxRows)
	}
	return ds, nil
}

// columnEncoder turns one source column into Width output features.
type columnEncoder struct {
	name   string
	spec   FeatureSpec
	offset int            // index of its first output feature
	width  int            // 0 for a dropped column
	cats   map[string]int // onehot: category -> slot
}

// rowParser parses and scales the lines of one dataset's files.
type rowParser struct {
	sch      *schema
	missing  string
	center   bool
	cols     []columnEncoder // one per source column, in file order
	width    int
	features []string
}

// newRowParser assumes cfg has been validated against sch.
func newRowParser(sch *schema, cfg Config) *rowParser {
	p := &rowParser{sch: sch, missing: cfg.missingPolicy(), center: cfg.Center}
	specs := cfg.specsByColumn(sch.columns)
	for _, name := range sch.columns {
		enc := columnEncoder{name: name, spec: specs[name], offset: p.width}
		switch enc.spec.Kind {
		case KindMinMax, KindLogMinMax:
			enc.width = 1
			p.features = append(p.features, name)
		case KindOneHot:
			enc.cats = map[string]int{}
			for _, c := range enc.spec.Categories {
				enc.cats[c] = len(enc.cats)
				p.features = append(p.features, name+"="+c)
			}
			// Every onehot column gets the '?' slot, whether or not this
			// file holds a '?' there: the layout must not depend on the data.
			if p.missing == MissingCategory {
				enc.cats[MissingMarker] = len(enc.cats)
				p.features = append(p.features, name+"="+MissingMarker)
			}
			enc.width = len(enc.cats)
		}
		p.width += enc.width
		p.cols = append(p.cols, enc)
	}
	return p
}

// readFile parses every row of file; blank lines and comment lines are skipped.
func (p *rowParser) readFile(fsys fs.FS, file string) (Split, int, error) {
	var s Split
	f, err := fsys.Open(file)
	if err != nil {
		return s, 0, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), maxLineBytes)
	line, dropped, declaredRows := 0, 0, -1
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if line == 1 && p.sch.header == headerSklearn {
			if declaredRows, err = p.parseSklearnHeader(file, text); err != nil {
				return s, 0, err
			}
			continue
		}
		if strings.TrimSpace(text) == "" || (p.sch.commentPrefix != "" && strings.HasPrefix(text, p.sch.commentPrefix)) {
			continue
		}
		x, y, drop, err := p.parseRow(file, line, text)
		if err != nil {
			return s, 0, err
		}
		if drop {
			dropped++
			continue
		}
		s.X = append(s.X, x)
		s.Y = append(s.Y, y)
	}
	if err := sc.Err(); err != nil {
		return s, 0, fmt.Errorf("data: %s: after line %d: %w", file, line, err)
	}
	if declaredRows >= 0 && declaredRows != s.Len()+dropped {
		return s, 0, fmt.Errorf("data: %s: %w: line 1 declares %d rows, the file has %d", file, ErrBadHeader, declaredRows, s.Len()+dropped)
	}
	if s.Len() == 0 {
		return s, 0, fmt.Errorf("%w in %s", ErrNoRows, file)
	}
	return s, dropped, nil
}

// parseSklearnHeader checks scikit-learn's "rows,features,class0,class1,..."
// line and returns the declared row count.
func (p *rowParser) parseSklearnHeader(file, text string) (int, error) {
	bad := func(format string, args ...any) (int, error) {
		return 0, &RowError{File: file, Line: 1, Err: fmt.Errorf("%w: %s", ErrBadHeader, fmt.Sprintf(format, args...))}
	}
	fields := splitFields(text)
	want := 2 + len(p.sch.classes)
	if len(fields) != want {
		return bad("got %d fields, want %d (rows,features,%s)", len(fields), want, strings.Join(p.sch.classes, ","))
	}
	rows, err := strconv.Atoi(fields[0])
	if err != nil || rows < 0 {
		return bad("row count %q is not a count", fields[0])
	}
	if n, err := strconv.Atoi(fields[1]); err != nil || n != len(p.sch.columns) {
		return bad("feature count %q, want %d", fields[1], len(p.sch.columns))
	}
	if got := fields[2:]; !slices.Equal(got, p.sch.classes) {
		return bad("classes %q, want %q", got, p.sch.classes)
	}
	return rows, nil
}

// splitFields splits a comma-separated line and trims each field (the UCI
// files separate fields with ", ").
func splitFields(text string) []string {
	fields := strings.Split(text, ",")
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return fields
}

// parseRow parses and scales one data line. drop reports a row holding '?'
// under Missing: drop.
func (p *rowParser) parseRow(file string, line int, text string) (x []float64, y int, drop bool, err error) {
	fail := func(field string, err error) ([]float64, int, bool, error) {
		return nil, 0, false, &RowError{File: file, Line: line, Field: field, Err: err}
	}
	fields := splitFields(text)
	want := len(p.sch.columns) + 1
	if len(fields) != want {
		field := "" // too many fields: no column to blame
		if len(fields) < want {
			field = p.columnName(len(fields))
		}
		return fail(field, fmt.Errorf("%w: got %d, want %d", ErrColumnCount, len(fields), want))
	}
	x = make([]float64, p.width)
	for i := range p.cols {
		enc := &p.cols[i]
		raw := fields[i]
		if enc.width == 0 {
			continue // dropped column: its content is never used
		}
		if raw == MissingMarker {
			switch {
			case p.missing == MissingDrop:
				drop = true
				continue
			case p.missing == MissingCategory && enc.spec.Kind == KindOneHot:
				x[enc.offset+enc.cats[MissingMarker]] = 1
				continue
			case p.missing == MissingCategory:
				return fail(enc.name, fmt.Errorf("%w %q in a numeric column (data.missing %q only covers onehot columns)", ErrMissingValue, raw, p.missing))
			default:
				return fail(enc.name, fmt.Errorf("%w %q (data.missing is %q)", ErrMissingValue, raw, p.missing))
			}
		}
		switch enc.spec.Kind {
		case KindOneHot:
			slot, ok := enc.cats[raw]
			if !ok || raw == MissingMarker {
				return fail(enc.name, fmt.Errorf("%q %w (see its categories in data.features)", raw, ErrUnknownCategory))
			}
			x[enc.offset+slot] = 1
		default:
			v, err := strconv.ParseFloat(raw, 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return fail(enc.name, fmt.Errorf("%q %w", raw, ErrNotNumber))
			}
			if !isFinite(v) {
				return fail(enc.name, fmt.Errorf("%q %w", raw, ErrNotFinite))
			}
			x[enc.offset] = p.numeric(enc, v)
		}
	}
	y, ok := p.parseLabel(fields[len(fields)-1])
	if !ok {
		return fail(p.sch.label, fmt.Errorf("%q %w (one of %q)", fields[len(fields)-1], ErrUnknownLabel, p.sch.labelTokens))
	}
	return x, y, drop, nil
}

// numeric scales value v of a minmax or log_minmax column.
func (p *rowParser) numeric(enc *columnEncoder, v float64) float64 {
	x := scale(v, enc.spec)
	if p.center {
		return 2*x - 1
	}
	return x
}

// columnName names source field i, the label included.
func (p *rowParser) columnName(i int) string {
	if i < len(p.sch.columns) {
		return p.sch.columns[i]
	}
	return p.sch.label
}

// parseLabel maps a label token (with the optional suffix) to its class.
func (p *rowParser) parseLabel(raw string) (int, bool) {
	for _, candidate := range []string{raw, strings.TrimSuffix(raw, p.sch.labelSuffix)} {
		if i := slices.Index(p.sch.labelTokens, candidate); i >= 0 {
			return i, true
		}
		if p.sch.labelSuffix == "" {
			break
		}
	}
	return 0, false
}

// scale maps v into [0,1] with the spec's public constants, clamping first so
// that log1p never sees a value below min (> -1).
func scale(v float64, spec FeatureSpec) float64 {
	v = min(max(v, spec.Min), spec.Max)
	lo, hi := spec.Min, spec.Max
	if spec.Kind == KindLogMinMax {
		v, lo, hi = math.Log1p(v), math.Log1p(lo), math.Log1p(hi)
	}
	return min(max((v-lo)/(hi-lo), 0), 1)
}

// splitStream is the PCG stream of the train/test shuffle ("zkdpsplt"), so
// the split differs from every other use of the same seed.
const splitStream = 0x7a6b6470_73706c74

// splitRows moves round(n*fraction) rows, chosen by a Fisher–Yates shuffle
// seeded with seed, to the test split. Both splits keep file order. The
// shuffle is written out (PCG-DXSM plus rejection sampling) rather than taken
// from rand.Shuffle so the split stays the same across Go releases.
func splitRows(all Split, fraction float64, seed uint64) (train, test Split, err error) {
	n := all.Len()
	nTest := int(math.Round(float64(n) * fraction))
	if nTest < 1 || nTest > n-1 {
		return train, test, fmt.Errorf("test_fraction %v of %d rows leaves an empty train or test split", fraction, n)
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	rng := rand.NewPCG(seed, splitStream)
	for i := n - 1; i > 0; i-- {
		j := int(uniform(rng, uint64(i+1)))
		perm[i], perm[j] = perm[j], perm[i]
	}
	inTest := make([]bool, n)
	for _, i := range perm[:nTest] {
		inTest[i] = true
	}
	for i := range n {
		dst := &train
		if inTest[i] {
			dst = &test
		}
		dst.X = append(dst.X, all.X[i])
		dst.Y = append(dst.Y, all.Y[i])
	}
	return train, test, nil
}

// uniform draws uniformly from [0,n), n > 0, rejecting the 2^64 mod n
// lowest outputs that would bias the modulo.
func uniform(rng *rand.PCG, n uint64) uint64 {
	threshold := -n % n
	for {
		if v := rng.Uint64(); v >= threshold {
			return v % n
		}
	}
}
