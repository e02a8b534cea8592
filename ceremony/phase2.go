package ceremony

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	"github.com/consensys/gnark/constraint"
	cs "github.com/consensys/gnark/constraint/bn254"

	"github.com/zkdp/zkdp/prover"
)

// CircuitInfo is phase2/circuit.json: the circuit phase 2 is for. Every
// phase-2 file carries the same hash in its header.
type CircuitInfo struct {
	Name        string `json:"name"`
	Hash        string `json:"circuit_hash"` // prover.CircuitHash, as in a run's public/circuit.json
	Constraints int    `json:"constraints"`
	DomainSize  uint64 `json:"domain_size"`
	// Phase1SRSSHA256 is the sealed phase 1 this phase 2 was started from.
	Phase1SRSSHA256 string `json:"phase1_srs_sha256"`
}

// ReadCircuit reads phase2/circuit.json.
func (c *Ceremony) ReadCircuit() (CircuitInfo, error) {
	path := c.path(Phase2, CircuitFile)
	var info CircuitInfo
	if err := readJSON(path, &info); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return info, fmt.Errorf("ceremony: phase 2 not started: %w", err)
		}
		return info, err
	}
	if len(info.Hash) != 64 {
		return info, fmt.Errorf("%w: %s: circuit_hash %q", ErrMalformed, path, info.Hash)
	}
	return info, checkDomain(path, info.DomainSize)
}

// checkCircuit compiles nothing: it hashes ccs and checks that phase 2 is
// for it, and that phase 1's domain is the circuit's.
func (c *Ceremony) checkCircuit(ccs constraint.ConstraintSystem) (*cs.R1CS, CircuitInfo, error) {
	hash, err := prover.CircuitHash(ccs) // also rejects anything but BN254 R1CS
	if err != nil {
		return nil, CircuitInfo{}, err
	}
	info, err := c.ReadCircuit()
	if err != nil {
		return nil, info, err
	}
	if info.Hash != hash {
		return nil, info, fmt.Errorf("%w: %s is for circuit %s (%s, %d constraints), not %s (%d constraints)",
			ErrCircuitMismatch, c.path(Phase2, CircuitFile), info.Hash, info.Name, info.Constraints, hash, ccs.GetNbConstraints())
	}
	return ccs.(*cs.R1CS), info, nil
}

// DomainSize is the phase-1 size a circuit needs: the next power of two at
// or above its number of constraints.
func DomainSize(ccs constraint.ConstraintSystem) uint64 {
	return max(ecc.NextPowerOfTwo(uint64(ccs.GetNbConstraints())), 2)
}

// InitPhase2 starts phase 2 for the circuit ccs (name labels it) from the
// sealed phase 1: it writes phase2/0000.ph2 (deterministic, so anyone can
// recompute it) and phase2/circuit.json. Phase 1's domain must be the
// circuit's [DomainSize].
func (c *Ceremony) InitPhase2(ccs constraint.ConstraintSystem, name string) error {
	marker := c.path(Phase2, CircuitFile)
	if exists(marker) {
		return fmt.Errorf("%w: %s", ErrExists, marker)
	}
	hash, err := prover.CircuitHash(ccs)
	if err != nil {
		return err
	}
	commons, seal, err := c.readSRS()
	if err != nil {
		return err
	}
	if want := DomainSize(ccs); seal.DomainSize != want {
		return fmt.Errorf("%w: phase 1 (%s) has domain %d, circuit %s (%d constraints) needs %d",
			ErrCircuitMismatch, c.path(Phase1, SealFile), seal.DomainSize, name, ccs.GetNbConstraints(), want)
	}
	start := time.Now()
	var p mpcsetup.Phase2
	p.Initialize(ccs.(*cs.R1CS), &commons)
	path := c.ContributionPath(Phase2, 0)
	// The initial state is deterministic: a rerun after a crash rewrites it.
	if _, err := writeReplace(path, withHeader(header(Phase2, 0, seal.DomainSize, hash), &p)); err != nil {
		return err
	}
	info := CircuitInfo{Name: name, Hash: hash, Constraints: ccs.GetNbConstraints(), DomainSize: seal.DomainSize, Phase1SRSSHA256: seal.SRSSHA256}
	if err := writeJSON(marker, info); err != nil {
		return err
	}
	c.log().Info("phase 2 started", "circuit", name, "hash", hash, "constraints", info.Constraints, "file", path, "elapsed", since(start))
	return nil
}

