package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"

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
copy of the run key); --workers is then how many jobs are out at once. The
run's keys are put in the server's key store (ZKDP_KEYS, by sha256), from
which workers whose key cache lacks them fetch them once.`,
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
	RunDir string
	// Parents are the runs that RunDir descends from, nearest first: a
	// continued run is verified with its whole lineage.
	Parents     []string
	Only        string
	CeremonyDir string
	Beacon1     string
	Beacon2     string
	BeaconFlags
	// InferenceCeremonies are ceremony folders of inference circuits.
	InferenceCeremonies []string
	KeyTrustFlags
}

// KeyTrustFlags choose which verifying keys a verifier trusts besides a
// ceremony's (prover.KeyTrust).
type KeyTrustFlags struct {
	TrustedKeys string
	DevKeys     bool
}

func (f *KeyTrustFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.TrustedKeys, "trusted-keys", "", "JSON file pinning the sha256 of the trusted verifying key of each circuit hash")
	cmd.Flags().BoolVar(&f.DevKeys, "dev-keys", false, "accept the prover's own verifying keys (development only: the result proves nothing to a third party)")
}

// trust is the verifier's key rule from --trusted-keys and --dev-keys
// (--ceremony adds the step key's derivation).
func (f *KeyTrustFlags) trust() (prover.KeyTrust, error) {
	t := prover.KeyTrust{Dev: f.DevKeys}
	if f.TrustedKeys != "" {
		var err error
		if t.Pinned, err = prover.ReadPinnedKeys(f.TrustedKeys); err != nil {
			return t, fmt.Errorf("--trusted-keys: %w", err)
		}
	}
	return t, nil
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

The circuits are recompiled from the public params and claims; a proof
counts only against a verifying key the verifier trusts, never merely
because the prover shipped it:
  --ceremony DIR       the step key is derived from that ceremony's
                       transcript (every contribution re-verified, beacons
                       applied); public/step.vk must be it, byte for byte
  --inference-ceremony DIR  likewise for the inference circuit that
                       ceremony was run for (repeatable)
  --trusted-keys FILE  each key's sha256 must be the one FILE pins for the
                       recompiled circuit's hash: a JSON object
                       {"keys": [{"circuit": "step/quickstart",
                       "circuit_hash": "<64 hex>", "vk_sha256": "<64 hex>"}]}
                       (zkdp ceremony verify --pin FILE writes it)
  --dev-keys           the prover's own keys, for circuits no other source
                       covers: whoever ran their setup can forge proofs, so
                       every success line then says that it proves nothing
                       to a third party
Without any of them a run's keys are untrusted and verification fails.

The run's beacon is checked first: --beacon HEX is the beacon the run had to
use (the registry's, or one you drew after the seed commitment was
published), and the transcript's must be it. A prover that chooses its beacon
can train under many and publish the run whose model encodes what it wants,
so a self-drawn beacon, or any beacon when --beacon is not given, is refused
unless --allow-self-drawn-beacon says otherwise; every success line then says
that the beacon was chosen by the prover. (zkdp chain verify compares the
beacon with the registry's.)`,
		Example: `  zkdp verify --run runs/qs --beacon 0x1af2… --ceremony cer --only steps
  zkdp verify --run runs/qs --beacon 0x1af2… --trusted-keys trusted-keys.json
  zkdp verify --run runs/dev --allow-self-drawn-beacon --dev-keys`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run() },
	}
	cmd.Flags().StringVar(&o.RunDir, "run", "", "run directory (required; only public/ is read)")
	cmd.Flags().StringSliceVar(&o.Parents, "parent", nil, "a continued run's parent run directory, then its parent's, ... (repeatable, nearest first): each is verified and must be the run the one before it names")
	cmd.Flags().StringVar(&o.Only, "only", "", "steps or inference (default: both)")
	cmd.Flags().StringVar(&o.CeremonyDir, "ceremony", "", "derive the step verifying key from this ceremony folder's transcript")
	cmd.Flags().StringVar(&o.Beacon1, "phase1-beacon", "", "with --ceremony: the beacon phase 1 must have been sealed with, hex (default: the recorded one)")
	cmd.Flags().StringVar(&o.Beacon2, "phase2-beacon", "", "with --ceremony: the beacon phase 2 must have been sealed with, hex (default: the recorded one)")
	o.BeaconFlags.register(cmd.Flags())
	cmd.Flags().StringSliceVar(&o.InferenceCeremonies, "inference-ceremony", nil, "derive the key of an inference circuit from this ceremony folder's transcript (repeatable)")
	o.KeyTrustFlags.bind(cmd)
	_ = cmd.MarkFlagRequired("run")
	return cmd
}

