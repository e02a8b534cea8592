// Package testrun trains small runs on the breast-cancer rows for the tests
// of the packages that prove, verify or publish them (stepproof, inferproof,
// chain), so that each test does not repeat the setup.
package testrun

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/trainer"
)

// SmallSteps is a 2-step config with small batches and a coarse noise
// lattice (Format returns it), so that its step circuit has tens of
// thousands of constraints.
func SmallSteps() (trainer.Config, fixedpoint.Format) {
	cfg := trainer.DefaultConfig()
	cfg.Steps, cfg.SamplingRate, cfg.ClipNorm, cfg.LearningRate, cfg.NoiseMultiplier = 2, 0.01, 1, 1, 2
	format := fixedpoint.DefaultFormat()
	format.LatticeBits = 4
	return cfg, format
}

// Setup is the trainer's setup on the breast-cancer rows (split seed 1) with
// cfg, format, the reproducible secret seed of seed and the given beacon.
func Setup(t testing.TB, cfg trainer.Config, format fixedpoint.Format, seed uint64, beacon uint64) trainer.Setup {
	t.Helper()
	dc, err := data.DefaultConfig("breast_cancer")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(dc, 1)
	if err != nil {
		t.Fatal(err)
	}
	var b fr.Element
	b.SetUint64(beacon)
	return trainer.Setup{Dataset: ds, Training: cfg, Format: format, Seed: dp.SeedFromUint64(seed), Beacon: b,
		BeaconGiven: true, Source: &run.DataSource{Data: dc, SplitSeed: 1}}
}

// Write trains s and writes the run into a new temporary directory.
func Write(t testing.TB, s trainer.Setup) string {
	t.Helper()
	res, err := trainer.Train(context.Background(), s, trainer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	d, err := run.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Write(d, s.Training.ModelName()); err != nil {
		t.Fatal(err)
	}
	return dir
}
