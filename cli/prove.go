package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/ceremony"
	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/stepproof"
)

// ProveOptions are `zkdp prove`'s inputs.
type ProveOptions struct {
	*Global
	RunDir      string
	Workers     int
	KeysDir     string
	CeremonyDir string
	Queue       QueueFlags
}

// NewProveCmd builds `zkdp prove`.
func NewProveCmd(o *ProveOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prove",
		Short: "Prove every step of a training run (resumable)",
		Long: `Prove every DP-SGD step of a run directory with the step circuit (Groth16,
BN254). By default the keys come from a single-party setup, cached by
circuit hash: for development only, since whoever ran it can forge proofs.
--ceremony DIR proves with the sealed keys of a multi-party ceremony
(zkdp ceremony) instead. A restart proves only the missing steps. Proofs, the
verifying key and the public inputs go to DIR/public; nothing from
DIR/private is written there.

Every step is a job on a NATS JetStream work queue, sealed with the run key
(DIR/private/fleet.key, created on first use). Without --queue, an embedded
server and --workers workers run in this process. With --queue URL the jobs
go to that server and any number of hosts prove them (zkdp worker, given a
copy of the run key and of the key cache); --workers is then how many jobs
are out at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd) },
	}
	cmd.Flags().StringVar(&o.RunDir, "run", "", "run directory written by zkdp train (required)")
	cmd.Flags().IntVar(&o.Workers, "workers", 1, "steps proven at once (gnark also uses every core within a proof)")
	cmd.Flags().StringVar(&o.KeysDir, "keys", "", "key cache folder of the single-party setup (default $XDG_CACHE_HOME/zkdp/keys)")
	cmd.Flags().StringVar(&o.CeremonyDir, "ceremony", "", "prove with the sealed phase-2 keys of this ceremony folder instead")
	cmd.MarkFlagsMutuallyExclusive("keys", "ceremony")
	_ = cmd.MarkFlagRequired("run")
	o.Queue.bind(cmd, false)
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
	var source prover.KeySource = keys
	setup := "single-party setup: development only"
	if o.CeremonyDir != "" {
		source = (&ceremony.Ceremony{Dir: o.CeremonyDir, Logger: log}).KeySource()
		setup = "keys of the ceremony in " + o.CeremonyDir
	}
	queue, _, err := o.Queue.settings(cmd, log)
	if err != nil {
		return err
	}
	remote, stop, err := fleetRemote(cmd.Context(), o.RunDir, o.Workers, queue)
	if err != nil {
		return err
	}
	defer stop()
	bar := newProgress("proving", o.Err, log)
	start := time.Now()
	sum, err := stepproof.Prove(cmd.Context(), o.RunDir, stepproof.Options{Workers: o.Workers, Logger: log, KeySource: source,
		Remote: remote, Progress: bar.updateETA})
	bar.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "proved %d steps, kept %d already proven, in %s (%s)\n",
		sum.Proven, sum.Skipped, time.Since(start).Round(time.Millisecond), setup)
	return nil
}

// VerifyOptions are `zkdp verify`'s inputs.
type VerifyOptions struct {
	*Global
	RunDir      string
	Only        string
	CeremonyDir string
	Beacon1     string
	Beacon2     string
	BeaconFlags
}

// NewVerifyCmd builds `zkdp verify`.
func NewVerifyCmd(o *VerifyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify a run's step and inference proofs from its public files only",
		Long: `Verify every step proof of a run (the commitment chain M_0..M_T included,
M_0 recomputed from the public W_0 that the params and the beacon define)
and every inference claim under DIR/public/inference/, from public files
only. Exit status 0 only if everything checked verifies. --only steps or
--only inference checks one kind (a run whose step circuit is too large to
prove, such as the MNIST MLP, has inference proofs only).

Without --ceremony the step proofs are checked against public/step.vk,
which the prover wrote: only as trustworthy as its setup. With --ceremony
DIR the verifying key is derived from that ceremony's transcript (every
contribution re-verified, beacons applied) and public/step.vk must be it,
byte for byte.

The run's beacon is checked first: --beacon HEX is the beacon the run had to
use (the registry's, or one you drew after the seed commitment was
published), and the transcript's must be it. A prover that chooses its beacon
can train under many and publish the run whose model encodes what it wants,
so a self-drawn beacon, or any beacon when --beacon is not given, is refused
unless --allow-self-drawn-beacon says otherwise; every success line then says
that the beacon was chosen by the prover. (zkdp chain verify compares the
beacon with the registry's.)`,
		Example: `  zkdp verify --run runs/qs --beacon 0x1af2…
  zkdp verify --run runs/qs --beacon 0x1af2… --ceremony cer --only steps
  zkdp verify --run runs/dev --allow-self-drawn-beacon`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run() },
	}
	cmd.Flags().StringVar(&o.RunDir, "run", "", "run directory (required; only public/ is read)")
	cmd.Flags().StringVar(&o.Only, "only", "", "steps or inference (default: both)")
	cmd.Flags().StringVar(&o.CeremonyDir, "ceremony", "", "derive the step verifying key from this ceremony folder's transcript")
	cmd.Flags().StringVar(&o.Beacon1, "phase1-beacon", "", "with --ceremony: the beacon phase 1 must have been sealed with, hex (default: the recorded one)")
	cmd.Flags().StringVar(&o.Beacon2, "phase2-beacon", "", "with --ceremony: the beacon phase 2 must have been sealed with, hex (default: the recorded one)")
	o.BeaconFlags.register(cmd.Flags())
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
	if o.CeremonyDir == "" && (o.Beacon1 != "" || o.Beacon2 != "") {
		return errors.New("--phase1-beacon and --phase2-beacon need --ceremony")
	}
	if o.CeremonyDir != "" && o.Only == "inference" {
		return errors.New("--ceremony gives the step circuit's key: it does not go with --only inference")
	}
	caveat, err := o.BeaconFlags.check(o.RunDir)
	if err != nil {
		return err
	}
	if o.Only != "inference" {
		var trusted stepproof.TrustedKey
		var cer ceremony.Report
		if o.CeremonyDir != "" {
			beacons, err := (&CeremonyOptions{Beacon1: o.Beacon1, Beacon2: o.Beacon2}).beacons()
			if err != nil {
				return err
			}
			log, err := NewLogger(o.Err, orDefault(o.LogLevel, "info"), orDefault(o.LogFormat, "text"))
			if err != nil {
				return err
			}
			trusted = ceremonyKey(o.CeremonyDir, beacons, log, &cer)
		}
		rep, err := stepproof.VerifyTrusted(o.RunDir, trusted)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "verified %d step proofs of %s (circuit %s, %d constraints); the commitments chain from M_0 to M_%d%s\n",
			rep.Steps, o.RunDir, rep.CircuitHash[:16], rep.Constraints, rep.Steps, caveat)
		if trusted != nil {
			fmt.Fprintf(o.Out, "  verifying key derived from the ceremony %s (%d phase-1 and %d phase-2 contributions, beacons %s and %s); public/step.vk is it%s\n",
				o.CeremonyDir, cer.Phase1Contributions, cer.Phase2Contributions, cer.Phase1Beacon, cer.Phase2Beacon, caveat)
		}
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
		fmt.Fprintf(o.Out, "verified %d inference proofs of %s against its released model M_T%s\n", n, o.RunDir, caveat)
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
