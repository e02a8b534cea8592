package prover

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes the output of write to path so that readers see
// either the old file or the complete new one, never a prefix: a temp file in
// the same folder, fsynced, then renamed over path (and the folder fsynced so
// the rename survives a power loss). It returns the hex sha256 of what it wrote.
func WriteFileAtomic(path string, write func(io.Writer) error) (sum string, err error) {
	return writeAtomic(path, write, true)
}

// CreateFileAtomic is WriteFileAtomic for a file that must not exist yet: the
// temp file is hard-linked to path, which fails (an error matching
// os.ErrExist) if path exists, even when two writers race.
func CreateFileAtomic(path string, write func(io.Writer) error) (sum string, err error) {
	return writeAtomic(path, write, false)
}

func writeAtomic(path string, write func(io.Writer) error, replace bool) (sum string, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("%w: %w", ErrIO, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrIO, err)
	}
	tmp := f.Name()
	defer func() {
		// After a rename the temp name is gone; after a link it is a second name.
		if err != nil || !replace {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if err := write(bw); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return "", fmt.Errorf("%w: write %s: %w", ErrIO, path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return "", fmt.Errorf("%w: %w", ErrIO, err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("%w: sync %s: %w", ErrIO, path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("%w: close %s: %w", ErrIO, path, err)
	}
	if replace {
		err = os.Rename(tmp, path)
	} else {
		err = os.Link(tmp, path)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrIO, err)
	}
	// Best effort: not every filesystem supports syncing a directory.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeBytesAtomic is WriteFileAtomic for an in-memory payload.
func writeBytesAtomic(path string, b []byte) (string, error) {
	return WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// FileSHA256 returns the hex sha256 of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrIO, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrIO, path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
