package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/ceremony"
	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/pipeline"
	"github.com/zkdp/zkdp/prover"
)

// PipelineOptions are `zkdp pipeline`'s inputs.
type PipelineOptions struct {
	*Global
	ConfigPath  string
	OutDir      string
	Resume      bool
	Force       bool
	Workers     int
	KeysDir     string
	CeremonyDir string
	JSON        bool
	// From is a run directory whose released model the run continues.
	From         string
	DisjointRows bool
	// Loader is filled by the command from ConfigPath, the environment and
	// the flags; tests may preset it.
	Loader *config.Loader
	// Stages, if set, replaces pipeline.Stages() (tests).
	Stages []pipeline.Stage
	// Progress, if set, is called with every stage's inner progress, after
	// the progress bar (tests use it to interrupt a run).
	Progress func(stage string, done, total int)
}

// NewPipelineCmd builds `zkdp pipeline`.
func NewPipelineCmd(o *PipelineOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Commit, fix the beacon, train with DP, account, prove every step and verify, resumably",
		Long: `Run zkdp's main job in the order the protocol needs:

  commit   fix the secret seed (private/, 0600) and publish the params hash,
           the dataset root D and the seed commitment S, with no beacon
           (W_0 is public and derives from the params and the beacon)
  beacon   fix the beacon after S (for now drawn by zkdp itself: the run is
           then not fit for an audit, as report.json says)
  train    DP-SGD from the committed seed and the beacon
  privacy  recompute epsilon from the public files, as zkdp privacy --run does
  prove    prove every step (Groth16 on BN254; keys cached by circuit hash)
           as jobs on a NATS JetStream queue: an embedded server and
           --workers in-process workers, or with --queue URL any number of
           hosts running zkdp worker (see zkdp prove)
  verify   check every proof from public files only (against the keys the
           pipeline made: development keys, as the summary says, unless
           --ceremony gives the step keys)
  summary  write summary.json

DIR/pipeline.json records the finished stages: after an interruption or a
failure, --resume continues from the first unfinished stage, and proving
keeps every proof already made.

--from RUN_DIR continues the released model of a proven run, as zkdp train
--from does: W_0 is its W_T (checked against its M_T), and the registry
registers the run as that run's child. On a persistent chain (chain.rpc and
chain.registry) the parent must be finalized there already (zkdp chain
verify --run RUN_DIR). The simulated chain starts empty, so there the
pipeline first takes the parent on-chain from RUN_DIR (its proofs submitted
and its model finalized, with the beacon it was trained with), and so each
earlier run of the lineage, found through the pipeline.json of the run that
continues it.`,
		Example: `  zkdp pipeline
  zkdp pipeline --config quickstart --out runs/quickstart --force
  zkdp pipeline --out runs/quickstart --resume
  zkdp pipeline --config quickstart --out runs/quickstart-2 --from runs/quickstart`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Loader == nil {
				o.Loader = config.NewLoader()
			}
			if err := o.Loader.ReadFile(o.ConfigPath); err != nil {
				return err
			}
			if err := o.Loader.BindFlag("queue.url", cmd.Flags().Lookup("queue")); err != nil {
				return err
			}
			return o.Run(cmd)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "quickstart", "config file, or the name of a shipped config ("+shippedConfigs()+"); ignored with --resume, which uses the run's own")
	f.String("queue", "", "prove the steps through the NATS JetStream server of a prover fleet, nats://HOST:4222 (config queue.url; default: an embedded server and --workers in-process workers)")
	f.StringVarP(&o.OutDir, "out", "o", "", "run directory (default: a new runs/<dataset>-<UTC time>; required with --resume)")
	f.BoolVar(&o.Resume, "resume", false, "continue the pipeline run in --out from its first unfinished stage")
	f.BoolVar(&o.Force, "force", false, "start over in --out, removing a previous run's files there")
	f.IntVar(&o.Workers, "workers", 1, "steps proven at once (gnark also uses every core within a proof)")
	f.StringVar(&o.KeysDir, "keys", "", "key cache folder (default $XDG_CACHE_HOME/zkdp/keys)")
	f.StringVar(&o.CeremonyDir, "ceremony", "", "prove and verify the steps with the keys of this sealed ceremony folder (zkdp ceremony) instead of the single-party setup")
	f.BoolVar(&o.JSON, "json", false, "print the summary as JSON")
	f.StringVar(&o.From, "from", "", "continue the released model of this proven run directory: W_0 is its W_T, checked against its transcript's M_T")
	f.BoolVar(&o.DisjointRows, "disjoint-rows", false, "with --from: the new records share none with the earlier run's (otherwise the report composes both runs' epsilon)")
	return cmd
}

