package ceremony

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
)

// Seal is a phase's seal.json: what the phase was sealed with and what it
// yielded. A verifier recomputes the outputs and compares the checksums.
type Seal struct {
	Phase         int    `json:"phase"`
	DomainSize    uint64 `json:"domain_size"`
	Contributions int    `json:"contributions"`
	// Beacon is the hex of the public randomness fixed after the last
	// contribution; it seeds a final, reproducible contribution.
	Beacon     string `json:"beacon"`
	LastSHA256 string `json:"last_contribution_sha256"`
	// SRSSHA256 (phase 1) is the sha256 of srs.bin.
	SRSSHA256 string `json:"srs_sha256,omitempty"`
	// CircuitHash, PKSHA256 and VKSHA256 (phase 2) name the circuit and the keys.
	CircuitHash string `json:"circuit_hash,omitempty"`
	PKSHA256    string `json:"pk_sha256,omitempty"`
	VKSHA256    string `json:"vk_sha256,omitempty"`
	Sealed      string `json:"sealed"`
}

// phase1Size is the length of a serialized Phase1 of domain n (compressed
// points): three update proofs (G1 + G2 each), n, [β]₂, 2n-2 [τⁱ]₁, n-1
// [τⁱ]₂, n [βτⁱ]₁, n [ατⁱ]₁, then the challenge with its length byte.
func phase1Size(n uint64, challenge int) uint64 {
	return 3*(32+64) + 8 + 64 + (2*n-2)*32 + (n-1)*64 + 2*n*32 + 1 + uint64(challenge)
}

// phase1NOffset is where n sits in a serialized Phase1.
const phase1NOffset = 3 * (32 + 64)

// checkDomain rejects a domain size that is not a power of two in [2, 2^MaxDomainLog].
func checkDomain(path string, n uint64) error {
	if n < 2 || n > 1<<MaxDomainLog || ecc.NextPowerOfTwo(n) != n {
		return fmt.Errorf("%w: %s: domain size %d, want a power of two in [2, 2^%d]", ErrMalformed, path, n, MaxDomainLog)
	}
	return nil
}

// decodePhase1 decodes a phase-1 payload of domain n. The size is checked
// first, so a hostile file cannot make gnark allocate for a larger domain;
// points are decoded with gnark's curve and subgroup checks.
func decodePhase1(path string, payload []byte, n uint64) (*mpcsetup.Phase1, error) {
	size := uint64(len(payload))
	if size != phase1Size(n, 0) && size != phase1Size(n, 32) {
		return nil, fmt.Errorf("%w: %s: %d bytes, a phase-1 file of domain %d has %d (initial) or %d", ErrMalformed, path, size, n, phase1Size(n, 0), phase1Size(n, 32))
	}
	if got := binary.BigEndian.Uint64(payload[phase1NOffset:]); got != n {
		return nil, fmt.Errorf("%w: %s: encodes domain %d, header says %d", ErrMalformed, path, got, n)
	}
	p := new(mpcsetup.Phase1)
	read, err := p.ReadFrom(bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, path, err)
	}
	if read != int64(len(payload)) {
		return nil, fmt.Errorf("%w: %s: %d trailing bytes", ErrMalformed, path, int64(len(payload))-read)
	}
	return p, nil
}

// InitPhase1 starts phase 1 (powers of tau) for circuits of up to n
// constraints, n a power of two: it writes phase1/0000.ph1, the
// deterministic initial state. It refuses a folder whose phase 1 exists.
func (c *Ceremony) InitPhase1(n uint64) error {
	path := c.ContributionPath(Phase1, 0)
	if err := checkDomain(path, n); err != nil {
		return err
	}
	if exists(path) {
		return fmt.Errorf("%w: %s", ErrExists, path)
	}
	start := time.Now()
	p := mpcsetup.NewPhase1(n)
	if _, err := writeNew(path, withHeader(header(Phase1, 0, n, ""), p)); err != nil {
		return err
	}
	c.log().Info("phase 1 started", "file", path, "domain", n, "elapsed", since(start))
	return nil
}

// domain1 reads phase 1's domain size from the header of 0000.ph1.
func (c *Ceremony) domain1() (uint64, error) {
	path := c.ContributionPath(Phase1, 0)
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("ceremony: phase 1 not started: %w", err)
	}
	defer f.Close()
	head := make([]byte, 256)
	nr, _ := io.ReadFull(f, head)
	p, index, n, circuit, _, err := parseHeader(path, head[:nr])
	if err != nil {
		return 0, err
	}
	if p != Phase1 || index != 0 || circuit != "" {
		return 0, fmt.Errorf("%w: %s: header is not phase 1's initial state", ErrChain, path)
	}
	return n, checkDomain(path, n)
}

