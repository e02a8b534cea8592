package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/backbone/glove"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
	"github.com/zkdp/zkdp/trainer"
)

// ErrRunExists is returned when --out holds a finished run and --force is not given.
var ErrRunExists = errors.New("the output folder already holds a finished run (use --force to overwrite it)")

// TrainOptions are `zkdp train`'s inputs.
type TrainOptions struct {
	*Global
	ConfigPath string
	OutDir     string
	Force      bool
	NonPrivate bool
	// From is a run directory whose released model the run continues, and
	// DisjointRows says that none of the new records were in that model's
	// runs (otherwise the report composes their guarantees).
	From         string
	DisjointRows bool
	// Loader is filled by the command from ConfigPath, the environment and
	// the flags; tests may preset it.
	Loader *config.Loader
}

// NewTrainCmd builds `zkdp train`.
func NewTrainCmd(o *TrainOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model with DP-SGD and write a run directory",
		Long: `Train a model with DP-SGD on a shipped dataset, or on your own CSV named by
data.path (zkdp init writes its config), and write a run directory:
report.json, a classification report, plots, the public transcript (params, D,
S, beacon, M_0..M_T) and, in private/ (folder 0700, files 0600), what only the
prover may see.

Configuration precedence: flags > ZKDP_* environment > --config file > defaults.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Loader == nil {
				o.Loader = config.NewLoader()
			}
			if err := o.Loader.ReadFile(o.ConfigPath); err != nil {
				return err
			}
			for key, name := range map[string]string{"seed": "seed", "beacon": "beacon", "training.steps": "steps", "training.epsilon": "epsilon", "training.noise_multiplier": "noise-multiplier"} {
				if err := o.Loader.BindFlag(key, cmd.Flags().Lookup(name)); err != nil {
					return err
				}
			}
			return o.Run(cmd)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "quickstart", "config file, or the name of a shipped config ("+shippedConfigs()+")")
	f.StringVarP(&o.OutDir, "out", "o", "", "run directory to write (default runs/<dataset>)")
	f.BoolVar(&o.Force, "force", false, "overwrite a finished run in --out")
	f.Uint64("seed", 0, "reproducible run: fixes the split, the initialization and the secret PRF seed (NOT secret; for experiments)")
	f.String("beacon", "", "public beacon (hex field element) fixed after the seed commitment was published")
	f.Int("steps", 0, "override training.steps")
	f.Float64("epsilon", 0, "override training.epsilon")
	f.Float64("noise-multiplier", 0, "override training.noise_multiplier")
	f.StringVar(&o.From, "from", "", "continue the released model of this run directory: W_0 is its W_T, checked against its transcript's M_T")
	f.BoolVar(&o.DisjointRows, "disjoint-rows", false, "with --from: none of the records were in the continued model's runs (otherwise the report composes their guarantees for the shared records)")
	f.BoolVar(&o.NonPrivate, "non-private", false, "token-level corpora: train the float reference without clipping or noise (the non-private row of a results table)")
	return cmd
}

// Run trains and writes the run directory.
func (o *TrainOptions) Run(cmd *cobra.Command) error {
	cfg, err := o.Loader.Load()
	if err != nil {
		return err
	}
	log, err := o.configLogger(cfg)
	if err != nil {
		return err
	}
	out := o.OutDir
	if out == "" {
		out = filepath.Join("runs", cfg.Data.Name)
	}
	if o.DisjointRows && o.From == "" {
		return fmt.Errorf("train: --disjoint-rows needs --from")
	}
	if data.IsCorpus(cfg.Data.Name) {
		if o.From != "" {
			return fmt.Errorf("train: %s: --from continues a proven run; text runs have no proofs yet", cfg.Data.Name)
		}
		return o.runText(cmd, cfg, log, out)
	}
	var from *run.Released
	if o.From != "" {
		if from, err = stepproof.ReadReleased(o.From); err != nil {
			return fmt.Errorf("train: --from %s: %w", o.From, err)
		}
		from.Parent.SharesRows = !o.DisjointRows
	}
	if _, err := os.Stat(filepath.Join(out, run.ReportFile)); err == nil {
		if !o.Force {
			return fmt.Errorf("%s: %w", out, ErrRunExists)
		}
		// A new run in place of a finished one draws new seeds.
		for _, name := range []string{run.SecretFile, run.DataSourceFile} {
			if err := os.Remove(filepath.Join(out, run.PrivateDir, name)); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
	}
	dir, err := run.Create(out)
	if err != nil {
		return err
	}
	// Seeds fixed before the beacon (zkdp chain register --out) are reused,
	// so the run matches what was registered.
	seed, src, reused, err := trainer.FixSeeds(dir, cfg.Data, cfg.Seed)
	if err != nil {
		return err
	}
	if reused {
		log.Info("training with the seeds fixed before the beacon", "file", dir.Private(run.SecretFile))
	}
	setup, err := newSetup(cfg, seed, src)
	if err != nil {
		return err
	}
	setup.From = from
	if setup.Dataset, err = data.Load(src.Data, src.SplitSeed); err != nil {
		return err
	}
	progress := newProgress("training", o.Err, log)
	start := time.Now()
	res, err := trainer.Train(cmd.Context(), setup, trainer.Options{Logger: log, Progress: progress.update})
	progress.done()
	if err != nil {
		return err
	}
	if cfg.Seed != nil {
		res.Transcript.AuditReady = false
	}
	if err := res.Write(dir, cfg.Training.ModelName()); err != nil {
		return err
	}
	if cfg.Seed != nil {
		log.Warn("the secret seed was derived from the config's seed: it is reproducible and therefore NOT secret; use this run for experiments only")
	}
	fmt.Fprintf(o.Out, "trained %s (%s) on %s: %d steps in %s\n", cfg.Training.ModelName(), cfg.Data.Name, out, cfg.Training.Steps, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(o.Out, "  test accuracy %.4f (the released model on the test split)\n", res.TestAccuracy)
	fmt.Fprintf(o.Out, "  private, not for publication (%s): float reference %.4f, rounded to fixed point %.4f\n",
		filepath.Join(run.PrivateDir, run.ReferenceFile), res.FloatTestAccuracy, res.QuantizedFloatAccuracy)
	fmt.Fprintf(o.Out, "  (epsilon, delta) = (%.4f, %.3g) by %s, noise multiplier %.4f\n", res.Privacy.Epsilon, res.Privacy.Delta, res.Privacy.Accountant, res.Params.NoiseMultiplier)
	if l := res.Lineage; l != nil {
		fmt.Fprintf(o.Out, "  records shared with the continued runs: (epsilon, delta) = (%.4f, %.3g) over all %d runs\n", l.Privacy.Epsilon, l.Privacy.Delta, l.Runs)
	}
	if from != nil {
		fmt.Fprintf(o.Out, "  continues the model %s of run %s\n", from.Parent.Model, from.Parent.RunCommitment)
	}
	fmt.Fprintf(o.Out, "  dataset root %s\n  model commitment %s\n", res.Transcript.DatasetRoot, res.Model.Commitment)
	if !res.Transcript.AuditReady {
		fmt.Fprintln(o.Out, "  not fit for an audit: see the notes in report.json")
	}
	return nil
}

// newSetup is the trainer's setup from the config, the fixed seeds and the
// config's beacon (a fresh one when it has none).
func newSetup(cfg config.Config, seed dp.Seed, src run.DataSource) (trainer.Setup, error) {
	s := trainer.Setup{Training: cfg.Training, Format: cfg.FixedPoint, Seed: seed, Source: &src}
	var err error
	if cfg.Beacon != "" {
		b, err := commit.ParseHex(cfg.Beacon)
		if err != nil {
			return s, fmt.Errorf("beacon: %w", err)
		}
		s.Beacon, s.BeaconGiven = b, true
	} else if s.Beacon, err = dp.NewBeacon(); err != nil {
		return s, err
	}
	return s, nil
}

// configLogger is the logger of a command that reads a config: the flags
// override the config's log section.
func (g *Global) configLogger(cfg config.Config) (*slog.Logger, error) {
	return NewLogger(g.Err, orDefault(g.LogLevel, cfg.Log.Level), orDefault(g.LogFormat, cfg.Log.Format))
}

// progress draws a bar on a terminal and logs every tenth otherwise.
type progress struct {
	label    string // what is counted, in logs
	w        io.Writer
	log      *slog.Logger
	terminal bool
	start    time.Time
	last     int
}

// newProgress counts steps of what label names (training, proving, a stage).
func newProgress(label string, w io.Writer, log *slog.Logger) *progress {
	p := &progress{label: label, w: w, log: log, start: time.Now(), last: -1}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) update(step, total int) {
	frac := float64(step) / float64(total)
	elapsed := time.Since(p.start)
	p.show(step, total, time.Duration(float64(elapsed)*(1-frac)/frac))
}

// updateETA shows an ETA that the caller computed (prover.Options.Progress:
// from the proofs' own times, not the key setup before them); 0 is unknown.
func (p *progress) updateETA(step, total int, eta time.Duration) {
	p.show(step, total, eta)
}

func (p *progress) show(step, total int, eta time.Duration) {
	frac := float64(step) / float64(total)
	shown := "--" // nothing timed yet
	if eta > 0 || step == total {
		shown = eta.Round(time.Second).String()
	}
	if p.terminal {
		const width = 30
		n := int(frac * width)
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d %3.0f%% ETA %s ", strings.Repeat("#", n), strings.Repeat(" ", width-n), step, total, 100*frac, shown)
		return
	}
	if tenth := step * 10 / total; tenth != p.last {
		p.last = tenth
		p.log.Info(p.label, "done", step, "total", total, "eta", shown)
	}
}

func (p *progress) done() {
	if p.terminal {
		fmt.Fprintln(p.w)
	}
}

// runText trains on a token-level corpus (data.name btc): sentence records,
// GloVe window features converted once into the cache, the NER report.
func (o *TrainOptions) runText(cmd *cobra.Command, cfg config.Config, log *slog.Logger, out string) error {
	if cfg.Seed == nil {
		return fmt.Errorf("train: %s: set seed (--seed): text runs are experiments (no data commitment or proof yet)", cfg.Data.Name)
	}
	if _, err := os.Stat(filepath.Join(out, run.ReportFile)); err == nil && !o.Force {
		return fmt.Errorf("%s: %w", out, ErrRunExists)
	}
	corpus, err := trainer.LoadCorpus(cfg.Data.Name)
	if err != nil {
		return err
	}
	cache, err := glove.DefaultCacheDir()
	if err != nil {
		return err
	}
	vecs, err := glove.Ensure(glove.SourcePath(""), cache, glove.Options{VocabSize: cfg.Text.VocabSize, FracBits: glove.DefaultOptions.FracBits})
	if err != nil {
		return err
	}
	dir, err := run.Create(out)
	if err != nil {
		return err
	}
	progress := newProgress("training", o.Err, log)
	start := time.Now()
	res, err := trainer.TrainText(cmd.Context(), trainer.TextSetup{Corpus: corpus, Window: glove.NewWindow(vecs, cfg.Text.Window),
		Training: cfg.Training, Text: cfg.Text, Format: cfg.FixedPoint, MaxRows: cfg.Data.MaxRows, Seed: *cfg.Seed, NonPrivate: o.NonPrivate},
		trainer.Options{Logger: log, Progress: progress.update})
	progress.done()
	if err != nil {
		return err
	}
	if err := res.Write(dir, cfg.Data.Name); err != nil {
		return err
	}
	if o.NonPrivate {
		fmt.Fprintf(o.Out, "trained a non-private float reference on %s (%s) in %s: step %d\n", cfg.Data.Name, out, time.Since(start).Round(time.Millisecond), res.FloatBestStep)
		fmt.Fprintf(o.Out, "  test entity micro F1 %.4f (P %.4f, R %.4f), macro F1 %.4f: no clipping, no noise, no privacy\n",
			res.FloatTest.Micro.F1, res.FloatTest.Micro.Precision, res.FloatTest.Micro.Recall, res.FloatTest.Macro.F1)
		return nil
	}
	fmt.Fprintf(o.Out, "trained a softmax head on %s (%s) in %s: released step %d\n", cfg.Data.Name, out, time.Since(start).Round(time.Millisecond), res.BestStep)
	fmt.Fprintf(o.Out, "  test entity micro F1 %.4f (P %.4f, R %.4f), macro F1 %.4f; float reference %.4f (private)\n",
		res.Test.Micro.F1, res.Test.Micro.Precision, res.Test.Micro.Recall, res.Test.Macro.F1, res.FloatTest.Micro.F1)
	fmt.Fprintf(o.Out, "  (epsilon, delta) = (%.4f, %.3g) by %s; privacy unit: %s\n", res.Privacy.Epsilon, res.Privacy.Delta, res.Privacy.Accountant, res.Unit)
	return nil
}
