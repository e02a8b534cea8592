package ceremony

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"

	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
)

// KeySource returns the sealed phase-2 keys of the ceremony as a
// [prover.KeySource], for proving instead of the single-party setup.
func (c *Ceremony) KeySource() prover.KeySource { return &keySource{c: c} }

type keySource struct {
	c     *Ceremony
	seal1 Seal
	seal2 Seal
}

// Setup loads keys.pk and keys.vk after checking that phase 2 was sealed for
// ccs and that both files are the sealed ones. It is the prover's side: it
// trusts its own ceremony folder (a verifier runs [Ceremony.Verify]).
func (k *keySource) Setup(ccs constraint.ConstraintSystem, name string) (groth16.ProvingKey, groth16.VerifyingKey, error) {
	c := k.c
	hash, err := prover.CircuitHash(ccs)
	if err != nil {
		return nil, nil, err
	}
	if k.seal2, _, err = c.readSeal(Phase2, nil); err != nil {
		return nil, nil, err
	}
	if k.seal1, _, err = c.readSeal(Phase1, nil); err != nil {
		return nil, nil, err
	}
	if k.seal2.CircuitHash != hash {
		return nil, nil, fmt.Errorf("%w: %s seals keys for circuit %s, %s is %s",
			ErrCircuitMismatch, c.path(Phase2, SealFile), k.seal2.CircuitHash, name, hash)
	}
	pkPath, vkPath := c.path(Phase2, PKFile), c.path(Phase2, VKFile)
	// Checksums first: the proving key is then read without subgroup checks
	// (UnsafeReadFrom), sound only for bytes the seal vouches for.
	for _, f := range []struct{ path, want string }{{pkPath, k.seal2.PKSHA256}, {vkPath, k.seal2.VKSHA256}} {
		got, err := fileSHA256(f.path)
		if err != nil {
			return nil, nil, err
		}
		if got != f.want {
			return nil, nil, fmt.Errorf("%w: %s: sha256 %s, the seal says %s", ErrSealMismatch, f.path, got, f.want)
		}
	}
	vk := groth16.NewVerifyingKey(ecc.BN254)
	if err := prover.ReadKeyFile(vkPath, vk.ReadFrom); err != nil {
		return nil, nil, err
	}
	pk := groth16.NewProvingKey(ecc.BN254)
	if err := prover.ReadKeyFile(pkPath, pk.UnsafeReadFrom); err != nil {
		return nil, nil, err
	}
	c.log().Info("using ceremony keys", "circuit", name, "hash", hash, "dir", c.Dir,
		"phase1_contributions", k.seal1.Contributions, "phase2_contributions", k.seal2.Contributions)
	return pk, vk, nil
}

// Kind describes the keys for a run's public/circuit.json.
func (k *keySource) Kind() string {
	return fmt.Sprintf("multi-party ceremony (%d phase-1 and %d phase-2 contributions, vk sha256 %s): sound if one participant was honest",
		k.seal1.Contributions, k.seal2.Contributions, k.seal2.VKSHA256)
}

// readJSON is run.ReadJSON (unknown fields and trailing data rejected), its
// decoding errors wrapped as ErrMalformed.
func readJSON(path string, v any) error {
	err := run.ReadJSON(path, v)
	if errors.Is(err, run.ErrMalformed) {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return err
}
