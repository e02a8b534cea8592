// Package commit holds zkdp's commitments: Poseidon2 hashing of field vectors
// with domain tags, and the Merkle tree over the quantized dataset.
//
// Every commitment (dataset leaves, seed, model, parameters) and the PRF are
// built from the same two primitives so that circuits can recompute them with
// gnark's std/hash/poseidon2 and std/permutation/poseidon2 on BN254:
//
//	Hash(tag, x1..xn)   = MD(IV=0; tag, x1, ..., xn)   (Merkle–Damgård over the width-2 permutation)
//	Node(l, r)          = Compress(l, r)                (the 2-to-1 Poseidon2 compression)
//	Sponge(iv, x1..xn)  = width-16 Poseidon2 sponge     (rate 15, capacity 1, for long vectors)
//
// The tag separates domains, so a model commitment can never be read as a
// leaf or a seed commitment.
package commit

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
)

// Domain tags. They are part of the protocol: changing one changes every
// commitment of that kind.
const (
	TagLeaf   uint64 = 1 // a dataset row and its salt
	TagSeed   uint64 = 2 // the secret seed commitment S = H(s)
	TagModel  uint64 = 3 // model weights M_t = H(W_t)
	TagParams uint64 = 4 // public training parameters
	TagPRF    uint64 = 5 // per-step PRF key
	TagInput  uint64 = 6 // an inference input
	// 7 was the step circuit's former single statement hash; not reused.
	TagRun  uint64 = 8  // a run's commitment H(params hash, D, S, beacon, T), a step proof's first public input
	TagSalt uint64 = 9  // a dataset row's secret salt H(s, i)
	TagInit uint64 = 10 // the public PRF key H(params hash, beacon) of the initial model W_0
	// TagDataset heads a flat dataset commitment: the sponge over every
	// packed row of the row bound and one dataset salt (data.FlatRoot).
	TagDataset uint64 = 11
	// TagMembership derives the flat membership lookup's second challenge
	// from the circuit's commitment (circuits/commitment.LookupRows).
	TagMembership uint64 = 12
	// TagWords is a PRF block's sponge capacity: Squeeze(H(TagWords); key,
	// stream, block).
	TagWords uint64 = 13
	// TagLeaves heads a leaves dataset commitment: the sponge over every
	// salted leaf of the row bound (data.LeavesRoot).
	TagLeaves uint64 = 14
)

// ErrBadHex is returned when a hex string is not a canonical field element.
var ErrBadHex = errors.New("commit: not a canonical BN254 field element in hex")

// Hash is the domain-separated Poseidon2 Merkle–Damgård hash of elems.
func Hash(tag uint64, elems ...fr.Element) fr.Element {
	h := poseidon2.NewMerkleDamgardHasher()
	var t fr.Element
	t.SetUint64(tag)
	b := t.Bytes()
	h.Write(b[:])
	for i := range elems {
		b := elems[i].Bytes()
		h.Write(b[:])
	}
	var out fr.Element
	out.SetBytes(h.Sum(nil))
	return out
}

// HashInts hashes signed integers (fixed-point values) as field elements.
func HashInts(tag uint64, vals []int64) fr.Element {
	return Hash(tag, Elements(vals)...)
}

// Elements maps signed integers to field elements (negative v to p-|v|),
// the embedding circuits use for signed fixed-point values.
func Elements(vals []int64) []fr.Element {
	out := make([]fr.Element, len(vals))
	for i, v := range vals {
		out[i] = FromInt64(v)
	}
	return out
}

// FromInt64 embeds a signed integer in the field.
func FromInt64(v int64) fr.Element {
	var e fr.Element
	if v >= 0 {
		e.SetUint64(uint64(v))
	} else {
		e.SetUint64(uint64(-v))
		e.Neg(&e)
	}
	return e
}

var compressor = poseidon2.NewPermutation(2, 6, 50)

// Node is the Merkle tree's 2-to-1 compression.
func Node(left, right fr.Element) fr.Element {
	l, r := left.Bytes(), right.Bytes()
	out, err := compressor.Compress(l[:], r[:])
	if err != nil {
		// Canonical encodings of field elements always decode.
		panic(fmt.Sprintf("commit: poseidon2 compress: %v", err))
	}
	var e fr.Element
	e.SetBytes(out)
	return e
}

// Hex renders a field element as 0x-prefixed, 64-digit big-endian hex.
func Hex(e fr.Element) string {
	b := e.Bytes()
	return "0x" + hex.EncodeToString(b[:])
}

// ParseHex is the inverse of Hex; it rejects non-canonical encodings.
func ParseHex(s string) (fr.Element, error) {
	var e fr.Element
	raw, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(raw) != fr.Bytes {
		return e, fmt.Errorf("%w: %q", ErrBadHex, s)
	}
	if err := e.SetBytesCanonical(raw); err != nil {
		return e, fmt.Errorf("%w: %q", ErrBadHex, s)
	}
	return e, nil
}

// ErrPackRange is returned when a value does not fit its packing slot.
var ErrPackRange = errors.New("commit: value outside its packing range")

// packedBits is the room used in each field element: every packed element is
// below 2^253 < p (p ≈ 2^253.6), so packing is injective. It is the most that
// fits: 11 weight slots of 23 bits instead of 10 at 248 bits, which makes a
// model commitment about 10% cheaper in-circuit.
const packedBits = 253

