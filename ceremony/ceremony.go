// Package ceremony runs a multi-party Groth16 setup (gnark's
// backend/groth16/bn254/mpcsetup) as a folder of files, and checks it.
//
// A single-party setup lets whoever ran it forge proofs. In a ceremony each
// participant adds a contribution and throws its secret away; the keys are
// sound if one participant was honest, and anyone can re-verify the whole
// transcript and derive the verifying key from it, instead of trusting the
// prover's copy.
//
// The folder, every file written atomically and never overwritten:
//
//	DIR/phase1/0000.ph1      the initial powers of tau of size N (deterministic)
//	DIR/phase1/0001.ph1 ...  one file per contribution, each from the one before
//	DIR/phase1/srs.bin       after the seal: the circuit-independent SRS
//	DIR/phase1/seal.json     the beacon, the number of contributions, checksums
//	DIR/phase2/circuit.json  the circuit (hash, constraints) phase 2 is for
//	DIR/phase2/0000.ph2 ...  the same chain for the circuit-specific part
//	DIR/phase2/keys.pk, keys.vk, seal.json   after the seal: the Groth16 keys
//
// Each contribution file starts with one text line naming its phase, index,
// domain size and circuit hash ("zkdp-ceremony/v1 phase=1 index=3 domain=1024
// circuit=-"), then gnark's serialization. The header lets a moved, renamed
// or foreign file fail with a clear error before any cryptography; the
// chain itself is bound by gnark's challenges (each contribution commits to
// the hash of the one before). Removing the last contributions cannot be
// detected by anyone: it yields a shorter valid ceremony, so participants
// should check that their own contribution is in the sealed transcript.
package ceremony

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/zkdp/zkdp/prover"
)

// Sentinel errors. Every error of this package wraps one of them (or an
// os error), and names the file it is about.
var (
	// ErrMalformed: a ceremony file cannot be decoded, or its header or size
	// is not what its place in the folder requires.
	ErrMalformed = errors.New("ceremony: malformed file")
	// ErrChain: the numbered files do not form a chain 0000, 0001, ... (a
	// file missing, renamed or moved), or the chain has no contribution.
	ErrChain = errors.New("ceremony: broken contribution chain")
	// ErrInvalidContribution: a contribution does not verify against the
	// one before it (altered, reordered, or not built on its predecessor).
	ErrInvalidContribution = errors.New("ceremony: invalid contribution")
	// ErrCircuitMismatch: phase 2 (or its keys) belong to another circuit
	// than the one given, or phase 1's size does not fit the circuit.
	ErrCircuitMismatch = errors.New("ceremony: phase 2 is for another circuit")
	// ErrBeacon: the beacon given is not the one the phase was sealed with.
	ErrBeacon = errors.New("ceremony: wrong beacon")
	// ErrSealMismatch: a sealed output (srs.bin, keys.vk, keys.pk) is not
	// what the transcript and the beacon yield.
	ErrSealMismatch = errors.New("ceremony: sealed output does not match the transcript")
	// ErrSealed: the phase is sealed; it takes no more contributions.
	ErrSealed = errors.New("ceremony: phase already sealed")
	// ErrNotSealed: the step needs a sealed phase (phase 2 needs phase 1's
	// SRS, proving needs phase 2's keys).
	ErrNotSealed = errors.New("ceremony: phase not sealed yet")
	// ErrExists: the phase was already started in this folder.
	ErrExists = errors.New("ceremony: phase already started")
)

// Phase is 1 (powers of tau, any circuit of the domain size) or 2 (one circuit).
type Phase int

// The two phases.
const (
	Phase1 Phase = 1
	Phase2 Phase = 2
)

// Folder and file names.
const (
	Phase1Dir   = "phase1"
	Phase2Dir   = "phase2"
	SRSFile     = "srs.bin"
	SealFile    = "seal.json"
	CircuitFile = "circuit.json"
	PKFile      = "keys.pk"
	VKFile      = "keys.vk"
)

// MaxDomainLog bounds the domain size read from a file (2^MaxDomainLog), so a
// hostile header cannot make a verifier allocate without limit. 2^26 is far
// above any circuit this project proves.
const MaxDomainLog = 26

// Ceremony is a ceremony folder.
type Ceremony struct {
	Dir    string
	Logger *slog.Logger // nil: slog.Default()
}

func (c *Ceremony) log() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

func (p Phase) dir() string {
	if p == Phase1 {
		return Phase1Dir
	}
	return Phase2Dir
}

func (p Phase) ext() string {
	if p == Phase1 {
		return ".ph1"
	}
	return ".ph2"
}

func (p Phase) valid() error {
	if p != Phase1 && p != Phase2 {
		return fmt.Errorf("ceremony: phase %d: must be 1 or 2", int(p))
	}
	return nil
}

