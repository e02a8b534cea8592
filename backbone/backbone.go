// Package backbone names the public feature stages ("backbones") a run may
// put before its DP head: a fixed map, with no weights learned from the
// private rows, from each record to the features the step circuit trains on.
//
// The backbone runs outside the step circuit. The data holder applies it to
// every record, quantizes the result and commits to it (the dataset root D
// is over the features, not the raw records); the run's params carry the
// backbone's Identity, so the params hash commits to which public map was
// meant. The proofs then show DP-SGD on the committed features; that those
// features are the named map of real records is the data holder's claim,
// exactly as the records themselves are.
package backbone

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math"
)

// Identity is what a run's params publish about its backbone: enough for a
// verifier to rebuild the same map and check its weights.
type Identity struct {
	// Name is the backbone family, e.g. "scatternet".
	Name string `json:"name"`
	// Version is the implementation's version: it changes whenever the same
	// configuration would produce different features.
	Version string `json:"version"`
	// Config is the configuration in a canonical text form, e.g.
	// "J=2 L=8 order=1 size=28".
	Config string `json:"config"`
	// Hash is the hex SHA-256 of the weights or filter bank (WeightsHash).
	Hash string `json:"hash"`
	// Features is the output width.
	Features int `json:"features"`
}

// Map is a backbone: a deterministic function from one record's scaled
// features to its backbone features.
type Map interface {
	// Identity names the map for the run's params.
	Identity() Identity
	// InputWidth and OutputWidth are the lengths Apply reads and writes.
	InputWidth() int
	OutputWidth() int
	// FeatureNames names the outputs, in order.
	FeatureNames() []string
	// Apply writes the features of src to dst. It must be safe to call
	// concurrently.
	Apply(dst, src []float64)
}

// WeightsHash is the hex SHA-256 of float64 weights, each as its IEEE 754
// bits in little-endian order: a filter bank's fingerprint that does not
// depend on how it is printed.
func WeightsHash(weights ...[]float64) string {
	h := sha256.New()
	var b [8]byte
	for _, w := range weights {
		for _, v := range w {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// HashReader returns the hex SHA-256 of everything r yields: a weights
// file's fingerprint (GloVe's converted vectors).
func HashReader(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
