package step

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/constraint/solver"
	"github.com/consensys/gnark/test"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/trainer"
)

// tinyRun trains 3 steps on 24 breast-cancer rows padded to a row bound of
// 32, with a coarse noise lattice so that the noise table and the circuit
// stay small.
type tinyRun struct {
	spec    Spec
	res     *trainer.Result
	q       *data.Quantized
	dataset *data.Committed // in spec.Membership's format
	setup   trainer.Setup
}

func newTinyRun(t *testing.T) *tinyRun { t.Helper(); return newTinyRunWith(t, nil) }

// newTinyRunWith is newTinyRun with hidden layers.
func newTinyRunWith(t *testing.T, hidden []int) *tinyRun {
	t.Helper()
	return newTinyRunNoise(t, hidden, 2)
}

// newTinyRunNoise is newTinyRunWith at the given noise multiplier.
func newTinyRunNoise(t *testing.T, hidden []int, multiplier float64) *tinyRun {
	t.Helper()
	return newTinyRunFormat(t, hidden, multiplier, nil)
}

// newTinyRunFormat is newTinyRunNoise with adjust applied to the format.
func newTinyRunFormat(t *testing.T, hidden []int, multiplier float64, adjust func(*fixedpoint.Format)) *tinyRun {
	t.Helper()
	dc, err := data.DefaultConfig("breast_cancer")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(dc, 1)
	if err != nil {
		t.Fatal(err)
	}
	ds.Train.X, ds.Train.Y, ds.MaxRows = ds.Train.X[:24], ds.Train.Y[:24], tinyBound
	cfg := trainer.DefaultConfig()
	cfg.Steps, cfg.SamplingRate, cfg.ClipNorm, cfg.LearningRate, cfg.NoiseMultiplier = 3, 0.25, 1, 1, multiplier
	cfg.Hidden = hidden
	// A coarse noise lattice keeps the noise table (and the circuit) small.
	format := fixedpoint.DefaultFormat()
	format.LatticeBits = 4
	if adjust != nil {
		adjust(&format)
	}
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
	q, err := data.QuantizeSplit(ds.Train, s.Format.DataBits())
	if err != nil {
		t.Fatal(err)
	}
	dataset, err := res.Params.CommitDataset(q, s.Seed)
	if err != nil {
		t.Fatal(err)
	}
	if dataset.Root != mustHex(t, res.Transcript.DatasetRoot) {
		t.Fatal("the test's dataset commitment is not the trainer's")
	}
	initBits, err := res.Params.InitBits()
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for 1<<depth < res.Params.Rows {
		depth++
	}
	spec := Spec{Widths: res.Params.Widths, Params: res.Params.Step, Rows: res.Params.Rows, MaxBatch: res.Params.MaxBatch,
		Depth: depth, Membership: res.Params.Membership(), Thresholds: sampler.Thresholds, CDF: noise.CDF, Tail: noise.Tail, NoiseCoeffs: noise.Combination(),
		Steps: res.Params.Steps, InitBits: initBits}
	return &tinyRun{spec: spec, res: res, q: q, dataset: dataset, setup: s}
}

// as is the tiny run with its dataset committed in format m instead (the
// run commitment then binds that D): the circuit checks either format.
func (r *tinyRun) as(t *testing.T, m data.Membership) *tinyRun {
	t.Helper()
	out := *r
	out.spec.Membership = m
	var err error
	switch m {
	case data.MembershipFlat:
		out.dataset, err = r.q.CommitFlat(r.spec.Rows, dp.DatasetSalt(r.setup.Seed))
	case data.MembershipLeaves:
		out.dataset, err = r.q.CommitLeaves(dp.RowSalts(r.setup.Seed, r.spec.Rows))
	default:
		out.dataset, err = r.q.CommitMerkle(dp.RowSalts(r.setup.Seed, r.spec.Rows))
	}
	if err != nil {
		t.Fatal(err)
	}
	return &out
}

// allFormats is every membership format.
var allFormats = []data.Membership{data.MembershipMerkle, data.MembershipFlat, data.MembershipLeaves}

