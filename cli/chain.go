package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/ceremony"
	"github.com/zkdp/zkdp/chain"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
	"github.com/zkdp/zkdp/trainer"
	verifiercontracts "github.com/zkdp/zkdp/verifier-contracts"
)

// ErrNeedsSeed: a run registered before training needs its seed now.
var ErrNeedsSeed = errors.New("chain register fixes the run's secret seed before training: pass --out DIR to keep it in DIR/private (then zkdp train --out DIR), or set `seed` in the config (reproducible, for experiments)")

// ChainFlags are the connection settings shared by the chain commands.
type ChainFlags struct {
	ConfigPath   string
	RPC          string
	Keystore     string
	PasswordFile string
	Registry     string
	// Loader is filled from ConfigPath, the environment and the flags.
	Loader *config.Loader
}

func (f *ChainFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.RPC, "rpc", "", "JSON-RPC URL (config chain.rpc); default: the in-process simulated chain")
	fl.StringVar(&f.Keystore, "keystore", "", "encrypted go-ethereum keystore file of the sender (config chain.keystore; RPC only)")
	fl.StringVar(&f.PasswordFile, "password-file", "", "file holding the keystore's passphrase (config chain.password_file; else $"+chain.PasswordEnv+")")
	fl.StringVar(&f.Registry, "registry", "", "address of a deployed registry to use (config chain.registry); default: deploy one")
}

// settings merges the config file (if any), ZKDP_CHAIN_* and the flags.
func (f *ChainFlags) settings(cmd *cobra.Command) (config.Chain, error) {
	if f.Loader == nil {
		f.Loader = config.NewLoader()
	}
	if f.ConfigPath != "" {
		if err := f.Loader.ReadFile(f.ConfigPath); err != nil {
			return config.Chain{}, err
		}
	}
	for key, name := range map[string]string{"chain.rpc": "rpc", "chain.keystore": "keystore", "chain.password_file": "password-file", "chain.registry": "registry"} {
		if err := f.Loader.BindFlag(key, cmd.Flags().Lookup(name)); err != nil {
			return config.Chain{}, err
		}
	}
	return f.Loader.Chain()
}

// connect opens the chain the settings name.
func connect(ctx context.Context, s config.Chain) (*chain.Chain, error) {
	return chain.Open(ctx, s.RPC, s.Keystore, s.PasswordFile)
}

// NewChainCmd builds `zkdp chain` and its subcommands.
func NewChainCmd(g *Global) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chain",
		Short: "Register runs and verify their proofs on an Ethereum chain",
		Long: `Register runs and verify their proofs with the zkdp registry contract.

The default chain is go-ethereum's in-process simulated chain: it needs no
setup and lives as long as one command. Any other chain is a JSON-RPC URL
(--rpc or chain.rpc) with the sender's key in an encrypted keystore file.`,
	}
	cmd.AddCommand(NewChainRegisterCmd(&ChainRegisterOptions{Global: g}), NewChainVerifyCmd(&ChainVerifyOptions{Global: g}))
	return cmd
}

// ChainRegisterOptions are `zkdp chain register`'s inputs.
type ChainRegisterOptions struct {
	*Global
	ChainFlags
	OutDir      string // keeps the secret seed for zkdp train --out
	KeysDir     string
	CeremonyDir string
	// From is a run directory whose released model the run will continue.
	From         string
	DisjointRows bool
}

