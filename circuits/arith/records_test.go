package arith

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/fixedpoint"
)

// recordsCircuit replays fixedpoint.StepRecords: records of several rows
// (sentences of token slots), each clipped once.
type recordsCircuit struct {
	stepCircuit
	rows int
}

func (c *recordsCircuit) Define(api frontend.API) error {
	a := New(api)
	m, err := fixedpoint.Unflatten(c.widths, c.W)
	if err != nil {
		return err
	}
	next, sum := fixedpoint.StepRecords[frontend.Variable](a, c.params, m, c.rows, c.X, c.Y, c.Mask, c.Noise)
	for i, w := range next.Flatten() {
		api.AssertIsEqual(w, c.Next[i])
		api.AssertIsEqual(sum[i], c.Sum[i])
	}
	return nil
}

// randomRecords is a batch of records of rows rows: the last row of every
// record is a padding token (zero one-hot, arbitrary features) and the last
// record is a padding slot (mask 0).
func randomRecords(t *testing.T, rng *rand.Rand, widths []int, records, rows int, weightScale, clipNorm float64) (stepCase, int) {
	t.Helper()
	f := fixedpoint.DefaultFormat()
	p, err := fixedpoint.NewStepParams(f, clipNorm, 0.5, 8, 20)
	if err != nil {
		t.Fatal(err)
	}
	c := newStepCase(rng, widths, p, weightScale)
	k := widths[len(widths)-1]
	for b := range records {
		for l := range rows {
			x := randomRow(rng, f, widths[0])
			y := make([]int64, k)
			if l < rows-1 {
				y[rng.IntN(k)] = 1
			}
			c.xs, c.ys = append(c.xs, x), append(c.ys, y)
		}
		c.mask = append(c.mask, int64(min(1, records-1-b)))
	}
	m, _ := fixedpoint.Unflatten(widths, c.w)
	nat := &fixedpoint.Native{}
	next, sum := fixedpoint.StepRecords[int64](nat, p, m, rows, c.xs, c.ys, c.mask, c.noise)
	if err := nat.Err(); err != nil {
		t.Fatal(err)
	}
	c.next, c.sum = next.Flatten(), sum
	return c, rows
}

func recordsPair(c stepCase, rows int) (*recordsCircuit, *recordsCircuit) {
	circ := &recordsCircuit{stepCircuit: *c.circuit(), rows: rows}
	circ.Mask = make([]frontend.Variable, len(c.mask))
	return circ, &recordsCircuit{stepCircuit: *c.assignment(), rows: rows}
}

// The native record step and the circuit agree, with and without heavy
// clipping, and a changed sum is rejected.
func TestStepRecordsNativeEqualsCircuit(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for i, widths := range [][]int{{3, 2}, {5, 4}} {
		for _, scale := range []float64{0.05, 2} {
			for _, clipNorm := range []float64{0.05, 1} {
				c, rows := randomRecords(t, rng, widths, 3, 3, scale, clipNorm)
				circ, w := recordsPair(c, rows)
				if err := test.IsSolved(circ, w, ecc.BN254.ScalarField()); err != nil {
					t.Fatalf("case %d (widths %v, scale %v, C %v): the circuit rejects the native record step: %v", i, widths, scale, clipNorm, err)
				}
				c.sum[0]++
				circ, w = recordsPair(c, rows)
				if err := test.IsSolved(circ, w, ecc.BN254.ScalarField()); err == nil {
					t.Fatalf("case %d: a changed sum is accepted", i)
				}
			}
		}
	}
}

// TestStepRecordsSize compiles the record step's arithmetic at the
// ner_btc shapes (545 features, 7 tags, 32 token slots) for one and two
// records, so that the per-record and the fixed parts of its constraints
// show. The membership, sampling and commitment parts of the full step
// circuit are not included. Run with ZKDP_RECORD_STEP_SIZE=1.
func TestStepRecordsSize(t *testing.T) {
	if os.Getenv("ZKDP_RECORD_STEP_SIZE") == "" {
		t.Skip("set ZKDP_RECORD_STEP_SIZE=1 to compile the ner_btc-sized record step")
	}
	f := fixedpoint.DefaultFormat()
	p, err := fixedpoint.NewStepParams(f, 1, 2, 256, 20)
	if err != nil {
		t.Fatal(err)
	}
	widths, rows := []int{545, 7}, 32
	n := fixedpoint.NumParams(widths)
	var counts []int
	for _, records := range []int{1, 2} {
		c := &recordsCircuit{stepCircuit: stepCircuit{widths: widths, params: p, W: make([]frontend.Variable, n),
			Noise: make([]frontend.Variable, n), Next: make([]frontend.Variable, n), Sum: make([]frontend.Variable, n),
			Mask: make([]frontend.Variable, records)}, rows: rows}
		for range records * rows {
			c.X = append(c.X, make([]frontend.Variable, widths[0]))
			c.Y = append(c.Y, make([]frontend.Variable, widths[1]))
		}
		ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, ccs.GetNbConstraints())
	}
	per := counts[1] - counts[0]
	t.Logf("record step at 545 features, 7 tags, 32 slots: %d constraints for 1 record, %d for 2: %d per record, %d fixed", counts[0], counts[1], per, counts[0]-per)
}