// checkPhase2Layout walks the length prefixes of a serialized Phase2
// (compressed points) and checks that they add up to the payload exactly,
// before gnark decodes it and allocates what the prefixes say.
func checkPhase2Layout(b []byte) error {
	take := func(n uint64) bool {
		if uint64(len(b)) < n {
			return false
		}
		b = b[n:]
		return true
	}
	slice := func(elem uint64) bool {
		if len(b) < 4 {
			return false
		}
		n := uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
		return take(n * elem)
	}
	if len(b) < 2 {
		return fmt.Errorf("truncated")
	}
	k := uint64(binary.BigEndian.Uint16(b))
	b = b[2:]
	ok := take(32) && slice(32) && slice(32) && take(64) // δ₁, PKK, Z, δ₂
	for range k {
		ok = ok && slice(32) // σ·CKK
	}
	ok = ok && take(64*k) && take(96*(1+k)) // σ₂, update proofs of δ and σ
	if !ok || len(b) < 1 {
		return fmt.Errorf("truncated or inconsistent lengths")
	}
	if n := uint64(b[0]); n != 0 && n != 32 || uint64(len(b)) != 1+uint64(b[0]) {
		return fmt.Errorf("challenge of %d bytes, %d bytes left", b[0], len(b)-1)
	}
	return nil
}

func decodePhase2(path string, payload []byte) (*mpcsetup.Phase2, error) {
	if err := checkPhase2Layout(payload); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, path, err)
	}
	p := new(mpcsetup.Phase2)
	read, err := p.ReadFrom(bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, path, err)
	}
	if read != int64(len(payload)) {
		return nil, fmt.Errorf("%w: %s: %d trailing bytes", ErrMalformed, path, int64(len(payload))-read)
	}
	return p, nil
}

// verifyPhase2 checks the phase-2 chain of r1cs on top of commons and
// applies the beacon. It recomputes the initial state (the coordinator's
// 0000.ph2 is not trusted) and needs at least one contribution.
func (c *Ceremony) verifyPhase2(r1cs *cs.R1CS, info CircuitInfo, commons *mpcsetup.SrsCommons, beacon []byte) (groth16.ProvingKey, groth16.VerifyingKey, int, string, error) {
	paths, err := c.chain(Phase2)
	if err != nil {
		return nil, nil, 0, "", err
	}
	if len(paths) < 2 {
		return nil, nil, 0, "", fmt.Errorf("%w: phase 2 in %s has no contribution", ErrChain, c.Dir)
	}
	start := time.Now()
	prev := new(mpcsetup.Phase2)
	evals := prev.Initialize(r1cs, commons)
	for i := 1; i < len(paths); i++ {
		payload, err := readContribution(paths[i], Phase2, i, info.DomainSize, info.Hash)
		if err != nil {
			return nil, nil, 0, "", err
		}
		next, err := decodePhase2(paths[i], payload)
		if err != nil {
			return nil, nil, 0, "", err
		}
		if err := prev.Verify(next); err != nil {
			return nil, nil, 0, "", fmt.Errorf("%w: %s: %w", ErrInvalidContribution, paths[i], err)
		}
		prev = next
	}
	lastSum, err := fileSHA256(paths[len(paths)-1])
	if err != nil {
		return nil, nil, 0, "", err
	}
	pk, vk := prev.Seal(commons, &evals, beacon)
	c.log().Info("phase 2 verified", "circuit", info.Name, "contributions", len(paths)-1, "elapsed", since(start))
	return pk, vk, len(paths) - 1, lastSum, nil
}

// SealPhase2 verifies every phase-2 contribution for ccs, applies the beacon
// (fixed after phase 2's last contribution) and writes the Groth16 keys
// phase2/keys.pk, keys.vk and phase2/seal.json. It starts from the sealed
// srs.bin; Verify recomputes that from phase 1's transcript.
func (c *Ceremony) SealPhase2(ccs constraint.ConstraintSystem, beacon []byte) (Seal, error) {
	sealPath := c.path(Phase2, SealFile)
	if exists(sealPath) {
		return Seal{}, fmt.Errorf("%w: %s", ErrSealed, sealPath)
	}
	if len(beacon) == 0 {
		return Seal{}, fmt.Errorf("%w: empty beacon", ErrBeacon)
	}
	r1cs, info, err := c.checkCircuit(ccs)
	if err != nil {
		return Seal{}, err
	}
	commons, _, err := c.readSRS()
	if err != nil {
		return Seal{}, err
	}
	pk, vk, k, lastSum, err := c.verifyPhase2(r1cs, info, &commons, beacon)
	if err != nil {
		return Seal{}, err
	}
	// Raw (uncompressed) proving key: it loads without point decompression.
	pkSum, err := writeReplace(c.path(Phase2, PKFile), func(w io.Writer) error { _, err := pk.WriteRawTo(w); return err })
	if err != nil {
		return Seal{}, err
	}
	vkSum, err := writeReplace(c.path(Phase2, VKFile), func(w io.Writer) error { _, err := vk.WriteTo(w); return err })
	if err != nil {
		return Seal{}, err
	}
	s := Seal{Phase: 2, DomainSize: info.DomainSize, Contributions: k, Beacon: hex.EncodeToString(beacon), LastSHA256: lastSum,
		CircuitHash: info.Hash, PKSHA256: pkSum, VKSHA256: vkSum, Sealed: time.Now().UTC().Format(time.RFC3339)}
	if err := writeJSON(sealPath, s); err != nil {
		return Seal{}, err
	}
	c.log().Info("phase 2 sealed", "circuit", info.Name, "contributions", k, "vk", c.path(Phase2, VKFile), "vk_sha256", vkSum)
	return s, nil
}

