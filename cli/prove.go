package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/stepproof"
)

// ProveOptions are `zkdp prove`'s inputs.
type ProveOptions struct {
	*Global
	RunDir  string
	Workers int
	KeysDir string
}

// NewProveCmd builds `zkdp prove`.
func NewProveCmd(o *ProveOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prove",
		Short: "Prove every step of a training run (resumable)",
		Long: `Prove every DP-SGD step of a run directory with the step circuit (Groth16,
BN254). Keys are cached by circuit hash; the single-party setup is for
development only. A restart proves only the missing steps. Proofs, the
verifying key and the public inputs go to DIR/public; nothing from
DIR/private is written there.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd) },
	}
	cmd.Flags().StringVar(&o.RunDir, "run", "", "run directory written by zkdp train (required)")
	cmd.Flags().IntVar(&o.Workers, "workers", 1, "steps proven at once (gnark also uses every core within a proof)")
	cmd.Flags().StringVar(&o.KeysDir, "keys", "", "key cache folder (default $XDG_CACHE_HOME/zkdp/keys)")
	_ = cmd.MarkFlagRequired("run")
	return cmd
}

// Run proves the run.
func (o *ProveOptions) Run(cmd *cobra.Command) error {
	log, err := NewLogger(o.Err, orDefault(o.LogLevel, "info"), orDefault(o.LogFormat, "text"))
	if err != nil {
		return err
	}
	keys := &prover.KeyCache{Dir: o.KeysDir, Logger: log}
	if o.KeysDir == "" {
		if keys, err = prover.DefaultKeyCache(); err != nil {
			return err
		}
		keys.Logger = log
	}
	bar := newProgress("proving", o.Err, log)
	start := time.Now()
	sum, err := stepproof.Prove(cmd.Context(), o.RunDir, stepproof.Options{Workers: o.Workers, Logger: log, Keys: keys,
		Progress: func(done, total int, _ time.Duration) { bar.update(done, total) }})
	bar.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "proved %d steps, kept %d already proven, in %s (single-party setup: development only)\n",
		sum.Proven, sum.Skipped, time.Since(start).Round(time.Millisecond))
	return nil
}

// VerifyOptions are `zkdp verify`'s inputs.
type VerifyOptions struct {
	*Global
	RunDir string
}

// NewVerifyCmd builds `zkdp verify`.
func NewVerifyCmd(o *VerifyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify a run's step proofs from its public files only",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := stepproof.Verify(o.RunDir)
			if err != nil {
				return err
			}
			fmt.Fprintf(o.Out, "verified %d step proofs of %s (circuit %s, %d constraints); the commitments chain from M_0 to M_%d\n",
				rep.Steps, o.RunDir, rep.CircuitHash[:16], rep.Constraints, rep.Steps)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.RunDir, "run", "", "run directory (required; only public/ is read)")
	_ = cmd.MarkFlagRequired("run")
	return cmd
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
