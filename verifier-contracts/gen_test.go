package verifiercontracts

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkdp/zkdp/internal/constraintstats"
)

// contracts/Poseidon2.sol is the generator's output.
func TestPoseidon2Golden(t *testing.T) {
	got, err := GeneratePoseidon2()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("contracts", Poseidon2File), got)
}

// golden compares got with the file at path, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if constraintstats.Updating() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate with -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Fatalf("%s is stale: regenerate with go test ./verifier-contracts/ -update and review the diff", path)
	}
}
