package fleet

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/zkdp/zkdp/run"
)

// RunKeyFile is the run key's file in a run's private/ folder.
const RunKeyFile = "fleet.key"

// RunKey is the 32-byte secret that seals a run's jobs and results. The
// collector creates it in the run's private/ (mode 0600); workers get a copy
// out of band (a file, a Kubernetes secret).
type RunKey [chacha20poly1305.KeySize]byte

// NewRunKey draws a key from crypto/rand.
func NewRunKey() (RunKey, error) {
	var k RunKey
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("%w: %w", ErrRunKey, err)
	}
	return k, nil
}

// ID names the key (and so the run) in subjects: 16 hex digits of its
// SHA-256, which tell nothing about the key.
func (k RunKey) ID() string {
	h := sha256.Sum256(append([]byte("zkdp/fleet/run-key-id"), k[:]...))
	return hex.EncodeToString(h[:8])
}

// ReadRunKey reads a key file: 64 hex digits. A file that others can read
// is refused: the key opens every job's private witness.
func ReadRunKey(path string) (RunKey, error) {
	var k RunKey
	st, err := os.Stat(path)
	if err != nil {
		return k, fmt.Errorf("%w: %w", ErrRunKey, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return k, fmt.Errorf("%w: %s is readable by others (mode %v; chmod 600 it)", ErrRunKey, path, st.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return k, fmt.Errorf("%w: %w", ErrRunKey, err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(b) != len(k) {
		return k, fmt.Errorf("%w: %s: want %d hex digits", ErrRunKey, path, 2*len(k))
	}
	copy(k[:], b)
	return k, nil
}

// RunKeyOf returns the run key in DIR/private/fleet.key, creating it (0600)
// on first use so that a restarted collector keeps its key.
func RunKeyOf(dir string) (RunKey, string, error) {
	d, err := run.Open(dir)
	if err != nil {
		return RunKey{}, "", err
	}
	path := d.Private(RunKeyFile)
	if _, err := os.Stat(path); err == nil {
		k, err := ReadRunKey(path)
		return k, path, err
	}
	k, err := NewRunKey()
	if err != nil {
		return k, "", err
	}
	if err := run.WriteFile(path, []byte(hex.EncodeToString(k[:])+"\n"), run.PrivateMode); err != nil {
		return k, "", err
	}
	return k, path, nil
}

// seal encrypts and authenticates plain under k, bound to subject (a job
// moved to another step's subject does not open). Output: nonce || box.
func seal(k RunKey, subject string, plain []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return aead.Seal(out, out, plain, []byte(subject)), nil
}

// open reverses seal; any change to the bytes or the subject is ErrSealed.
func open(k RunKey, subject string, box []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return nil, err
	}
	if len(box) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrSealed, len(box))
	}
	plain, err := aead.Open(nil, box[:aead.NonceSize()], box[aead.NonceSize():], []byte(subject))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrSealed, subject)
	}
	return plain, nil
}