// inferenceCeremonyKeys derives, for a circuit whose hash is one of the
// ceremonies' phase-2 circuits, its key from that ceremony's transcript; for
// any other circuit it has no key (prover.KeyTrust.Derive).
func inferenceCeremonyKeys(dirs []string, log *slog.Logger) (func(constraint.ConstraintSystem, string) (groth16.VerifyingKey, error), error) {
	byHash := map[string]string{}
	for _, dir := range dirs {
		info, err := (&ceremony.Ceremony{Dir: dir, Logger: log}).ReadCircuit()
		if err != nil {
			return nil, fmt.Errorf("--inference-ceremony %s: %w", dir, err)
		}
		byHash[info.Hash] = dir
	}
	return func(ccs constraint.ConstraintSystem, hash string) (groth16.VerifyingKey, error) {
		dir, ok := byHash[hash]
		if !ok {
			return nil, nil
		}
		vk, _, err := (&ceremony.Ceremony{Dir: dir, Logger: log}).Verify(ccs, ceremony.Beacons{})
		return vk, err
	}, nil
}

// trustNote is what a success line says of its keys, the weakest being t:
// derived from derivedFrom, pinned in pinFile, or the prover's own.
func trustNote(t prover.Trust, derivedFrom, pinFile string) string {
	switch t {
	case prover.TrustDerived:
		return "; verifying key derived from " + derivedFrom
	case prover.TrustPinned:
		return "; verifying keys pinned in " + pinFile
	}
	return ": " + prover.DevWarning
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
		return errors.New("--ceremony gives the step circuit's key: it does not go with --only inference (--inference-ceremony does)")
	}
	trust, err := o.trust()
	if err != nil {
		return err
	}
	caveat, err := o.BeaconFlags.check(o.RunDir)
	if err != nil {
		return err
	}
	if o.Only != "inference" {
		steps := trust
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
			steps.Derive = ceremonyKey(o.CeremonyDir, beacons, log, &cer)
		}
		// The parents' beacons are checked as the run's, but none is
		// pinned: --beacon is the run's own.
		parentBeacons := o.BeaconFlags
		parentBeacons.Beacon = ""
		caveats := []string{caveat}
		for _, dir := range o.Parents {
			c, err := parentBeacons.check(dir)
			if err != nil {
				return err
			}
			caveats = append(caveats, c)
		}
		reps, err := stepproof.VerifyLineage(append([]string{o.RunDir}, o.Parents...), steps)
		if err != nil {
			return err
		}
		source := fmt.Sprintf("the ceremony %s (%d phase-1 and %d phase-2 contributions, beacons %s and %s)",
			o.CeremonyDir, cer.Phase1Contributions, cer.Phase2Contributions, cer.Phase1Beacon, cer.Phase2Beacon)
		for i, rep := range reps {
			dir := append([]string{o.RunDir}, o.Parents...)[i]
			fmt.Fprintf(o.Out, "verified %d step proofs of %s (circuit %s, %d constraints); the commitments chain from M_0 to M_%d%s%s\n",
				rep.Steps, dir, rep.CircuitHash[:16], rep.Constraints, rep.Steps, caveats[i], trustNote(rep.Trust, source, o.TrustedKeys))
			if par := rep.Parent; par != nil {
				fmt.Fprintf(o.Out, "  M_0 is the released model M_T of its parent %s (run commitment %s)\n", o.Parents[i], par.RunCommitment)
			}
		}
	}
	if o.Only == "steps" {
		return nil
	}
	inferTrust := trust
	source := ""
	if len(o.InferenceCeremonies) > 0 {
		log, err := NewLogger(o.Err, orDefault(o.LogLevel, "info"), orDefault(o.LogFormat, "text"))
		if err != nil {
			return err
		}
		if inferTrust.Derive, err = inferenceCeremonyKeys(o.InferenceCeremonies, log); err != nil {
			return err
		}
		source = "the ceremonies " + strings.Join(o.InferenceCeremonies, ", ")
	}
	rep, err := inferproof.Verify(o.RunDir, inferTrust)
	if err != nil {
		return err
	}
	switch {
	case rep.Claims > 0:
		fmt.Fprintf(o.Out, "verified %d inference proofs of %s against its released model M_T%s%s\n", rep.Claims, o.RunDir, caveat, trustNote(rep.Trust, source, o.TrustedKeys))
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
