package prover

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"
)

// SetupWarning is the "setup" field of every key's metadata file.
const SetupWarning = "single-party (development only: whoever ran it can forge proofs; " +
	"production keys come from a multi-party ceremony, gnark's backend/groth16/bn254/mpcsetup)"

// setupCalls counts groth16.Setup runs, so tests can show the cache is used.
var setupCalls atomic.Int64

// KeyCache stores Groth16 keys on disk under Dir, addressed by [CircuitHash]:
// <hash>.pk, <hash>.vk and <hash>.json (metadata with the key files'
// checksums; written last, so its presence marks a complete entry).
//
// Two processes filling the same entry at once may interleave their files;
// the checksums then disagree and the next Setup regenerates the keys.
type KeyCache struct {
	Dir    string
	Logger *slog.Logger // nil: slog.Default()
}

// KeyMeta is the content of <hash>.json.
type KeyMeta struct {
	Circuit     string `json:"circuit"`
	Hash        string `json:"hash"`
	Constraints int    `json:"constraints"`
	Setup       string `json:"setup"`
	Created     string `json:"created"`
	PKSHA256    string `json:"pk_sha256"`
	VKSHA256    string `json:"vk_sha256"`
}

// DefaultKeyCache returns a cache in $XDG_CACHE_HOME/zkdp/keys, or
// ~/.cache/zkdp/keys when XDG_CACHE_HOME is unset.
func DefaultKeyCache() (*KeyCache, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return nil, fmt.Errorf("locate cache folder: %w", err)
	}
	return &KeyCache{Dir: filepath.Join(base, "zkdp", "keys")}, nil
}

// Paths returns the proving key, verifying key and metadata paths for hash.
func (c *KeyCache) Paths(hash string) (pk, vk, meta string) {
	b := filepath.Join(c.Dir, hash)
	return b + ".pk", b + ".vk", b + ".json"
}

// Setup returns the Groth16 keys of ccs. Valid cached keys are loaded and
// setup is never redone for them; otherwise (missing, truncated or corrupted
// files) it runs a single-party groth16.Setup, logs a development-only
// warning and stores the keys and their metadata. name labels the circuit in
// the metadata and logs.
func (c *KeyCache) Setup(ccs constraint.ConstraintSystem, name string) (groth16.ProvingKey, groth16.VerifyingKey, error) {
	log := logger(c.Logger)
	if c.Dir == "" {
		// an empty Dir would silently scatter keys in the working folder
		return nil, nil, fmt.Errorf("%w: key cache has no folder", ErrIO)
	}
	hash, err := CircuitHash(ccs)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	pk, vk, err := c.load(hash)
	switch {
	case err == nil:
		log.Debug("loaded cached groth16 keys", "circuit", name, "hash", hash, "dir", c.Dir, "elapsed", time.Since(start))
		return pk, vk, nil
	case errors.Is(err, os.ErrNotExist):
		// first use of this circuit: nothing to warn about
	default:
		log.Warn("cached groth16 keys unusable, regenerating", "circuit", name, "hash", hash, "err", err)
	}
	return c.generate(ccs, name, hash)
}

// Load returns the cached keys of the circuit with hash, checked against
// their recorded checksums, and never runs a setup: a remote prover must use
// the keys the run's verifying key belongs to. A missing entry wraps
// os.ErrNotExist.
func (c *KeyCache) Load(hash string) (groth16.ProvingKey, groth16.VerifyingKey, error) {
	if c.Dir == "" {
		return nil, nil, fmt.Errorf("%w: key cache has no folder", ErrIO)
	}
	return c.load(hash)
}

// load reads and checks the cached entry for hash.
func (c *KeyCache) load(hash string) (groth16.ProvingKey, groth16.VerifyingKey, error) {
	pkPath, vkPath, metaPath := c.Paths(hash)
	raw, err := os.ReadFile(metaPath)
	if err != nil {
		return nil, nil, err
	}
	var meta KeyMeta
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrCorruptKey, metaPath, err)
	}
	if meta.Hash != hash || meta.PKSHA256 == "" || meta.VKSHA256 == "" {
		return nil, nil, fmt.Errorf("%w: %s: metadata does not describe this circuit", ErrCorruptKey, metaPath)
	}
	// Checksums first: the proving key is then parsed without subgroup checks
	// (UnsafeReadFrom), which is only sound for bytes we wrote ourselves.
	for _, f := range []struct{ path, want string }{{pkPath, meta.PKSHA256}, {vkPath, meta.VKSHA256}} {
		got, err := FileSHA256(f.path)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrCorruptKey, err)
		}
		if got != f.want {
			return nil, nil, fmt.Errorf("%w: %s: sha256 %s, metadata says %s", ErrCorruptKey, f.path, got, f.want)
		}
	}
	vk := groth16.NewVerifyingKey(ecc.BN254)
	if err := ReadKeyFile(vkPath, vk.ReadFrom); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCorruptKey, err)
	}
	pk := groth16.NewProvingKey(ecc.BN254)
	if err := ReadKeyFile(pkPath, pk.UnsafeReadFrom); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCorruptKey, err)
	}
	return pk, vk, nil
}

