package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"log/slog"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/zkdp/zkdp/benchmarks"
	"github.com/zkdp/zkdp/prover"
)

// BenchOptions are `zkdp bench`'s inputs.
type BenchOptions struct {
	*Global
	JSON       bool
	Save       bool
	ResultsDir string
	ReportDir  string
	log        *slog.Logger
}

// NewBenchCmd builds `zkdp bench` and one subcommand per section.
func NewBenchCmd(o *BenchOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure zkdp on this machine and render benchmarks/RESULTS.md",
		Long: `Measure the figures of benchmarks/RESULTS.md on this machine, one section at a
time. --save stores a section as <results>/<section>.json (with the machine,
the date and the command); zkdp bench report renders RESULTS.md and its plots
from every saved section; zkdp bench --json prints the saved sections.`,
		Example: `  zkdp bench accuracy --config breast_cancer,digits --seeds 1,2,3,4,5 --epsilon 0.5,1,2,4 --save
  zkdp bench accountant --save && zkdp bench report`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !o.JSON {
				return cmd.Help()
			}
			saved, err := benchmarks.LoadAll(o.ResultsDir)
			if err != nil {
				return err
			}
			return o.print(saved)
		},
	}
	pf := cmd.PersistentFlags()
	pf.BoolVar(&o.JSON, "json", false, "print JSON (with no section: every saved section)")
	pf.BoolVar(&o.Save, "save", false, "save the section to --results")
	pf.StringVar(&o.ResultsDir, "results", benchmarks.DefaultDir, "folder of the saved sections")

	section := func(use, short string, measure func(*cobra.Command) (any, error), flags func(*pflag.FlagSet)) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(c *cobra.Command, _ []string) error {
				v, err := measure(c)
				if err != nil {
					return err
				}
				if o.Save {
					if err := benchmarks.Save(o.ResultsDir, use, commandLine(c), v); err != nil {
						return err
					}
					fmt.Fprintf(o.Err, "saved %s\n", benchmarks.Path(o.ResultsDir, use))
				}
				if use == benchmarks.SectionCircuits && o.JSON {
					return o.print(map[string]any{"circuits": v}) // the shape zkdp bench circuits --json always had
				}
				if o.JSON || use != benchmarks.SectionCircuits {
					return o.print(v)
				}
				return nil
			}}
		if flags != nil {
			flags(c.Flags())
		}
		return c
	}
	// Each section has its own variables: pflag writes a flag's default
	// into its variable when the flag is defined.
	var circuitConfigs, accConfigs, trainConfigs, proveConfig, scaleConfig, runConfigs []string
	var seeds []uint
	var epsilons, rates []float64
	var trainSteps, trainRuns, accSteps, accCalls, proofs, csvRows, csvColumns int
	var keysDir, mnistDir, gasDir, csvDir string
	var withInference bool
	var hidden []int
	configFlag := func(dst *[]string, def []string) func(*pflag.FlagSet) {
		return func(f *pflag.FlagSet) { f.StringSliceVar(dst, "config", def, "configs to measure") }
	}
	cmd.AddCommand(
		section(benchmarks.SectionCircuits, "Compile the step circuit of each shipped config and report its size",
			func(*cobra.Command) (any, error) { return o.circuits(circuitConfigs, withInference) }, func(f *pflag.FlagSet) {
				configFlag(&circuitConfigs, benchmarks.RowConfigs())(f)
				f.BoolVar(&withInference, "inference", true, "also measure the MNIST 784-56-10 inference circuits")
			}),
		section(benchmarks.SectionAccuracy, "Test accuracy per config and epsilon, over seeds (slow: minutes per config)",
			func(c *cobra.Command) (any, error) {
				s := make([]uint64, len(seeds))
				for i, v := range seeds {
					s[i] = uint64(v)
				}
				return benchmarks.Accuracy(c.Context(), benchmarks.AccuracyOptions{Configs: accConfigs, Seeds: s, Epsilons: epsilons, Logger: o.logger()})
			}, func(f *pflag.FlagSet) {
				configFlag(&accConfigs, benchmarks.RowConfigs())(f)
				f.UintSliceVar(&seeds, "seeds", []uint{1, 2, 3, 4, 5}, "seeds to average over")
				f.Float64SliceVar(&epsilons, "epsilon", nil, "target epsilons (default: each config's own)")
			}),
		section(benchmarks.SectionTraining, "Time short training runs per config",
			func(c *cobra.Command) (any, error) {
				return benchmarks.TrainingSpeed(c.Context(), trainConfigs, trainSteps, trainRuns)
			}, func(f *pflag.FlagSet) {
				configFlag(&trainConfigs, benchmarks.RowConfigs())(f)
				f.IntVar(&trainSteps, "steps", 20, "steps per run")
				f.IntVar(&trainRuns, "runs", 3, "runs per config")
			}),
		section(benchmarks.SectionAccountant, "Time epsilon after many steps with each accountant",
			func(*cobra.Command) (any, error) { return benchmarks.AccountantSpeed(accSteps, accCalls) },
			func(f *pflag.FlagSet) {
				f.IntVar(&accSteps, "steps", 100_000, "steps T")
				f.IntVar(&accCalls, "calls", 3, "calls per accountant")
			}),
		section(benchmarks.SectionProving, "Prove every step of a run against gnark's plain Groth16 of the same size",
			func(c *cobra.Command) (any, error) {
				keys, err := o.keys(keysDir)
				if err != nil {
					return nil, err
				}
				return benchmarks.Proving(c.Context(), proveConfig[0], keys, o.logger())
			}, func(f *pflag.FlagSet) {
				configFlag(&proveConfig, []string{"quickstart"})(f)
				f.StringVar(&keysDir, "keys", "", "key cache folder (default $XDG_CACHE_HOME/zkdp/keys)")
			}),
		section(benchmarks.SectionScaling, "Time one step proof per batch size and parameter count (a setup each)",
			func(c *cobra.Command) (any, error) {
				var variants []benchmarks.ScalingVariant
				for _, h := range hidden {
					for _, q := range rates {
						v := benchmarks.ScalingVariant{SamplingRate: q}
						if h > 0 {
							v.Hidden = []int{h}
						}
						variants = append(variants, v)
					}
				}
				return benchmarks.Scaling(c.Context(), scaleConfig[0], variants, o.logger())
			}, func(f *pflag.FlagSet) {
				configFlag(&scaleConfig, []string{"quickstart"})(f)
				f.Float64SliceVar(&rates, "sampling-rate", []float64{0.01, 0.02, 0.05}, "sampling rates (they set the batch padding)")
				f.IntSliceVar(&hidden, "hidden", []int{0}, "hidden layer widths to try (0: none)")
			}),
		section(benchmarks.SectionRuns, "Prove one step of each config and project its whole run (a setup each)",
			func(c *cobra.Command) (any, error) {
				return benchmarks.RunCosts(c.Context(), runConfigs, o.logger())
			}, configFlag(&runConfigs, []string{"quickstart", "breast_cancer", "digits"})),
		section(benchmarks.SectionInference, "Prove inferences of the trained MNIST MLP 784-56-10 (fixed and committed model, hashed inputs, batches of 1 and 8)",
			func(c *cobra.Command) (any, error) {
				keys, err := o.keys(keysDir)
				if err != nil {
					return nil, err
				}
				return benchmarks.InferenceMNIST(c.Context(), mnistDir, proofs, keys, o.logger())
			}, func(f *pflag.FlagSet) {
				f.IntVar(&proofs, "proofs", 3, "proofs to average over")
				f.StringVar(&mnistDir, "run", filepath.Join("runs", "mnist"), "the MNIST run (trained there with configs/mnist.yaml, seed 1, when missing)")
				f.StringVar(&keysDir, "keys", "", "key cache folder (default $XDG_CACHE_HOME/zkdp/keys)")
			}),
		section(benchmarks.SectionGas, "Gas of every registry transaction of the quickstart pipeline on the simulated chain",
			func(c *cobra.Command) (any, error) {
				keys, err := o.keys(keysDir)
				if err != nil {
					return nil, err
				}
				return benchmarks.Gas(c.Context(), gasDir, keys, o.logger())
			}, func(f *pflag.FlagSet) {
				f.StringVar(&gasDir, "run", filepath.Join("runs", "bench-gas"), "run directory for the quickstart pipeline (overwritten)")
				f.StringVar(&keysDir, "keys", "", "key cache folder (default $XDG_CACHE_HOME/zkdp/keys)")
			}),
		section(benchmarks.SectionCSV, "Stream a generated CSV through data.path, quantize and commit it: time and peak memory",
			func(*cobra.Command) (any, error) {
				dir := csvDir
				if dir == "" {
					dir = os.TempDir()
				}
				return benchmarks.CSVStream(dir, csvRows, csvColumns)
			}, func(f *pflag.FlagSet) {
				f.IntVar(&csvRows, "rows", 1_000_000, "rows of the generated CSV")
				f.IntVar(&csvColumns, "columns", 50, "columns of the generated CSV, the label included")
				f.StringVar(&csvDir, "dir", "", "folder for the generated CSV, removed afterwards (default: the system's temporary folder)")
			}),
	)
	report := &cobra.Command{
		Use:   "report",
		Short: "Render RESULTS.md and its plots from the saved sections",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := benchmarks.WriteReport(o.ResultsDir, o.ReportDir); err != nil {
				return err
			}
			fmt.Fprintf(o.Out, "wrote %s/RESULTS.md and its plots from %s\n", o.ReportDir, o.ResultsDir)
			return nil
		},
	}
	report.Flags().StringVar(&o.ReportDir, "dir", "benchmarks", "folder of RESULTS.md, plots/ and handrun/")
	cmd.AddCommand(report)
	return cmd
}

