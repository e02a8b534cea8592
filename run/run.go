// Package run is the layout of a run directory and its file formats.
//
//	DIR/report.json, classification_report.{txt,json}, plots/*.png   (public)
//	DIR/public/params.json      public parameters (what the proofs are about)
//	DIR/public/transcript.json  D, S, the beacon and the model chain M_0..M_T
//	DIR/public/model.json       the released quantized model
//	DIR/private/                mode 0700, files 0600: the seed, batches, weights,
//	                            the float reference's statistics
//
// Everything outside private/ is public data, the test split (said so) or
// the DP release; nothing computed on a training row goes there.
//
// Every file is written atomically (temporary file, fsync, rename), so an
// interrupted run never leaves a half-written file that looks complete.
package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Folder and file names of a run directory.
const (
	PublicDir      = "public"
	PrivateDir     = "private"
	PlotsDir       = "plots"
	ReportFile     = "report.json"
	ParamsFile     = "params.json"
	TranscriptFile = "transcript.json"
	ModelFile      = "model.json"
	SecretFile     = "seed.json"
	BatchesFile    = "batches.json"
	ReferenceFile  = "reference.json" // the float reference's statistics: private
	WeightsFile    = "weights.bin"
	DataSourceFile = "dataset.json"
	ProofsDir      = "proofs"
)

// Sentinel errors.
var (
	// ErrNotRun is returned when a folder is not a run directory.
	ErrNotRun = errors.New("run: not a run directory")
	// ErrMalformed: a run file cannot be decoded, or its content is
	// inconsistent (see Params.Validate). Run files may come from anyone.
	ErrMalformed = errors.New("run: malformed file")
)

// Dir is a run directory.
type Dir struct{ Root string }

// Create makes (or reuses) a run directory with its public and private parts.
// The private folder is restricted to the owner even if it existed before.
func Create(root string) (*Dir, error) {
	for _, sub := range []string{PublicDir, PlotsDir} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o755); err != nil {
			return nil, fmt.Errorf("run: creating %s: %w", filepath.Join(root, sub), err)
		}
	}
	priv := filepath.Join(root, PrivateDir)
	if err := os.MkdirAll(priv, 0o700); err != nil {
		return nil, fmt.Errorf("run: creating %s: %w", priv, err)
	}
	if err := os.Chmod(priv, 0o700); err != nil {
		return nil, fmt.Errorf("run: restricting %s: %w", priv, err)
	}
	return &Dir{Root: root}, nil
}

// Open opens an existing run directory for reading.
func Open(root string) (*Dir, error) {
	if _, err := os.Stat(filepath.Join(root, PublicDir, ParamsFile)); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotRun, root, err)
	}
	return &Dir{Root: root}, nil
}

// Public is the path of a public file.
func (d *Dir) Public(name string) string { return filepath.Join(d.Root, PublicDir, name) }

// Private is the path of a private file.
func (d *Dir) Private(name string) string { return filepath.Join(d.Root, PrivateDir, name) }

// Path is a path relative to the run's root.
func (d *Dir) Path(elem ...string) string {
	return filepath.Join(append([]string{d.Root}, elem...)...)
}

// WriteFile writes data to path atomically with the given mode.
func WriteFile(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("run: writing %s: %w", path, err)
	}
	cleanup := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("run: writing %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return cleanup(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return cleanup(err)
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(err)
	}
	if err := tmp.Close(); err != nil {
		return cleanup(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("run: writing %s: %w", path, err)
	}
	return nil
}

// WriteJSON writes v as indented JSON atomically.
func WriteJSON(path string, v any, mode fs.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("run: encoding %s: %w", path, err)
	}
	return WriteFile(path, append(b, '\n'), mode)
}

// ReadJSON decodes path into v, rejecting unknown fields so that a file of
// another kind or version is not silently misread, and anything after the
// one JSON value. A missing file is an fs.ErrNotExist error; an undecodable
// one wraps ErrMalformed.
func ReadJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformed, path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: %s: data after the JSON value", ErrMalformed, path)
	}
	return nil
}

// PublicMode and PrivateMode are the modes of the two kinds of file.
const (
	PublicMode  fs.FileMode = 0o644
	PrivateMode fs.FileMode = 0o600
)