// generate runs the setup and stores pk, vk, then the metadata (last, as the
// entry's commit marker).
func (c *KeyCache) generate(ccs constraint.ConstraintSystem, name, hash string) (groth16.ProvingKey, groth16.VerifyingKey, error) {
	log := logger(c.Logger)
	log.Warn("running single-party groth16 setup: DEVELOPMENT ONLY, whoever ran it can forge proofs; "+
		"production keys must come from a multi-party ceremony (gnark backend/groth16/bn254/mpcsetup)",
		"circuit", name, "hash", hash, "constraints", ccs.GetNbConstraints())
	setupCalls.Add(1)
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrSetup, name, err)
	}
	pkPath, vkPath, metaPath := c.Paths(hash)
	// Raw (uncompressed) proving key: loads without point decompression.
	pkSum, err := WriteFileAtomic(pkPath, func(w io.Writer) error { _, err := pk.WriteRawTo(w); return err })
	if err != nil {
		return nil, nil, fmt.Errorf("store proving key: %w", err)
	}
	vkSum, err := WriteFileAtomic(vkPath, func(w io.Writer) error { _, err := vk.WriteTo(w); return err })
	if err != nil {
		return nil, nil, fmt.Errorf("store verifying key: %w", err)
	}
	meta := KeyMeta{
		Circuit:     name,
		Hash:        hash,
		Constraints: ccs.GetNbConstraints(),
		Setup:       SetupWarning,
		Created:     time.Now().UTC().Format(time.RFC3339),
		PKSHA256:    pkSum,
		VKSHA256:    vkSum,
	}
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("encode key metadata: %w", err)
	}
	if _, err := writeBytesAtomic(metaPath, append(b, '\n')); err != nil {
		return nil, nil, fmt.Errorf("store key metadata: %w", err)
	}
	return pk, vk, nil
}

// ReadKeyFile opens path and decodes it with read (a key's ReadFrom or
// UnsafeReadFrom method); an undecodable file wraps ErrMalformed.
func ReadKeyFile(path string, read func(io.Reader) (int64, error)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrIO, err)
	}
	defer f.Close()
	if _, err := read(bufio.NewReaderSize(f, 1<<20)); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformed, path, err)
	}
	return nil
}

// KeySource supplies the Groth16 keys of a compiled circuit: a [KeyCache]
// (single-party setup, development only) or the sealed keys of a multi-party
// ceremony (package ceremony).
type KeySource interface {
	Setup(ccs constraint.ConstraintSystem, name string) (groth16.ProvingKey, groth16.VerifyingKey, error)
	// Kind says where the keys came from and whom they make trusted; it is
	// recorded in a run's public/circuit.json.
	Kind() string
}

// SetupKind is [KeyCache.Kind].
const SetupKind = "single-party (development only: whoever ran the setup can forge proofs)"

// Kind says that the keys come from a single-party setup.
func (c *KeyCache) Kind() string { return SetupKind }

// ChooseKeySource is the key source a prover uses: source when set, else
// cache when set, else the default key cache (logging to log).
func ChooseKeySource(source KeySource, cache *KeyCache, log *slog.Logger) (KeySource, error) {
	switch {
	case source != nil:
		return source, nil
	case cache != nil:
		return cache, nil
	}
	def, err := DefaultKeyCache()
	if err != nil {
		return nil, err
	}
	def.Logger = log
	return def, nil
}

// Import stores keys made elsewhere (a remote prover fetches its run's keys)
// as the cache entry meta.Hash: pk in raw form (WriteRawTo), as the cache
// keeps it, and vk. Their contents must have the checksums meta records,
// else the files are removed, no entry is made, and the error wraps
// ErrCorruptKey.
func (c *KeyCache) Import(meta KeyMeta, pk, vk io.Reader) error {
	if c.Dir == "" {
		return fmt.Errorf("%w: key cache has no folder", ErrIO)
	}
	pkPath, vkPath, metaPath := c.Paths(meta.Hash)
	for _, f := range []struct {
		path, want string
		r          io.Reader
	}{{pkPath, meta.PKSHA256, pk}, {vkPath, meta.VKSHA256, vk}} {
		got, err := WriteFileAtomic(f.path, func(w io.Writer) error { _, err := io.Copy(w, f.r); return err })
		if err != nil {
			return fmt.Errorf("store %s: %w", f.path, err)
		}
		if got != f.want {
			os.Remove(pkPath)
			os.Remove(vkPath)
			return fmt.Errorf("%w: %s: sha256 %s, expected %s", ErrCorruptKey, f.path, got, f.want)
		}
	}
	meta.Created = time.Now().UTC().Format(time.RFC3339)
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return fmt.Errorf("encode key metadata: %w", err)
	}
	if _, err := writeBytesAtomic(metaPath, append(b, '\n')); err != nil {
		return fmt.Errorf("store key metadata: %w", err)
	}
	return nil
}
