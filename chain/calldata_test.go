package chain

import (
	"encoding/hex"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func TestDecodeVerifyProofCalldata(t *testing.T) {
	proof := []byte("a proof of 37 bytes, not word aligned")
	input := []*big.Int{big.NewInt(1), big.NewInt(0), new(big.Int).Sub(fr.Modulus(), big.NewInt(1)), big.NewInt(7)}
	enc := hex.EncodeToString(VerifyProofCalldata(proof, input))
	gotProof, gotInput, err := DecodeVerifyProofCalldata(" 0x" + enc + "\n")
	if err != nil || string(gotProof) != string(proof) || !slices.EqualFunc(gotInput, input, func(a, b *big.Int) bool { return a.Cmp(b) == 0 }) {
		t.Fatalf("round trip: %q %v %v", gotProof, gotInput, err)
	}
	raw := VerifyProofCalldata(proof, input)
	for name, bad := range map[string][]byte{
		"other selector": append([]byte{0, 0, 0, 0}, raw[4:]...),
		"trailing byte":  append(append([]byte{}, raw...), 0),
		"truncated":      raw[:len(raw)-32],
		"unreduced input": func() []byte {
			b := append([]byte{}, raw...)
			copy(b[4+32*3:4+32*4], fr.Modulus().FillBytes(make([]byte, 32)))
			return b
		}(),
		"dirty padding": func() []byte { b := append([]byte{}, raw...); b[len(b)-1] = 1; return b }(),
	} {
		if _, _, err := DecodeVerifyProofCalldata(hex.EncodeToString(bad)); !errors.Is(err, ErrCalldata) {
			t.Errorf("%s: got %v, want ErrCalldata", name, err)
		}
	}
	if _, _, err := DecodeVerifyProofCalldata("0xzz"); !errors.Is(err, ErrCalldata) {
		t.Errorf("not hex: got %v", err)
	}
}

// FuzzDecodeVerifyProofCalldata: no input panics, and whatever decodes
// re-encodes to exactly the bytes given.
func FuzzDecodeVerifyProofCalldata(f *testing.F) {
	f.Add(hex.EncodeToString(VerifyProofCalldata([]byte("proof"), []*big.Int{big.NewInt(3), big.NewInt(4)})))
	f.Add(hex.EncodeToString(VerifyProofCalldata(make([]byte, 256), []*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(3), big.NewInt(4)})))
	f.Add("0x")
	f.Add("00000000" + "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")
	f.Fuzz(func(t *testing.T, s string) {
		proof, input, err := DecodeVerifyProofCalldata(s)
		if err != nil {
			if !errors.Is(err, ErrCalldata) {
				t.Fatalf("error %v does not wrap ErrCalldata", err)
			}
			return
		}
		raw, _ := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "0x"))
		if string(VerifyProofCalldata(proof, input)) != string(raw) {
			t.Fatal("decoded calldata does not re-encode to itself")
		}
	})
}