// Beacons are the beacons a verifier expects; nil means the one recorded in
// the phase's seal.json (which Verify then reports).
type Beacons struct {
	Phase1, Phase2 []byte
}

// Report says what Verify checked.
type Report struct {
	DomainSize          uint64
	CircuitHash         string
	Constraints         int
	Phase1Contributions int
	Phase2Contributions int
	Phase1Beacon        string // hex
	Phase2Beacon        string // hex
	VKSHA256            string // of vk.WriteTo, as in keys.vk and a run's public/step.vk
}

// Verify re-verifies the whole ceremony for the circuit ccs from its
// transcript alone: phase 1's chain and beacon give the SRS, phase 2's
// chain and beacon on that SRS give the keys. It trusts no sealed output:
// it checks that srs.bin's and the keys' checksums in the seals are what
// it recomputed, and returns the verifying key it derived.
func (c *Ceremony) Verify(ccs constraint.ConstraintSystem, beacons Beacons) (groth16.VerifyingKey, Report, error) {
	r1cs, info, err := c.checkCircuit(ccs)
	if err != nil {
		return nil, Report{}, err
	}
	seal2, beacon2, err := c.readSeal(Phase2, beacons.Phase2)
	if err != nil {
		return nil, Report{}, err
	}
	commons, seal1, err := c.VerifyPhase1(beacons.Phase1)
	if err != nil {
		return nil, Report{}, err
	}
	if info.Phase1SRSSHA256 != seal1.SRSSHA256 || info.DomainSize != seal1.DomainSize {
		return nil, Report{}, fmt.Errorf("%w: %s: phase 2 was started from phase-1 SRS %s, the transcript yields %s",
			ErrSealMismatch, c.path(Phase2, CircuitFile), info.Phase1SRSSHA256, seal1.SRSSHA256)
	}
	pk, vk, k, lastSum, err := c.verifyPhase2(r1cs, info, &commons, beacon2)
	if err != nil {
		return nil, Report{}, err
	}
	if k != seal2.Contributions || lastSum != seal2.LastSHA256 || seal2.CircuitHash != info.Hash {
		return nil, Report{}, fmt.Errorf("%w: %s: sealed %d contributions (last %s), the folder holds %d (last %s)",
			ErrSealMismatch, c.path(Phase2, SealFile), seal2.Contributions, seal2.LastSHA256, k, lastSum)
	}
	vkSum, err := sha256Of(vk)
	if err != nil {
		return nil, Report{}, err
	}
	pkSum, err := sha256Of(rawWriter{pk})
	if err != nil {
		return nil, Report{}, err
	}
	if vkSum != seal2.VKSHA256 || pkSum != seal2.PKSHA256 {
		return nil, Report{}, fmt.Errorf("%w: %s: the transcript and beacon yield keys with sha256 %s (pk) and %s (vk), the seal says %s and %s",
			ErrSealMismatch, c.path(Phase2, SealFile), pkSum, vkSum, seal2.PKSHA256, seal2.VKSHA256)
	}
	return vk, Report{DomainSize: info.DomainSize, CircuitHash: info.Hash, Constraints: info.Constraints,
		Phase1Contributions: seal1.Contributions, Phase2Contributions: k,
		Phase1Beacon: seal1.Beacon, Phase2Beacon: seal2.Beacon, VKSHA256: vkSum}, nil
}

// rawWriter serializes a proving key as keys.pk holds it.
type rawWriter struct{ pk groth16.ProvingKey }

func (r rawWriter) WriteTo(w io.Writer) (int64, error) { return r.pk.WriteRawTo(w) }
