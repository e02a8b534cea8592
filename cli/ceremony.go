package cli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"
	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/benchmarks"
	"github.com/zkdp/zkdp/ceremony"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
	"github.com/zkdp/zkdp/trainer"
)

// CeremonyOptions are the inputs shared by the `zkdp ceremony` commands.
type CeremonyOptions struct {
	*Global
	Dir        string
	Phase      int
	Power      int
	RunDir     string
	ConfigPath string
	Beacon     string
	Beacon1    string
	Beacon2    string
	PinFile    string
	Inference  string
}

// NewCeremonyCmd builds `zkdp ceremony` and its subcommands.
func NewCeremonyCmd(g *Global) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ceremony",
		Short: "Run and verify a multi-party Groth16 setup for a step or inference circuit",
		Long: `A multi-party setup (gnark's mpcsetup) replaces the single-party one, whose
runner can forge proofs: the keys are sound if one participant was honest,
and a verifier derives the verifying key from the transcript instead of
taking the prover's.

The ceremony lives in one folder, passed from participant to participant.
Phase 1 (powers of tau) fixes the domain size, the next power of two at or
above the circuit's constraints; phase 2 is for one circuit, the step circuit
of a config (--config) or of a run (--run, from its public params), or an
inference circuit of a run's released model (--run DIR --inference NAME,
e.g. committed-hashed-b2: zkdp infer --prove --ceremony proves with it). Each
phase is started once, takes one contribution per participant (each file
numbered after the last, never overwritten), and is sealed with a public
beacon drawn after its last contribution (e.g. a later block's hash).`,
		Example: `  zkdp ceremony init --phase 1 --dir cer --config quickstart
  zkdp ceremony contribute --phase 1 --dir cer        # once per participant
  zkdp ceremony seal --phase 1 --dir cer --beacon 0x5f2c...
  zkdp ceremony init --phase 2 --dir cer --config quickstart
  zkdp ceremony contribute --phase 2 --dir cer        # once per participant
  zkdp ceremony seal --phase 2 --dir cer --config quickstart --beacon 0x9a41...
  zkdp ceremony verify --dir cer --config quickstart
  zkdp prove --run runs/qs --ceremony cer
  zkdp verify --run runs/qs --ceremony cer`,
	}
	cmd.AddCommand(
		NewCeremonyInitCmd(&CeremonyOptions{Global: g}),
		NewCeremonyContributeCmd(&CeremonyOptions{Global: g}),
		NewCeremonySealCmd(&CeremonyOptions{Global: g}),
		NewCeremonyVerifyCmd(&CeremonyOptions{Global: g}),
	)
	return cmd
}

func (o *CeremonyOptions) bindDir(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Dir, "dir", "", "ceremony folder (required)")
	_ = cmd.MarkFlagRequired("dir")
}

func (o *CeremonyOptions) bindPhase(cmd *cobra.Command) {
	cmd.Flags().IntVar(&o.Phase, "phase", 0, "1 (powers of tau) or 2 (the circuit) (required)")
	_ = cmd.MarkFlagRequired("phase")
}

func (o *CeremonyOptions) bindCircuit(cmd *cobra.Command, what string) {
	cmd.Flags().StringVarP(&o.ConfigPath, "config", "c", "", "the step circuit of this config file or shipped config's name ("+what+")")
	cmd.Flags().StringVar(&o.RunDir, "run", "", "the step circuit of this run directory's public params ("+what+")")
	cmd.Flags().StringVar(&o.Inference, "inference", "", "with --run: the inference circuit of that name for the run's released model (e.g. committed-hashed-b2) instead of its step circuit")
	cmd.MarkFlagsMutuallyExclusive("config", "run")
	cmd.MarkFlagsMutuallyExclusive("config", "inference")
}

func (o *CeremonyOptions) open() (*ceremony.Ceremony, *slog.Logger, error) {
	log, err := NewLogger(o.Err, orDefault(o.LogLevel, "info"), orDefault(o.LogFormat, "text"))
	if err != nil {
		return nil, nil, err
	}
	return &ceremony.Ceremony{Dir: o.Dir, Logger: log}, log, nil
}

func (o *CeremonyOptions) phase() (ceremony.Phase, error) {
	switch o.Phase {
	case 1:
		return ceremony.Phase1, nil
	case 2:
		return ceremony.Phase2, nil
	}
	return 0, fmt.Errorf("--phase %d: must be 1 or 2", o.Phase)
}

