package lookup

import (
	"errors"
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/internal/constraintstats"
)

// limbCircuit checks Limbs against widths and exposes their recomposition.
type limbCircuit struct {
	Limbs  []frontend.Variable
	Value  frontend.Variable `gnark:",public"`
	widths []int
}

func (c *limbCircuit) Define(api frontend.API) error {
	r := New(api)
	for start := 0; start < len(c.Limbs); start += len(c.widths) {
		r.CheckLimbs(c.Limbs[start:start+len(c.widths)], c.widths)
	}
	// The first value's recomposition, so that a test can pin it.
	api.AssertIsEqual(Recompose(api, c.Limbs[:len(c.widths)], c.widths), c.Value)
	return nil
}

func newLimbCircuit(widths []int, values int) *limbCircuit {
	return &limbCircuit{Limbs: make([]frontend.Variable, values*len(widths)), widths: widths}
}

func assignLimbs(t *testing.T, widths []int, values ...int64) *limbCircuit {
	t.Helper()
	c := &limbCircuit{Value: values[0]}
	for _, v := range values {
		l, err := Limbs(v, widths)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range l {
			c.Limbs = append(c.Limbs, x)
		}
	}
	return c
}

func TestLimbChecks(t *testing.T) {
	assert := test.NewAssert(t)
	widths := []int{12, 11} // a 23-bit weight slot
	valid := assignLimbs(t, widths, 1<<23-1, 0, 4095, 1<<22, 12345)
	// Out of range: the top limb holds 2^11, so the value has 24 bits.
	tooWide := assignLimbs(t, widths, 1<<23-1, 0, 4095, 1<<22, 12345)
	tooWide.Limbs[3] = 1 << 11
	// Negative: p-1 in the low limb.
	negative := assignLimbs(t, widths, 1<<23-1, 0, 4095, 1<<22, 12345)
	negative.Limbs[2] = -1
	// The recomposition is pinned: another value with the same limbs fails.
	wrongValue := assignLimbs(t, widths, 1<<23-1, 0, 4095, 1<<22, 12345)
	wrongValue.Value = 1<<23 - 2
	assert.CheckCircuit(newLimbCircuit(widths, 5),
		test.WithValidAssignment(valid),
		test.WithInvalidAssignment(tooWide), test.WithInvalidAssignment(negative), test.WithInvalidAssignment(wrongValue),
		test.WithCurves(ecc.BN254))
}

// TestLimbChecksRejectForgedMultiplicities replaces the honest CountHint by
// one that files every out-of-range limb under entry 0, as a cheating prover
// would: the hint succeeds, and the lookup equality must still fail.
func TestLimbChecksRejectForgedMultiplicities(t *testing.T) {
	widths := []int{8, 8}
	for name, limb := range map[string]int64{"2^8": 1 << 8, "p-1": -1, "2^200": 0} {
		t.Run(name, func(t *testing.T) {
			w := assignLimbs(t, widths, 300, 7)
			if name == "2^200" {
				w.Limbs[1] = new(big.Int).Lsh(big.NewInt(1), 200)
			} else {
				w.Limbs[1] = limb
			}
			c := newLimbCircuit(widths, 2)
			w.Value = recomposed(w.Limbs[:2], widths) // so that only the lookup can fail
			err := test.IsSolved(c, w, ecc.BN254.ScalarField(), test.WithReplacementHint(solver.GetHintID(CountHint), forgedCount))
			if err == nil {
				t.Fatal("an out-of-range limb with forged multiplicities was accepted")
			}
		})
	}
	// The forged hint itself is not what fails: with in-range limbs it is
	// the honest count and the circuit is satisfied.
	w := assignLimbs(t, widths, 300, 7)
	if err := test.IsSolved(newLimbCircuit(widths, 2), w, ecc.BN254.ScalarField(), test.WithReplacementHint(solver.GetHintID(CountHint), forgedCount)); err != nil {
		t.Fatalf("in-range limbs: %v", err)
	}
}

func recomposed(limbs []frontend.Variable, widths []int) *big.Int {
	v, shift := new(big.Int), 0
	for i, l := range limbs {
		var x big.Int
		switch l := l.(type) {
		case int64:
			x.SetInt64(l)
		case *big.Int:
			x.Set(l)
		}
		v.Add(v, x.Lsh(&x, uint(shift)))
		shift += widths[i]
	}
	return v.Mod(v, ecc.BN254.ScalarField())
}

// forgedCount is CountHint that never fails: a limb outside the table counts
// as entry 0.
func forgedCount(_ *big.Int, in []*big.Int, out []*big.Int) error {
	for i := range out {
		out[i].SetUint64(0)
	}
	for _, q := range in[1:] {
		i := uint64(0)
		if q.IsUint64() && q.Uint64() < uint64(len(out)) {
			i = q.Uint64()
		}
		out[i].Add(out[i], big.NewInt(1))
	}
	return nil
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		bits, n int
		want    []int
	}{
		{23, 44530, []int{12, 11}}, // MNIST's weights: two limbs, tables of 4096 and 2048
		{23, 650, []int{8, 8, 7}},  // a small model: three limbs, small tables
		{18, 784, []int{9, 9}},
		{1, 5, []int{1}},
		{40, 1 << 20, []int{14, 13, 13}},
	} {
		got := Split(tc.bits, tc.n)
		if len(got) != len(tc.want) {
			t.Errorf("Split(%d, %d) = %v, want %v", tc.bits, tc.n, got, tc.want)
			continue
		}
		total := 0
		for i := range got {
			total += got[i]
			if got[i] != tc.want[i] || got[i] > MaxBits {
				t.Errorf("Split(%d, %d) = %v, want %v", tc.bits, tc.n, got, tc.want)
			}
		}
		if total != tc.bits {
			t.Errorf("Split(%d, %d) = %v does not add up to %d bits", tc.bits, tc.n, got, tc.bits)
		}
	}
}

func TestLimbs(t *testing.T) {
	got, err := Limbs(0x5abcd, []int{12, 11})
	if err != nil || got[0] != 0xbcd || got[1] != 0x5a {
		t.Fatalf("Limbs = %v, %v", got, err)
	}
	for _, v := range []int64{-1, 1 << 23} {
		if _, err := Limbs(v, []int{12, 11}); !errors.Is(err, ErrLimb) {
			t.Errorf("Limbs(%d): got %v, want ErrLimb", v, err)
		}
	}
}

// TestConstraintStats keeps the cost of 1,000 23-bit values in
// testdata/stats.csv: 2 constraints per value and one per table entry.
func TestConstraintStats(t *testing.T) {
	widths := Split(23, 1000)
	n := constraintstats.Count(t, newLimbCircuit(widths, 1000))
	t.Logf("1000 values as %v limbs: %d constraints", widths, n)
	constraintstats.Check(t, map[string]constraintstats.Row{"limbs/23-bit/1000": {Params: 1000, Constraints: n}})
}
