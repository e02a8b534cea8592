package data

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zkdp/zkdp/backbone"
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
	ErrOutOfRange      = errors.New("is outside the column's public bounds")
	ErrMalformed       = errors.New("malformed CSV")
	ErrLineTooLong     = errors.New("line too long")
)

// Errors about a file or split as a whole.
var (
	ErrNoRows = errors.New("data: no rows")
	ErrSplit  = errors.New("data: cannot split")
	// ErrRowBound is returned when the training split has more rows than
	// the public bound data.max_rows.
	ErrRowBound = errors.New("data: more training rows than data.max_rows")
)

// maxLineBytes bounds one line, so a file without newlines cannot exhaust
// memory: the reader holds one line at a time, never the file.
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
	// Clipped counts the rows (train and test) holding a value clipped to
	// its column's public bounds (data.out_of_range: clip). It is a
	// statistic of the private rows: report it in private/ only.
	Clipped int
	// ScalingFromPrivateData is data.scaling_from_private_data: the bounds
	// and categories were read off these rows, outside the DP guarantee.
	ScalingFromPrivateData bool
	// MaxRows is the public bound N_pub on the training rows (data.max_rows),
	// at least Train.Len(): the committed dataset is padded to it.
	MaxRows int
	// Backbone names the public feature stage that produced Train.X and
	// Test.X from the scaled columns (data.backbone); nil for none.
	Backbone *backbone.Identity
}

// Load reads, validates and scales the dataset cfg names: a shipped one, or
// the CSV file at cfg.Path. Datasets without a test file are split by
// cfg.TestFraction with a shuffle fixed by splitSeed; both parts keep the
// file's row order. Files are streamed, one line at a time.
func Load(cfg Config, splitSeed uint64) (*Dataset, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("data: config: %w", errors.Join(errs...))
	}
	var (
		fsys fs.FS
		err  error
	)
	switch {
	case cfg.Path != "":
		fsys = hostFiles{}
	case cfg.Dir != "":
		fsys = os.DirFS(cfg.Dir)
	default:
		if fsys, err = datasets.Open(cfg.Name); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
	}
	return load(cfg, fsys, splitSeed)
}

// hostFiles opens data.path and data.test_path as given: host paths,
// relative to the working directory, not fs.FS names.
type hostFiles struct{}

func (hostFiles) Open(name string) (fs.File, error) { return os.Open(name) }

// load is Load on an already validated cfg and an opened folder. A
// data.path config's schema comes from its file's header.
func load(cfg Config, fsys fs.FS, splitSeed uint64) (*Dataset, error) {
	sch := schemas[cfg.Name]
	if cfg.Path != "" {
		var err error
		if sch, err = fileSchema(cfg, fsys); err != nil {
			return nil, err
		}
	}
	p := newRowParser(sch, cfg)
	ds := &Dataset{Name: cfg.Name, Features: p.features, Classes: slices.Clone(sch.classes), MaxRows: cfg.MaxRows,
		ScalingFromPrivateData: cfg.ScalingFromPrivateData}
	read := p.readFile
	if sch.format == formatIDX {
		read = p.readIDX
	}
	all, err := read(fsys, sch.trainFile)
	if err != nil {
		return nil, err
	}
	ds.Dropped, ds.Clipped = all.dropped, all.clipped
	if sch.testFile != "" {
		ds.Train = all.Split
		test, err := read(fsys, sch.testFile)
		if err != nil {
			return nil, err
		}
		ds.Test = test.Split
		ds.Dropped += test.dropped
		ds.Clipped += test.clipped
	} else if ds.Train, ds.Test, err = splitRows(all.Split, cfg.TestFraction, splitSeed); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrSplit, sch.trainFile, err)
	}
	if err := ds.applyBackbone(cfg.Backbone, p.width); err != nil {
		return nil, err
	}
	if ds.Train.Len() > ds.MaxRows {
		return nil, fmt.Errorf("%w: %s: %d training rows, data.max_rows is %d (raise the public bound)", ErrRowBound, sch.trainFile, ds.Train.Len(), ds.MaxRows)
	}
	return ds, nil
}

// applyBackbone runs data.backbone, if any, over both splits: its outputs
// become the features.
func (ds *Dataset) applyBackbone(cfg BackboneConfig, width int) error {
	m, err := cfg.build(width)
	if err != nil || m == nil {
		return err
	}
	applyBackbone(m, &ds.Train, &ds.Test)
	id := m.Identity()
	ds.Backbone, ds.Features = &id, m.FeatureNames()
	return nil
}

