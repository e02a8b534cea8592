package cli

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/run"
)

// ErrPrivacyFlags is returned for an inconsistent set of `zkdp privacy` flags.
var ErrPrivacyFlags = errors.New("privacy: inconsistent flags")

// PrivacyOptions are `zkdp privacy`'s inputs.
type PrivacyOptions struct {
	*Global
	SamplingRate    float64
	NoiseMultiplier float64
	Epsilon         float64
	Steps           int
	Delta           float64
	Accountant      string
	JSON            bool
	RunDir          string
}

// NewPrivacyCmd builds `zkdp privacy`.
func NewPrivacyCmd(o *PrivacyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "privacy",
		Short: "Compute epsilon, calibrate the noise multiplier, or recompute a run's guarantee",
		Example: `  zkdp privacy --sampling-rate 0.0025 --noise-multiplier 1.3 --steps 6000 --delta 1e-5
  zkdp privacy --sampling-rate 0.0025 --epsilon 1 --steps 6000 --delta 1e-5 --json
  zkdp privacy --run runs/quickstart`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set := func(name string) bool { return cmd.Flags().Changed(name) }
			return o.Run(set)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&o.SamplingRate, "sampling-rate", 0, "Poisson sampling rate q in (0, 1]")
	f.Float64Var(&o.NoiseMultiplier, "noise-multiplier", 0, "noise multiplier sigma (> 0)")
	f.Float64Var(&o.Epsilon, "epsilon", 0, "target epsilon: print the calibrated noise multiplier instead")
	f.IntVar(&o.Steps, "steps", 0, "number of steps T (>= 1)")
	f.Float64Var(&o.Delta, "delta", 1e-5, "delta in (0, 1)")
	f.StringVar(&o.Accountant, "accountant", "rdp", "rdp or prv")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object")
	f.StringVar(&o.RunDir, "run", "", "recompute a run's guarantee from its public parameters only")
	return cmd
}

// Run executes the command; set reports whether a flag was given.
func (o *PrivacyOptions) Run(set func(string) bool) error {
	if o.RunDir != "" {
		return o.fromRun()
	}
	for _, name := range []string{"sampling-rate", "steps"} {
		if !set(name) {
			return fmt.Errorf("%w: --%s is required (or give --run)", ErrPrivacyFlags, name)
		}
	}
	acc := dp.Accountant(o.Accountant)
	switch {
	case set("epsilon") && set("noise-multiplier"):
		return fmt.Errorf("%w: give --epsilon (to calibrate) or --noise-multiplier, not both", ErrPrivacyFlags)
	case set("epsilon"):
		sigma, err := dp.CalibrateNoise(acc, o.SamplingRate, o.Steps, o.Delta, o.Epsilon)
		if err != nil {
			return err
		}
		g, err := dp.Epsilon(acc, []dp.Segment{{SamplingRate: o.SamplingRate, NoiseMultiplier: sigma, Steps: o.Steps}}, o.Delta)
		if err != nil {
			return err
		}
		return o.print(map[string]any{"noise_multiplier": sigma, "epsilon": g.Epsilon, "target_epsilon": o.Epsilon,
			"delta": o.Delta, "accountant": o.Accountant, "sampling_rate": o.SamplingRate, "steps": o.Steps},
			fmt.Sprintf("noise multiplier %.6g reaches epsilon %.6g (target %g) at delta %g (%s)", sigma, g.Epsilon, o.Epsilon, o.Delta, o.Accountant))
	case set("noise-multiplier"):
		g, err := dp.Epsilon(acc, []dp.Segment{{SamplingRate: o.SamplingRate, NoiseMultiplier: o.NoiseMultiplier, Steps: o.Steps}}, o.Delta)
		if err != nil {
			return err
		}
		out := map[string]any{"epsilon": g.Epsilon, "delta": o.Delta, "accountant": o.Accountant,
			"sampling_rate": o.SamplingRate, "noise_multiplier": o.NoiseMultiplier, "steps": o.Steps}
		text := fmt.Sprintf("epsilon %.6g at delta %g (%s)", g.Epsilon, o.Delta, o.Accountant)
		if acc == dp.AccountantRDP {
			out["order"] = g.Order
			text += fmt.Sprintf(", optimal order %g", g.Order)
		}
		return o.print(out, text)
	default:
		return fmt.Errorf("%w: give --noise-multiplier or --epsilon", ErrPrivacyFlags)
	}
}

func (o *PrivacyOptions) fromRun() error {
	d, err := run.Open(o.RunDir)
	if err != nil {
		return err
	}
	p, err := d.ReadParams()
	if err != nil {
		return err
	}
	g, err := p.Mechanism().Guarantee()
	if err != nil {
		return err
	}
	out := map[string]any{"epsilon": g.Epsilon, "delta": g.Delta, "delta_accountant": g.DeltaAccountant,
		"delta_sampler": g.DeltaSampler, "accountant": g.Accountant, "sampling_rate": p.SamplingRate,
		"noise_multiplier": p.NoiseMultiplier, "steps": p.Steps, "run": o.RunDir, "adjacency": g.Adjacency}
	if g.Order > 0 {
		out["order"] = g.Order
	}
	text := fmt.Sprintf("run %s: epsilon %.6g at delta %.6g (%s; accountant delta %.6g + samplers %.3g) for %s, from public parameters only",
		o.RunDir, g.Epsilon, g.Delta, g.Accountant, g.DeltaAccountant, g.DeltaSampler, g.Adjacency)
	if runs := len(p.Lineage()); runs > 1 {
		c, err := p.ComposedPrivacy()
		if err != nil {
			return err
		}
		out["lineage_runs"], out["lineage_epsilon"], out["lineage_delta"] = runs, c.Epsilon, c.Delta
		text += fmt.Sprintf("\n  records shared with its lineage: epsilon %.6g at delta %.6g, composed over %d runs (params.parent)", c.Epsilon, c.Delta, runs)
	}
	return o.print(out, text)
}

func (o *PrivacyOptions) print(v map[string]any, text string) error {
	if o.JSON {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(o.Out, string(b))
		return err
	}
	_, err := fmt.Fprintln(o.Out, text)
	return err
}
