// Package backbone describes a public feature stage: the frozen map from a
// raw record to the features a DP head trains on. It runs outside the step
// circuit; the data commitment D binds each record's quantized features, and
// the run's params bind the backbone's Identity, so a verifier knows which
// public map produced them. The map's correctness on the private records is
// the data holder's claim, as the records themselves are.
package backbone

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
)

// Identity names a public backbone for the run's params: what it is, which
// version, how it is configured and a hash of its weights (or filter bank).
type Identity struct {
	Name          string            `json:"name"`           // e.g. "glove-6b-100d"
	Version       string            `json:"version"`        // e.g. the npm package version it was converted from
	Config        map[string]string `json:"config"`         // every setting that changes the features
	WeightsSHA256 string            `json:"weights_sha256"` // sha256 of the weights file the features were computed from
}

// HashReader returns the hex sha256 of everything r yields.
func HashReader(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
