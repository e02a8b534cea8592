package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/zkdp/zkdp/prover"
	verifiercontracts "github.com/zkdp/zkdp/verifier-contracts"
)

// ErrNotSolidity: a proof was not made with the Solidity target, so the
// exported verifier would reject it.
var ErrNotSolidity = errors.New("chain: the proof was not made in Solidity mode (prover.Options.SolidityCompatible); prove again")

// SolidityProof encodes a gnark proof as the verifier's proof bytes.
func SolidityProof(p groth16.Proof) ([]byte, error) {
	bp, ok := p.(*groth16bn254.Proof)
	if !ok {
		return nil, fmt.Errorf("%w: %T is no BN254 proof", prover.ErrUnsupported, p)
	}
	return bp.MarshalSolidity(), nil
}

// ProofFiles reads a proof written by the prover package (its public witness
// beside it): the proof in Solidity form and the public inputs. A proof whose
// sidecar says it was not made in Solidity mode is refused.
func ProofFiles(proofPath string) ([]byte, []*big.Int, error) {
	meta, err := prover.ReadProofMeta(proofPath)
	if err != nil {
		return nil, nil, err
	}
	if !meta.Solidity {
		return nil, nil, fmt.Errorf("%s: %w", proofPath, ErrNotSolidity)
	}
	return ProofAndPublic(proofPath, prover.PublicPath(proofPath))
}

// ProofAndPublic reads a proof file and a public witness file.
func ProofAndPublic(proofPath, publicPath string) ([]byte, []*big.Int, error) {
	p, err := prover.ReadProof(proofPath)
	if err != nil {
		return nil, nil, err
	}
	proof, err := SolidityProof(p)
	if err != nil {
		return nil, nil, err
	}
	w, err := prover.ReadPublicWitness(publicPath)
	if err != nil {
		return nil, nil, err
	}
	vec, ok := w.Vector().(fr.Vector)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s: not a BN254 witness", prover.ErrUnsupported, publicPath)
	}
	in := make([]*big.Int, len(vec))
	for i := range vec {
		in[i] = Big(vec[i])
	}
	return proof, in, nil
}

// VerifyProofCalldata is the ABI encoding of the call
// verifyProof(bytes proof, uint256[N] input) of a gnark-exported verifier.
func VerifyProofCalldata(proof []byte, input []*big.Int) []byte {
	sig := fmt.Sprintf("verifyProof(bytes,uint256[%d])", len(input))
	out := append([]byte{}, crypto.Keccak256([]byte(sig))[:4]...)
	word := func(v *big.Int) { out = append(out, common.LeftPadBytes(v.Bytes(), 32)...) }
	word(big.NewInt(int64(32 * (len(input) + 1)))) // offset of the bytes
	for _, v := range input {
		word(v)
	}
	word(big.NewInt(int64(len(proof))))
	out = append(out, proof...)
	return append(out, make([]byte, (32-len(proof)%32)%32)...)
}

// Verifier is a deployed gnark verifier.
type Verifier struct {
	Address common.Address
	Receipt *types.Receipt // of its deployment, nil when reused
}

// DeployVerifier exports vk's verifier, compiles and deploys it.
func DeployVerifier(ctx context.Context, c *Chain, vk groth16.VerifyingKey) (Verifier, verifiercontracts.Contract, error) {
	_, contract, err := verifiercontracts.CompileVerifier(ctx, vk)
	if err != nil {
		return Verifier{}, contract, err
	}
	addr, rcpt, err := c.Deploy(ctx, contract)
	return Verifier{Address: addr, Receipt: rcpt}, contract, err
}

// CallVerifier calls a verifier directly in a transaction: the bare
// verification cost, to compare with the registry's.
func CallVerifier(ctx context.Context, c *Chain, verifier common.Address, proof []byte, input []*big.Int) (*types.Receipt, error) {
	return c.Transact(ctx, &verifier, VerifyProofCalldata(proof, input))
}

// SubmitInferenceFiles submits any inference proof to the registry: it
// deploys the verifier of the verifying key at vkPath (or reuses the one at
// known, if non-zero), registers it for the run if the owner has not yet,
// and calls verifyInference with the proof and public witness files
// (package prover's formats). fixedBinding says the model is baked into the
// key (recorded as owner-attested on-chain).
func SubmitInferenceFiles(ctx context.Context, reg *Registry, runID *big.Int, vkPath, proofPath, publicPath string, fixedBinding bool, known common.Address) (common.Address, []Tx, error) {
	var txs []Tx
	addr := known
	if addr == (common.Address{}) {
		vk, err := prover.ReadVerifyingKey(vkPath)
		if err != nil {
			return addr, txs, err
		}
		v, _, err := DeployVerifier(ctx, reg.c, vk)
		txs = append(txs, txOf("deploy inference verifier", v.Receipt, err))
		if err != nil {
			return addr, txs, err
		}
		addr = v.Address
	}
	binding, err := reg.InferenceBinding(ctx, runID, addr)
	if err != nil {
		return addr, txs, err
	}
	if binding == 0 {
		rcpt, err := reg.RegisterInferenceVerifier(ctx, runID, addr, fixedBinding)
		txs = append(txs, txOf("registerInferenceVerifier", rcpt, err))
		if err != nil {
			return addr, txs, err
		}
	}
	proof, input, err := ProofAndPublic(proofPath, publicPath)
	if err != nil {
		return addr, txs, err
	}
	rcpt, err := reg.VerifyInference(ctx, runID, addr, proof, input)
	txs = append(txs, txOf("verifyInference", rcpt, err))
	return addr, txs, err
}

// ErrVerifierCode: a deployed verifier's runtime code is not the verifier
// exported from the trusted verifying key.
var ErrVerifierCode = errors.New("chain: the deployed verifier's code is not the verifier of the trusted key")

// VerifierCode exports vk's verifier, compiles it with the pinned solc and
// returns its runtime code and that code's keccak256 (EXTCODEHASH once
// deployed). The pinned compiler, settings and source file name make the
// code, its metadata hash included, a function of vk alone.
func VerifierCode(ctx context.Context, vk groth16.VerifyingKey) ([]byte, common.Hash, error) {
	_, contract, err := verifiercontracts.CompileVerifier(ctx, vk)
	if err != nil {
		return nil, common.Hash{}, err
	}
	return contract.Runtime, crypto.Keccak256Hash(contract.Runtime), nil
}

// CheckVerifierCode checks that the contract at addr runs exactly the
// verifier exported from the trusted key vk (ErrVerifierCode otherwise).
func CheckVerifierCode(ctx context.Context, c *Chain, addr common.Address, vk groth16.VerifyingKey) error {
	want, _, err := VerifierCode(ctx, vk)
	if err != nil {
		return err
	}
	return checkCode(ctx, c, addr, want)
}

// checkCode checks that the contract at addr runs exactly want.
func checkCode(ctx context.Context, c *Chain, addr common.Address, want []byte) error {
	got, err := c.Client.CodeAt(ctx, addr, nil)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%w: %s holds %d bytes of code hashing to %s, the trusted key's verifier is %d bytes hashing to %s",
			ErrVerifierCode, addr.Hex(), len(got), crypto.Keccak256Hash(got).Hex(), len(want), crypto.Keccak256Hash(want).Hex())
	}
	return nil
}