// fileSchema reads the header of cfg.Path and checks cfg's features and
// label against it.
func fileSchema(cfg Config, fsys fs.FS) (*schema, error) {
	header, err := readHeader(fsys, cfg.Path)
	if err != nil {
		return nil, err
	}
	sch := &schema{trainFile: cfg.Path, testFile: cfg.TestPath, header: headerNames, names: header,
		label: cfg.Label, classes: slices.Clone(cfg.Classes), labelTokens: slices.Clone(cfg.Classes)}
	seen := map[string]int{}
	for i, name := range header {
		if j, dup := seen[name]; dup {
			return nil, &RowError{File: cfg.Path, Line: 1, Field: name, Err: fmt.Errorf("%w: column %d repeats column %d's name", ErrBadHeader, i+1, j+1)}
		}
		seen[name] = i
	}
	labelAt, ok := seen[cfg.Label]
	if !ok {
		return nil, &RowError{File: cfg.Path, Line: 1, Field: cfg.Label, Err: fmt.Errorf("%w: no such column (data.label)", ErrBadHeader)}
	}
	sch.labelAt = labelAt
	sch.columns = slices.Delete(slices.Clone(header), labelAt, labelAt+1)
	if errs := cfg.validateColumns(sch.columns, cfg.Label, cfg.Path); len(errs) > 0 {
		return nil, fmt.Errorf("data: %s:1: the header does not match the config: %w", cfg.Path, errors.Join(errs...))
	}
	return sch, nil
}

// readHeader returns the first record of a CSV file with a header row.
func readHeader(fsys fs.FS, file string) ([]string, error) {
	f, err := fsys.Open(file)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	r := newCSVReader(f, "")
	header, err := r.Read()
	if err == io.EOF {
		return nil, &RowError{File: file, Line: 1, Err: fmt.Errorf("%w: empty file, want a header row naming the columns", ErrNoRows)}
	}
	if err != nil {
		return nil, csvError(file, r, err)
	}
	trimHeader(header)
	for i := range header {
		if header[i] == "" {
			return nil, &RowError{File: file, Line: 1, Err: fmt.Errorf("%w: column %d has no name", ErrBadHeader, i+1)}
		}
	}
	return header, nil
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
	sch        *schema
	missing    string
	outOfRange string
	center     bool
	cols       []columnEncoder // one per source column, in file order
	width      int
	features   []string
}

// newRowParser assumes cfg has been validated against sch.
func newRowParser(sch *schema, cfg Config) *rowParser {
	p := &rowParser{sch: sch, missing: cfg.missingPolicy(), outOfRange: cfg.outOfRangePolicy(), center: cfg.Center}
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

// fileRows is one file's rows and how many were dropped or clipped.
type fileRows struct {
	Split
	dropped int // rows holding '?' under data.missing: drop
	clipped int // rows holding a value clipped to its public bounds
}

// readFile streams the rows of a CSV file, one record at a time: comment
// lines and blank lines are skipped, a header line is checked, and every
// row is parsed, validated and scaled.
func (p *rowParser) readFile(fsys fs.FS, file string) (fileRows, error) {
	var rows fileRows
	f, err := fsys.Open(file)
	if err != nil {
		return rows, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	r := newCSVReader(f, p.sch.commentPrefix)
	records, lastLine, declaredRows := 0, 0, -1
	for {
		fields, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rows, csvError(file, r, err)
		}
		line, _ := r.FieldPos(0)
		records, lastLine = records+1, line
		if records == 1 && p.sch.header != headerNone {
			if declaredRows, err = p.checkHeader(file, fields); err != nil {
				return rows, err
			}
			continue
		}
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue // a line of spaces
		}
		x, y, row, err := p.parseRecord(file, line, fields)
		if err != nil {
			return rows, err
		}
		if row.clipped {
			rows.clipped++
		}
		if row.dropped {
			rows.dropped++
			continue
		}
		rows.X = append(rows.X, x)
		rows.Y = append(rows.Y, y)
	}
	if declaredRows >= 0 && declaredRows != rows.Len()+rows.dropped {
		return rows, fmt.Errorf("data: %s: %w: line 1 declares %d rows, the file has %d", file, ErrBadHeader, declaredRows, rows.Len()+rows.dropped)
	}
	if rows.Len() == 0 {
		return rows, &RowError{File: file, Line: lastLine + 1, Err: fmt.Errorf("%w: the file holds no data row", ErrNoRows)}
	}
	return rows, nil
}

// csvReader is encoding/csv over a line-length limit: it holds one line at
// a time and reuses its record, so a file of any size streams in bounded
// memory.
type csvReader struct {
	*csv.Reader
	limit *lineLimit
}

// newCSVReader reads comma-separated fields, trimming the spaces after a
// comma (the UCI files write ", "); comment, if set, starts a line to skip.
// The field count is checked by the caller, which names the column.
func newCSVReader(r io.Reader, comment string) *csvReader {
	limit := &lineLimit{r: r, max: maxLineBytes}
	c := csv.NewReader(limit)
	c.FieldsPerRecord = -1
	c.TrimLeadingSpace = true
	c.ReuseRecord = true
	if comment != "" {
		c.Comment, _ = utf8.DecodeRuneInString(comment)
	}
	return &csvReader{Reader: c, limit: limit}
}

// lines is how many lines were read so far.
func (r *csvReader) lines() int { return r.limit.lines }

