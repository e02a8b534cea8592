package prover

import (
	"errors"
	"strings"
	"testing"
)

// A trusted-keys file is strict: each error names the file and the entry.
func TestParsePinnedKeys(t *testing.T) {
	h1, h2 := strings.Repeat("a1", 32), strings.Repeat("b2", 32)
	good := `{"keys": [{"circuit": "step/quickstart", "circuit_hash": "` + h1 + `", "vk_sha256": "` + h2 + `"}]}`
	p, err := ParsePinnedKeys("keys.json", []byte(good))
	if err != nil || !p.Has(h1) || p.Has(h2) {
		t.Fatalf("%+v, %v", p, err)
	}
	var none *PinnedKeys
	if none.Has(h1) {
		t.Fatal("no file pins nothing")
	}
	for name, c := range map[string]struct{ text, want string }{
		"unknown field":   {`{"keys": [], "trust": "all"}`, "unknown field"},
		"trailing data":   {`{"keys": []} {}`, "data after"},
		"short hash":      {`{"keys": [{"circuit": "x", "circuit_hash": "abc", "vk_sha256": "` + h2 + `"}]}`, "keys[0].circuit_hash"},
		"uppercase sha":   {`{"keys": [{"circuit": "x", "circuit_hash": "` + h1 + `", "vk_sha256": "` + strings.ToUpper(h2) + `"}]}`, "keys[0].vk_sha256"},
		"pinned twice":    {`{"keys": [{"circuit_hash": "` + h1 + `", "vk_sha256": "` + h2 + `"}, {"circuit_hash": "` + h1 + `", "vk_sha256": "` + h1 + `"}]}`, "keys[1]: circuit " + h1 + " is pinned twice"},
		"not json at all": {`keys: []`, "keys.json"},
	} {
		_, err := ParsePinnedKeys("keys.json", []byte(c.text))
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "keys.json") {
			t.Errorf("%s: got %v, want ErrMalformed naming %q", name, err, c.want)
		}
	}
}
