// Package lookup range-checks values that a circuit holds as limbs: private
// inputs of at most MaxBits bits each, from which the circuit builds the
// values it needs as free linear combinations (Recompose).
//
// The check is a log-derivative lookup (Haböck, ePrint 2022/1530) into one
// table [0, 2^w) per limb width w: with a challenge c drawn from a commitment
// to every limb and to the table's multiplicities m_t,
//
//	Σ_limbs 1/(c - limb) = Σ_t m_t/(c - t).
//
// A limb outside its table leaves a pole on the left that nothing on the right
// cancels, so the equality fails except with probability about
// (limbs + table)/p. Each limb costs one constraint (its inverse), each table
// entry one (its quotient), and each table one more (the equality).
//
// gnark's std/rangecheck checks arbitrary values: it decomposes each into
// limbs by a hint, pays one constraint to recompose them and another query
// when the top limb is short. When the circuit's own witness is the limbs,
// neither is needed, which halves the cost of a 23-bit weight (4 → 2).
package lookup

import (
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/multicommit"

	"github.com/zkdp/zkdp/circuits/internal/linear"
)

func init() {
	solver.RegisterHint(CountHint, SplitHint)
}

// MaxBits bounds a limb's width: a table of 2^MaxBits entries already costs
// as many constraints.
const MaxBits = 16

// ErrLimb is returned natively for a value that does not split into the
// requested limbs.
var ErrLimb = errors.New("lookup: value does not fit its limbs")

// Ranges collects limb checks and builds their lookup arguments when the
// circuit is compiled.
type Ranges struct {
	api     frontend.API
	queries map[int][]frontend.Variable // by limb width
	values  []value                     // Check's, split when the circuit is compiled
	closed  bool
}

// New returns the circuit's one collection of range checks: the first call
// creates it, every later one (from any gadget) shares it, so a circuit pays
// for one lookup argument and one set of tables whatever checks its values.
// It shares the circuit's one commitment (std/multicommit).
func New(api frontend.API) *Ranges {
	kv, ok := api.Compiler().(keyValueStore)
	if !ok {
		panic("lookup: the builder keeps no circuit-wide values")
	}
	if r, ok := kv.GetKeyValue(sharedRangesKey{}).(*Ranges); ok {
		return r
	}
	r := &Ranges{api: api, queries: map[int][]frontend.Variable{}}
	kv.SetKeyValue(sharedRangesKey{}, r)
	api.Compiler().Defer(r.build)
	return r
}

// keyValueStore is the circuit-wide store of gnark's builders and test
// engine (gnark's internal kvstore.Store), which std/rangecheck shares its
// checker through as well.
type keyValueStore interface {
	SetKeyValue(key, value any)
	GetKeyValue(key any) any
}

type sharedRangesKey struct{}

// Check constrains 0 <= v < 2^bits for any v, as frontend.Rangechecker. When
// the circuit is compiled, a hint splits v into limbs of one common width
// and a shorter top limb, each is looked up, and one constraint recomposes
// them. The common width is chosen then, for the fewest constraints given
// every check and the tables that CheckLimb fills anyway, so a circuit needs
// no second lookup argument.
func (r *Ranges) Check(v frontend.Variable, bits int) {
	if r.closed {
		panic("lookup: Check after the circuit was compiled")
	}
	if bits < 1 || bits > maxValueBits {
		panic(fmt.Sprintf("lookup: %d-bit values are not supported, want [1, %d]", bits, maxValueBits))
	}
	r.values = append(r.values, value{v, bits})
}

type value struct {
	v    frontend.Variable
	bits int
}

// maxValueBits keeps a checked value far below the field size (2^128 <<
// p ~ 2^253.6: the limbs' recomposition cannot wrap); the PRF words' split
// checks 128-bit values.
const maxValueBits = 128

var _ frontend.Rangechecker = (*Ranges)(nil)

