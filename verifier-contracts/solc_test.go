package verifiercontracts

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// package.json pins the version this package checks for.
func TestSolcPinned(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if got := pkg.Dependencies["solc"]; got != SolcVersion {
		t.Fatalf("package.json pins solc %q, the Go code %q", got, SolcVersion)
	}
	v, err := Version()
	if err != nil {
		t.Fatal(err) // names the missing solc and how to install it
	}
	t.Logf("solc %s", v)
}

// A missing solc is named, with how to install it.
func TestSolcMissing(t *testing.T) {
	_, err := findSolc([]string{t.TempDir()})
	if !errors.Is(err, ErrSolcMissing) || !strings.Contains(err.Error(), "npm ci") || !strings.Contains(err.Error(), "solc") {
		t.Fatalf("got %v", err)
	}
}

// The registry compiles, fits EIP-170, and exposes the documented API.
func TestRegistryCompiles(t *testing.T) {
	c, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Runtime) == 0 || len(c.Runtime) >= MaxCodeSize {
		t.Fatalf("registry runtime code is %d bytes (limit %d)", len(c.Runtime), MaxCodeSize)
	}
	t.Logf("registry: %d bytes of runtime code, %d of creation code", len(c.Runtime), len(c.Bytecode))
	var abi []struct {
		Type, Name string
	}
	if err := json.Unmarshal(c.ABI, &abi); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, e := range abi {
		have[e.Name] = true
	}
	for _, f := range []string{"registerRun", "registerRunWithBeacon", "fixBeacon", "submitStep", "finalize", "registerInferenceVerifier", "verifyInference", "getRun", "StepAccepted", "WrongRun", "NotOwner"} {
		if !have[f] {
			t.Errorf("ABI lacks %s", f)
		}
	}
}