// circuit compiles the step circuit that --config or --run names; ok is
// false when neither is given.
func (o *CeremonyOptions) circuit(log *slog.Logger) (ccs constraint.ConstraintSystem, name string, ok bool, err error) {
	switch {
	case o.Inference != "":
		if o.RunDir == "" {
			return nil, "", true, errors.New("--inference needs --run: the circuit is for the run's released model")
		}
		ccs, err := inferproof.Circuit(o.RunDir, o.Inference)
		return ccs, inferproof.KeyName(o.Inference), true, err
	case o.RunDir != "":
		pub, err := stepproof.ReadPublic(o.RunDir)
		if err != nil {
			return nil, "", true, err
		}
		ccs, _, err = stepproof.Compile(pub.Params)
		return ccs, "step/" + pub.Params.Dataset, true, err
	case o.ConfigPath != "":
		ccs, name, err := configStepCircuit(o.ConfigPath, log)
		return ccs, name, true, err
	}
	return nil, "", false, nil
}

// configStepCircuit compiles the step circuit a config's runs will have: it
// depends on public params only (the dataset's size, the padded batch, the
// noise tables), not on the seed.
func configStepCircuit(path string, log *slog.Logger) (constraint.ConstraintSystem, string, error) {
	cfg, err := benchmarks.LoadConfig(path)
	if err != nil {
		return nil, "", err
	}
	ds, err := data.Load(cfg.Data, 1)
	if err != nil {
		return nil, "", err
	}
	params, err := trainer.Plan(trainer.Setup{Dataset: ds, Training: cfg.Training, Format: cfg.FixedPoint, Seed: dp.SeedFromUint64(1)})
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	log.Info("compiling the step circuit", "config", path, "max_batch", params.MaxBatch)
	ccs, _, err := stepproof.Compile(params)
	return ccs, "step/" + params.Dataset, err
}

// parseBeacon decodes a hex beacon (with or without 0x).
func parseBeacon(flag, s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("--%s %q: want a non-empty hex string", flag, s)
	}
	return b, nil
}

// NewCeremonyInitCmd builds `zkdp ceremony init`.
func NewCeremonyInitCmd(o *CeremonyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Start phase 1 (its size) or phase 2 (its circuit) of a ceremony",
		Long: `Start a phase in the ceremony folder. Phase 1 writes phase1/0000.ph1, the
initial powers of tau of size 2^--power, or of the size the circuit of
--config or --run needs. Phase 2 needs phase 1 sealed and the circuit
(--config or --run): it writes phase2/circuit.json (its hash, which every
later phase-2 file repeats) and phase2/0000.ph2. Both initial states are
deterministic; verifiers recompute them.`,
		Example: `  zkdp ceremony init --phase 1 --dir cer --power 18
  zkdp ceremony init --phase 2 --dir cer --run runs/qs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.runInit() },
	}
	o.bindDir(cmd)
	o.bindPhase(cmd)
	cmd.Flags().IntVar(&o.Power, "power", 0, "phase 1: the domain size is 2^power (instead of the circuit's)")
	o.bindCircuit(cmd, "phase 2; phase 1 without --power")
	return cmd
}

func (o *CeremonyOptions) runInit() error {
	p, err := o.phase()
	if err != nil {
		return err
	}
	c, log, err := o.open()
	if err != nil {
		return err
	}
	start := time.Now()
	if p == ceremony.Phase1 && o.Power > 0 {
		if o.Power > ceremony.MaxDomainLog {
			return fmt.Errorf("--power %d: at most %d", o.Power, ceremony.MaxDomainLog)
		}
		if err := c.InitPhase1(1 << o.Power); err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "phase 1 started in %s: domain 2^%d (%s)\n", o.Dir, o.Power, time.Since(start).Round(time.Millisecond))
		return nil
	}
	ccs, name, ok, err := o.circuit(log)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("give the circuit with --config or --run (or, for phase 1, its size with --power)")
	}
	if p == ceremony.Phase1 {
		n := ceremony.DomainSize(ccs)
		if err := c.InitPhase1(n); err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "phase 1 started in %s: domain %d for %s (%d constraints) (%s)\n", o.Dir, n, name, ccs.GetNbConstraints(), time.Since(start).Round(time.Millisecond))
		return nil
	}
	if err := c.InitPhase2(ccs, name); err != nil {
		return err
	}
	info, err := c.ReadCircuit()
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "phase 2 started in %s for %s: circuit %s, %d constraints (%s)\n", o.Dir, name, info.Hash, info.Constraints, time.Since(start).Round(time.Millisecond))
	return nil
}

// NewCeremonyContributeCmd builds `zkdp ceremony contribute`.
func NewCeremonyContributeCmd(o *CeremonyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contribute",
		Short: "Add one contribution to a ceremony phase",
		Long: `Read the phase's last file, mix in fresh randomness (from crypto/rand,
never written anywhere) and write the next numbered file. Print its sha256:
publish it, so that anyone can check that the sealed transcript contains your
contribution (the keys are sound if one contribution was honest, and yours
is, if it is in the chain).`,
		Example: `  zkdp ceremony contribute --phase 1 --dir cer
  zkdp ceremony contribute --phase 2 --dir cer`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.runContribute() },
	}
	o.bindDir(cmd)
	o.bindPhase(cmd)
	return cmd
}

func (o *CeremonyOptions) runContribute() error {
	p, err := o.phase()
	if err != nil {
		return err
	}
	c, _, err := o.open()
	if err != nil {
		return err
	}
	start := time.Now()
	path, sum, err := c.Contribute(p)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "contributed to phase %d: %s sha256 %s (%s)\n", p, path, sum, time.Since(start).Round(time.Millisecond))
	return nil
}

// NewCeremonySealCmd builds `zkdp ceremony seal`.
func NewCeremonySealCmd(o *CeremonyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "seal",
		Short: "Verify a phase's contributions and seal it with a public beacon",
		Long: `Verify every contribution of the phase against the one before it, apply the
