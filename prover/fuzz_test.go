package prover

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// The readers below take files from anyone (a run directory is public): on
// any bytes they must return a value or an error wrapping the package's
// sentinels, never panic nor allocate what a length prefix claims. Seeds: a
// proof of the cubic test circuit here, and the quickstart's step proof and
// verifying key (with a Pedersen commitment) in testdata/fuzz.

// fuzzProof proves the cubic test circuit once and returns the bytes of its
// proof, public witness and sidecar.
func fuzzProof(f *testing.F) (proof, public, meta []byte) {
	f.Helper()
	ccs, pk, vk := fixture(f)
	jobs := makeJobs(f.TempDir(), 1)
	if _, err := ProveAll(context.Background(), ccs, pk, vk, jobs, Options{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		f.Fatal(err)
	}
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	return read(jobs[0].Path), read(PublicPath(jobs[0].Path)), read(MetaPath(jobs[0].Path))
}

// writeFuzz writes b to a fresh file named name.
func writeFuzz(t *testing.T, name string, b []byte) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// addTruncations seeds b and a few of its prefixes.
func addTruncations(f *testing.F, b []byte) {
	for _, n := range []int{len(b), len(b) - 1, len(b) / 2, 4, 0} {
		if n >= 0 && n <= len(b) {
			f.Add(b[:n])
		}
	}
}

func FuzzReadProof(f *testing.F) {
	proof, public, _ := fuzzProof(f)
	_, _, vk := fixture(f)
	addTruncations(f, proof)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := readProof(writeFuzz(t, "step.proof", b))
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v wraps neither ErrInvalidProof nor ErrMalformed", err)
			}
			return
		}
		// A decodable proof goes through verification without panicking,
		// and verifies only if it is the seed proof.
		pub, err := readPublicWitness(writeFuzz(t, "step.public", public))
		if err != nil {
			t.Fatal(err)
		}
		if err := verify(vk, p, pub, false); err == nil && !bytes.Equal(b, proof) {
			t.Fatalf("a proof other than the seed verifies: %x", b)
		} else if err != nil && !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("verify: %v does not wrap ErrInvalidProof", err)
		}
	})
}

func FuzzReadPublicWitness(f *testing.F) {
	_, public, _ := fuzzProof(f)
	addTruncations(f, public)
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := readPublicWitness(writeFuzz(t, "step.public", b))
		if err != nil {
			if !errors.Is(err, ErrInvalidProof) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v wraps neither ErrInvalidProof nor ErrMalformed", err)
			}
			return
		}
		again, err := w.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted %x, which re-encodes as %x (%v)", b, again, err)
		}
	})
}

func FuzzReadVerifyingKey(f *testing.F) {
	_, _, vk := fixture(f)
	var buf bytes.Buffer
	if _, err := vk.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	addTruncations(f, buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		vk, err := ReadVerifyingKey(writeFuzz(t, "step.vk", b))
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		var again bytes.Buffer
		if _, err := vk.WriteTo(&again); err != nil || !bytes.Equal(again.Bytes(), b) {
			t.Fatalf("accepted %x, which re-encodes as %x (%v)", b, again.Bytes(), err)
		}
	})
}

func FuzzReadProofMeta(f *testing.F) {
	_, _, meta := fuzzProof(f)
	addTruncations(f, meta)
	f.Add([]byte(`{"job": 3}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		proofPath := filepath.Join(t.TempDir(), "step.proof")
		if err := os.WriteFile(MetaPath(proofPath), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadProofMeta(proofPath); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
	})
}