// Pack packs signed values with -2^bits <= v < 2^bits (the two's-complement
// range every fixed-point bound uses) into field elements, as many
// slots of bits+1 bits as fit in packedBits (253) bits; each slot holds v + 2^bits, so it
// is non-negative. A circuit unpacks with one range check per slot, which it
// needs anyway to bound the values.
func Pack(vals []int64, bits uint) ([]fr.Element, error) {
	if bits < 1 || bits > 62 {
		return nil, fmt.Errorf("%w: %d-bit slots are not supported", ErrPackRange, bits)
	}
	per := SlotsPerElement(bits)
	out := make([]fr.Element, 0, (len(vals)+per-1)/per)
	lim := int64(1) << bits
	var shift, slot fr.Element
	shift.SetUint64(1 << (bits + 1))
	for start := 0; start < len(vals); start += per {
		var acc fr.Element
		// Horner from the last slot, so slot 0 is the lowest bits.
		for i := min(start+per, len(vals)) - 1; i >= start; i-- {
			v := vals[i]
			if v < -lim || v >= lim {
				return nil, fmt.Errorf("%w: value %d at %d needs more than %d bits", ErrPackRange, v, i, bits)
			}
			slot.SetUint64(uint64(v + lim))
			acc.Mul(&acc, &shift)
			acc.Add(&acc, &slot)
		}
		out = append(out, acc)
	}
	return out, nil
}

// SlotsPerElement is how many bits-bit signed values Pack puts in one element.
func SlotsPerElement(bits uint) int { return int(packedBits / (bits + 1)) }

// HashPacked is Sponge(Hash(tag, len(vals), bits), Pack(vals, bits)): the
// commitment used for dataset rows, model weights and inference inputs. The
// tag, length and slot width go into the sponge's capacity, so commitments of
// different kinds or shapes never collide and the zero padding of the last
// block is unambiguous.
func HashPacked(tag uint64, vals []int64, bits uint) (fr.Element, error) {
	packed, err := Pack(vals, bits)
	if err != nil {
		return fr.Element{}, err
	}
	return Sponge(PackedIV(tag, len(vals), bits), packed), nil
}

// HashPackedSalted is HashPacked with a secret salt absorbed after the packed
// values: Sponge(Hash(tag, len(vals), bits), Pack(vals, bits) || salt). A
// row of few, low-entropy values (an age, a sex, a diagnosis) could be found
// from its unsalted hash by trying every candidate; with a secret salt its
// hash says nothing about it. The dataset leaves use it.
func HashPackedSalted(tag uint64, vals []int64, bits uint, salt fr.Element) (fr.Element, error) {
	packed, err := Pack(vals, bits)
	if err != nil {
		return fr.Element{}, err
	}
	return Sponge(PackedIV(tag, len(vals), bits), append(packed, salt)), nil
}

// PackedIV is HashPacked's sponge capacity element: Hash(tag, n, bits).
func PackedIV(tag uint64, n int, bits uint) fr.Element {
	return Hash(tag, FromInt64(int64(n)), FromInt64(int64(bits)))
}

// DatasetIV is a flat dataset commitment's sponge capacity element:
// Hash(TagDataset, rows, rowLen, bits), for rows packed rows of rowLen
// values in bits-bit slots each.
func DatasetIV(rows, rowLen int, bits uint) fr.Element {
	return Hash(TagDataset, FromInt64(int64(rows)), FromInt64(int64(rowLen)), FromInt64(int64(bits)))
}

// LeavesIV is a leaves dataset commitment's sponge capacity element:
// Hash(TagLeaves, rows), for rows leaves.
func LeavesIV(rows int) fr.Element {
	return Hash(TagLeaves, FromInt64(int64(rows)))
}

// Sponge parameters: BN254 Poseidon2 at width 16 with gnark-crypto's
// constants for that width (8 full, 57 partial rounds). A width-16
// permutation absorbs 15 elements for about 550 R1CS constraints, against
// about 216 per element for the width-2 Merkle–Damgård hash: hashing a
// 44,530-weight model in a circuit is six times cheaper.
const (
	SpongeWidth         = 16
	SpongeRate          = SpongeWidth - 1
	SpongeFullRounds    = 8
	SpongePartialRounds = 57
)

var sponge = poseidon2.NewPermutation(SpongeWidth, SpongeFullRounds, SpongePartialRounds)

// Sponge absorbs elems, SpongeRate at a time, into a width-16 Poseidon2 state
// whose capacity (state[0]) starts at iv and whose rate starts at zero; the
// last block is zero-padded (callers put the length in iv); at least one
// permutation runs. The digest is state[1].
func Sponge(iv fr.Element, elems []fr.Element) fr.Element { return Squeeze(iv, elems)[0] }

// Squeeze is Sponge's whole rate after absorbing: SpongeRate elements, the
// first of which is Sponge's digest. The capacity stays hidden, so the rate
// lanes of one absorption are a PRF's output when a key is absorbed.
func Squeeze(iv fr.Element, elems []fr.Element) []fr.Element {
	state := make([]fr.Element, SpongeWidth)
	state[0] = iv
	for start := 0; start == 0 || start < len(elems); start += SpongeRate {
		for k := start; k < min(start+SpongeRate, len(elems)); k++ {
			state[1+k-start].Add(&state[1+k-start], &elems[k])
		}
		if err := sponge.Permutation(state); err != nil {
			panic(fmt.Sprintf("commit: poseidon2 sponge: %v", err)) // only on a wrong state length
		}
	}
	return state[1:]
}