// circuits measures the step circuits and prints a line each unless --json.
func (o *BenchOptions) circuits(names []string, withInference bool) (any, error) {
	sizes, err := benchmarks.Circuits(names, o.logger())
	if err != nil {
		return nil, err
	}
	if withInference {
		inf, err := benchmarks.InferenceCircuits()
		if err != nil {
			return nil, err
		}
		sizes = append(sizes, inf...)
	}
	if !o.JSON {
		for _, size := range sizes {
			if size.MaxBatch == 0 {
				fmt.Fprintf(o.Out, "%-32s %10d constraints  one hashed input, params %d\n", size.Name, size.Constraints, size.Params)
				continue
			}
			fmt.Fprintf(o.Out, "%-22s %10d constraints  max batch %4d  params %5d  noise table %7d  %.2f per example-parameter\n",
				size.Name, size.Constraints, size.MaxBatch, size.Params, size.NoiseTable, size.ConstraintsPerExampleParam)
		}
	}
	return sizes, nil
}

func (o *BenchOptions) keys(dir string) (*prover.KeyCache, error) { return keyCache(dir, o.logger()) }

// logger is built once per command; the root command has already checked
// the flags, so an error cannot happen here and falls back to slog's default.
func (o *BenchOptions) logger() *slog.Logger {
	if o.log == nil {
		var err error
		if o.log, err = NewLogger(o.Err, orDefault(o.LogLevel, "info"), orDefault(o.LogFormat, "text")); err != nil {
			o.log = slog.Default()
		}
	}
	return o.log
}

func (o *BenchOptions) print(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(o.Out, string(b))
	return err
}

// commandLine is the command as it can be typed again: its path and every
// flag given.
func commandLine(c *cobra.Command) string {
	parts := []string{c.CommandPath()}
	c.Flags().Visit(func(f *pflag.Flag) {
		if f.Name == "save" || f.Name == "json" || f.Name == "log-level" || f.Name == "log-format" {
			return
		}
		v := f.Value.String()
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			elems := sv.GetSlice()
			for i, e := range elems {
				if x, err := strconv.ParseFloat(e, 64); err == nil {
					elems[i] = strconv.FormatFloat(x, 'g', -1, 64) // 0.5, not pflag's 0.500000
				}
			}
			v = strings.Join(elems, ",")
		}
		parts = append(parts, fmt.Sprintf("--%s %s", f.Name, v))
	})
	return strings.Join(parts, " ")
}
