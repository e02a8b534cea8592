// Package constraintstats keeps circuits' constraint counts in a committed
// CSV that tests compare exactly, in the style of gnark's own stats file:
// a missing or extra row is a failure, and -update rewrites the file.
package constraintstats

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
)

// File is where a package keeps its counts, relative to its folder.
const File = "testdata/stats.csv"

// update is -update in every test binary that measures circuits or keeps
// golden files (one flag, so `go test ./... -update` works everywhere).
var update = flag.Bool("update", false, "rewrite golden files (testdata/stats.csv, generated Solidity) with what the tests measure")

// Updating reports whether -update was given, for other golden files.
func Updating() bool { return *update }

// Count compiles circuit to R1CS on BN254 and returns its constraint count.
func Count(t testing.TB, circuit frontend.Circuit) int {
	t.Helper()
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, circuit)
	if err != nil {
		t.Fatal(err)
	}
	return ccs.GetNbConstraints()
}

// Row is one measured circuit.
type Row struct {
	Params      int // trainable parameters it covers
	Constraints int // R1CS constraints on BN254
}

// Check compares measured with the package's File, or rewrites it under -update.
func Check(t testing.TB, measured map[string]Row) {
	t.Helper()
	path := File
	names := make([]string, 0, len(measured))
	for n := range measured {
		names = append(names, n)
	}
	sort.Strings(names)
	if *update {
		if err := write(path, names, measured); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := read(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update)", err)
	}
	for _, n := range names {
		w, ok := want[n]
		if !ok {
			t.Errorf("%s: no row in %s (run with -update)", n, path)
			continue
		}
		if w != measured[n] {
			t.Errorf("%s: %+v, %s says %+v (run with -update if the change is intended)", n, measured[n], path, w)
		}
	}
	for n := range want {
		if _, ok := measured[n]; !ok {
			t.Errorf("%s: row in %s for a circuit no longer measured", n, path)
		}
	}
}

func write(path string, names []string, rows map[string]Row) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"circuit", "params", "r1cs_constraints"})
	for _, n := range names {
		w.Write([]string{n, strconv.Itoa(rows[n].Params), strconv.Itoa(rows[n].Constraints)})
	}
	w.Flush()
	return errors.Join(w.Error(), f.Close())
}

func read(path string) (map[string]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]Row{}
	for i, r := range recs[1:] {
		if len(r) != 3 {
			return nil, fmt.Errorf("%s:%d: want circuit,params,r1cs_constraints", path, i+2)
		}
		p, err1 := strconv.Atoi(r[1])
		c, err2 := strconv.Atoi(r[2])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+2, err)
		}
		out[r[0]] = Row{Params: p, Constraints: c}
	}
	return out, nil
}