// Run opens (or resumes) the run directory and runs the stages.
func (o *PipelineOptions) Run(cmd *cobra.Command) error {
	cfg, err := o.Loader.Load()
	if err != nil {
		return err
	}
	log, err := o.configLogger(cfg)
	if err != nil {
		return err
	}
	if o.Resume && o.OutDir == "" {
		return fmt.Errorf("%w: --resume needs --out", pipeline.ErrNothingToResume)
	}
	out := o.OutDir
	if out == "" {
		out = filepath.Join("runs", cfg.Data.Name+"-"+time.Now().UTC().Format("20060102-150405"))
	}
	st, err := pipeline.Open(pipeline.OpenOptions{Dir: out, ConfigName: o.ConfigPath, Resume: o.Resume, Force: o.Force,
		From: o.From, DisjointRows: o.DisjointRows}, cfg)
	if err != nil {
		return err
	}
	if o.Resume && cmd.Flags().Changed("config") {
		log.Warn("--resume uses the config the run was started with; --config is ignored", "run_config", st.File.Config)
	}
	if o.Resume && (o.From != "" || o.DisjointRows) {
		log.Warn("--resume continues from the run the pipeline was started with; --from and --disjoint-rows are ignored", "from", st.File.From)
	}
	st.Logger, st.Workers = log, o.Workers
	// The queue settings are this invocation's (flags, ZKDP_QUEUE_*, the
	// config file), also on --resume: they say where to prove, not what.
	queue, err := fleetConfig(cfg.Queue, log)
	if err != nil {
		return err
	}
	st.Fleet = func(ctx context.Context, dir string) (pipeline.RemoteProver, func(), error) {
		return fleetRemote(ctx, dir, o.Workers, queue)
	}
	if o.KeysDir != "" {
		st.Keys = &prover.KeyCache{Dir: o.KeysDir, Logger: log}
	} else if st.Keys, err = prover.DefaultKeyCache(); err != nil {
		return err
	}
	st.Keys.Logger = log
	// The pipeline verifies keys it made itself (single-party setups, or a
	// ceremony folder it was handed): development keys, said so in the summary.
	st.Trust = prover.KeyTrust{Dev: true}
	if o.CeremonyDir != "" {
		st.StepKeys = (&ceremony.Ceremony{Dir: o.CeremonyDir, Logger: log}).KeySource()
		var rep ceremony.Report
		st.Trust.Derive = ceremonyKey(o.CeremonyDir, ceremony.Beacons{}, log, &rep)
	}
	bars := map[string]*progress{}
	st.Progress = func(stage string, done, total int) {
		bar := bars[stage]
		if bar == nil {
			bar = newProgress(stage, o.Err, log)
			bars[stage] = bar
		}
		bar.update(done, total)
		if done == total {
			bar.done()
		}
		if o.Progress != nil {
			o.Progress(stage, done, total)
		}
	}
	stages := o.Stages
	if stages == nil {
		var closeChain func()
		stages, closeChain = pipeline.Stages()
		defer closeChain()
	}
	if err := pipeline.Run(cmd.Context(), st, stages); err != nil {
		return fmt.Errorf("%w (finished artifacts are kept in %s; continue with --out %s --resume)", err, out, out)
	}
	sum, err := pipeline.Summarize(st)
	if err != nil {
		return err
	}
	if o.JSON {
		b, err := json.Marshal(sum)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(o.Out, string(b))
		return err
	}
	printSummary(o, sum)
	return nil
}

