package chain

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// ErrCalldata is wrapped by every error of DecodeVerifyProofCalldata.
var ErrCalldata = errors.New("chain: malformed verifyProof calldata")

// maxCalldataInputs bounds the public inputs a calldata file may declare
// (zkdp's circuits have at most a few dozen).
const maxCalldataInputs = 1 << 12

// DecodeVerifyProofCalldata is the inverse of VerifyProofCalldata, for
// auditors who check an exported <proof>.calldata.hex: it accepts only the
// canonical encoding (the selector of verifyProof(bytes,uint256[n]) for the
// n the layout implies, the bytes at offset 32(n+1), zero padding) with
// every input reduced modulo the BN254 scalar field, as the verifier
// requires. hexText may carry a 0x prefix and surrounding white space.
func DecodeVerifyProofCalldata(hexText string) (proof []byte, input []*big.Int, err error) {
	raw, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(hexText), "0x"))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCalldata, err)
	}
	if len(raw) < 4+64 || (len(raw)-4)%32 != 0 {
		return nil, nil, fmt.Errorf("%w: %d bytes is not a selector and whole 32-byte words", ErrCalldata, len(raw))
	}
	words := raw[4:]
	offset := new(big.Int).SetBytes(words[:32])
	if !offset.IsInt64() || offset.Int64()%32 != 0 || offset.Int64() < 32 || offset.Int64() > int64(32*(maxCalldataInputs+1)) || offset.Int64()+32 > int64(len(words)) {
		return nil, nil, fmt.Errorf("%w: bad offset of the proof bytes", ErrCalldata)
	}
	n := int(offset.Int64()/32) - 1
	modulus := fr.Modulus()
	for i := range n {
		v := new(big.Int).SetBytes(words[32*(i+1) : 32*(i+2)])
		if v.Cmp(modulus) >= 0 {
			return nil, nil, fmt.Errorf("%w: input %d is not reduced modulo the scalar field", ErrCalldata, i)
		}
		input = append(input, v)
	}
	at := int(offset.Int64())
	length := new(big.Int).SetBytes(words[at : at+32])
	if !length.IsInt64() || length.Int64() > int64(len(words)-at-32) {
		return nil, nil, fmt.Errorf("%w: the proof's length exceeds the calldata", ErrCalldata)
	}
	proof = append([]byte{}, words[at+32:at+32+int(length.Int64())]...)
	if !bytes.Equal(VerifyProofCalldata(proof, input), raw) {
		return nil, nil, fmt.Errorf("%w: not the canonical encoding (selector, padding or trailing bytes)", ErrCalldata)
	}
	return proof, input, nil
}
