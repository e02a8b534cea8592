package sampling

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/dp"
)

// randElement is a reproducible pseudo-random field element.
func randElement(rng *rand.Rand) fr.Element {
	var b [fr.Bytes]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	var e fr.Element
	e.SetBytes(b[:]) // reduces modulo p
	return e
}

// checkOpts are the options of every CheckCircuit here: BN254, solver only.
func checkOpts(opts ...test.TestingOption) []test.TestingOption {
	return append([]test.TestingOption{test.WithCurves(ecc.BN254), test.NoProverChecks()}, opts...)
}

// assertHintRejected checks that assignment satisfies circuit with the
// honest hints, and that replacing hint by bad makes it unsatisfiable, both
// in the constraint-system solver (solver.OverrideHint) and in the test
// engine (test.WithReplacementHint).
func assertHintRejected(t *testing.T, circuit, assignment frontend.Circuit, hint, bad solver.Hint) {
	t.Helper()
	assert := test.NewAssert(t)
	assert.CheckCircuit(circuit, checkOpts(test.WithValidAssignment(assignment))...)
	assertRejectedWith(t, circuit, assignment, hint, bad)
}

// assertRejectedWith checks that assignment does not satisfy circuit when
// hint is replaced by bad.
func assertRejectedWith(t *testing.T, circuit, assignment frontend.Circuit, hint, bad solver.Hint) {
	t.Helper()
	assert := test.NewAssert(t)
	id := solver.GetHintID(hint)
	assert.CheckCircuit(circuit, checkOpts(
		test.WithInvalidAssignment(assignment),
		test.NoTestEngine(),
		test.WithSolverOpts(solver.OverrideHint(id, bad)))...)
	if err := test.IsSolved(circuit, assignment, ecc.BN254.ScalarField(), test.WithReplacementHint(id, bad)); err == nil {
		t.Fatal("the test engine accepted a wrong hint value")
	}
}

// tamper wraps an honest hint and changes its output k by delta.
func tamper(hint solver.Hint, k int, delta int64) solver.Hint {
	return func(f *big.Int, in, out []*big.Int) error {
		if err := hint(f, in, out); err != nil {
			return err
		}
		out[k].Add(out[k], big.NewInt(delta))
		out[k].Mod(out[k], f)
		return nil
	}
}

// flipBitAt wraps a boolean hint and negates its output on the call whose
// first input is at, so that only one slot is wrong.
func flipBitAt(hint solver.Hint, at int64) solver.Hint {
	return func(f *big.Int, in, out []*big.Int) error {
		if err := hint(f, in, out); err != nil {
			return err
		}
		if in[0].Cmp(big.NewInt(at)) == 0 {
			out[0].Sub(big.NewInt(1), out[0])
		}
		return nil
	}
}

func fieldBN254() *big.Int { return ecc.BN254.ScalarField() }

// constHint sets every output to v.
func constHint(v *big.Int) solver.Hint {
	return func(_ *big.Int, _, out []*big.Int) error {
		for i := range out {
			out[i].Set(v)
		}
		return nil
	}
}

// prfWords is dp.Words, failing the test on an unusable block.
func prfWords(t *testing.T, key fr.Element, stream uint64, n int) []uint64 {
	t.Helper()
	w, err := dp.Words(key, stream, n)
	if err != nil {
		t.Fatal(err)
	}
	return w
}
