package stepproof

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/run"
)

// FuzzReadPublic gives readPublic, which every verifier runs first, an
// arbitrary params.json and transcript.json: never a panic; a failure wraps
// run.ErrMalformed (undecodable or inconsistent files) or ErrChain (files
// that do not commit to each other); a success has valid params and one
// model commitment per step boundary. Seeds (testdata/fuzz): the quickstart's.
func FuzzReadPublic(f *testing.F) {
	f.Add([]byte(`{}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, params, transcript []byte) {
		root := t.TempDir()
		pub := filepath.Join(root, run.PublicDir)
		if err := os.MkdirAll(pub, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range map[string][]byte{run.ParamsFile: params, run.TranscriptFile: transcript} {
			if err := os.WriteFile(filepath.Join(pub, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		p, err := ReadPublic(root)
		if err != nil {
			if !errors.Is(err, run.ErrMalformed) && !errors.Is(err, ErrChain) {
				t.Fatalf("error %v wraps neither run.ErrMalformed nor ErrChain", err)
			}
			return
		}
		if err := p.Params.Validate(); err != nil {
			t.Fatalf("accepted invalid params: %v", err)
		}
		if len(p.Models) != p.Params.Steps+1 {
			t.Fatalf("%d model commitments for %d steps", len(p.Models), p.Params.Steps)
		}
		if h, _ := p.Params.Hash(); commit.Hex(h) != p.Transcript.ParamsHash {
			t.Fatalf("params hash %s, transcript %s", commit.Hex(h), p.Transcript.ParamsHash)
		}
	})
}
