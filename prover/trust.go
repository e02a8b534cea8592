package prover

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"
)

// ErrUntrustedKey: a verifying key comes from no source the verifier trusts
// (a ceremony transcript, a pinned hash), or differs from the trusted one.
// A key the prover made itself is accepted only under [KeyTrust].Dev.
var ErrUntrustedKey = errors.New("the verifying key is not a trusted one")

// Trust says where an accepted verifying key's trust comes from, weakest first.
type Trust int

// The sources of trust.
const (
	// TrustDev: the prover's own key, accepted under KeyTrust.Dev. Whoever
	// ran its setup can forge proofs: the result proves nothing to a third party.
	TrustDev Trust = iota + 1
	// TrustPinned: the key's sha256 is pinned in a file the verifier named.
	TrustPinned
	// TrustDerived: the verifier derived the key itself (a ceremony transcript).
	TrustDerived
)

// DevWarning ends every line that reports a success under TrustDev.
const DevWarning = "VERIFIED WITH DEVELOPMENT KEYS: proves nothing to a third party"

func (t Trust) String() string {
	switch t {
	case TrustDev:
		return "development"
	case TrustPinned:
		return "pinned"
	case TrustDerived:
		return "derived"
	}
	return "untrusted"
}

// KeyTrust is a verifier's rule for which verifying key of a circuit it
// accepts. The circuit is always the one the verifier compiled itself
// (hash is its [CircuitHash]), never one a prover names.
type KeyTrust struct {
	// Derive, when set, derives the trusted key of ccs itself, e.g. from a
	// ceremony transcript (package ceremony); a key it returns is
	// authoritative: the prover's key must equal it byte for byte. A nil key
	// and nil error mean that this source has no key of the circuit.
	Derive func(ccs constraint.ConstraintSystem, hash string) (groth16.VerifyingKey, error)
	// Pinned maps circuit hashes to the sha256 of their trusted keys.
	Pinned *PinnedKeys
	// Dev accepts the prover's own key for a circuit no other source knows.
	Dev bool
}

// Check decides whether the verifying key at vkPath (written by
// [WriteVerifyingKey]) is trusted for ccs, and returns it decoded, with the
// source of its trust. A key from Derive decides; otherwise a pin of hash;
// otherwise Dev.
// A key from no source, or other than the trusted one, yields an error
// wrapping [ErrUntrustedKey].
func (k KeyTrust) Check(vkPath string, ccs constraint.ConstraintSystem, hash string) (groth16.VerifyingKey, Trust, error) {
	raw, err := readCapped(vkPath, maxVKBytes)
	if err != nil {
		return nil, 0, err
	}
	got := sha256.Sum256(raw)
	var derived groth16.VerifyingKey
	if k.Derive != nil {
		if derived, err = k.Derive(ccs, hash); err != nil {
			return nil, 0, err
		}
	}
	switch {
	case derived != nil:
		vk := derived
		var want bytes.Buffer
		if _, err := vk.WriteTo(&want); err != nil {
			return nil, 0, fmt.Errorf("serializing the trusted verifying key: %w", err)
		}
		if !bytes.Equal(raw, want.Bytes()) {
			return nil, 0, fmt.Errorf("%w: %s (sha256 %x) is not the verifying key derived from the trusted source (sha256 %x)",
				ErrUntrustedKey, vkPath, got, sha256.Sum256(want.Bytes()))
		}
		return vk, TrustDerived, nil
	case k.Pinned.Has(hash):
		pin := k.Pinned.byHash[hash]
		if hex.EncodeToString(got[:]) != pin.VKSHA256 {
			return nil, 0, fmt.Errorf("%w: %s has sha256 %x, %s pins %s for circuit %s (%s)",
				ErrUntrustedKey, vkPath, got, k.Pinned.Source, pin.VKSHA256, hash, pin.Circuit)
		}
		vk, err := decodeVerifyingKey(vkPath, raw)
		return vk, TrustPinned, err
	case k.Dev:
		vk, err := decodeVerifyingKey(vkPath, raw)
		return vk, TrustDev, err
	}
	return nil, 0, fmt.Errorf("%w: no trusted key for circuit %s (%s, sha256 %x, was made by the prover): derive it from a ceremony, pin its sha256 in a trusted-keys file, or accept development keys explicitly",
		ErrUntrustedKey, hash, vkPath, got)
}

// PinnedKey is one entry of a trusted-keys file.
type PinnedKey struct {
	// Circuit names the circuit for people (e.g. step/quickstart); only
	// CircuitHash is matched.
	Circuit string `json:"circuit"`
	// CircuitHash is the circuit's [CircuitHash], which the verifier recomputes.
	CircuitHash string `json:"circuit_hash"`
	// VKSHA256 is the sha256 of the trusted verifying key file's bytes
	// ([WriteVerifyingKey]'s format, as a ceremony's seal.json records it).
	VKSHA256 string `json:"vk_sha256"`
}

// PinnedKeys is a trusted-keys file: a JSON object
//
//	{"keys": [{"circuit": "step/quickstart", "circuit_hash": "<64 hex>", "vk_sha256": "<64 hex>"}, ...]}
//
// listing, for each circuit the verifier trusts a key of, the sha256 of that
// key. Unknown fields, trailing data and two pins of one circuit are errors.
type PinnedKeys struct {
	Keys   []PinnedKey `json:"keys"`
	Source string      `json:"-"` // the file, for error messages
	byHash map[string]PinnedKey
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ReadPinnedKeys reads and checks a trusted-keys file ([PinnedKeys]).
func ReadPinnedKeys(path string) (*PinnedKeys, error) {
	b, err := readCapped(path, maxMetaBytes*16)
	if err != nil {
		return nil, err
	}
	return ParsePinnedKeys(path, b)
}

// ParsePinnedKeys parses a trusted-keys file's contents; source names it in errors.
func ParsePinnedKeys(source string, b []byte) (*PinnedKeys, error) {
	p := &PinnedKeys{Source: source}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, source, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: %s: data after the JSON value", ErrMalformed, source)
	}
	p.byHash = make(map[string]PinnedKey, len(p.Keys))
	for i, k := range p.Keys {
		for field, v := range map[string]string{"circuit_hash": k.CircuitHash, "vk_sha256": k.VKSHA256} {
			if !hex64.MatchString(v) {
				return nil, fmt.Errorf("%w: %s: keys[%d].%s: %q is not 64 lowercase hex digits", ErrMalformed, source, i, field, v)
			}
		}
		if _, dup := p.byHash[k.CircuitHash]; dup {
			return nil, fmt.Errorf("%w: %s: keys[%d]: circuit %s is pinned twice", ErrMalformed, source, i, k.CircuitHash)
		}
		p.byHash[k.CircuitHash] = k
	}
	return p, nil
}

// Has reports whether a key of the circuit with this hash is pinned.
func (p *PinnedKeys) Has(circuitHash string) bool {
	if p == nil {
		return false
	}
	_, ok := p.byHash[circuitHash]
	return ok
}

// Pin returns the pin of a verifying key file for a circuit: the entry a
// trusted-keys file lists for it.
func Pin(name, circuitHash, vkPath string) (PinnedKey, error) {
	sum, err := FileSHA256(vkPath)
	return PinnedKey{Circuit: name, CircuitHash: circuitHash, VKSHA256: sum}, err
}
