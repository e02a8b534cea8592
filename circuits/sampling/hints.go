package sampling

import (
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/consensys/gnark/constraint/solver"

	"github.com/zkdp/zkdp/dp"
)

func init() {
	solver.RegisterHint(GetHints()...)
}

// GetHints returns the hints of this package, for a prover that did not
// import it (they are registered in init otherwise).
func GetHints() []solver.Hint {
	return []solver.Hint{splitHint, poissonGapHint, gaussianIndexHint, isGEHint}
}

var errHint = errors.New("sampling: hint")

// splitHint splits a field element into its little-endian 64-bit limbs 0 to
// dp.WordsPerElement-1 and the rest (the bits above them) of its canonical
// integer.
func splitHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) != 1 || len(out) != dp.WordsPerElement+1 {
		return fmt.Errorf("%w: split wants 1 input and %d outputs, got %d and %d", errHint, dp.WordsPerElement+1, len(in), len(out))
	}
	mask := new(big.Int).SetUint64(^uint64(0))
	v := new(big.Int).Set(in[0])
	for i := range dp.WordsPerElement {
		out[i].And(v, mask)
		v.Rsh(v, 64)
	}
	out[dp.WordsPerElement].Set(v)
	return nil
}

// tableWords reads n uint64 table entries that follow the count in in[0].
func tableWords(in []*big.Int) (table []uint64, rest []*big.Int, err error) {
	if len(in) < 1 || !in[0].IsUint64() || in[0].Uint64() > uint64(len(in)-1) {
		return nil, nil, fmt.Errorf("%w: malformed table header", errHint)
	}
	n := int(in[0].Uint64())
	table = make([]uint64, n)
	for i := range n {
		if !in[1+i].IsUint64() {
			return nil, nil, fmt.Errorf("%w: table entry %d is not a 64-bit word", errHint, i)
		}
		table[i] = in[1+i].Uint64()
	}
	return table, in[1+n:], nil
}

// poissonGapHint: inputs (N, T[0..N-1], u_0..u_{m-1}), outputs the m gaps,
// gap = #{k in 1..N : u < T[k-1]} as dp.PoissonSampler.Gap.
func poissonGapHint(_ *big.Int, in, out []*big.Int) error {
	th, us, err := tableWords(in)
	if err != nil {
		return err
	}
	if len(us) != len(out) {
		return fmt.Errorf("%w: %d words for %d gaps", errHint, len(us), len(out))
	}
	for j, u := range us {
		if !u.IsUint64() {
			return fmt.Errorf("%w: word %d is not a 64-bit word", errHint, j)
		}
		w := u.Uint64()
		out[j].SetInt64(int64(sort.Search(len(th), func(i int) bool { return w >= th[i] })))
	}
	return nil
}

// gaussianIndexHint: inputs (L, CDF[0..L-1], u_0..u_{m-1}), outputs per
// word its sign bit s (bit 63) and |z|, the least k with v < CDF[k] for the
// rest v = u mod 2^63, the last entry read as 2^63, as
// dp.DiscreteGaussian.Sample: 2m outputs s_0, k_0, s_1, k_1, ...
func gaussianIndexHint(_ *big.Int, in, out []*big.Int) error {
	cdf, us, err := tableWords(in)
	if err != nil {
		return err
	}
	if 2*len(us) != len(out) || len(cdf) == 0 {
		return fmt.Errorf("%w: %d words for %d outputs, table of %d", errHint, len(us), len(out), len(cdf))
	}
	g := dp.DiscreteGaussian{CDF: cdf}
	for j, u := range us {
		if !u.IsUint64() {
			return fmt.Errorf("%w: word %d is not a 64-bit word", errHint, j)
		}
		w := u.Uint64()
		out[2*j].SetUint64(w >> dp.SignBit)
		out[2*j+1].SetInt64(int64(g.Abs(w & (1<<dp.SignBit - 1))))
	}
	return nil
}

// isGEHint: inputs (a, b), output 1 if a >= b as integers, else 0.
func isGEHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) != 2 || len(out) != 1 {
		return fmt.Errorf("%w: isGE wants 2 inputs and 1 output, got %d and %d", errHint, len(in), len(out))
	}
	if in[0].Cmp(in[1]) >= 0 {
		out[0].SetUint64(1)
	} else {
		out[0].SetUint64(0)
	}
	return nil
}