beacon (hex; public randomness fixed after the last contribution, such as a
later block's hash) and write the outputs: phase 1 writes phase1/srs.bin,
phase 2 the Groth16 keys phase2/keys.pk and keys.vk; each phase writes its
seal.json (beacon, contributions, checksums). Phase 2 needs its circuit
(--config or --run). A sealed phase takes no more contributions.`,
		Example: `  zkdp ceremony seal --phase 1 --dir cer --beacon 0x5f2c...
  zkdp ceremony seal --phase 2 --dir cer --run runs/qs --beacon 0x9a41...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.runSeal() },
	}
	o.bindDir(cmd)
	o.bindPhase(cmd)
	cmd.Flags().StringVar(&o.Beacon, "beacon", "", "the public beacon, hex (required)")
	_ = cmd.MarkFlagRequired("beacon")
	o.bindCircuit(cmd, "phase 2")
	return cmd
}

func (o *CeremonyOptions) runSeal() error {
	p, err := o.phase()
	if err != nil {
		return err
	}
	beacon, err := parseBeacon("beacon", o.Beacon)
	if err != nil {
		return err
	}
	c, log, err := o.open()
	if err != nil {
		return err
	}
	start := time.Now()
	if p == ceremony.Phase1 {
		s, err := c.SealPhase1(beacon)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "phase 1 sealed: %d contributions verified, domain %d, srs sha256 %s (%s)\n", s.Contributions, s.DomainSize, s.SRSSHA256, time.Since(start).Round(time.Millisecond))
		return nil
	}
	ccs, _, ok, err := o.circuit(log)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("phase 2: give its circuit with --config or --run")
	}
	s, err := c.SealPhase2(ccs, beacon)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "phase 2 sealed: %d contributions verified, circuit %s, vk sha256 %s (%s)\n", s.Contributions, s.CircuitHash, s.VKSHA256, time.Since(start).Round(time.Millisecond))
	return nil
}

