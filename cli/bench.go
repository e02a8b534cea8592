package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/configs"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/stepproof"
	"github.com/zkdp/zkdp/trainer"
)

// BenchOptions are `zkdp bench circuits`' inputs.
type BenchOptions struct {
	*Global
	Configs   []string
	Inference bool
	JSON      bool
}

// circuitSize is one line of `zkdp bench circuits`.
type circuitSize struct {
	Name                       string  `json:"name"`
	Constraints                int     `json:"constraints"`
	MaxBatch                   int     `json:"max_batch,omitempty"`
	Params                     int     `json:"params"`
	NoiseTable                 int     `json:"noise_table,omitempty"`
	ConstraintsPerExampleParam float64 `json:"constraints_per_example_param,omitempty"`
}

// mnistWidths is the MLP of the zkML comparison (circomlib-ml, EZKL).
var mnistWidths = []int{784, 56, 10}

// provableConfigs are the shipped configs whose step circuit compiles here:
// mnist's (a 541-row batch of a 44,530-parameter MLP, hundreds of millions of
// constraints) is for inference proofs only.
func provableConfigs() []string {
	var out []string
	for _, n := range configs.Names() {
		if n != "mnist" {
			out = append(out, n)
		}
	}
	return out
}

// NewBenchCmd builds `zkdp bench` and its `circuits` subcommand.
func NewBenchCmd(o *BenchOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure zkdp on this machine"}
	circuits := &cobra.Command{
		Use:   "circuits",
		Short: "Compile the step circuit of each shipped config and report its size",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return o.Circuits() },
	}
	circuits.Flags().StringSliceVar(&o.Configs, "config", provableConfigs(), "configs whose step circuit to measure")
	circuits.Flags().BoolVar(&o.Inference, "inference", true, "also measure the MNIST 784-56-10 inference circuits")
	circuits.Flags().BoolVar(&o.JSON, "json", false, `print {"circuits": [...]} as JSON`)
	cmd.AddCommand(circuits)
	return cmd
}

// Circuits measures the step circuit of every selected config.
func (o *BenchOptions) Circuits() error {
	var sizes []circuitSize
	for _, name := range o.Configs {
		l := config.NewLoader()
		if err := l.ReadFile(name); err != nil {
			return err
		}
		cfg, err := l.Load()
		if err != nil {
			return err
		}
		ds, err := data.Load(cfg.Data, 1)
		if err != nil {
			return err
		}
		params, err := trainer.Plan(trainer.Setup{Dataset: ds, Training: cfg.Training, Format: cfg.FixedPoint, Seed: dp.SeedFromUint64(1)})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		size, err := stepproof.Measure(name+"/step", params)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		sizes = append(sizes, circuitSize(size))
		if !o.JSON {
			fmt.Fprintf(o.Out, "%-32s %10d constraints  max batch %4d  params %5d  noise table %7d  %.2f per example-parameter\n",
				size.Name, size.Constraints, size.MaxBatch, size.Params, size.NoiseTable, size.ConstraintsPerExampleParam)
		}
	}
	if o.Inference {
		for _, binding := range []string{"fixed", "committed"} {
			n, err := inferproof.Measure(mnistWidths, fixedpoint.DefaultFormat(), binding)
			if err != nil {
				return err
			}
			s := circuitSize{Name: "mnist-784-56-10/infer-" + binding, Constraints: n, Params: fixedpoint.NumParams(mnistWidths)}
			sizes = append(sizes, s)
			if !o.JSON {
				fmt.Fprintf(o.Out, "%-32s %10d constraints  one hashed input, params %d\n", s.Name, s.Constraints, s.Params)
			}
		}
	}
	if o.JSON {
		b, err := json.Marshal(map[string]any{"circuits": sizes})
		if err != nil {
			return err
		}
		fmt.Fprintln(o.Out, string(b))
	}
	return nil
}
