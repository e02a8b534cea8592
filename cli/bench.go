package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/configs"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/stepproof"
	"github.com/zkdp/zkdp/trainer"
)

// BenchOptions are `zkdp bench circuits`' inputs.
type BenchOptions struct {
	*Global
	Configs []string
	JSON    bool
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
	circuits.Flags().StringSliceVar(&o.Configs, "config", configs.Names(), "configs to measure")
	circuits.Flags().BoolVar(&o.JSON, "json", false, `print {"circuits": [...]} as JSON`)
	cmd.AddCommand(circuits)
	return cmd
}

// Circuits measures the step circuit of every selected config.
func (o *BenchOptions) Circuits() error {
	var sizes []stepproof.Size
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
		sizes = append(sizes, size)
		if !o.JSON {
			fmt.Fprintf(o.Out, "%-22s %10d constraints  max batch %4d  params %5d  noise table %7d  %.2f per example-parameter\n",
				size.Name, size.Constraints, size.MaxBatch, size.Params, size.NoiseTable, size.ConstraintsPerExampleParam)
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
