// Package commitment recomputes zkdp's commitments (package commit) inside
// gnark circuits on BN254: the domain-tagged Poseidon2 hash, the packed hash
// of signed fixed-point vectors (dataset rows, model weights) and Merkle
// openings against the dataset root, or a flat dataset commitment and the
// lookup of batch rows into it.
//
// Every function replays its native counterpart bit for bit:
//
//	Hash        = commit.Hash
//	Node        = commit.Node
//	Pack        = commit.Pack
//	HashPacked  = commit.HashPacked
//	HashPackedSalted = commit.HashPackedSalted
//	MerkleRoot  = commit.RootFromPath
//	LeafOf      = data.LeafOf
//	FlatRoot    = data.FlatRoot
//
// Packing is a linear combination, range checks go through the circuit's one
// lookup.Ranges and index bits through api.ToBinary, whose hints gnark
// constrains. The one hint of the package, MultiplicityHint, feeds AssertRowsInDataset's lookup,
// which a wrong multiplicity fails.
package commitment

import (
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	gnarkposeidon2 "github.com/consensys/gnark/std/hash/poseidon2"
	permposeidon2 "github.com/consensys/gnark/std/permutation/poseidon2"

	"github.com/zkdp/zkdp/circuits/internal/linear"
	"github.com/zkdp/zkdp/circuits/lookup"
	"github.com/zkdp/zkdp/commit"
)

// MaxBits and MinBits bound the slot width accepted by Pack, as commit.Pack
// does.
const (
	MinBits = 1
	MaxBits = 62
)

// Hash is commit.Hash in-circuit: Poseidon2 Merkle–Damgård from IV 0 over
// the tag and then elems.
func Hash(api frontend.API, tag uint64, elems ...frontend.Variable) frontend.Variable {
	checkField(api)
	h, err := gnarkposeidon2.New(api)
	if err != nil {
		// Unreachable on BN254, which checkField enforces.
		panic(fmt.Sprintf("commitment: poseidon2 hasher: %v", err))
	}
	h.Write(tag)
	h.Write(elems...)
	return h.Sum()
}

// Node is commit.Node in-circuit: the width-2 Poseidon2 compression used for
// the inner nodes of the dataset tree.
func Node(api frontend.API, left, right frontend.Variable) frontend.Variable {
	return newPermutation(api).Compress(left, right)
}

// Pack is commit.Pack in-circuit. Each vals[i] is a field element holding a
// signed integer (negative v as p-|v|); it lands in a slot of bits+1 bits as
// v + 2^bits, commit.SlotsPerElement(bits) slots per element, slot 0 lowest.
//
// Pack range-checks every v + 2^bits to bits+1 bits, that is
//
//	-2^bits <= v < 2^bits.
//
// Without it a slot could carry into its neighbour and one packed element
// would open to several vectors. Callers get this bound for free and may rely
// on it in the arithmetic that uses vals (e.g. |v| <= 2^bits before a
// product). It is the same two's-complement range commit.Pack accepts.
//
// Pack panics (at compile time) if bits is outside [MinBits, MaxBits].
func Pack(api frontend.API, vals []frontend.Variable, bits uint) []frontend.Variable {
	checkBits(bits)
	rc := lookup.New(api)
	off := new(big.Int).Lsh(big.NewInt(1), bits)
	for _, v := range vals {
		rc.Check(api.Add(v, off), int(bits)+1)
	}
	return PackUnchecked(api, vals, bits)
}

// PackUnchecked is Pack without the range checks; it costs no constraints.
//
// Soundness: every vals[i] must already be constrained to -2^bits <= v <
// 2^bits elsewhere in the circuit (for example by a range check that the
// arithmetic needs anyway). Otherwise a prover can move weight between slots
// and open a commitment to a vector other than the committed one.
func PackUnchecked(api frontend.API, vals []frontend.Variable, bits uint) []frontend.Variable {
	checkBits(bits)
	per := commit.SlotsPerElement(bits)
	out := make([]frontend.Variable, 0, (len(vals)+per-1)/per)
	off := new(big.Int).Lsh(big.NewInt(1), bits)
	for start := 0; start < len(vals); start += per {
		// Σ (v_k + 2^bits)·2^((bits+1)k) = Σ v_k·2^((bits+1)k) + Σ 2^bits·2^((bits+1)k):
		// a linear combination with one folded constant, so no constraints.
		end := min(start+per, len(vals))
		terms := make([]frontend.Variable, 0, end-start+1)
		constant := new(big.Int)
		for k := start; k < end; k++ {
			weight := new(big.Int).Lsh(big.NewInt(1), uint(k-start)*(bits+1))
			terms = append(terms, api.Mul(vals[k], weight))
			constant.Add(constant, new(big.Int).Mul(off, weight))
		}
		terms = append(terms, constant)
		out = append(out, linear.Sum(api, terms))
	}
	return out
}

// HashPacked is commit.HashPacked in-circuit:
// Sponge(Hash(tag, len(vals), bits), Pack(vals, bits)). It includes Pack's range
// checks, so every vals[i] is bounded by -2^bits <= v < 2^bits afterwards.
func HashPacked(api frontend.API, tag uint64, vals []frontend.Variable, bits uint) frontend.Variable {
	return hashHead(api, tag, len(vals), bits, Pack(api, vals, bits))
}

// HashPackedUnchecked is HashPacked without the range checks. It is sound
// only under PackUnchecked's condition: every vals[i] is already constrained
// to -2^bits <= v < 2^bits.
func HashPackedUnchecked(api frontend.API, tag uint64, vals []frontend.Variable, bits uint) frontend.Variable {
	return hashHead(api, tag, len(vals), bits, PackUnchecked(api, vals, bits))
}

