package step

import (
	"context"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/trainer"
)

// tinyRun trains 3 steps on 24 breast-cancer rows, with a coarse noise
// lattice so that the noise table and the circuit stay small.
type tinyRun struct {
	spec  Spec
	res   *trainer.Result
	q     *data.Quantized
	tree  *commit.MerkleTree
	setup trainer.Setup
}

func newTinyRun(t *testing.T) *tinyRun {
	t.Helper()
	dc, err := data.DefaultConfig("breast_cancer")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(dc, 1)
	if err != nil {
		t.Fatal(err)
	}
	ds.Train.X, ds.Train.Y = ds.Train.X[:24], ds.Train.Y[:24]
	cfg := trainer.DefaultConfig()
	cfg.Steps, cfg.SamplingRate, cfg.ClipNorm, cfg.LearningRate, cfg.NoiseMultiplier = 3, 0.25, 1, 1, 2
	// A coarse noise lattice keeps the noise table (and the circuit) small.
	format := fixedpoint.DefaultFormat()
	format.LatticeBits = 4
	var beacon fr.Element
	beacon.SetUint64(77)
	s := trainer.Setup{Dataset: ds, Training: cfg, Format: format, Seed: dp.SeedFromUint64(3), Beacon: beacon, BeaconGiven: true}
	res, err := trainer.Train(context.Background(), s, trainer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sampler, noise, err := res.Params.Mechanism().Samplers()
	if err != nil {
		t.Fatal(err)
	}
	q, err := data.QuantizeSplit(ds.Train, s.Format.FracBits)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := q.Commit(dp.RowSalts(s.Seed, q.Len()))
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Widths: res.Params.Widths, Params: res.Params.Step, Rows: res.Params.Rows, MaxBatch: res.Params.MaxBatch,
		Depth: tree.Depth(), Thresholds: sampler.Thresholds, CDF: noise.CDF, Tail: noise.Tail}
	return &tinyRun{spec: spec, res: res, q: q, tree: tree, setup: s}
}

func (r *tinyRun) input(t *testing.T, step int) Input {
	t.Helper()
	ph, _ := commit.ParseHex(r.res.Transcript.ParamsHash)
	in := Input{ParamsHash: ph, DatasetRoot: r.tree.Root(), Beacon: r.setup.Beacon, Seed: r.setup.Seed, Step: step,
		Before: r.res.Weights[step], After: r.res.Weights[step+1]}
	for _, i := range r.res.Batches[step].Indices {
		path, err := r.tree.Path(i)
		if err != nil {
			t.Fatal(err)
		}
		in.Rows, in.Labels, in.Paths = append(in.Rows, r.q.X[i]), append(in.Labels, r.q.Y[i]), append(in.Paths, path)
		in.Salts = append(in.Salts, dp.RowSalt(r.setup.Seed, i))
	}
	return in
}

