package run

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileIsAtomicAndKeepsMode(t *testing.T) {
	d, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := d.Private(SecretFile)
	if err := WriteFile(path, []byte("one"), PrivateMode); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two"), PrivateMode); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "two" {
		t.Fatalf("got %q, %v", b, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("left %d entries in private/", len(entries))
	}
	// A write into a missing folder fails and names the path.
	bad := filepath.Join(d.Root, "missing", "x.json")
	if err := WriteFile(bad, []byte("x"), PublicMode); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
}

func TestCreateRestrictsPrivate(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, PrivateDir), 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(root); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(root, PrivateDir))
	if st.Mode().Perm() != 0o700 {
		t.Fatalf("private/ mode %v, want 0700", st.Mode().Perm())
	}
	if _, err := Open(root); !errors.Is(err, ErrNotRun) {
		t.Fatalf("a run without params opened: %v", err)
	}
}

func TestWeightsRoundTrip(t *testing.T) {
	d, _ := Create(t.TempDir())
	w := [][]int64{{1, -2, 3}, {-1 << 40, 0, 7}}
	if err := WriteWeights(d.Private(WeightsFile), w); err != nil {
		t.Fatal(err)
	}
	got, err := ReadWeights(d.Private(WeightsFile), 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range w {
		for j := range w[i] {
			if got[i][j] != w[i][j] {
				t.Fatalf("[%d][%d] = %d, want %d", i, j, got[i][j], w[i][j])
			}
		}
	}
	if _, err := ReadWeights(d.Private(WeightsFile), 4); err == nil {
		t.Fatal("a file of 3-parameter models read as 4-parameter models")
	}
}

func TestReadJSONRejectsUnknownFields(t *testing.T) {
	d, _ := Create(t.TempDir())
	path := d.Public(ParamsFile)
	if err := os.WriteFile(path, []byte(`{"version":1,"surprise":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var p Params
	if err := ReadJSON(path, &p); err == nil {
		t.Fatal("unknown field accepted")
	}
}
