package commitment

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"

	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/multicommit"

	"github.com/zkdp/zkdp/circuits/internal/linear"
	"github.com/zkdp/zkdp/circuits/lookup"
	"github.com/zkdp/zkdp/commit"
)

func init() { solver.RegisterHint(MultiplicityHint) }

// ErrLookup is returned by MultiplicityHint for a slot whose position is
// outside the table: the honest prover cannot prove such a step.
var ErrLookup = errors.New("commitment: slot position outside the dataset")

// FlatRoot is data.FlatRoot in-circuit: the sponge under
// commit.DatasetIV(len(packed), rowLen, bits) over every packed row and then
// the dataset salt. The packed rows are taken as they are: a row that is no
// valid packing can never match a slot, whose values are range-checked
// (AssertRowsInDataset), so D need not check them.
func FlatRoot(api frontend.API, packed [][]frontend.Variable, rowLen int, bits uint, salt frontend.Variable) frontend.Variable {
	checkBits(bits)
	elems := make([]frontend.Variable, 0, len(packed)*(len(packed[0]))+1)
	for _, row := range packed {
		elems = append(elems, row...)
	}
	return Sponge(api, commit.DatasetIV(len(packed), rowLen, bits), append(elems, salt))
}

// LeavesRoot is data.LeavesRoot in-circuit: the sponge under
// commit.LeavesIV(len(leaves)) over every slot's leaf. The leaves are taken
// as they are: a slot matches one only through its own leaf hash
// (AssertRowsInDataset with one-element rows).
func LeavesRoot(api frontend.API, leaves []frontend.Variable) frontend.Variable {
	return Sponge(api, commit.LeavesIV(len(leaves)), leaves)
}

// AssertRowsInDataset asserts that every active slot j (active[j] = 1) holds
// row positions[j] of the dataset: slots[j] equals dataset[positions[j]],
// element by element. active must be boolean (the caller's); inactive slots
// are not looked up and may hold anything. Each row is a tuple of packed
// field elements (data.PackedSlot), and the slots' packing must be
// range-checked by the caller (Pack), so that equal packed elements mean
// equal values.
//
// It is a log-derivative lookup (Haböck, ePrint 2022/1530) of the tuples
// (position, row) into the table of (i, dataset[i]). With challenges c and
// r = Hash(TagMembership, c) from the circuit's one commitment
// (std/multicommit) to the dataset, the slots, their positions and
// activity, and the table's multiplicities m_i (a hint), each tuple
// compresses to t = position + Σ_l r^(l+1) row[l], and
//
//	Σ_j active_j / (c - t_j) = Σ_i m_i / (c - t_i).
//
// Soundness error: a slot tuple that is not a table tuple compresses to a
// table value only if r is a root of a nonzero polynomial of degree k (the
// row's length), at most k N B / p over the N table rows and B slots; and
// unequal multisets of compressed values pass the equality at a random c
// with probability at most (N + B)/p, the degree of the cleared
// denominators (the identity of rational functions holds only if every
// looked-up value is in the table, as long as fewer than p slots exist).
// For digits (N = 1472, B = 234, k = 5) that is below 2^-230. The
// multiplicities are range-checked to their honest bound B all the same.
//
// Cost: k + 2 constraints per table row (compression, quotient, the
// multiplicity's range check) and k + 1 per slot, plus one Hash.
func AssertRowsInDataset(api frontend.API, dataset [][]frontend.Variable, positions []frontend.Variable, slots [][]frontend.Variable, active []frontend.Variable) {
	n, b := len(dataset), len(slots)
	if n == 0 || len(positions) != b || len(active) != b {
		panic(fmt.Sprintf("commitment: a lookup of %d slots (%d positions, %d flags) into %d rows", b, len(positions), len(active), n))
	}
	k := len(dataset[0])
	for _, row := range append(append([][]frontend.Variable{}, dataset...), slots...) {
		if len(row) != k {
			panic(fmt.Sprintf("commitment: a row of %d elements in a lookup of %d-element rows", len(row), k))
		}
	}
	if b == 0 {
		return
	}
	in := make([]frontend.Variable, 0, 1+2*b)
	in = append(in, n)
	in = append(in, active...)
	in = append(in, positions...)
	m, err := api.Compiler().NewHint(MultiplicityHint, n, in...)
	if err != nil {
		panic(fmt.Sprintf("commitment: multiplicities: %v", err))
	}
	rc := lookup.New(api)
	for _, mi := range m {
		rc.Check(mi, bits.Len(uint(b)))
	}
	committed := make([]frontend.Variable, 0, (n+b)*(k+1)+2*b)
	for _, row := range dataset {
		committed = append(committed, row...)
	}
	for _, row := range slots {
		committed = append(committed, row...)
	}
	committed = append(committed, m...)
	committed = append(committed, positions...)
	committed = append(committed, active...)
	// Register the commitment callback when the circuit is compiled, as
	// gadgets that defer their lookups do: multicommit takes no callback
	// after it has committed, and a gadget built later in Define (a
	// std/lookup table) may still add its own.
	api.Compiler().Defer(func(api frontend.API) error {
		multicommit.WithCommitment(api, func(api frontend.API, c frontend.Variable) error {
			r := Hash(api, commit.TagMembership, c)
			powers := make([]frontend.Variable, k)
			powers[0] = r
			for l := 1; l < k; l++ {
				powers[l] = api.Mul(powers[l-1], r)
			}
			compress := func(position frontend.Variable, row []frontend.Variable) frontend.Variable {
				terms := make([]frontend.Variable, 0, k+1)
				terms = append(terms, position)
				for l, e := range row {
					terms = append(terms, api.Mul(powers[l], e))
				}
				return linear.Sum(api, terms)
			}
			table := make([]frontend.Variable, n)
			for i, row := range dataset {
				table[i] = api.DivUnchecked(m[i], api.Sub(c, compress(i, row)))
			}
			queries := make([]frontend.Variable, b)
			for j, row := range slots {
				// An inactive slot adds 0/(c - t_j); its t_j is committed before
				// c, so c - t_j = 0 (where the quotient would be free) has
				// probability at most B/p.
				queries[j] = api.DivUnchecked(active[j], api.Sub(c, compress(positions[j], row)))
			}
			api.AssertIsEqual(linear.Sum(api, table), linear.Sum(api, queries))
			return nil
		}, committed...)
		return nil
	})
}

// MultiplicityHint counts the active slots at each table position. Inputs:
// the table size n, then the B slots' activity flags, then their positions;
// outputs: n multiplicities.
func MultiplicityHint(_ *big.Int, in, out []*big.Int) error {
	if len(in) < 1 || (len(in)-1)%2 != 0 || !in[0].IsUint64() || in[0].Uint64() != uint64(len(out)) {
		return fmt.Errorf("commitment: MultiplicityHint: bad arguments")
	}
	b := (len(in) - 1) / 2
	active, positions := in[1:1+b], in[1+b:]
	for i := range out {
		out[i].SetUint64(0)
	}
	for j := range b {
		if active[j].Sign() == 0 {
			continue
		}
		p := positions[j]
		if !p.IsUint64() || p.Uint64() >= uint64(len(out)) {
			return fmt.Errorf("%w: slot %d at %s, %d rows", ErrLookup, j, p, len(out))
		}
		out[p.Uint64()].Add(out[p.Uint64()], big.NewInt(1))
	}
	return nil
}