// Contribute adds one contribution to phase p: it reads the last file,
// mixes in fresh randomness (gnark draws it from crypto/rand and forgets it)
// and writes the next numbered file. It returns that file's path and sha256,
// which the participant should publish so that anyone can check that the
// sealed transcript contains it.
func (c *Ceremony) Contribute(p Phase) (path, sum string, err error) {
	if err := p.valid(); err != nil {
		return "", "", err
	}
	if seal := c.path(p, SealFile); exists(seal) {
		return "", "", fmt.Errorf("%w: %s", ErrSealed, seal)
	}
	paths, err := c.chain(p)
	if err != nil {
		return "", "", err
	}
	last := len(paths) - 1
	start := time.Now()
	var next io.WriterTo
	var domain uint64
	var circuit string
	switch p {
	case Phase1:
		if domain, err = c.domain1(); err != nil {
			return "", "", err
		}
		payload, err := readContribution(paths[last], p, last, domain, "")
		if err != nil {
			return "", "", err
		}
		state, err := decodePhase1(paths[last], payload, domain)
		if err != nil {
			return "", "", err
		}
		state.Contribute()
		next = state
	case Phase2:
		info, err := c.ReadCircuit()
		if err != nil {
			return "", "", err
		}
		domain, circuit = info.DomainSize, info.Hash
		payload, err := readContribution(paths[last], p, last, domain, circuit)
		if err != nil {
			return "", "", err
		}
		state, err := decodePhase2(paths[last], payload)
		if err != nil {
			return "", "", err
		}
		state.Contribute()
		next = state
	}
	path = c.ContributionPath(p, last+1)
	if sum, err = writeNew(path, withHeader(header(p, last+1, domain, circuit), next)); err != nil {
		return "", "", err
	}
	c.log().Info("contribution written", "phase", int(p), "file", path, "sha256", sum, "elapsed", since(start))
	return path, sum, nil
}

// verifyPhase1 checks the phase-1 chain and applies the beacon; it returns
// the SRS and the number of contributions. At least one contribution is
// required: with none, the SRS would come from the public beacon alone.
func (c *Ceremony) verifyPhase1(beacon []byte) (mpcsetup.SrsCommons, int, string, error) {
	n, err := c.domain1()
	if err != nil {
		return mpcsetup.SrsCommons{}, 0, "", err
	}
	paths, err := c.chain(Phase1)
	if err != nil {
		return mpcsetup.SrsCommons{}, 0, "", err
	}
	if len(paths) < 2 {
		return mpcsetup.SrsCommons{}, 0, "", fmt.Errorf("%w: phase 1 in %s has no contribution", ErrChain, c.Dir)
	}
	start := time.Now()
	prev := mpcsetup.NewPhase1(n)
	for i := 1; i < len(paths); i++ {
		payload, err := readContribution(paths[i], Phase1, i, n, "")
		if err != nil {
			return mpcsetup.SrsCommons{}, 0, "", err
		}
		next, err := decodePhase1(paths[i], payload, n)
		if err != nil {
			return mpcsetup.SrsCommons{}, 0, "", err
		}
		if err := prev.Verify(next); err != nil {
			return mpcsetup.SrsCommons{}, 0, "", fmt.Errorf("%w: %s: %w", ErrInvalidContribution, paths[i], err)
		}
		prev = next
	}
	lastSum, err := fileSHA256(paths[len(paths)-1])
	if err != nil {
		return mpcsetup.SrsCommons{}, 0, "", err
	}
	commons := prev.Seal(beacon)
	c.log().Info("phase 1 verified", "domain", n, "contributions", len(paths)-1, "elapsed", since(start))
	return commons, len(paths) - 1, lastSum, nil
}

// SealPhase1 verifies every phase-1 contribution, applies the beacon (public
// randomness fixed after the last contribution, e.g. a later block's hash)
// and writes phase1/srs.bin and phase1/seal.json. Phase 1 then takes no
// more contributions.
func (c *Ceremony) SealPhase1(beacon []byte) (Seal, error) {
	sealPath := c.path(Phase1, SealFile)
	if exists(sealPath) {
		return Seal{}, fmt.Errorf("%w: %s", ErrSealed, sealPath)
	}
	if len(beacon) == 0 {
		return Seal{}, fmt.Errorf("%w: empty beacon", ErrBeacon)
	}
	commons, k, lastSum, err := c.verifyPhase1(beacon)
	if err != nil {
		return Seal{}, err
	}
	srsSum, err := writeReplace(c.path(Phase1, SRSFile), func(w io.Writer) error { _, err := commons.WriteTo(w); return err })
	if err != nil {
		return Seal{}, err
	}
	s := Seal{Phase: 1, DomainSize: uint64(len(commons.G1.AlphaTau)), Contributions: k, Beacon: hex.EncodeToString(beacon),
		LastSHA256: lastSum, SRSSHA256: srsSum, Sealed: time.Now().UTC().Format(time.RFC3339)}
	if err := writeJSON(sealPath, s); err != nil {
		return Seal{}, err
	}
	c.log().Info("phase 1 sealed", "contributions", k, "srs", c.path(Phase1, SRSFile), "sha256", srsSum)
	return s, nil
}