// hashHead absorbs the packed elements into the width-16 sponge whose
// capacity holds Hash(tag, n, bits), as commit.HashPacked does. The capacity
// depends only on the circuit's shape, so it is a constant here.
func hashHead(api frontend.API, tag uint64, n int, bits uint, packed []frontend.Variable) frontend.Variable {
	return Sponge(api, commit.PackedIV(tag, n, bits), packed)
}

// Sponge is commit.Sponge in-circuit.
func Sponge(api frontend.API, iv frontend.Variable, elems []frontend.Variable) frontend.Variable {
	return Squeeze(api, iv, elems)[0]
}

// Squeeze is commit.Squeeze in-circuit: Sponge's whole rate.
func Squeeze(api frontend.API, iv frontend.Variable, elems []frontend.Variable) []frontend.Variable {
	checkField(api)
	perm, err := permposeidon2.NewPoseidon2FromParameters(api, commit.SpongeWidth, commit.SpongeFullRounds, commit.SpongePartialRounds)
	if err != nil {
		panic(fmt.Sprintf("commitment: poseidon2 sponge: %v", err))
	}
	state := make([]frontend.Variable, commit.SpongeWidth)
	state[0] = iv
	for i := 1; i < len(state); i++ {
		state[i] = 0
	}
	for start := 0; start == 0 || start < len(elems); start += commit.SpongeRate {
		for k := start; k < min(start+commit.SpongeRate, len(elems)); k++ {
			state[1+k-start] = api.Add(state[1+k-start], elems[k])
		}
		if err := perm.Permutation(state); err != nil {
			panic(fmt.Sprintf("commitment: poseidon2 sponge: %v", err))
		}
	}
	return state[1:]
}

// HashPackedSalted is commit.HashPackedSalted in-circuit: HashPacked with the
// salt absorbed after the packed values. It range-checks vals as Pack does.
func HashPackedSalted(api frontend.API, tag uint64, vals []frontend.Variable, bits uint, salt frontend.Variable) frontend.Variable {
	return Sponge(api, commit.PackedIV(tag, len(vals), bits), append(Pack(api, vals, bits), salt))
}

// HashPackedSaltedUnchecked is HashPackedSalted without the range checks,
// sound only under PackUnchecked's condition: every vals[i] is already
// constrained to -2^bits <= v < 2^bits.
func HashPackedSaltedUnchecked(api frontend.API, tag uint64, vals []frontend.Variable, bits uint, salt frontend.Variable) frontend.Variable {
	return Sponge(api, commit.PackedIV(tag, len(vals), bits), append(PackUnchecked(api, vals, bits), salt))
}

// LeafOf is data.LeafOf in-circuit: the dataset leaf of a row with
// quantized features x, a label, a real flag (1 for a real row, 0 for a
// padding row) and the row's secret salt,
// HashPackedSalted(TagLeaf, x || label || flag, fracBits+1, salt). Features
// and label come out bounded by |v| <= 2^(fracBits+1), and flag is
// constrained to be boolean, so a caller may multiply by it as a mask; the
// label's class range is the caller's to check.
func LeafOf(api frontend.API, x []frontend.Variable, label, flag, salt frontend.Variable, fracBits uint) frontend.Variable {
	api.AssertIsBoolean(flag)
	row := make([]frontend.Variable, 0, len(x)+2)
	row = append(row, x...)
	row = append(row, label, flag)
	return HashPackedSalted(api, commit.TagLeaf, row, fracBits+1, salt)
}

// MerkleRoot is commit.RootFromPath in-circuit: the root reached from leaf at
// index through the siblings in path, leaf level first. The index is
// decomposed into len(path) bits with api.ToBinary, which also constrains
// index < 2^len(path); bit d = 0 puts the current node on the left at level d.
func MerkleRoot(api frontend.API, leaf, index frontend.Variable, path []frontend.Variable) frontend.Variable {
	if len(path) == 0 {
		// A one-leaf tree: its root is the leaf, and only index 0 exists.
		api.AssertIsEqual(index, 0)
		return leaf
	}
	perm := newPermutation(api)
	side := api.ToBinary(index, len(path))
	cur := leaf
	for d, sib := range path {
		// One Select per level: right = cur + sib - left is linear.
		left := api.Select(side[d], sib, cur)
		right := api.Sub(api.Add(cur, sib), left)
		cur = perm.Compress(left, right)
	}
	return cur
}

// VerifyMembership asserts that leaf sits at index in the tree with the
// given root, as MerkleRoot computes it.
func VerifyMembership(api frontend.API, root, leaf, index frontend.Variable, path []frontend.Variable) {
	api.AssertIsEqual(MerkleRoot(api, leaf, index, path), root)
}

func newPermutation(api frontend.API) *permposeidon2.Permutation {
	checkField(api)
	perm, err := permposeidon2.NewPoseidon2(api)
	if err != nil {
		// Unreachable on BN254, which checkField enforces.
		panic(fmt.Sprintf("commitment: poseidon2 permutation: %v", err))
	}
	return perm
}

// checkField rejects other curves: the commitments are BN254 field elements,
// and the same Poseidon2 on another field would give other digests.
func checkField(api frontend.API) {
	if api.Compiler().Field().Cmp(ecc.BN254.ScalarField()) != 0 {
		panic("commitment: zkdp commitments are defined over the BN254 scalar field")
	}
}

func checkBits(bits uint) {
	if bits < MinBits || bits > MaxBits {
		panic(fmt.Sprintf("commitment: %d-bit slots are not supported, want [%d, %d]", bits, MinBits, MaxBits))
	}
}
