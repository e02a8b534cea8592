package arith

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"

	"github.com/zkdp/zkdp/fixedpoint"
)

var update = flag.Bool("update", false, "rewrite testdata/stats.csv with the measured constraint counts")

const statsFile = "testdata/stats.csv"

// gradientCircuit is one example's clipped gradient: the per-example part of
// the step circuit, which dominates its size.
type gradientCircuit struct {
	W, X, Y, G []frontend.Variable
	widths     []int
	params     fixedpoint.StepParams
}

func (c *gradientCircuit) Define(api frontend.API) error {
	m, err := fixedpoint.Unflatten(c.widths, c.W)
	if err != nil {
		return err
	}
	g := fixedpoint.ClippedGradient[frontend.Variable](New(api), c.params, m, c.X, c.Y)
	for i := range g {
		api.AssertIsEqual(g[i], c.G[i])
	}
	return nil
}

func newGradientCircuit(widths []int) (*gradientCircuit, error) {
	p, err := fixedpoint.NewStepParams(fixedpoint.DefaultFormat(), 1, 0.5, 64, 20)
	if err != nil {
		return nil, err
	}
	n := fixedpoint.NumParams(widths)
	return &gradientCircuit{widths: widths, params: p, W: make([]frontend.Variable, n), G: make([]frontend.Variable, n),
		X: make([]frontend.Variable, widths[0]), Y: make([]frontend.Variable, widths[len(widths)-1])}, nil
}

// statsCircuits are the measured circuits: the per-example gradient at the
// shapes of the shipped configs (breast cancer 30-2, digits 64-10, Adult
// 112-2) and one with a hidden layer.
var statsCircuits = map[string][]int{
	"clipped_gradient/breast_cancer": {30, 2},
	"clipped_gradient/digits":        {64, 10},
	"clipped_gradient/adult":         {112, 2},
	"clipped_gradient/mlp_64_16_10":  {64, 16, 10},
}

func readStats() (map[string]int, error) {
	f, err := os.Open(statsFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", statsFile, err)
	}
	out := map[string]int{}
	for i, r := range rows[1:] {
		if len(r) != 3 {
			return nil, fmt.Errorf("%s:%d: want circuit,params,r1cs_constraints", statsFile, i+2)
		}
		n, err := strconv.Atoi(r[2])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", statsFile, i+2, err)
		}
		out[r[0]] = n
	}
	return out, nil
}

// TestConstraintStats compares the R1CS constraint count of every measured
// circuit with testdata/stats.csv, exactly; -update rewrites the file. A
// missing row is a failure, not a skip.
func TestConstraintStats(t *testing.T) {
	measured := map[string]int{}
	params := map[string]int{}
	for name, widths := range statsCircuits {
		c, err := newGradientCircuit(widths)
		if err != nil {
			t.Fatal(err)
		}
		ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
		if err != nil {
			t.Fatal(err)
		}
		measured[name] = ccs.GetNbConstraints()
		params[name] = fixedpoint.NumParams(widths)
		t.Logf("%s: %d constraints, %d parameters, %.2f per parameter", name, measured[name], params[name], float64(measured[name])/float64(params[name]))
	}
	if *update {
		names := make([]string, 0, len(measured))
		for n := range measured {
			names = append(names, n)
		}
		sort.Strings(names)
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(statsFile)
		if err != nil {
			t.Fatal(err)
		}
		w := csv.NewWriter(f)
		w.Write([]string{"circuit", "params", "r1cs_constraints"})
		for _, n := range names {
			w.Write([]string{n, strconv.Itoa(params[n]), strconv.Itoa(measured[n])})
		}
		w.Flush()
		if err := errors.Join(w.Error(), f.Close()); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := readStats()
	if err != nil {
		t.Fatalf("%v (run go test -run TestConstraintStats -update)", err)
	}
	for name, got := range measured {
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no row in %s (run with -update)", name, statsFile)
			continue
		}
		if got != w {
			t.Errorf("%s: %d constraints, %s says %d (run with -update if the change is intended)", name, got, statsFile, w)
		}
	}
	for name := range want {
		if _, ok := measured[name]; !ok {
			t.Errorf("%s: row in %s for a circuit no longer measured", name, statsFile)
		}
	}
}
