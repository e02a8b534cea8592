package step

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/consensys/gnark/profile"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/trainer"
)

// TestShippedStepSizes compiles the step circuit of a shipped config and
// logs its size. Compiling a million-constraint circuit takes a while, so it
// runs only when ZKDP_STEP_SIZES names the configs (e.g. "quickstart,digits").
func TestShippedStepSizes(t *testing.T) {
	names := os.Getenv("ZKDP_STEP_SIZES")
	if names == "" {
		t.Skip("set ZKDP_STEP_SIZES=quickstart,digits to measure")
	}
	for _, name := range splitComma(names) {
		l := config.NewLoader()
		if err := l.ReadFile(name); err != nil {
			t.Fatal(err)
		}
		cfg, err := l.Load()
		if err != nil {
			t.Fatal(err)
		}
		ds, err := data.Load(cfg.Data, 1)
		if err != nil {
			t.Fatal(err)
		}
		var b fr.Element
		res, err := trainer.Train(context.Background(), trainer.Setup{Dataset: ds, Training: cfg.Training, Format: cfg.FixedPoint,
			Seed: dp.SeedFromUint64(1), Beacon: b, BeaconGiven: true}, trainer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sampler, noise, err := res.Params.Mechanism().Samplers()
		if err != nil {
			t.Fatal(err)
		}
		depth := 0
		for 1<<depth < res.Params.Rows {
			depth++
		}
		initBits, err := res.Params.InitBits()
		if err != nil {
			t.Fatal(err)
		}
		// The format the params choose, or ZKDP_STEP_MEMBERSHIP=merkle|flat|leaves
		// to measure another one.
		membership := res.Params.Membership()
		for _, m := range []data.Membership{data.MembershipMerkle, data.MembershipFlat, data.MembershipLeaves} {
			if os.Getenv("ZKDP_STEP_MEMBERSHIP") == m.String() {
				membership = m
			}
		}
		t.Logf("%s: %v membership (estimated costs %v)", name, membership,
			data.MembershipCosts(res.Params.Rows, res.Params.Features, res.Params.Step.DataBits(), res.Params.MaxBatch))
		c, err := New(Spec{Widths: res.Params.Widths, Params: res.Params.Step, Rows: res.Params.Rows, MaxBatch: res.Params.MaxBatch,
			Depth: depth, Membership: membership, Thresholds: sampler.Thresholds, CDF: noise.CDF, Tail: noise.Tail, NoiseCoeffs: noise.Combination(), Steps: res.Params.Steps, InitBits: initBits})
		if err != nil {
			t.Fatal(err)
		}
		var prof *profile.Profile
		if dir := os.Getenv("ZKDP_STEP_PROFILE"); dir != "" {
			// Where the constraints go, by function: go tool pprof -top DIR/NAME.pprof
			prof = profile.Start(profile.WithPath(filepath.Join(dir, filepath.Base(name)+".pprof")))
		}
		ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
		if err != nil {
			t.Fatal(err)
		}
		if prof != nil {
			prof.Stop()
			t.Logf("%s/step constraints by function:\n%s", name, prof.Top())
		}
		n := ccs.GetNbConstraints()
		p := len(res.Weights[0])
		t.Logf("%s/step: %d R1CS constraints, max batch %d, %d params, noise table %d, %.2f constraints per example-parameter",
			name, n, res.Params.MaxBatch, p, len(noise.CDF), float64(n)/float64(res.Params.MaxBatch*p))
	}
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