// valueLimbs is how Check splits a value of the given bits with common limb
// width l: full limbs, then the remainder.
func valueLimbs(bits, l int) []int {
	widths := make([]int, 0, bits/l+1)
	for rest := bits; rest > 0; rest -= l {
		widths = append(widths, min(rest, l))
	}
	return widths
}

// cost is the number of constraints of the lookup argument if values are split
// with common width l: one per query and recomposition, one per table entry.
func (r *Ranges) cost(l int) int {
	tables := map[int]bool{}
	n := 0
	for w, q := range r.queries {
		tables[w] = true
		n += len(q)
	}
	for _, v := range r.values {
		widths := valueLimbs(v.bits, l)
		n += len(widths)
		if len(widths) > 1 {
			n++ // the recomposition
		}
		for _, w := range widths {
			tables[w] = true
		}
	}
	for w := range tables {
		n += 1<<w + 1 // entries and the table's equality
	}
	return n
}

// splitValues turns every Check into limb queries, with the cheapest common
// width.
func (r *Ranges) splitValues(api frontend.API) error {
	best, bestCost := 0, 0
	for l := 1; l <= MaxBits; l++ {
		if c := r.cost(l); best == 0 || c < bestCost {
			best, bestCost = l, c
		}
	}
	for _, v := range r.values {
		widths := valueLimbs(v.bits, best)
		if len(widths) == 1 {
			r.queries[v.bits] = append(r.queries[v.bits], v.v)
			continue
		}
		limbs, err := api.Compiler().NewHint(SplitHint, len(widths), append([]frontend.Variable{v.v}, ints(widths)...)...)
		if err != nil {
			return fmt.Errorf("lookup: split: %w", err)
		}
		for i, l := range limbs {
			r.queries[widths[i]] = append(r.queries[widths[i]], l)
		}
		api.AssertIsEqual(Recompose(api, limbs, widths), v.v)
	}
	r.values = nil
	return nil
}

// CheckLimb constrains 0 <= limb < 2^bits, for 1 <= bits <= MaxBits, with one
// lookup. limb should be a witness variable (or a linear expression of them);
// it is committed to.
func (r *Ranges) CheckLimb(limb frontend.Variable, bits int) {
	if r.closed {
		panic("lookup: CheckLimb after the circuit was compiled")
	}
	if bits < 1 || bits > MaxBits {
		panic(fmt.Sprintf("lookup: %d-bit limbs are not supported, want [1, %d]", bits, MaxBits))
	}
	r.queries[bits] = append(r.queries[bits], limb)
}

// CheckLimbs checks every limb of a value split as widths (see Split).
func (r *Ranges) CheckLimbs(limbs []frontend.Variable, widths []int) {
	if len(limbs) != len(widths) {
		panic(fmt.Sprintf("lookup: %d limbs for %d widths", len(limbs), len(widths)))
	}
	for i, l := range limbs {
		r.CheckLimb(l, widths[i])
	}
}

// build runs at the end of Define: it commits to all limbs and multiplicities
// and asserts one log-derivative equality per table.
func (r *Ranges) build(api frontend.API) error {
	r.closed = true
	if err := r.splitValues(api); err != nil {
		return err
	}
	if len(r.queries) == 0 {
		return nil
	}
	widths := make([]int, 0, len(r.queries))
	for w := range r.queries {
		widths = append(widths, w)
	}
	slices.Sort(widths) // a deterministic circuit
	counts := make(map[int][]frontend.Variable, len(widths))
	var toCommit []frontend.Variable
	for _, w := range widths {
		in := append([]frontend.Variable{w}, r.queries[w]...)
		m, err := api.Compiler().NewHint(CountHint, 1<<w, in...)
		if err != nil {
			return fmt.Errorf("lookup: multiplicities: %w", err)
		}
		counts[w] = m
		toCommit = append(toCommit, r.queries[w]...)
		toCommit = append(toCommit, m...)
	}
	multicommit.WithCommitment(api, func(api frontend.API, c frontend.Variable) error {
		for _, w := range widths {
			table := make([]frontend.Variable, 0, 1<<w)
			for t, m := range counts[w] {
				table = append(table, api.DivUnchecked(m, api.Sub(c, t)))
			}
			queries := make([]frontend.Variable, 0, len(r.queries[w]))
			for _, q := range r.queries[w] {
				queries = append(queries, api.Inverse(api.Sub(c, q)))
			}
			api.AssertIsEqual(linear.Sum(api, table), linear.Sum(api, queries))
		}
		return nil
	}, toCommit...)
	return nil
}

