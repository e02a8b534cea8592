package arith

import (
	"math/big"
	"math/bits"

	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/internal/linear"
	"github.com/zkdp/zkdp/fixedpoint"
)

// packedFieldBits is the room in one field element for packed slots: below
// 2^253 < p, so a packed sum cannot wrap.
const packedFieldBits = 253

var _ fixedpoint.MatVecer[frontend.Variable] = (*Arith)(nil)

// MatVec is W x. Without WithPackedProducts, or when the weights are
// constants (products by a constant are free), it is one Dot per row.
//
// With it, rows are taken in groups of k. For each column i the group's
// weights are packed into one linear combination Q_i = Σ_j w[j][i]·2^(S·j),
// and Σ_i x[i]·Q_i costs one constraint per column instead of k. The sum is
// Σ_j y_j·2^(S·j) with y_j the group's dot products; since
// |y_j| < 2^E for E = wBits + xBits + bitlen(len(x)), the slots y_j + 2^E
// are in [0, 2^S) for S = E+1. A hint returns them, each is range-checked to
// S bits, and one constraint recomposes them. Both sides of that equality are
// integers below 2^(S·k) <= 2^253 < p, so it holds over the integers and the
// base-2^S digits, hence the y_j, are unique.
//
// Soundness needs |w| <= 2^wBits and |x| <= 2^xBits to be constrained
// elsewhere, as fixedpoint.MatVecer requires of its caller.
func (a *Arith) MatVec(w [][]frontend.Variable, x []frontend.Variable, wBits, xBits uint) []frontend.Variable {
	slot := wBits + xBits + uint(bits.Len(uint(len(x)))) + 1
	per := int(packedFieldBits / slot)
	if !a.packProducts || per < 2 || len(w) < 2 || slot > maxBits || a.anyConstant(w) {
		out := make([]frontend.Variable, len(w))
		for r := range w {
			out[r] = fixedpoint.Dot[frontend.Variable](a, w[r], x)
		}
		return out
	}
	half := new(big.Int).Lsh(big.NewInt(1), slot-1) // 2^E
	out := make([]frontend.Variable, 0, len(w))
	for start := 0; start < len(w); start += per {
		group := w[start:min(start+per, len(w))]
		terms := make([]frontend.Variable, 0, len(x)+1)
		offset := new(big.Int)
		weights := make([]frontend.Variable, len(group))
		for j := range group {
			offset.Add(offset, new(big.Int).Lsh(half, slot*uint(j)))
		}
		for i, xi := range x {
			for j, row := range group {
				weights[j] = a.api.Mul(row[i], new(big.Int).Lsh(big.NewInt(1), slot*uint(j)))
			}
			terms = append(terms, a.api.Mul(xi, linear.Sum(a.api, weights)))
		}
		terms = append(terms, offset)
		acc := linear.Sum(a.api, terms)
		slots, err := a.api.Compiler().NewHint(UnpackHint, len(group), slot, acc)
		if err != nil {
			panic(err)
		}
		recomposed := make([]frontend.Variable, len(slots))
		for j, u := range slots {
			a.check(u, slot)
			recomposed[j] = a.api.Mul(u, new(big.Int).Lsh(big.NewInt(1), slot*uint(j)))
			out = append(out, a.api.Sub(u, half))
		}
		a.api.AssertIsEqual(acc, linear.Sum(a.api, recomposed))
	}
	return out
}

func (a *Arith) anyConstant(w [][]frontend.Variable) bool {
	for _, row := range w {
		for _, v := range row {
			if _, ok := a.api.Compiler().ConstantValue(v); ok {
				return true
			}
		}
	}
	return false
}

// UnpackHint splits in[1] into len(out) base-2^in[0] digits, the lowest
// first.
func UnpackHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) != 2 || !in[0].IsUint64() || in[0].Uint64() > maxBits {
		return errHintInputs
	}
	s := uint(in[0].Uint64())
	mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), s), big.NewInt(1))
	v := new(big.Int).Set(in[1])
	for i := range out {
		out[i].And(v, mask)
		v.Rsh(v, s)
	}
	return nil
}