func (r *tinyRun) assign(t *testing.T, in Input) *Circuit {
	t.Helper()
	c, err := Assign(r.spec, in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (r *tinyRun) check(t *testing.T, in Input, wantOK bool, what string) {
	t.Helper()
	c, err := New(r.spec)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Assign(r.spec, in)
	if err != nil {
		if wantOK {
			t.Fatalf("%s: %v", what, err)
		}
		return
	}
	err = test.IsSolved(c, w, ecc.BN254.ScalarField())
	if wantOK && err != nil {
		t.Fatalf("%s: the honest step is rejected: %v", what, err)
	}
	if !wantOK && err == nil {
		t.Fatalf("%s: accepted", what)
	}
}

// Every step of a real (tiny) training run is accepted as it was trained.
func TestTrainedStepsSatisfyTheCircuit(t *testing.T) {
	r := newTinyRun(t)
	nonEmpty := 0
	for step := range r.res.Params.Steps {
		in := r.input(t, step)
		nonEmpty += len(in.Rows)
		r.check(t, in, true, "honest step")
	}
	if nonEmpty == 0 {
		t.Fatal("every batch was empty: the test proves nothing about rows")
	}
}

// update is W_t+1 as a prover would compute it from in's batch, with the
// PRF's noise.
func (r *tinyRun) update(t *testing.T, in Input) []int64 { return r.updateSpec(t, in, r.spec, nil) }

func (r *tinyRun) updateWithNoise(t *testing.T, in Input, tamper func([]int64)) []int64 {
	return r.updateSpec(t, in, r.spec, tamper)
}

func (r *tinyRun) updateSpec(t *testing.T, in Input, spec Spec, tamper func([]int64)) []int64 {
	t.Helper()
	_, gauss, err := r.res.Params.Mechanism().Samplers()
	if err != nil {
		t.Fatal(err)
	}
	key := dp.StepKey(in.Seed, in.Beacon, in.Step)
	noise := gauss.SampleVector(dp.Words(key, dp.StreamNoise, len(in.Before)))
	if tamper != nil {
		tamper(noise)
	}
	m, err := fixedpoint.Unflatten(spec.Widths, in.Before)
	if err != nil {
		t.Fatal(err)
	}
	var ys [][]int64
	var mask []int64
	for _, l := range in.Labels {
		y := make([]int64, spec.Widths[len(spec.Widths)-1])
		y[l] = 1
		ys, mask = append(ys, y), append(mask, 1)
	}
	n := &fixedpoint.Native{}
	next, _ := fixedpoint.Step[int64](n, spec.Params, m, in.Rows, ys, mask, noise)
	if n.Err() != nil {
		t.Fatal(n.Err())
	}
	return next.Flatten()
}

// The tamper suite at the circuit level: each change must be rejected.
func TestTamperedStepsAreRejected(t *testing.T) {
	r := newTinyRun(t)
	step := 0
	for len(r.res.Batches[step].Indices) < 2 {
		step++
	}
	honest := func() Input { return r.input(t, step) }
	cases := map[string]func(in *Input){
		"changed weight in W_t+1": func(in *Input) { in.After = append([]int64{}, in.After...); in.After[3]++ },
		"changed weight in W_t":   func(in *Input) { in.Before = append([]int64{}, in.Before...); in.Before[0]-- },
		"row altered": func(in *Input) {
			in.Rows = append([][]int64{}, in.Rows...)
			in.Rows[0] = append([]int64{}, in.Rows[0]...)
			in.Rows[0][2]++
		},
		"label flipped": func(in *Input) { in.Labels = append([]int{}, in.Labels...); in.Labels[0] = 1 - in.Labels[0] },
		"example not in D": func(in *Input) {
			// another row of the dataset, with its own valid path, in place of the selected one
			other := (r.res.Batches[step].Indices[0] + 1) % r.q.Len()
			p, _ := r.tree.Path(other)
			in.Rows = append([][]int64{r.q.X[other]}, in.Rows[1:]...)
			in.Labels = append([]int{r.q.Y[other]}, in.Labels[1:]...)
			in.Paths = append([][]fr.Element{p}, in.Paths[1:]...)
			in.Salts = append([]fr.Element{dp.RowSalt(r.setup.Seed, other)}, in.Salts[1:]...)
		},
		// The selected row, its path and label, under another row's salt:
		// the leaf is not the committed one.
		"salt not the row's": func(in *Input) {
			in.Salts[0] = dp.RowSalt(r.setup.Seed, r.res.Batches[step].Indices[0]+1)
		},
		"dataset root changed": func(in *Input) { var e fr.Element; e.SetUint64(5); in.DatasetRoot = e },
		// A dishonest prover updates the model with the batch it chose.
		"batch omits an index": func(in *Input) {
			in.Rows, in.Labels, in.Paths = in.Rows[:len(in.Rows)-1], in.Labels[:len(in.Labels)-1], in.Paths[:len(in.Paths)-1]
			in.Salts = in.Salts[:len(in.Salts)-1]
			in.After = r.update(t, *in)
		},
		"batch adds an index": func(in *Input) {
			other := (r.res.Batches[step].Indices[len(in.Rows)-1] + 1) % r.q.Len()
			p, _ := r.tree.Path(other)
			in.Rows, in.Labels, in.Paths = append(in.Rows, r.q.X[other]), append(in.Labels, r.q.Y[other]), append(in.Paths, p)
			in.Salts = append(in.Salts, dp.RowSalt(r.setup.Seed, other))
			in.After = r.update(t, *in)
		},
		"noise not the PRF's": func(in *Input) {
			in.After = r.updateWithNoise(t, *in, func(noise []int64) { noise[0] += 3 })
		},
		// A changed entry of the gradient sum moves W_t+1 exactly as noise does.
		"changed gradient entry": func(in *Input) {
			in.After = r.updateWithNoise(t, *in, func(noise []int64) { noise[len(noise)-1]-- })
		},
		"sigma different from params": func(in *Input) {
			in.After = r.updateWithNoise(t, *in, func(noise []int64) {
				for i := range noise {
					noise[i] *= 2
				}
			})
		},
		"clipping skipped": func(in *Input) {
			// W_t+1 from unclipped gradients: a much larger clip norm.
			spec := r.spec
			spec.Params.ClipNorm *= 1000
			in.After = r.updateSpec(t, *in, spec, nil)
		},
		"learning rate changed": func(in *Input) {
			spec := r.spec
			spec.Params.StepSize *= 2
			in.After = r.updateSpec(t, *in, spec, nil)
		},
		"wrong seed":     func(in *Input) { in.Seed = dp.SeedFromUint64(4) },
		"wrong beacon":   func(in *Input) { var e fr.Element; e.SetUint64(78); in.Beacon = e },
		"other step":     func(in *Input) { in.Step++ },
		"params changed": func(in *Input) { var e fr.Element; e.SetUint64(1); in.ParamsHash.Add(&in.ParamsHash, &e) },
	}
	for name, mutate := range cases {
		in := honest()
		mutate(&in)
		// The public inputs are recomputed from the tampered items, so only
		// the circuit's constraints can catch it...
		if name == "params changed" || name == "wrong beacon" || name == "dataset root changed" {
			// ...except for items the run commitment alone binds: those must
			// give a different public input than the honest step's.
			a, b := r.assign(t, honest()).RunCommitment, r.assign(t, in).RunCommitment
			if a.(fr.Element) == b.(fr.Element) {
				t.Errorf("%s: same run commitment", name)
			}
			if name == "params changed" {
				continue // the circuit itself does not read the params hash
			}
		}
		r.check(t, in, false, name)
	}
	// Each public input that does not match the private items is rejected.
	var one fr.Element
	one.SetOne()
	bump := func(v any) fr.Element {
		var e fr.Element
		if _, err := e.SetInterface(v); err != nil {
			t.Fatal(err)
		}
		return *e.Add(&e, &one)
	}
	for name, change := range map[string]func(c *Circuit){
		"run commitment": func(c *Circuit) { c.RunCommitment = bump(c.RunCommitment) },
		"step":           func(c *Circuit) { c.Step = bump(c.Step) },
		"model before":   func(c *Circuit) { c.ModelBefore = bump(c.ModelBefore) },
		"model after":    func(c *Circuit) { c.ModelAfter = bump(c.ModelAfter) },
	} {
		c := r.assign(t, honest())
		change(c)
		circuit, _ := New(r.spec)
		if err := test.IsSolved(circuit, c, ecc.BN254.ScalarField()); err == nil {
			t.Errorf("a changed public input (%s) was accepted", name)
		}
	}
}

// gnark's CheckCircuit on the compiled step circuit (R1CS for Groth16), with
// the honest step and tampered ones.
func TestStepCheckCircuit(t *testing.T) {
	assert := test.NewAssert(t)
	r := newTinyRun(t)
	step := 0
	for len(r.res.Batches[step].Indices) == 0 {
		step++
	}
	honest := r.input(t, step)
	wrongAfter := r.input(t, step)
	wrongAfter.After = append([]int64{}, wrongAfter.After...)
	wrongAfter.After[0]++
	wrongSeed := r.input(t, step)
	wrongSeed.Seed = dp.SeedFromUint64(99)
	circuit, err := New(r.spec)
	if err != nil {
		t.Fatal(err)
	}
	assert.CheckCircuit(circuit,
		test.WithValidAssignment(r.assign(t, honest)),
		test.WithInvalidAssignment(r.assign(t, wrongAfter)),
		test.WithInvalidAssignment(r.assign(t, wrongSeed)),
		test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16),
		test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())
}