// csvError names the file and line of a read error.
func csvError(file string, r *csvReader, err error) error {
	if errors.Is(err, ErrLineTooLong) {
		return &RowError{File: file, Line: r.lines() + 1, Err: fmt.Errorf("%w: over %d bytes", ErrLineTooLong, maxLineBytes)}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &RowError{File: file, Line: pe.Line, Err: fmt.Errorf("%w: column %d: %w", ErrMalformed, pe.Column, pe.Err)}
	}
	return fmt.Errorf("data: %s: after line %d: %w", file, r.lines(), err)
}

// lineLimit passes reads through, failing with ErrLineTooLong once a line
// runs past max bytes, and counts the lines read.
type lineLimit struct {
	r     io.Reader
	max   int
	run   int // bytes since the last newline
	lines int
}

func (l *lineLimit) Read(b []byte) (int, error) {
	n, err := l.r.Read(b)
	for _, c := range b[:n] {
		if c == '\n' {
			l.run = 0
			l.lines++
		} else if l.run++; l.run > l.max {
			return 0, ErrLineTooLong
		}
	}
	return n, err
}

// checkHeader checks a file's first record. For scikit-learn's
// "rows,features,class0,class1,..." it returns the declared row count; for
// a header naming the columns, it checks they are the training file's;
// otherwise it returns -1.
func (p *rowParser) checkHeader(file string, fields []string) (int, error) {
	bad := func(format string, args ...any) (int, error) {
		return 0, &RowError{File: file, Line: 1, Err: fmt.Errorf("%w: %s", ErrBadHeader, fmt.Sprintf(format, args...))}
	}
	trimHeader(fields)
	if p.sch.header == headerNames {
		if !slices.Equal(fields, p.sch.names) {
			return bad("columns %q, want the columns of %s, %q", fields, p.sch.trainFile, p.sch.names)
		}
		return -1, nil
	}
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

// trim trims each field in place (the reader trims leading spaces only).
func trim(fields []string) {
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
}

// trimHeader trims a header's fields and the byte order mark that
// spreadsheets put before the first.
func trimHeader(fields []string) {
	if len(fields) > 0 {
		fields[0] = strings.TrimPrefix(fields[0], "\ufeff")
	}
	trim(fields)
}

// rowFlags says what happened to a parsed row.
type rowFlags struct {
	dropped bool // holds '?' under data.missing: drop
	clipped bool // holds a value clipped to its column's public bounds
}

// parseRecord parses and scales one data record, the fields of one line.
func (p *rowParser) parseRecord(file string, line int, fields []string) (x []float64, y int, flags rowFlags, err error) {
	fail := func(field string, err error) ([]float64, int, rowFlags, error) {
		return nil, 0, rowFlags{}, &RowError{File: file, Line: line, Field: field, Err: err}
	}
	trim(fields)
	want := len(p.sch.columns) + 1
	if len(fields) != want {
		field := "" // too many fields: no column to blame
		if len(fields) < want {
			field = p.fieldName(len(fields))
		}
		return fail(field, fmt.Errorf("%w: got %d, want %d", ErrColumnCount, len(fields), want))
	}
	labelAt := p.sch.labelIndex()
	x = make([]float64, p.width)
	for i := range p.cols {
		enc := &p.cols[i]
		if enc.width == 0 {
			continue // dropped column: its content is never used
		}
		raw := fields[i]
		if i >= labelAt {
			raw = fields[i+1]
		}
		if raw == MissingMarker {
			switch {
			case p.missing == MissingDrop:
				flags.dropped = true
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
			clipped, err := p.checkRange(enc, v)
			if err != nil {
				return fail(enc.name, err)
			}
			flags.clipped = flags.clipped || clipped
			x[enc.offset] = p.numeric(enc, v)
		}
	}
	label := fields[labelAt]
	y, ok := p.parseLabel(label)
	if !ok {
		return fail(p.sch.label, fmt.Errorf("%q %w (one of %q)", label, ErrUnknownLabel, p.sch.labelTokens))
	}
	return x, y, flags, nil
}

// checkRange applies data.out_of_range to value v of a minmax or
// log_minmax column: clipped reports a value outside the public bounds
// under "clip", and "error" rejects it.
func (p *rowParser) checkRange(enc *columnEncoder, v float64) (clipped bool, err error) {
	if v >= enc.spec.Min && v <= enc.spec.Max {
		return false, nil
	}
	if p.outOfRange == OutOfRangeError {
		// The bounds are public; the private value is not repeated.
		return false, fmt.Errorf("value %w [%v, %v] (data.out_of_range is %q)", ErrOutOfRange, enc.spec.Min, enc.spec.Max, p.outOfRange)
	}
	return true, nil
}

// numeric scales value v of a minmax or log_minmax column.
func (p *rowParser) numeric(enc *columnEncoder, v float64) float64 {
	x := scale(v, enc.spec)
	if p.center {
		return 2*x - 1
	}
	return x
}

// fieldName names field i of a line, the label included.
func (p *rowParser) fieldName(i int) string {
	labelAt := p.sch.labelIndex()
	switch {
	case i == labelAt:
		return p.sch.label
	case i > labelAt:
		i--
	}
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
