// Package golden keeps generated files (constraint counts, the CLI and config
// references) equal to what the code generates: a test compares them exactly
// and rewrites them when run with -update.
//
// It owns the one -update flag: every test binary that imports it (directly
// or through internal/constraintstats) gets exactly one definition, so
// `go test ./... -update` works across packages.
package golden

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated files (testdata/stats.csv, docs) instead of comparing with them")

// ErrMarkers: a file lacks its begin/end markers, or has them out of order.
var ErrMarkers = errors.New("golden: missing or misordered markers")

// Update reports whether the test binary runs with -update.
func Update() bool { return *update }

// Check compares got with the file at path byte for byte, or writes it there
// under -update.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s is stale: %s (run the test with -update)", path, firstDiff(want, got))
	}
}

// CheckSection is Check for the text between the lines begin and end of a
// hand-written file (a README): only that part is generated.
func CheckSection(t testing.TB, path, begin, end string, got []byte) {
	t.Helper()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pre, cur, post, err := splitSection(file, begin, end)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if *update {
		out := append(append(append([]byte{}, pre...), got...), post...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(cur, got) {
		t.Errorf("%s: the section between %q and %q is stale: %s (run the test with -update)", path, begin, end, firstDiff(cur, got))
	}
}

// splitSection cuts file into what precedes the generated part (up to and
// including the begin line), the part itself, and the rest (from the end line).
func splitSection(file []byte, begin, end string) (pre, cur, post []byte, err error) {
	b := bytes.Index(file, []byte(begin+"\n"))
	if b < 0 {
		return nil, nil, nil, fmt.Errorf("%w: no line %q", ErrMarkers, begin)
	}
	start := b + len(begin) + 1
	e := bytes.Index(file[start:], []byte(end))
	if e < 0 {
		return nil, nil, nil, fmt.Errorf("%w: no %q after %q", ErrMarkers, end, begin)
	}
	return file[:start], file[start : start+e], file[start+e:], nil
}

// firstDiff describes where two texts part, by line.
func firstDiff(want, got []byte) string {
	w, g := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(w) || i < len(g); i++ {
		switch {
		case i >= len(w):
			return fmt.Sprintf("line %d is new: %q", i+1, g[i])
		case i >= len(g):
			return fmt.Sprintf("line %d is gone: %q", i+1, w[i])
		case !bytes.Equal(w[i], g[i]):
			return fmt.Sprintf("line %d: committed %q, generated %q", i+1, w[i], g[i])
		}
	}
	return "same lines, different bytes"
}