// formats runs f on the tiny run in every membership format.
func formats(t *testing.T, f func(t *testing.T, r *tinyRun)) {
	r := newTinyRun(t)
	for _, m := range allFormats {
		t.Run(m.String(), func(t *testing.T) { f(t, r.as(t, m)) })
	}
}

// tinyBound is the tiny run's public row bound: its last 8 slots are padding.
const tinyBound = 32

func mustHex(t *testing.T, s string) fr.Element {
	t.Helper()
	e, err := commit.ParseHex(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (r *tinyRun) input(t *testing.T, step int) Input {
	t.Helper()
	ph, _ := commit.ParseHex(r.res.Transcript.ParamsHash)
	in := r.newInput(ph, step, r.res.Weights[step])
	in.After = r.res.Weights[step+1]
	for _, i := range r.res.Batches[step].Indices {
		r.addSlot(t, &in, i)
	}
	return in
}

// newInput is step's input without slots: the run's public items, the seed,
// W_t and the dataset's commitment.
func (r *tinyRun) newInput(paramsHash fr.Element, step int, before []int64) Input {
	return Input{ParamsHash: paramsHash, DatasetRoot: r.dataset.Root, Beacon: r.setup.Beacon, Seed: r.setup.Seed, Step: step,
		Before: before, Dataset: r.dataset.Table(), DatasetSalt: r.dataset.Salt}
}

// addSlot appends the slot of row i (real or padding) to in: its row,
// label, flag, and under a tree its Merkle path and salt.
func (r *tinyRun) addSlot(t *testing.T, in *Input, i int) {
	t.Helper()
	r.addRow(t, in, i, i)
}

// addRow appends a slot at position `at` that holds row i (i = at for an
// honest slot), with at's path and salt under a tree.
func (r *tinyRun) addRow(t *testing.T, in *Input, at, i int) {
	t.Helper()
	x, label, flag := r.q.Slot(i)
	in.Rows, in.Labels, in.Reals = append(in.Rows, x), append(in.Labels, label), append(in.Reals, flag)
	if r.dataset.Membership != data.MembershipFlat {
		in.Salts = append(in.Salts, dp.RowSalt(r.setup.Seed, at))
	}
	if r.dataset.Membership != data.MembershipMerkle {
		return
	}
	path, err := r.dataset.Tree.Path(at)
	if err != nil {
		t.Fatal(err)
	}
	in.Paths = append(in.Paths, path)
}

// replaceSlot puts row i in slot j at position at (with at's path and salt
// under a tree), in copies of in's slices.
func (r *tinyRun) replaceSlot(t *testing.T, in *Input, j, at, i int) {
	t.Helper()
	var one Input
	r.addRow(t, &one, at, i)
	in.Rows, in.Labels, in.Reals = slices.Clone(in.Rows), slices.Clone(in.Labels), slices.Clone(in.Reals)
	in.Rows[j], in.Labels[j], in.Reals[j] = one.Rows[0], one.Labels[0], one.Reals[0]
	if r.dataset.Membership != data.MembershipFlat {
		in.Salts = slices.Clone(in.Salts)
		in.Salts[j] = one.Salts[0]
	}
	if r.dataset.Membership == data.MembershipMerkle {
		in.Paths = slices.Clone(in.Paths)
		in.Paths[j] = one.Paths[0]
	}
}

// paddingStep is a step whose batch holds a padding row, and that row's slot.
func (r *tinyRun) paddingStep(t *testing.T) (step, slot int) {
	t.Helper()
	for step, b := range r.res.Batches {
		for slot, i := range b.Indices {
			if i >= r.q.Len() {
				return step, slot
			}
		}
	}
	t.Fatal("no batch of the tiny run holds a padding row")
	return 0, 0
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

// TestConvolvedNoiseSteps: at a noise scale where the circuit draws each
// noise sample as a*x + b*y from a small table (dp.NoiseCoeffs), every
// trained step is accepted, and a noise sample off by one, or the noise of
// a table sample of the wrong sign, is rejected.
func TestConvolvedNoiseSteps(t *testing.T) {
	r := newTinyRunNoise(t, nil, 80) // sigma 80 * 2^4 = 1280
	_, gauss, err := r.res.Params.Mechanism().Samplers()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.spec.NoiseCoeffs) != 2 || len(r.spec.CDF) > 1000 { // one table: 17,921 entries
		t.Fatalf("coefficients %v, table of %d: want a combination of a small table", r.spec.NoiseCoeffs, len(r.spec.CDF))
	}
	for step := range r.res.Params.Steps {
		r.check(t, r.input(t, step), true, "honest step")
	}
	in := r.input(t, 0)
	off := in
	off.After = r.updateWithNoise(t, in, func(noise []int64) { noise[1]++ })
	r.check(t, off, false, "noise off by one")
	key := dp.StepKey(in.Seed, in.Beacon, in.Step)
	words, err := dp.Words(key, dp.StreamNoise, 2*len(in.Before))
	if err != nil {
		t.Fatal(err)
	}
	flipped := in
	flipped.After = r.updateWithNoise(t, in, func(noise []int64) {
		for i := range noise { // the first sample whose second table sample is not 0
			if y := gauss.Sample(words[2*i+1]); y != 0 {
				noise[i] -= 2 * r.spec.NoiseCoeffs[1] * y
				return
			}
		}
	})
	r.check(t, flipped, false, "a table sample of the wrong sign")
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
	noise, err := gauss.Noise(key, len(in.Before))
	if err != nil {
		t.Fatal(err)
	}
	if tamper != nil {
		tamper(noise)
	}
	m, err := fixedpoint.Unflatten(spec.Widths, in.Before)
	if err != nil {
		t.Fatal(err)
	}
	var ys [][]int64
	for _, l := range in.Labels {
		y := make([]int64, spec.Widths[len(spec.Widths)-1])
		y[l] = 1
		ys = append(ys, y)
	}
	mask := in.Reals // a padding row's slot is masked
	n := &fixedpoint.Native{}
	rows := make([][]int64, len(in.Rows))
	for j, row := range in.Rows {
		rows[j] = make([]int64, len(row))
		for i, v := range row {
			rows[j][i] = v << spec.Params.DataShift()
		}
	}
	next, _ := fixedpoint.Step[int64](n, spec.Params, m, rows, ys, mask, noise)
	if n.Err() != nil {
		t.Fatal(n.Err())
	}
	return next.Flatten()
}

// The tamper suite at the circuit level: each change must be rejected,
// with D a tree, flat or over the leaves.
func TestTamperedStepsAreRejected(t *testing.T) { formats(t, testTamperedSteps) }

func testTamperedSteps(t *testing.T, r *tinyRun) {
	merkle := r.spec.Membership == data.MembershipMerkle
	flat := r.spec.Membership == data.MembershipFlat
	step := 0
	for len(r.res.Batches[step].Indices) < 2 || r.res.Batches[step].Indices[0] >= r.q.Len() {
		step++
	}
	// The batch's last real row: omitting a padding row would change nothing.
	lastReal := 0
	for j, i := range r.res.Batches[step].Indices {
		if i < r.q.Len() {
			lastReal = j
		}
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
			// another row of the dataset (under a tree with its own valid
			// path) in place of the selected one
			other := (r.res.Batches[step].Indices[0] + 1) % r.q.Len()
			r.replaceSlot(t, in, 0, other, other)
		},
		// The selected row, its path and label, under another row's salt:
		// the leaf is not the committed one. Flat: another dataset salt.
		"salt not the row's": func(in *Input) {
			if flat {
				in.DatasetSalt = dp.DatasetSalt(dp.SeedFromUint64(4))
				return
			}
			in.Salts = slices.Clone(in.Salts)
			in.Salts[0] = dp.RowSalt(r.setup.Seed, r.res.Batches[step].Indices[0]+1)
		},
		// A real row claimed padding (flag 0), so that it drops out of the
		// update: its leaf is not the committed one.
		"real row claimed padding": func(in *Input) {
			in.Reals = append([]int64{}, in.Reals...)
			in.Reals[0] = data.FlagPadding
			in.After = r.update(t, *in)
		},
		"dataset root changed": func(in *Input) { var e fr.Element; e.SetUint64(5); in.DatasetRoot = e },
		// A dishonest prover updates the model with the batch it chose.
		"batch omits an index": func(in *Input) {
			in.Rows, in.Labels, in.Reals = slices.Delete(in.Rows, lastReal, lastReal+1), slices.Delete(in.Labels, lastReal, lastReal+1), slices.Delete(in.Reals, lastReal, lastReal+1)
			if !flat {
				in.Salts = slices.Delete(in.Salts, lastReal, lastReal+1)
			}
			if merkle {
				in.Paths = slices.Delete(in.Paths, lastReal, lastReal+1)
			}
			in.After = r.update(t, *in)
		},
		"batch adds an index": func(in *Input) {
			other := (r.res.Batches[step].Indices[len(in.Rows)-1] + 1) % r.q.Len()
			r.addSlot(t, in, other)
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
	if !merkle {
		// A witness dataset that is not the committed one: a row (or leaf)
		// no batch slot reads changed, and the sampled row replaced by
		// another row's values in both the dataset and the slot (flat: the
		// lookup holds, D not).
		unsampled := 0
		for slices.Contains(r.res.Batches[step].Indices, unsampled) {
			unsampled++
		}
		cases["dataset does not hash to D"] = func(in *Input) {
			in.Dataset = slices.Clone(in.Dataset)
			in.Dataset[unsampled] = slices.Clone(in.Dataset[unsampled])
			var one fr.Element
			one.SetOne()
			in.Dataset[unsampled][0].Add(&in.Dataset[unsampled][0], &one)
		}
		cases["sampled row swapped in the dataset"] = func(in *Input) {
			at, other := r.res.Batches[step].Indices[0], (r.res.Batches[step].Indices[0]+1)%r.q.Len()
			in.Dataset = slices.Clone(in.Dataset)
			in.Dataset[at] = in.Dataset[other]
			r.replaceSlot(t, in, 0, at, other)
		}
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

// A padding row of the row bound, sampled into a batch, contributes nothing:
// a W_t+1 that counts its (nonzero) gradient is rejected, whether its flag
// stays 0 or the prover claims 1, which changes its leaf. The honest step,
// with the padding row masked, is accepted.
func TestSampledPaddingRowContributesNothing(t *testing.T) { formats(t, testSampledPaddingRow) }

func testSampledPaddingRow(t *testing.T, r *tinyRun) {
	step, slot := r.paddingStep(t)
	honest := r.input(t, step)
	if honest.Reals[slot] != data.FlagPadding {
		t.Fatalf("slot %d of step %d holds flag %d, want padding", slot, step, honest.Reals[slot])
	}
	r.check(t, honest, true, "honest step with a sampled padding row")

	counted := r.input(t, step)
	counted.Reals = append([]int64{}, counted.Reals...)
	counted.Reals[slot] = data.FlagReal
	after := r.update(t, counted) // the padding row's gradient counted
	if slices.Equal(after, honest.After) {
		t.Fatal("the padding row's gradient is zero: the test proves nothing")
	}
	counted.Reals[slot] = data.FlagPadding
	counted.After = after
	r.check(t, counted, false, "padding row (flag 0) contributes a nonzero gradient")

	claimed := r.input(t, step)
	claimed.Reals = append([]int64{}, claimed.Reals...)
	claimed.Reals[slot] = data.FlagReal
	claimed.After = after
	r.check(t, claimed, false, "padding leaf claimed real (flag 1)")

	notBoolean := r.input(t, step)
	notBoolean.Reals = append([]int64{}, notBoolean.Reals...)
	notBoolean.Reals[slot] = 2
	r.check(t, notBoolean, false, "real flag 2")
}

// gnark's CheckCircuit on the compiled step circuit (R1CS for Groth16), with
// the honest step and tampered ones.
func TestStepCheckCircuit(t *testing.T) { formats(t, testStepCheckCircuit) }

func testStepCheckCircuit(t *testing.T, r *tinyRun) {
	assert := test.NewAssert(t)
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
	wrongRow := r.input(t, step) // a row of D, not the one at its position
	other := (r.res.Batches[step].Indices[0] + 1) % r.q.Len()
	r.replaceSlot(t, &wrongRow, 0, other, other)
	circuit, err := New(r.spec)
	if err != nil {
		t.Fatal(err)
	}
	assert.CheckCircuit(circuit,
		test.WithValidAssignment(r.assign(t, honest)),
		test.WithInvalidAssignment(r.assign(t, wrongAfter)),
		test.WithInvalidAssignment(r.assign(t, wrongSeed)),
		test.WithInvalidAssignment(r.assign(t, wrongRow)),
		test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16),
		test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())
}

// stepFrom is the witness a prover would build for step `step` from W_t =
// before: the batch its PRF selects, those rows under D, and W_t+1 from
// them. For a step of the run it is the trained one.
func (r *tinyRun) stepFrom(t *testing.T, step int, before []int64) Input {
	t.Helper()
	sampler, _, err := r.res.Params.Mechanism().Samplers()
	if err != nil {
		t.Fatal(err)
	}
	key := dp.StepKey(r.setup.Seed, r.setup.Beacon, step)
	words, err := dp.Words(key, dp.StreamSampling, r.spec.MaxBatch+1)
	if err != nil {
		t.Fatal(err)
	}
	batch := sampler.Sample(words)
	ph, _ := commit.ParseHex(r.res.Transcript.ParamsHash)
	in := r.newInput(ph, step, before)
	for _, i := range batch.Indices {
		r.addSlot(t, &in, i)
	}
	in.After = r.update(t, in)
	return in
}

// W_0 is public: at t = 0 a witness whose W_0 is not dp.InitialWeights of
// the params hash and beacon is rejected, even when everything else is
// consistent with it (M_0 = H(W_0), W_1 trained from it), with and without
// a hidden layer (whose W_0 is PRF-drawn, not zero). A private W_0 could
// write data into the released model.
func TestInitialModelIsPublic(t *testing.T) {
	for name, hidden := range map[string][]int{"no hidden layer": nil, "hidden layer": {2}} {
		t.Run(name, func(t *testing.T) {
			r := newTinyRunWith(t, hidden)
			w0, err := r.res.Params.InitialModel(r.setup.Beacon)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(w0, r.res.Weights[0]) {
				t.Fatal("the trainer did not start from Params.InitialModel")
			}
			if len(hidden) > 0 && slices.Equal(w0, make([]int64, len(w0))) {
				t.Fatal("a hidden layer's W_0 is all zero: the test checks nothing of the PRF")
			}
			r.check(t, r.stepFrom(t, 0, w0), true, "the honest step 0 rebuilt")
			for i, what := range map[int]string{0: "first weight", len(w0) - 1: "last bias", len(w0) / 2: "a middle weight"} {
				other := slices.Clone(w0)
				other[i] += 1 << 10
				r.check(t, r.stepFrom(t, 0, other), false, "W_0 with a changed "+what)
			}
			// The same W_0 as step 1's W_t is fine: only t = 0 is bound.
			other := slices.Clone(w0)
			other[0]++
			r.check(t, r.stepFrom(t, 1, other), true, "step 1 from any W_1")
		})
	}
}

// gnark's CheckCircuit (compiled R1CS) rejects a W_0 other than the public
// one for a hidden-layer model, whose W_0 the circuit draws from the PRF.
func TestInitialModelCheckCircuit(t *testing.T) {
	r := newTinyRunWith(t, []int{2})
	w0 := r.res.Weights[0]
	other := slices.Clone(w0)
	other[1] = -other[1] - 1
	circuit, err := New(r.spec)
	if err != nil {
		t.Fatal(err)
	}
	test.NewAssert(t).CheckCircuit(circuit,
		test.WithValidAssignment(r.assign(t, r.stepFrom(t, 0, w0))),
		test.WithInvalidAssignment(r.assign(t, r.stepFrom(t, 0, other))),
		test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16),
		test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())
}

// t < T: a step beyond the run (built as honestly as a prover could, from
// the PRF of that step) is rejected, so a run cannot take more steps than
// its epsilon was computed for; so is a "negative" t.
func TestStepBeyondTIsRejected(t *testing.T) {
	r := newTinyRun(t)
	T := r.spec.Steps
	last := r.res.Weights[T]
	r.check(t, r.stepFrom(t, T-1, r.res.Weights[T-1]), true, "the last step rebuilt")
	r.check(t, r.stepFrom(t, T, last), false, "step T")
	r.check(t, r.stepFrom(t, T+7, last), false, "step T+7")
	c := r.assign(t, r.stepFrom(t, T, last))
	var minusOne fr.Element
	minusOne.SetOne()
	minusOne.Neg(&minusOne)
	c.Step = minusOne
	circuit, _ := New(r.spec)
	if err := test.IsSolved(circuit, c, ecc.BN254.ScalarField()); err == nil {
		t.Fatal("step -1 accepted")
	}
}

// T is in the run commitment: a witness whose run commitment is that of the
// same run with another T does not satisfy the circuit of this T.
func TestRunCommitmentBindsT(t *testing.T) {
	r := newTinyRun(t)
	in := r.input(t, 0)
	for _, steps := range []int{r.spec.Steps - 1, r.spec.Steps + 1} {
		other := r.spec
		other.Steps = steps
		c, err := Assign(other, in)
		if err != nil {
			t.Fatal(err)
		}
		if c.RunCommitment.(fr.Element) == r.assign(t, in).RunCommitment.(fr.Element) {
			t.Fatalf("T = %d gives the same run commitment", steps)
		}
		circuit, _ := New(r.spec)
		if err := test.IsSolved(circuit, c, ecc.BN254.ScalarField()); err == nil {
			t.Fatalf("a run commitment with T = %d accepted by the circuit of T = %d", steps, r.spec.Steps)
		}
	}
}

// The chunk split of W_0's PRF words bounds every hint output: a dishonest
// hint that keeps word = sum chunk_i 2^(k i) + rest 2^(k c) in the field
// but moves a chunk lets a prover pick another W_0 (here the weights of
// every word's moved chunks, the witness built from them) unless the rest
// (chunk 0 + 1, rest - 2^-(k c) wraps around the field) and each chunk
// (chunk 0 + 2^k, chunk 1 - 1) are range-checked. (The test engine does not
// run hints: R1CS only.)
func TestInitialModelWrongHintsRejected(t *testing.T) {
	r := newTinyRunWith(t, []int{2})
	circuit, err := New(r.spec)
	if err != nil {
		t.Fatal(err)
	}
	k := r.spec.InitBits[0]
	n := dp.InitChunks(k)
	if n < 2 {
		t.Fatalf("%d-bit weights: fewer than 2 chunks a word", k)
	}
	// moved is W_0 with chunk 0 of every word moved by d0 and chunk 1 by d1.
	moved := func(d0, d1 int64) *Circuit {
		w := slices.Clone(r.res.Weights[0])
		for i := range r.spec.Widths[0] * r.spec.Widths[1] {
			switch i % n {
			case 0:
				w[i] += d0
			case 1:
				w[i] += d1
			}
		}
		return r.assign(t, r.stepFrom(t, 0, w))
	}
	chunkPlusOne := func(m *big.Int, in, out []*big.Int) error {
		if err := splitWordHint(m, in, out); err != nil {
			return err
		}
		out[0].Add(out[0], big.NewInt(1))
		inv := new(big.Int).ModInverse(new(big.Int).Lsh(big.NewInt(1), uint(in[1].Uint64())*uint(n)), m)
		out[n].Sub(out[n], inv).Mod(out[n], m)
		return nil
	}
	chunkPlusTwoK := func(m *big.Int, in, out []*big.Int) error {
		if err := splitWordHint(m, in, out); err != nil {
			return err
		}
		out[0].Add(out[0], new(big.Int).Lsh(big.NewInt(1), uint(in[1].Uint64())))
		out[1].Sub(out[1], big.NewInt(1)).Mod(out[1], m)
		return nil
	}
	for _, c := range []struct {
		hint solver.Hint
		w    *Circuit
	}{{chunkPlusOne, moved(1, 0)}, {chunkPlusTwoK, moved(1<<k, -1)}} {
		test.NewAssert(t).CheckCircuit(circuit, test.NoTestEngine(), test.WithInvalidAssignment(c.w),
			test.WithSolverOpts(solver.OverrideHint(solver.GetHintID(splitWordHint), c.hint)),
			test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16),
			test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())
	}
}

// Features committed at fewer fractional bits than the model's
// (data_frac_bits): the circuit opens the committed rows at their width and
// scales them by 2^DataShift for the step, which then matches the
// trainer's; a row feature one unit off at that width is rejected, in both
// membership formats.
func TestStepWithCoarseData(t *testing.T) {
	r := newTinyRunFormat(t, nil, 2, func(f *fixedpoint.Format) { f.DataFracBits = 8 })
	if r.spec.Params.DataShift() != 8 {
		t.Fatalf("data shift %d", r.spec.Params.DataShift())
	}
	for _, m := range allFormats {
		t.Run(m.String(), func(t *testing.T) {
			r := r.as(t, m)
			for step := range r.spec.Steps {
				r.check(t, r.input(t, step), true, fmt.Sprintf("honest step %d", step))
			}
			in := r.input(t, 0)
			in.Rows = slices.Clone(in.Rows)
			in.Rows[0] = slices.Clone(in.Rows[0])
			in.Rows[0][0]++
			in.After = r.update(t, in)
			r.check(t, in, false, "a committed feature one unit off")
		})
	}
}

// A continued run starts from a released model: at t = 0 the circuit
// accepts exactly the W_0 whose commitment is the M_0 in the run
// commitment (here the tiny run's released W_T), not the PRF's W_0 nor any
// other model, and another M_0 changes the run commitment, the public input
// a verifier computes from the params.
func TestContinuedRunStartsFromTheReleasedModel(t *testing.T) {
	r := newTinyRunWith(t, []int{2})
	r.spec.Continued = true
	released := r.res.Weights[r.spec.Steps]
	m0, err := commit.HashPacked(commit.TagModel, released, r.spec.Params.WeightBits)
	if err != nil {
		t.Fatal(err)
	}
	from := func(step int, w []int64) Input {
		in := r.stepFrom(t, step, w)
		in.InitialModel = m0
		return in
	}
	r.check(t, from(0, released), true, "step 0 from the released model")
	r.check(t, from(0, r.res.Weights[0]), false, "step 0 from the PRF's W_0")
	other := slices.Clone(released)
	other[0]++
	r.check(t, from(0, other), false, "step 0 from another model")
	r.check(t, from(1, other), true, "step 1 from any W_1")

	// Claiming M_0 = H(other) makes another run commitment.
	mOther, _ := commit.HashPacked(commit.TagModel, other, r.spec.Params.WeightBits)
	in := from(0, other)
	in.InitialModel = mOther
	if r.assign(t, in).RunCommitment.(fr.Element) == r.assign(t, from(0, released)).RunCommitment.(fr.Element) {
		t.Fatal("the run commitment does not bind M_0")
	}
	// A fresh run's circuit takes no M_0: its commitment is the fresh one.
	fresh := r.spec
	fresh.Continued = false
	c, err := Assign(fresh, from(0, released))
	if err != nil {
		t.Fatal(err)
	}
	if c.RunCommitment.(fr.Element) == r.assign(t, from(0, released)).RunCommitment.(fr.Element) {
		t.Fatal("a continued run has a fresh run's commitment")
	}
	// The compiled R1CS agrees.
	circuit, err := New(r.spec)
	if err != nil {
		t.Fatal(err)
	}
	test.NewAssert(t).CheckCircuit(circuit,
		test.WithValidAssignment(r.assign(t, from(0, released))),
		test.WithInvalidAssignment(r.assign(t, from(0, other))),
		test.WithCurves(ecc.BN254), test.WithBackends(backend.GROTH16),
		test.NoProverChecks(), test.NoFuzzing(), test.NoSerializationChecks())
}
