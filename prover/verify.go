package prover

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/solidity"
	"github.com/consensys/gnark/backend/witness"
)

// Size caps for files decoded in memory: far above any real proof or public
// witness, low enough that a hostile file cannot exhaust memory.
const (
	maxProofBytes   = 1 << 20
	maxPublicBytes  = 64 << 20
	maxVKBytes      = 64 << 20
	maxMetaBytes    = 64 << 10
	frBytes         = 32 // a serialized BN254 scalar
	witnessHeader   = 12 // nbPublic, nbSecret, vector length: uint32 each
	metaSuffix      = ".meta.json"
	publicExtension = ".public"
)

// PublicPath returns where the public witness of the proof at proofPath lives:
// the proof's path with its extension replaced by ".public"
// (step-0007.proof -> step-0007.public).
func PublicPath(proofPath string) string {
	return strings.TrimSuffix(proofPath, filepath.Ext(proofPath)) + publicExtension
}

// MetaPath returns the path of the proof's sidecar ([ProofMeta]):
// step-0007.proof -> step-0007.meta.json.
func MetaPath(proofPath string) string {
	return strings.TrimSuffix(proofPath, filepath.Ext(proofPath)) + metaSuffix
}

// ProofMeta is the sidecar written next to each proof. It holds only public
// data; Solidity records the prover mode, which the verifier must match.
type ProofMeta struct {
	Job      string `json:"job"`
	Solidity bool   `json:"solidity_compatible"`
	VKSHA256 string `json:"vk_sha256"`
	Created  string `json:"created"`
}

// ReadProofMeta reads the sidecar of the proof at proofPath.
func ReadProofMeta(proofPath string) (ProofMeta, error) {
	var m ProofMeta
	b, err := readCapped(MetaPath(proofPath), maxMetaBytes)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %w", ErrMalformed, MetaPath(proofPath), err)
	}
	return m, nil
}

// VerifyProof checks the Groth16 proof at proofPath against vk and the public
// witness at publicPath, reading only those public files. solidity must match
// the mode the proof was made in (see [ProofMeta]). A proof that does not
// verify, or a proof or public witness that cannot be decoded, yields an
// error wrapping [ErrInvalidProof] (and [ErrMalformed] for decoding errors).
func VerifyProof(vk groth16.VerifyingKey, proofPath, publicPath string, solidity bool) error {
	if vk == nil || vk.CurveID() != ecc.BN254 {
		return fmt.Errorf("%w: verifying key", ErrUnsupported)
	}
	proof, err := readProof(proofPath)
	if err != nil {
		return err
	}
	pub, err := readPublicWitness(publicPath)
	if err != nil {
		return err
	}
	return verify(vk, proof, pub, solidity)
}

// VerifyProofFile is [VerifyProof] with the public witness at
// [PublicPath](proofPath) and the mode read from the proof's sidecar.
func VerifyProofFile(vk groth16.VerifyingKey, proofPath string) error {
	m, err := ReadProofMeta(proofPath)
	if err != nil {
		return err
	}
	return VerifyProof(vk, proofPath, PublicPath(proofPath), m.Solidity)
}

func verifierOptions(sol bool) []backend.VerifierOption {
	if sol {
		return []backend.VerifierOption{solidity.WithVerifierTargetSolidityVerifier(backend.GROTH16)}
	}
	return nil
}

func proverOptions(sol bool) []backend.ProverOption {
	if sol {
		return []backend.ProverOption{solidity.WithProverTargetSolidityVerifier(backend.GROTH16)}
	}
	return nil
}

func verify(vk groth16.VerifyingKey, proof groth16.Proof, pub witness.Witness, sol bool) error {
	if err := groth16.Verify(proof, vk, pub, verifierOptions(sol)...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	return nil
}

func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIO, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrIO, path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrMalformed, path, max)
	}
	return b, nil
}

// invalidIfMalformed marks an undecodable proof or public witness as an
// invalid proof too, so callers need test only ErrInvalidProof.
func invalidIfMalformed(err error) error {
	if errors.Is(err, ErrMalformed) {
		return fmt.Errorf("%w: %w", ErrInvalidProof, err)
	}
	return err
}

// ReadProof reads a BN254 Groth16 proof written by [ProveAll], checking its
// layout before decoding; errors wrap [ErrInvalidProof].
func ReadProof(path string) (groth16.Proof, error) { return readProof(path) }

// ReadPublicWitness reads a public witness written by [ProveAll].
func ReadPublicWitness(path string) (witness.Witness, error) { return readPublicWitness(path) }

func readProof(path string) (groth16.Proof, error) {
	b, err := readCapped(path, maxProofBytes)
	if err != nil {
		return nil, invalidIfMalformed(err)
	}
	// Check the layout of a compressed BN254 proof (A | B | C | #commitments |
	// commitments | PoK) before gnark decodes it: a corrupted commitment count
	// would otherwise make it allocate up to 2^32 points.
	const g1, head = 32, 32 + 64 + 32 // compressed G1, A|B|C
	if len(b) < head+4 {
		return nil, fmt.Errorf("%w: %w: %s: truncated proof", ErrInvalidProof, ErrMalformed, path)
	}
	nbCommit := int64(binary.BigEndian.Uint32(b[head : head+4]))
	if int64(len(b)) != head+4+nbCommit*g1+g1 {
		return nil, fmt.Errorf("%w: %w: %s: proof size does not match its %d commitments", ErrInvalidProof, ErrMalformed, path, nbCommit)
	}
	proof := groth16.NewProof(ecc.BN254)
	n, err := proof.ReadFrom(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %s: %w", ErrInvalidProof, ErrMalformed, path, err)
	}
	if n != int64(len(b)) {
		return nil, fmt.Errorf("%w: %w: %s: %d trailing bytes", ErrInvalidProof, ErrMalformed, path, int64(len(b))-n)
	}
	return proof, nil
}

