package verifiercontracts

import (
	"path/filepath"
	"testing"

	"github.com/zkdp/zkdp/internal/golden"
)

// contracts/Poseidon2.sol is the generator's output.
func TestPoseidon2Golden(t *testing.T) {
	got, err := GeneratePoseidon2()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("contracts", Poseidon2File), got)
}
