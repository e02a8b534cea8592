package benchmarks

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the tests and benchmarks from the repository root, as the
// CLI runs: a shipped config's data.path (german_credit's) is relative to it.
func TestMain(m *testing.M) {
	if err := os.Chdir(".."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