// readPublicWitness decodes a public witness written by witness.WriteTo,
// checking its header against the file size before gnark allocates anything.
func readPublicWitness(path string) (witness.Witness, error) {
	b, err := readCapped(path, maxPublicBytes)
	if err != nil {
		return nil, invalidIfMalformed(err)
	}
	bad := func(why string) error {
		return fmt.Errorf("%w: %w: %s: %s", ErrInvalidProof, ErrMalformed, path, why)
	}
	if len(b) < witnessHeader {
		return nil, bad("truncated public witness")
	}
	nbPublic := binary.BigEndian.Uint32(b[0:4])
	nbSecret := binary.BigEndian.Uint32(b[4:8])
	n := binary.BigEndian.Uint32(b[8:12])
	if nbSecret != 0 {
		return nil, bad("witness has secret values: not a public witness")
	}
	if n != nbPublic || int64(len(b)) != witnessHeader+int64(n)*frBytes {
		return nil, bad("public witness header does not match its size")
	}
	w, err := witness.New(ecc.BN254.ScalarField())
	if err != nil {
		return nil, fmt.Errorf("new witness: %w", err)
	}
	if err := w.UnmarshalBinary(b); err != nil {
		return nil, bad(err.Error())
	}
	return w, nil
}

// WriteVerifyingKey writes vk (compressed, gnark's WriteTo format)
// atomically to path.
func WriteVerifyingKey(path string, vk groth16.VerifyingKey) error {
	if vk == nil {
		return fmt.Errorf("%w: nil verifying key", ErrUnsupported)
	}
	_, err := WriteFileAtomic(path, func(w io.Writer) error { _, err := vk.WriteTo(w); return err })
	return err
}

// ReadVerifyingKey reads a BN254 verifying key written by [WriteVerifyingKey],
// with full point checks (it may come from anyone).
func ReadVerifyingKey(path string) (groth16.VerifyingKey, error) {
	b, err := readCapped(path, maxVKBytes)
	if err != nil {
		return nil, err
	}
	return decodeVerifyingKey(path, b)
}

// decodeVerifyingKey decodes the bytes b of the key file at path.
func decodeVerifyingKey(path string, b []byte) (groth16.VerifyingKey, error) {
	if err := checkVKLayout(b); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, path, err)
	}
	vk := groth16.NewVerifyingKey(ecc.BN254)
	n, err := vk.ReadFrom(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, path, err)
	}
	if n != int64(len(b)) {
		return nil, fmt.Errorf("%w: %s: %d trailing bytes", ErrMalformed, path, int64(len(b))-n)
	}
	return vk, nil
}

// checkVKLayout checks that b has the layout of a compressed BN254 verifying
// key (gnark's WriteTo) before gnark decodes it: gnark sizes its slices by
// the key's uint32 length prefixes, so a hostile file could otherwise make
// it allocate up to 2^32 points or lists (about 100 GB).
//
//	[α]1 [β]1 [β]2 [γ]2 [δ]1 [δ]2 | n, [K]1 x n | m, (k, uint64 x k) x m | c, ([G]2 [Gσ]2) x c
func checkVKLayout(b []byte) error {
	const g1, g2 = 32, 64 // compressed points
	r := layoutReader{b: b}
	for _, size := range []int{g1, g1, g2, g2, g1, g2} {
		r.point(size)
	}
	r.points(r.count(g1), g1)
	lists := r.count(4)
	for range lists {
		r.skip(r.count(8) * 8)
	}
	commitments := r.count(2 * g2)
	r.points(2*commitments, g2)
	if r.err == nil && r.off != len(b) {
		r.err = fmt.Errorf("%d bytes after the last commitment key", len(b)-r.off)
	}
	return r.err
}

// layoutReader walks a serialized key; its first error sticks.
type layoutReader struct {
	b   []byte
	off int
	err error
}

func (r *layoutReader) skip(n int) {
	if r.err == nil && n > len(r.b)-r.off {
		r.err = fmt.Errorf("truncated at byte %d (%d more expected)", r.off, n)
	}
	if r.err == nil {
		r.off += n
	}
}

// point skips a point, which must be in compressed form (its top two bits
// not 00), the only form WriteVerifyingKey writes.
func (r *layoutReader) point(size int) {
	if r.err == nil && r.off < len(r.b) && r.b[r.off]>>6 == 0 {
		r.err = fmt.Errorf("uncompressed point at byte %d", r.off)
	}
	r.skip(size)
}

func (r *layoutReader) points(n, size int) {
	for i := 0; i < n && r.err == nil; i++ {
		r.point(size)
	}
}

// count reads a uint32 length prefix of elements of at least minSize bytes
// each, and fails if the rest of the file cannot hold them.
func (r *layoutReader) count(minSize int) int {
	r.skip(4)
	if r.err != nil {
		return 0
	}
	n := int(binary.BigEndian.Uint32(r.b[r.off-4 : r.off]))
	if n > (len(r.b)-r.off)/minSize {
		r.err = fmt.Errorf("a length of %d at byte %d exceeds the file", n, r.off-4)
		return 0
	}
	return n
}
