package arith

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/internal/constraintstats"
)

// matVecCircuit checks the packed MatVec against the claimed products Y.
type matVecCircuit struct {
	W            [][]frontend.Variable
	X            []frontend.Variable
	Y            []frontend.Variable `gnark:",public"`
	wBits, xBits uint
}

func (c *matVecCircuit) Define(api frontend.API) error {
	a := New(api, WithPackedProducts())
	// The bounds MatVec's caller must establish.
	for _, row := range c.W {
		for _, w := range row {
			a.checkSigned(w, c.wBits)
		}
	}
	for _, x := range c.X {
		a.checkSigned(x, c.xBits)
	}
	for r, y := range a.MatVec(c.W, c.X, c.wBits, c.xBits) {
		api.AssertIsEqual(y, c.Y[r])
	}
	return nil
}

func newMatVec(rows, cols int, wBits, xBits uint) *matVecCircuit {
	c := &matVecCircuit{W: make([][]frontend.Variable, rows), X: make([]frontend.Variable, cols), Y: make([]frontend.Variable, rows), wBits: wBits, xBits: xBits}
	for r := range c.W {
		c.W[r] = make([]frontend.Variable, cols)
	}
	return c
}

func assignMatVec(w [][]int64, x []int64) *matVecCircuit {
	c := &matVecCircuit{X: vars(x)}
	for _, row := range w {
		c.W = append(c.W, vars(row))
		c.Y = append(c.Y, fixedpoint.Dot[int64](&fixedpoint.Native{}, row, x))
	}
	return c
}

// MatVec equals Dot row by row on random operands and at the extremes of the
// bounds, where a slot one bit too narrow would carry into its neighbour; a
// changed product is rejected.
func TestPackedMatVec(t *testing.T) {
	const rows, cols, wBits, xBits = 7, 9, 22, 17 // 5 rows per packed element
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func(f func(r, i int) (int64, int64)) ([][]int64, []int64) {
		w := make([][]int64, rows)
		x := make([]int64, cols)
		for r := range w {
			w[r] = make([]int64, cols)
			for i := range w[r] {
				w[r][i], x[i] = f(r, i)
			}
		}
		return w, x
	}
	cases := map[string]func(r, i int) (int64, int64){
		"random": func(int, int) (int64, int64) {
			return rng.Int64N(1<<(wBits+1)) - 1<<wBits, rng.Int64N(1<<(xBits+1)) - 1<<xBits
		},
		"most negative products": func(int, int) (int64, int64) { return -1 << wBits, 1<<xBits - 1 },
		"most positive products": func(int, int) (int64, int64) { return -1 << wBits, -1 << xBits },
		"alternating rows": func(r, _ int) (int64, int64) {
			if r%2 == 0 {
				return -1 << wBits, -1 << xBits
			}
			return 1<<wBits - 1, -1 << xBits
		},
	}
	for name, f := range cases {
		w, x := fill(f)
		valid := assignMatVec(w, x)
		wrong := assignMatVec(w, x)
		wrong.Y[3] = new(big.Int).Add(big.NewInt(valid.Y[3].(int64)), big.NewInt(1))
		t.Run(name, func(t *testing.T) {
			test.NewAssert(t).CheckCircuit(newMatVec(rows, cols, wBits, xBits),
				test.WithValidAssignment(valid), test.WithInvalidAssignment(wrong),
				test.WithCurves(ecc.BN254), test.NoFuzzing(), test.NoSerializationChecks())
		})
	}
}

// A prover who returns other base-2^S digits that recompose to the same
// packed sum (a borrow from one slot to the next) must fail the slot range
// check.
func TestPackedMatVecRejectsBorrowedSlots(t *testing.T) {
	w := [][]int64{{3, -4}, {5, 6}, {-7, 8}}
	x := []int64{100, -200}
	c := newMatVec(3, 2, 22, 17)
	valid := assignMatVec(w, x)
	if err := test.IsSolved(c, valid, ecc.BN254.ScalarField()); err != nil {
		t.Fatal(err)
	}
	// Products: row 0 = 1100, row 1 = -700; claim row 0 + 2^S and row 1 - 1.
	slot := uint(22 + 17 + 2 + 1)
	forged := assignMatVec(w, x)
	forged.Y[0] = new(big.Int).Add(big.NewInt(1100), new(big.Int).Lsh(big.NewInt(1), slot))
	forged.Y[1] = -701
	borrow := func(field *big.Int, in, out []*big.Int) error {
		if err := UnpackHint(field, in, out); err != nil {
			return err
		}
		out[0].Add(out[0], new(big.Int).Lsh(big.NewInt(1), slot))
		out[1].Sub(out[1], big.NewInt(1))
		return nil
	}
	err := test.IsSolved(c, forged, ecc.BN254.ScalarField(), test.WithReplacementHint(solver.GetHintID(UnpackHint), borrow))
	if err == nil {
		t.Fatal("borrowed slots were accepted")
	}
}

// Constant weights (a fixed model) take the plain path: no hint, no range
// checks, products folded into linear combinations.
func TestMatVecConstantWeightsAreFree(t *testing.T) {
	c := &constMatVec{X: make([]frontend.Variable, 4), Y: make([]frontend.Variable, 3)}
	if n := constraintstats.Count(t, c); n != 3 {
		t.Fatalf("a constant 3x4 MatVec costs %d constraints, want 3 (the equalities)", n)
	}
}

type constMatVec struct {
	X []frontend.Variable
	Y []frontend.Variable `gnark:",public"`
}

func (c *constMatVec) Define(api frontend.API) error {
	w := [][]frontend.Variable{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}
	for r, y := range New(api, WithPackedProducts()).MatVec(w, c.X, 22, 17) {
		api.AssertIsEqual(y, c.Y[r])
	}
	return nil
}
