package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/run"
)

// InitOptions are `zkdp init`'s inputs.
type InitOptions struct {
	*Global
	CSV      string
	Label    string
	Dest     string
	Name     string
	FromData bool
	Force    bool
}

// NewInitCmd builds `zkdp init`, which writes a config skeleton for a CSV.
func NewInitCmd(o *InitOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init --csv FILE --label COLUMN --out CONFIG",
		Short: "Write a config skeleton for your own CSV, with placeholders for its public bounds",
		Long: `Reads FILE (a header row, then one row per line), guesses each column's kind
(numeric: minmax; text with few distinct values: onehot; other text: drop) and
writes a config naming it through data.path.

Every bound, category list, the classes and max_rows are left as explicit
placeholders: they must come from public knowledge (a data dictionary, a
codebook), never from the private rows, and zkdp refuses the config until each
is filled. Nothing read from the file is printed or written but the column
names and the guessed kinds.

--from-data fills the placeholders from the rows instead and marks the config
(data.scaling_from_private_data) and every report of its runs "scaling
derived from the private data: outside the DP guarantee".`,
		Example: `  zkdp init --csv patients.csv --label diagnosis --out patients.yaml
  zkdp init --csv patients.csv --label diagnosis --out patients.yaml --from-data`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return o.Run() },
	}
	f := cmd.Flags()
	f.StringVar(&o.CSV, "csv", "", "the CSV file, with a header row (required)")
	f.StringVar(&o.Label, "label", "", "the label column's name in the header (required)")
	f.StringVar(&o.Dest, "out", "", "the config file to write (required)")
	f.StringVar(&o.Name, "name", "", "data.name (default: the CSV's base name)")
	f.BoolVar(&o.FromData, "from-data", false, "fill bounds, categories, classes and max_rows from the private rows: outside the DP guarantee, and every report says so")
	f.BoolVar(&o.Force, "force", false, "overwrite --out if it exists")
	for _, name := range []string{"csv", "label", "out"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

// Run surveys the CSV and writes the skeleton.
func (o *InitOptions) Run() error {
	if _, err := os.Stat(o.Dest); err == nil && !o.Force {
		return fmt.Errorf("init: %s exists (--force overwrites it)", o.Dest)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("init: %w", err)
	}
	survey, err := data.SurveyCSV(o.CSV, o.Label)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	var buf bytes.Buffer
	placeholders, err := data.Skeleton(&buf, survey, data.SkeletonOptions{Name: o.Name, FromData: o.FromData})
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	buf.WriteString(skeletonTraining)
	if err := run.WriteFile(o.Dest, buf.Bytes(), run.PublicMode); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	// Counts of columns only: no value or row count of the private file.
	kinds := map[string]int{}
	for _, c := range survey.Columns {
		kinds[c.Kind()]++
	}
	fmt.Fprintf(o.Out, "wrote %s: %d feature columns (%d minmax, %d onehot, %d drop) and label %q\n",
		o.Dest, len(survey.Columns), kinds[data.KindMinMax], kinds[data.KindOneHot], kinds[data.KindDrop], o.Label)
	if o.FromData {
		fmt.Fprintf(o.Out, "WARNING: bounds, categories, classes and max_rows were read off the rows: %s\n", data.ScalingFromDataNote)
	} else {
		fmt.Fprintf(o.Out, "fill its %d placeholders from public knowledge before training (zkdp refuses it until then)\n", placeholders)
	}
	return nil
}

// skeletonTraining is the training section of a skeleton: a logistic
// regression at epsilon 1, to be tuned like any config.
const skeletonTraining = `
# A starting point: tune it on a validation split carved from the training
# rows (see benchmarks/, BenchmarkValidation), never on the test split.
training:
  hidden: []
  steps: 100
  sampling_rate: 0.1
  clip_norm: 1
  learning_rate: 1
  epsilon: 1
  delta: 1e-5
  accountant: rdp
`