// NewChainRegisterCmd builds `zkdp chain register`.
func NewChainRegisterCmd(o *ChainRegisterOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "register",
		Short: "Register a run before training and print the beacon the chain fixes",
		Long: `Register a run before it trains (the audited path): its params hash, dataset
root D, seed commitment S and step count T go on-chain, then the beacon is
fixed from the hash of a block a few blocks later (the registry's
BEACON_DELAY), so the seed could not be chosen knowing it. The initial model
W_0 is public: it derives from the params and the beacon, and the first step
proof binds M_0 to it. Every registration counts toward the dataset's privacy
budget, abandoned ones included; the output says how many there are.
The run is bound to the runtime code hash of its step circuit's verifier,
exported from the key it will be proven with (--ceremony, or the
single-party setup, made now and cached for zkdp prove): the registry
accepts no other step verifier for it.
Train with that beacon (zkdp train --out DIR --beacon). The secret seed is
drawn here and kept in DIR/private (--out), where zkdp train finds it.
Between commands the chain must persist: use --rpc (e.g. geth --dev); the
simulated chain ends with the command.
With --from RUN_DIR the run continues that run's released model (as zkdp
train --from will): it is registered as its child, so RUN_DIR's run must be
finalized in the registry (zkdp chain verify --run RUN_DIR), whose M_T the
registry takes as the new run's M_0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd) },
	}
	cmd.Flags().StringVar(&o.From, "from", "", "register a run that continues the released model of this run directory (then train with --from too)")
	cmd.Flags().BoolVar(&o.DisjointRows, "disjoint-rows", false, "with --from: the new records share none with the earlier run's")
	cmd.Flags().StringVarP(&o.ConfigPath, "config", "c", "", "the run's config file, or a shipped config's name (required)")
	cmd.Flags().StringVarP(&o.OutDir, "out", "o", "", "run directory whose private folder keeps the secret seed for zkdp train --out (needed unless the config sets a seed)")
	cmd.Flags().StringVar(&o.KeysDir, "keys", "", "key cache folder of the single-party setup (default $XDG_CACHE_HOME/zkdp/keys)")
	cmd.Flags().StringVar(&o.CeremonyDir, "ceremony", "", "bind the run to the verifier of this sealed ceremony's step key instead")
	cmd.MarkFlagsMutuallyExclusive("keys", "ceremony")
	o.bind(cmd)
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// Run registers the run and fixes its beacon.
func (o *ChainRegisterOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	s, err := o.settings(cmd)
	if err != nil {
		return err
	}
	cfg, err := o.Loader.Load()
	if err != nil {
		return err
	}
	if o.DisjointRows && o.From == "" {
		return fmt.Errorf("chain register: --disjoint-rows needs --from")
	}
	var from *run.Released
	if o.From != "" {
		if from, err = stepproof.ReadReleased(o.From); err != nil {
			return fmt.Errorf("chain register: --from %s: %w", o.From, err)
		}
		from.Parent.SharesRows = !o.DisjointRows
	}
	var seed dp.Seed
	var src run.DataSource
	switch {
	case o.OutDir != "":
		dir, err := run.Create(o.OutDir)
		if err != nil {
			return err
		}
		if seed, src, _, err = trainer.FixSeeds(dir, cfg.Data, cfg.Seed); err != nil {
			return err
		}
	case cfg.Seed != nil:
		var split uint64
		if seed, split, err = trainer.DrawSeeds(cfg.Seed); err != nil {
			return err
		}
		src = run.DataSource{Data: cfg.Data, SplitSeed: split}
	default:
		return ErrNeedsSeed
	}
	setup, err := newSetup(cfg, seed, src)
	if err != nil {
		return err
	}
	setup.From = from
	if setup.Dataset, err = data.Load(src.Data, src.SplitSeed); err != nil {
		return err
	}
	key, err := chain.PlanKey(setup)
	if err != nil {
		return err
	}
	params, err := trainer.Plan(setup)
	if err != nil {
		return err
	}
	log, err := NewLogger(o.Err, orDefault(o.LogLevel, "warn"), orDefault(o.LogFormat, "text"))
	if err != nil {
		return err
	}
	keys, err := keySource(o.KeysDir, o.CeremonyDir, log)
	if err != nil {
		return err
	}
	c, err := connect(ctx, s)
	if err != nil {
		return err
	}
	defer c.Close()
	reg, err := registry(ctx, c, s.Registry)
	if err != nil {
		return err
	}
	if key.Parent, err = reg.ParentOf(ctx, params); err != nil {
		if c.Simulated() {
			return fmt.Errorf("%w: the simulated chain starts empty and ends with this command: register a continued run on a persistent chain (--rpc, --registry) where %s is finalized (zkdp chain verify --run %s), or let zkdp pipeline --from do it all in one process", err, o.From, o.From)
		}
		return fmt.Errorf("%w: take it on-chain first: zkdp chain verify --run %s --rpc %s --registry %s", err, o.From, c.Name, reg.Address.Hex())
	}
	// After the parent's check: the key setup can take minutes.
	if key.StepVerifierCodeHash, err = chain.PlanStepVerifier(ctx, setup, keys); err != nil {
		return err
	}
	r, err := chain.RegisterBeforeTraining(ctx, reg, key)
	if err != nil {
		return err
	}
	for _, tx := range r.Transactions {
		fmt.Fprintf(o.Out, "%-12s gas %d\n", tx.Name, tx.GasUsed)
	}
	fmt.Fprintf(o.Out, "registered run 0x%s on %s (chain id %s), registry %s\n", r.RunID.Text(16), c.Name, c.ChainID, reg.Address.Hex())
	fmt.Fprintf(o.Out, "params hash %s\ndataset root %s\nseed commitment %s\nsteps %d\nstep verifier code hash %s\n",
		commit.Hex(key.ParamsHash), commit.Hex(key.DatasetRoot), commit.Hex(key.SeedCommitment), key.Steps, key.StepVerifierCodeHash.Hex())
	fmt.Fprintf(o.Out, "runs registered on this dataset: %d (each counts toward its privacy budget)\n", r.RunsForDataset)
	fmt.Fprintf(o.Out, "beacon %s\n", commit.Hex(r.Beacon))
	outFlag := ""
	if o.OutDir != "" {
		outFlag = " --out " + o.OutDir
	}
	if o.From != "" {
		fmt.Fprintf(o.Out, "continues run 0x%s (the registry took its M_T %s as M_0)\n", key.Parent.Text(16), setup.From.Parent.Model)
		outFlag += " --from " + o.From
		if o.DisjointRows {
			outFlag += " --disjoint-rows"
		}
	}
	fmt.Fprintf(o.Out, "train with: zkdp train --config %s%s --beacon %s\n", o.ConfigPath, outFlag, commit.Hex(r.Beacon))
	if !c.Simulated() {
		fmt.Fprintf(o.Out, "then: zkdp chain verify --run DIR --rpc %s --registry %s\n", c.Name, reg.Address.Hex())
	}
	return nil
}

// keySource is where a circuit's keys come from: a ceremony's sealed
// keys, or the single-party setup's key cache.
func keySource(keysDir, ceremonyDir string, log *slog.Logger) (prover.KeySource, error) {
	if ceremonyDir != "" {
		return (&ceremony.Ceremony{Dir: ceremonyDir, Logger: log}).KeySource(), nil
	}
	return keyCache(keysDir, log)
}

func registry(ctx context.Context, c *chain.Chain, addr string) (*chain.Registry, error) {
	return chain.OpenRegistry(ctx, c, addr)
}

// ChainVerifyOptions are `zkdp chain verify`'s inputs.
type ChainVerifyOptions struct {
	*Global
	ChainFlags
	KeyTrustFlags
	RunDir      string
	CeremonyDir string
}

// NewChainVerifyCmd builds `zkdp chain verify`.
func NewChainVerifyCmd(o *ChainVerifyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify a proven run on-chain: register, submit every step, finalize, verify inferences",
		Long: `Deploy (or reuse) the registry and the run's step verifier, register the run
if it is not yet (with the beacon it was trained with: marked on-chain as
given, not fixed by the chain), submit every step proof, finalize the model,
verify the run's inference proofs, and print the gas of each transaction.
The report goes to DIR/public/chain.json.

The keys are trusted as by zkdp verify (--ceremony, --trusted-keys or
--dev-keys): the run is registered bound to the code hash of the verifier
exported from the trusted step key, and every verifier it uses must run
exactly that code, recompiled here with the pinned solc (else the command
fails). With --dev-keys the report says that it proves nothing to a third
party.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd) },
	}
	cmd.Flags().StringVar(&o.RunDir, "run", "", "proven run directory (only public/ is read) (required)")
	cmd.Flags().StringVarP(&o.ConfigPath, "config", "c", "", "config file whose chain section to use")
	cmd.Flags().StringVar(&o.CeremonyDir, "ceremony", "", "derive the step verifying key from this ceremony folder's transcript")
	o.ChainFlags.bind(cmd)
	o.KeyTrustFlags.bind(cmd)
	_ = cmd.MarkFlagRequired("run")
	return cmd
}