// keyNote ends a summary line that reports a success: the pipeline's own
// keys prove nothing to a third party.
func keyNote(trust string) string {
	if trust == prover.TrustDev.String() {
		return ": " + prover.DevWarning
	}
	return " (" + trust + " key)"
}

func printSummary(o *PipelineOptions, s pipeline.Summary) {
	w := o.Out
	fmt.Fprintf(w, "pipeline finished: %s\n", s.Dir)
	fmt.Fprintf(w, "  dataset          %s (at most %d training rows, the public bound), model %s\n", s.Dataset, s.RowBound, s.Model)
	fmt.Fprintf(w, "  privacy          (epsilon, delta) = (%.4f, %.3g) by %s, recomputed from public files\n", s.Epsilon, s.Delta, s.Accountant)
	if l := s.Lineage; l != nil {
		fmt.Fprintf(w, "  shared records   (epsilon, delta) = (%.4f, %.3g) over all %d runs of the lineage\n", l.Privacy.Epsilon, l.Privacy.Delta, l.Runs)
	}
	if s.ParentRun != "" {
		fmt.Fprintf(w, "  continues        the released model of run %s (registry run %s)\n", s.ParentRun, s.ParentRunID)
	}
	fmt.Fprintf(w, "  test accuracy    %.4f (the released model on the test split)\n", s.TestAccuracy)
	fmt.Fprintf(w, "  steps proven     %d of %d verified, %d constraints per step%s\n", s.StepsVerified, s.Steps, s.Constraints, keyNote(s.StepKeyTrust))
	fmt.Fprintf(w, "  proving time     %s (prove stage, all attempts)\n", (time.Duration(s.ProvingSeconds * float64(time.Second))).Round(time.Millisecond))
	fmt.Fprintf(w, "  proof sizes      %d B per step proof, %d B public input, %d B verifying key\n", s.ProofBytes, s.PublicInputBytes, s.VerifyingKeyBytes)
	for i, c := range s.InferenceCircuits {
		label := ""
		if i == 0 {
			label = "inference proofs"
		}
		fmt.Fprintf(w, "  %-16s %s%s\n", label, c, keyNote(s.InferenceKeyTrust))
	}
	chainNote := ""
	if s.DevKeys {
		chainNote = ": " + prover.DevWarning
	}
	fmt.Fprintf(w, "  on-chain         %s: registry %s, %d of %d steps accepted, finalized %v, %d run(s) registered on this dataset%s\n",
		s.Chain, s.Registry, s.StepsAccepted, s.Steps, s.Finalized, s.RunsForDataset, chainNote)
	fmt.Fprintln(w, "  gas per tx:")
	for _, t := range s.Transactions {
		status := "accepted"
		if !t.Accepted {
			status = "REJECTED: " + t.Reason
		}
		fmt.Fprintf(w, "    %-36s %10d  %s\n", t.Name, t.GasUsed, status)
	}
	if !s.AuditReady {
		fmt.Fprintf(w, "  NOT fit for an audit: beacon %s (see the notes in report.json)\n", s.BeaconSource)
	}
	fmt.Fprintln(w, "  stages:")
	for _, r := range s.Stages {
		fmt.Fprintf(w, "    %-8s %s in %.1f s (%d attempt(s))\n", r.Name, r.Status, r.Seconds, r.Attempts)
	}
	fmt.Fprintln(w, "  artifacts:")
	for _, a := range s.Artifacts {
		fmt.Fprintf(w, "    %-50s %s\n", a.What, filepath.Join(s.Dir, a.Path))
	}
}