// CountHint counts how often each t in [0, 2^w) occurs among the queries.
// Inputs: w, then the queries; outputs: 2^w multiplicities. A query outside
// the table is an error: the honest prover cannot prove it.
func CountHint(_ *big.Int, in []*big.Int, out []*big.Int) error {
	if len(in) < 1 || !in[0].IsUint64() || in[0].Uint64() > MaxBits || len(out) != 1<<in[0].Uint64() {
		return fmt.Errorf("lookup: CountHint: bad arguments")
	}
	for i := range out {
		out[i].SetUint64(0)
	}
	one := big.NewInt(1)
	for i, q := range in[1:] {
		if !q.IsUint64() || q.Uint64() >= uint64(len(out)) {
			return fmt.Errorf("%w: limb #%d = %s is outside [0, %d)", ErrLimb, i, q, len(out))
		}
		out[q.Uint64()].Add(out[q.Uint64()], one)
	}
	return nil
}

// SplitHint splits in[0] into len(out) limbs of widths in[1:], the lowest
// first.
func SplitHint(_ *big.Int, in []*big.Int, out []*big.Int) error {
	if len(in) != len(out)+1 {
		return fmt.Errorf("lookup: SplitHint: %d inputs for %d limbs", len(in), len(out))
	}
	v := new(big.Int).Set(in[0])
	for i, w := range in[1:] {
		if !w.IsUint64() || w.Uint64() > MaxBits {
			return fmt.Errorf("lookup: SplitHint: bad width %s", w)
		}
		mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(w.Uint64())), big.NewInt(1))
		out[i].And(v, mask)
		v.Rsh(v, uint(w.Uint64()))
	}
	return nil
}

func ints(v []int) []frontend.Variable {
	out := make([]frontend.Variable, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

// Split chooses limb widths for n values of the given bit size: the split
// into k limbs of near-equal widths (the wider first) that minimizes the
// constraints n·k + Σ 2^w over the distinct widths w. Every width is at most
// MaxBits.
func Split(bits, n int) []int {
	var best []int
	bestCost := -1
	for k := (bits + MaxBits - 1) / MaxBits; k <= bits; k++ {
		widths := make([]int, k)
		for i := range widths {
			widths[i] = bits / k
			if i < bits%k {
				widths[i]++
			}
		}
		cost := n * k
		for _, w := range slices.Compact(slices.Clone(widths)) {
			cost += 1 << w
		}
		if bestCost < 0 || cost < bestCost {
			best, bestCost = widths, cost
		}
	}
	return best
}

// Limbs splits 0 <= v < 2^Σwidths into limbs, the lowest first.
func Limbs(v int64, widths []int) ([]int64, error) {
	total := 0
	for _, w := range widths {
		total += w
	}
	if v < 0 || total < 63 && v >= int64(1)<<total {
		return nil, fmt.Errorf("%w: %d needs more than %d bits", ErrLimb, v, total)
	}
	out := make([]int64, len(widths))
	for i, w := range widths {
		out[i] = v & (1<<w - 1)
		v >>= w
	}
	return out, nil
}

// Recompose is Σ limbs[i]·2^(w_0+…+w_{i-1}): a linear combination, free.
func Recompose(api frontend.API, limbs []frontend.Variable, widths []int) frontend.Variable {
	terms := make([]frontend.Variable, 0, len(limbs))
	shift := 0
	for i, l := range limbs {
		terms = append(terms, api.Mul(l, new(big.Int).Lsh(big.NewInt(1), uint(shift))))
		shift += widths[i]
	}
	return linear.Sum(api, terms)
}