// VerifyPhase1 re-verifies phase 1 from its transcript: every contribution
// against the one before, then the beacon, and checks that the recomputed
// SRS is the sealed one. beacon nil means the one recorded in seal.json;
// otherwise it must be that one (ErrBeacon).
func (c *Ceremony) VerifyPhase1(beacon []byte) (mpcsetup.SrsCommons, Seal, error) {
	seal, beacon, err := c.readSeal(Phase1, beacon)
	if err != nil {
		return mpcsetup.SrsCommons{}, seal, err
	}
	commons, k, lastSum, err := c.verifyPhase1(beacon)
	if err != nil {
		return mpcsetup.SrsCommons{}, seal, err
	}
	if k != seal.Contributions || lastSum != seal.LastSHA256 {
		return mpcsetup.SrsCommons{}, seal, fmt.Errorf("%w: %s: sealed %d contributions (last %s), the folder holds %d (last %s)",
			ErrSealMismatch, c.path(Phase1, SealFile), seal.Contributions, seal.LastSHA256, k, lastSum)
	}
	sum, err := sha256Of(&commons)
	if err != nil {
		return mpcsetup.SrsCommons{}, seal, err
	}
	if sum != seal.SRSSHA256 {
		return mpcsetup.SrsCommons{}, seal, fmt.Errorf("%w: %s: the transcript and beacon yield an SRS with sha256 %s, the seal says %s",
			ErrSealMismatch, c.path(Phase1, SealFile), sum, seal.SRSSHA256)
	}
	return commons, seal, nil
}

// readSeal reads a phase's seal and settles the beacon: the recorded one if
// beacon is nil, else beacon, which must equal it.
func (c *Ceremony) readSeal(p Phase, beacon []byte) (Seal, []byte, error) {
	path := c.path(p, SealFile)
	var s Seal
	if err := readJSON(path, &s); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return s, nil, fmt.Errorf("%w: %s: %w", ErrNotSealed, path, err)
		}
		return s, nil, err
	}
	recorded, err := hex.DecodeString(s.Beacon)
	if err != nil || len(recorded) == 0 || s.Phase != int(p) {
		return s, nil, fmt.Errorf("%w: %s: phase %d, beacon %q", ErrMalformed, path, s.Phase, s.Beacon)
	}
	if beacon != nil && !bytes.Equal(beacon, recorded) {
		return s, nil, fmt.Errorf("%w: phase %d was sealed with beacon %s (%s), not %s", ErrBeacon, p, s.Beacon, path, hex.EncodeToString(beacon))
	}
	return s, recorded, nil
}

// readSRS loads phase1/srs.bin, checked against the seal. It is the
// coordinator's own output; a verifier recomputes it instead (VerifyPhase1).
func (c *Ceremony) readSRS() (mpcsetup.SrsCommons, Seal, error) {
	var commons mpcsetup.SrsCommons
	seal, _, err := c.readSeal(Phase1, nil)
	if err != nil {
		return commons, seal, err
	}
	path := c.path(Phase1, SRSFile)
	if err := checkDomain(c.path(Phase1, SealFile), seal.DomainSize); err != nil {
		return commons, seal, err
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return commons, seal, err
	}
	if sum != seal.SRSSHA256 {
		return commons, seal, fmt.Errorf("%w: %s: sha256 %s, the seal says %s", ErrSealMismatch, path, sum, seal.SRSSHA256)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return commons, seal, fmt.Errorf("ceremony: %w", err)
	}
	if want := phase1Size(seal.DomainSize, 0) - 3*(32+64) - 1; uint64(len(b)) != want {
		return commons, seal, fmt.Errorf("%w: %s: %d bytes, want %d", ErrMalformed, path, len(b), want)
	}
	if _, err := commons.ReadFrom(bytes.NewReader(b)); err != nil {
		return commons, seal, fmt.Errorf("%w: %s: %w", ErrMalformed, path, err)
	}
	return commons, seal, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("ceremony: encoding %s: %w", path, err)
	}
	// written once: a second seal, or a second start of phase 2, fails with ErrExists
	_, err = writeNew(path, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err })
	return err
}
