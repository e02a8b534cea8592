package cli

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/inferproof"
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
	keys, err := keyCache(o.KeysDir, log)
	if err != nil {
		return err
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
	Only   string
}

// NewVerifyCmd builds `zkdp verify`.
func NewVerifyCmd(o *VerifyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify a run's step and inference proofs from its public files only",
		Long: `Verify every step proof of a run (the commitment chain M_0..M_T included)
and every inference claim under DIR/public/inference/, from public files
only. Exit status 0 only if everything checked verifies. --only steps or
--only inference checks one kind (a run whose step circuit is too large to
prove, such as the MNIST MLP, has inference proofs only).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run() },
	}
	cmd.Flags().StringVar(&o.RunDir, "run", "", "run directory (required; only public/ is read)")
	cmd.Flags().StringVar(&o.Only, "only", "", "steps or inference (default: both)")
	_ = cmd.MarkFlagRequired("run")
	return cmd
}

// Run verifies.
func (o *VerifyOptions) Run() error {
	switch o.Only {
	case "", "steps", "inference":
	default:
		return fmt.Errorf("--only %q: must be steps or inference", o.Only)
	}
	if o.Only != "inference" {
		rep, err := stepproof.Verify(o.RunDir)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "verified %d step proofs of %s (circuit %s, %d constraints); the commitments chain from M_0 to M_%d\n",
			rep.Steps, o.RunDir, rep.CircuitHash[:16], rep.Constraints, rep.Steps)
	}
	if o.Only == "steps" {
		return nil
	}
	n, err := inferproof.Verify(o.RunDir)
	if err != nil {
		return err
	}
	switch {
	case n > 0:
		fmt.Fprintf(o.Out, "verified %d inference proofs of %s against its released model M_T\n", n, o.RunDir)
	case o.Only == "inference":
		return fmt.Errorf("%s has no inference proofs (zkdp infer --prove writes them)", o.RunDir)
	}
	return nil
}

// keyCache opens the key cache in dir, or the default one.
func keyCache(dir string, log *slog.Logger) (*prover.KeyCache, error) {
	if dir != "" {
		return &prover.KeyCache{Dir: dir, Logger: log}, nil
	}
	keys, err := prover.DefaultKeyCache()
	if err != nil {
		return nil, err
	}
	keys.Logger = log
	return keys, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