// NewCeremonyVerifyCmd builds `zkdp ceremony verify`.
func NewCeremonyVerifyCmd(o *CeremonyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Re-verify a sealed ceremony from its transcript and derive its verifying key",
		Long: `Re-verify every contribution of both phases and recompute the SRS and the
keys from the transcript and the beacons, trusting no sealed output: the
seals' checksums must be what was recomputed. Without --config or --run
only phase 1 is verified. The beacons default to the ones recorded in the
seals; --phase1-beacon and --phase2-beacon require the ones you drew or
looked up yourself. Exit status 0 only if everything verifies. --pin FILE
then records the verified key's sha256 for its circuit in a trusted-keys
file (created or updated), for zkdp verify --trusted-keys FILE: a verifier
who checked the ceremony once need not re-derive the key for every run.`,
		Example: `  zkdp ceremony verify --dir cer --config quickstart
  zkdp ceremony verify --dir cer --run runs/qs --phase1-beacon 0x5f2c... --phase2-beacon 0x9a41...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.runVerify() },
	}
	o.bindDir(cmd)
	cmd.Flags().StringVar(&o.Beacon1, "phase1-beacon", "", "the beacon phase 1 must have been sealed with, hex (default: the recorded one)")
	cmd.Flags().StringVar(&o.Beacon2, "phase2-beacon", "", "the beacon phase 2 must have been sealed with, hex (default: the recorded one)")
	cmd.Flags().StringVar(&o.PinFile, "pin", "", "record the verified key's sha256 in this trusted-keys file (needs --config or --run)")
	o.bindCircuit(cmd, "verifies phase 2 too")
	return cmd
}

func (o *CeremonyOptions) beacons() (ceremony.Beacons, error) {
	var b ceremony.Beacons
	var err error
	if b.Phase1, err = parseBeacon("phase1-beacon", o.Beacon1); err != nil {
		return b, err
	}
	b.Phase2, err = parseBeacon("phase2-beacon", o.Beacon2)
	return b, err
}

func (o *CeremonyOptions) runVerify() error {
	beacons, err := o.beacons()
	if err != nil {
		return err
	}
	c, log, err := o.open()
	if err != nil {
		return err
	}
	start := time.Now()
	ccs, name, ok, err := o.circuit(log)
	if err != nil {
		return err
	}
	if !ok && o.PinFile != "" {
		return errors.New("--pin needs the circuit: --config or --run")
	}
	if !ok {
		_, s, err := c.VerifyPhase1(beacons.Phase1)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "phase 1 of %s verified: %d contributions, domain %d, beacon %s, srs sha256 %s (%s)\n",
			o.Dir, s.Contributions, s.DomainSize, s.Beacon, s.SRSSHA256, time.Since(start).Round(time.Millisecond))
		return nil
	}
	_, rep, err := c.Verify(ccs, beacons)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "ceremony %s verified for %s (circuit %s, %d constraints, domain %d)\n", o.Dir, name, rep.CircuitHash, rep.Constraints, rep.DomainSize)
	fmt.Fprintf(o.Out, "  phase 1: %d contributions, beacon %s\n  phase 2: %d contributions, beacon %s\n  verifying key sha256 %s (%s)\n",
		rep.Phase1Contributions, rep.Phase1Beacon, rep.Phase2Contributions, rep.Phase2Beacon, rep.VKSHA256, time.Since(start).Round(time.Millisecond))
	if o.PinFile == "" {
		return nil
	}
	if err := pinKey(o.PinFile, prover.PinnedKey{Circuit: name, CircuitHash: rep.CircuitHash, VKSHA256: rep.VKSHA256}); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "  pinned in %s\n", o.PinFile)
	return nil
}

// pinKey adds (or replaces) the pin of a circuit in a trusted-keys file,
// creating it if needed.
func pinKey(path string, pin prover.PinnedKey) error {
	pins := &prover.PinnedKeys{}
	if _, err := os.Stat(path); err == nil {
		if pins, err = prover.ReadPinnedKeys(path); err != nil {
			return err
		}
	}
	keys := []prover.PinnedKey{pin}
	for _, k := range pins.Keys {
		if k.CircuitHash != pin.CircuitHash {
			keys = append(keys, k)
		}
	}
	return run.WriteJSON(path, prover.PinnedKeys{Keys: keys}, run.PublicMode)
}

// ceremonyKey derives the step circuit's verifying key from a ceremony
// transcript, for `zkdp verify --ceremony`.
func ceremonyKey(dir string, beacons ceremony.Beacons, log *slog.Logger, report *ceremony.Report) func(constraint.ConstraintSystem, string) (groth16.VerifyingKey, error) {
	return func(ccs constraint.ConstraintSystem, _ string) (vk groth16.VerifyingKey, err error) {
		vk, *report, err = (&ceremony.Ceremony{Dir: dir, Logger: log}).Verify(ccs, beacons)
		return vk, err
	}
}