// Run verifies the run on-chain.
func (o *ChainVerifyOptions) Run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	log, err := NewLogger(o.Err, orDefault(o.LogLevel, "warn"), orDefault(o.LogFormat, "text"))
	if err != nil {
		return err
	}
	s, err := o.settings(cmd)
	if err != nil {
		return err
	}
	claims, err := chain.InferenceClaims(o.RunDir)
	if err != nil {
		return err
	}
	trust, err := o.trust()
	if err != nil {
		return err
	}
	if o.CeremonyDir != "" {
		var cer ceremony.Report
		trust.Derive = ceremonyKey(o.CeremonyDir, ceremony.Beacons{}, log, &cer)
	}
	c, err := connect(ctx, s)
	if err != nil {
		return err
	}
	defer c.Close()
	opts := chain.VerifyOptions{Inference: claims, Logger: log, Trust: trust}
	if s.Registry != "" {
		opts.Registry = common.HexToAddress(s.Registry)
	}
	rep, verr := chain.VerifyRun(ctx, c, o.RunDir, opts)
	if rep != nil {
		if err := rep.PrintTable(o.Out); err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "report: %s\n", filepath.Join(o.RunDir, run.PublicDir, chain.ReportFile))
	}
	return verr
}

// ExportVerifierOptions are `zkdp export-verifier`'s inputs.
type ExportVerifierOptions struct {
	*Global
	RunDir string
	OutDir string
}

