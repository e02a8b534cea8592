package prover

import (
	"errors"
	"os"
	"testing"
)

// Load never runs a setup: a missing entry is os.ErrNotExist, a cache
// without a folder ErrIO.
func TestKeyCacheLoadNeverSetsUp(t *testing.T) {
	before := setupCalls.Load()
	c := &KeyCache{Dir: t.TempDir()}
	if _, _, err := c.Load("00ff"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty cache: got %v, want os.ErrNotExist", err)
	}
	if _, _, err := (&KeyCache{}).Load("00ff"); !errors.Is(err, ErrIO) {
		t.Fatalf("no folder: got %v, want ErrIO", err)
	}
	if setupCalls.Load() != before {
		t.Fatal("Load ran a setup")
	}
}