// path is a file of phase p.
func (c *Ceremony) path(p Phase, name string) string { return filepath.Join(c.Dir, p.dir(), name) }

// ContributionPath is where contribution i of phase p lives (0 is the
// initial state).
func (c *Ceremony) ContributionPath(p Phase, i int) string {
	return c.path(p, fmt.Sprintf("%04d%s", i, p.ext()))
}

// chain lists the phase's numbered files, checking that they are exactly
// 0000 .. k with no gap. It returns their paths, the initial state first.
func (c *Ceremony) chain(p Phase) ([]string, error) {
	dir := filepath.Join(c.Dir, p.dir())
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ceremony: phase %d: %w", p, err)
	}
	var paths []string
	for _, e := range entries {
		if filepath.Ext(e.Name()) != p.ext() {
			continue
		}
		want := filepath.Base(c.ContributionPath(p, len(paths)))
		if e.Name() != want {
			return nil, fmt.Errorf("%w: %s: expected %s next (files must be numbered 0000, 0001, ... without gaps)",
				ErrChain, filepath.Join(dir, e.Name()), want)
		}
		paths = append(paths, filepath.Join(dir, e.Name()))
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: %s: no %s files (start the phase first)", ErrChain, dir, p.ext())
	}
	return paths, nil
}

// header is the first line of a contribution file.
func header(p Phase, index int, domain uint64, circuit string) string {
	if circuit == "" {
		circuit = "-"
	}
	return fmt.Sprintf("zkdp-ceremony/v1 phase=%d index=%d domain=%d circuit=%s\n", p, index, domain, circuit)
}

// parseHeader splits a file into its header fields and payload.
func parseHeader(path string, b []byte) (p Phase, index int, domain uint64, circuit string, payload []byte, err error) {
	end := -1
	for i := 0; i < len(b) && i < 256; i++ {
		if b[i] == '\n' {
			end = i
			break
		}
	}
	if end < 0 {
		return 0, 0, 0, "", nil, fmt.Errorf("%w: %s: no zkdp-ceremony header line", ErrMalformed, path)
	}
	line := string(b[:end+1])
	if _, err := fmt.Sscanf(line, "zkdp-ceremony/v1 phase=%d index=%d domain=%d circuit=%s\n", &p, &index, &domain, &circuit); err != nil {
		return 0, 0, 0, "", nil, fmt.Errorf("%w: %s: header %q: %w", ErrMalformed, path, line, err)
	}
	if line != header(p, index, domain, circuit) {
		return 0, 0, 0, "", nil, fmt.Errorf("%w: %s: header %q is not canonical", ErrMalformed, path, line)
	}
	if circuit == "-" {
		circuit = ""
	}
	return p, index, domain, circuit, b[end+1:], nil
}

// readContribution reads a numbered file and checks that its header says
// what its place requires: the phase, its index, the domain and circuit.
func readContribution(path string, p Phase, index int, domain uint64, circuit string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ceremony: %w", err)
	}
	hp, hi, hd, hc, payload, err := parseHeader(path, b)
	if err != nil {
		return nil, err
	}
	if hp != p || hi != index || hd != domain || hc != circuit {
		return nil, fmt.Errorf("%w: %s: header says phase %d, index %d, domain %d, circuit %q; its place needs phase %d, index %d, domain %d, circuit %q",
			ErrChain, path, hp, hi, hd, orDash(hc), p, index, domain, orDash(circuit))
	}
	return payload, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeNew writes a new file atomically and refuses to replace an existing
// one (prover.CreateFileAtomic), so a contribution is never overwritten, even
// when two contributors race.
func writeNew(path string, write func(io.Writer) error) (sum string, err error) {
	sum, err = prover.CreateFileAtomic(path, write)
	if errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("%w: %s exists (a contribution is never overwritten)", ErrExists, path)
	}
	if err != nil {
		return "", fmt.Errorf("ceremony: %w", err)
	}
	return sum, nil
}

// writeReplace is writeNew for files that a rerun may rewrite (a seal's
// outputs, the deterministic initial state).
func writeReplace(path string, write func(io.Writer) error) (string, error) {
	sum, err := prover.WriteFileAtomic(path, write)
	if err != nil {
		return "", fmt.Errorf("ceremony: %w", err)
	}
	return sum, nil
}

// withHeader writes the header line, then the payload.
func withHeader(head string, payload io.WriterTo) func(io.Writer) error {
	return func(w io.Writer) error {
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		_, err := payload.WriteTo(w)
		return err
	}
}

func fileSHA256(path string) (string, error) {
	sum, err := prover.FileSHA256(path)
	if err != nil {
		return "", fmt.Errorf("ceremony: %w", err)
	}
	return sum, nil
}

func sha256Of(v io.WriterTo) (string, error) {
	h := sha256.New()
	if _, err := v.WriteTo(h); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func since(start time.Time) time.Duration { return time.Since(start).Round(time.Millisecond) }