// NewExportVerifierCmd builds `zkdp export-verifier`.
func NewExportVerifierCmd(o *ExportVerifierOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export-verifier",
		Short: "Write the Solidity verifier of each of a run's circuits and the calldata of each proof",
		Long: `For each circuit of the run (the step circuit, and each inference verifying
key under public/inference/) write <name>.sol (gnark's exported Groth16
verifier), <name>.abi.json and <name>.bin (creation bytecode, hex, from the
pinned solc); for each proof write <proof>.calldata.hex, the ABI-encoded call
verifyProof(proof, input) of its verifier. Needs solc: npm ci (make deps).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd.Context()) },
	}
	cmd.Flags().StringVar(&o.RunDir, "run", "", "proven run directory (only public/ is read) (required)")
	cmd.Flags().StringVar(&o.OutDir, "out", "", "output folder (required)")
	_ = cmd.MarkFlagRequired("run")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// Run exports.
func (o *ExportVerifierOptions) Run(ctx context.Context) error {
	d, err := run.Open(o.RunDir)
	if err != nil {
		return err
	}
	keys := map[string]string{"step": d.Public(stepproof.VerifyingKeyFile)}
	proofs, _ := filepath.Glob(filepath.Join(d.Public(run.ProofsDir), "*.proof"))
	inf, _ := filepath.Glob(filepath.Join(d.Public("inference"), "*.vk"))
	for _, vk := range inf {
		keys[strings.TrimSuffix(filepath.Base(vk), ".vk")] = vk
	}
	infProofs, _ := filepath.Glob(filepath.Join(d.Public("inference"), "*.proof"))
	proofs = append(proofs, infProofs...)
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(keys))
	for n := range keys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		vk, err := prover.ReadVerifyingKey(keys[name])
		if err != nil {
			return err
		}
		src, contract, err := verifiercontracts.CompileVerifier(ctx, vk)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		abi, err := json.MarshalIndent(contract.ABI, "", "  ")
		if err != nil {
			return err
		}
		for ext, b := range map[string][]byte{".sol": src, ".abi.json": append(abi, '\n'), ".bin": []byte(hex.EncodeToString(contract.Bytecode) + "\n")} {
			if err := run.WriteFile(filepath.Join(o.OutDir, name+ext), b, run.PublicMode); err != nil {
				return err
			}
		}
		fmt.Fprintf(o.Out, "%s: %s.sol, %d bytes of runtime code (limit %d)\n", name, filepath.Join(o.OutDir, name), len(contract.Runtime), verifiercontracts.MaxCodeSize)
	}
	for _, p := range proofs {
		proof, input, err := chain.ProofFiles(p)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(filepath.Base(p), ".proof") + ".calldata.hex"
		if err := run.WriteFile(filepath.Join(o.OutDir, name), []byte("0x"+hex.EncodeToString(chain.VerifyProofCalldata(proof, input))+"\n"), run.PublicMode); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.Out, "wrote %d verifiers and the calldata of %d proofs to %s\n", len(names), len(proofs), o.OutDir)
	return nil
}
