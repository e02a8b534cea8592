package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// IDX magic numbers (LeCun's MNIST page): 0x0803 = unsigned bytes, 3
// dimensions; 0x0801 = unsigned bytes, 1 dimension.
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
	// maxIDXBytes bounds the decompressed image payload, so a forged header
	// cannot make the loader allocate without limit.
	maxIDXBytes = 1 << 28
)

// ErrBadIDX is wrapped by every error about an idx file's structure.
var ErrBadIDX = errors.New("bad idx file")

// readIDX reads a gzipped idx3 image file and its idx1 label file (the
// schema's labelFile, or testLabelFile for its testFile) into scaled rows,
// one pixel per column in row-major order. In the RowErrors it returns,
// Line is the 1-based record number.
func (p *rowParser) readIDX(fsys fs.FS, file string) (fileRows, error) {
	var s fileRows
	labelFile := p.sch.labelFile
	if file == p.sch.testFile {
		labelFile = p.sch.testLabelFile
	}
	images, n, err := readIDXFile(fsys, file, idxImagesMagic, len(p.sch.columns))
	if err != nil {
		return s, err
	}
	labels, nLabels, err := readIDXFile(fsys, labelFile, idxLabelsMagic, 1)
	if err != nil {
		return s, err
	}
	if n != nLabels {
		return s, fmt.Errorf("data: %w: %s holds %d images, %s %d labels", ErrBadIDX, file, n, labelFile, nLabels)
	}
	if n == 0 {
		return s, fmt.Errorf("%w in %s", ErrNoRows, file)
	}
	width := len(p.sch.columns)
	for i := range n {
		y := int(labels[i])
		if y >= len(p.sch.classes) {
			return s, &RowError{File: labelFile, Line: i + 1, Field: p.sch.label,
				Err: fmt.Errorf("%d %w (one of %q)", y, ErrUnknownLabel, p.sch.labelTokens)}
		}
		x := make([]float64, p.width)
		clipped := false
		for c, v := range images[i*width : (i+1)*width] {
			if enc := &p.cols[c]; enc.width > 0 {
				out, err := p.checkRange(enc, float64(v))
				if err != nil {
					return s, &RowError{File: file, Line: i + 1, Field: enc.name, Err: err}
				}
				clipped = clipped || out
				x[enc.offset] = p.numeric(enc, float64(v))
			}
		}
		if clipped {
			s.clipped++
		}
		s.X = append(s.X, x)
		s.Y = append(s.Y, y)
	}
	return s, nil
}

// readIDXFile decompresses file and checks its header: the magic, then the
// record count, then the record shape, whose product must be recordSize. It
// returns the payload and the record count.
func readIDXFile(fsys fs.FS, file string, magic uint32, recordSize int) ([]byte, int, error) {
	bad := func(format string, args ...any) ([]byte, int, error) {
		return nil, 0, fmt.Errorf("data: %s: %w: %s", file, ErrBadIDX, fmt.Sprintf(format, args...))
	}
	f, err := fsys.Open(file)
	if err != nil {
		return nil, 0, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return bad("not gzip: %v", err)
	}
	r := bufio.NewReader(gz)
	var head [2]uint32
	if err := binary.Read(r, binary.BigEndian, &head); err != nil {
		return bad("header: %v", err)
	}
	if head[0] != magic {
		return bad("magic 0x%08x, want 0x%08x", head[0], magic)
	}
	dims := int(head[0] & 0xff)
	shape := make([]uint32, dims-1)
	if err := binary.Read(r, binary.BigEndian, shape); err != nil {
		return bad("header dimensions: %v", err)
	}
	size := 1
	for _, d := range shape {
		size *= int(d)
	}
	if size != recordSize {
		return bad("records of shape %v (%d values), want %d values", shape, size, recordSize)
	}
	n := int(head[1])
	if n > maxIDXBytes/recordSize {
		return bad("%d records exceed the %d-byte limit", n, maxIDXBytes)
	}
	payload := make([]byte, n*recordSize)
	if _, err := io.ReadFull(r, payload); err != nil {
		return bad("the header declares %d records: %v", n, err)
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return bad("data after the %d declared records", n)
	}
	return payload, n, nil
}
