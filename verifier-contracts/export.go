package verifiercontracts

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/solidity"
)

// VerifierName is the contract name gnark's exporter gives every verifier.
const VerifierName = "Verifier"

// ErrExport: gnark could not export the verifying key.
var ErrExport = errors.New("export solidity verifier")

// ExportVerifier returns gnark's Solidity verifier for vk (Groth16, BN254).
// Its verifyProof(bytes proof, uint256[N] input) accepts proofs made with
// the Solidity target (prover.Options.SolidityCompatible).
func ExportVerifier(vk groth16.VerifyingKey) ([]byte, error) {
	if vk == nil || vk.CurveID() != ecc.BN254 {
		return nil, fmt.Errorf("%w: want a BN254 verifying key", ErrExport)
	}
	var buf bytes.Buffer
	if err := vk.ExportSolidity(&buf, solidity.WithPragmaVersion("^0.8.24")); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExport, err)
	}
	return buf.Bytes(), nil
}

// CompileVerifier exports vk's verifier and compiles it.
func CompileVerifier(ctx context.Context, vk groth16.VerifyingKey) (src []byte, c Contract, err error) {
	if src, err = ExportVerifier(vk); err != nil {
		return nil, c, err
	}
	cs, err := Compile(ctx, map[string]string{"Verifier.sol": string(src)})
	if err != nil {
		return nil, c, err
	}
	return src, cs[VerifierName], nil
}
