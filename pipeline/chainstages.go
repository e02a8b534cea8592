package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/common"

	"github.com/zkdp/zkdp/chain"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
)

// BeaconRegistry is the transcript's beacon_source when the registry
// contract fixed the beacon after the run's commitments were registered.
const BeaconRegistry = run.BeaconRegistry

// InferenceRows are the held-out rows the infer stage proves.
const InferenceRows = 2

// chainSession is the chain the chain stages share within one process. The
// in-process simulated chain lives as long as the process: a run resumed in
// a new process meets a fresh chain, where the chain stage registers the
// run again with the beacon it was trained with, marked on-chain as given
// (chain.VerifyRun), which chain.json then shows.
type chainSession struct {
	c   *chain.Chain
	reg *chain.Registry
}

func (cs *chainSession) connect(ctx context.Context, s *State) (*chain.Chain, error) {
	if cs.c == nil {
		settings := s.Config.Chain
		c, err := chain.Open(ctx, settings.RPC, settings.Keystore, settings.PasswordFile)
		if err != nil {
			return nil, err
		}
		cs.c = c
	}
	return cs.c, nil
}

func (cs *chainSession) close() {
	if cs.c != nil {
		_ = cs.c.Close()
	}
}

// RegisterResult is the register stage's record.
type RegisterResult struct {
	Chain        string     `json:"chain"`
	Registry     string     `json:"registry"`
	RunID        string     `json:"run_id"`
	Beacon       string     `json:"beacon"`
	Transactions []chain.Tx `json:"transactions"`
}

// register registers the published commitments (params hash, D, S) and T
// with the registry, which fixes the beacon from a later block's hash, and
// writes that beacon into the transcript. A beacon already in the
// transcript is kept: asking for another after seeing one would be grinding.
func (cs *chainSession) register(ctx context.Context, s *State) error {
	tr, err := readTranscript(s.Dir)
	if err != nil {
		return err
	}
	if tr.Beacon != "" {
		s.log().Info("keeping the beacon already fixed", "beacon", tr.Beacon, "source", tr.BeaconSource)
		// The verify stage checks the transcript against the recorded beacon.
		var res RegisterResult
		if _, err := s.Result(StageRegister, &res); err != nil || res.Beacon == tr.Beacon {
			return err
		}
		res.Beacon = tr.Beacon
		return s.SetResult(res)
	}
	var p run.Params
	if err := run.ReadJSON(s.Dir.Public(run.ParamsFile), &p); err != nil {
		return err
	}
	key := chain.RunKey{Steps: uint32(p.Steps)}
	for _, f := range []struct {
		name, hex string
		dst       *fr.Element
	}{{"params_hash", tr.ParamsHash, &key.ParamsHash}, {"dataset_root", tr.DatasetRoot, &key.DatasetRoot},
		{"seed_commitment", tr.SeedCommitment, &key.SeedCommitment}} {
		if *f.dst, err = commit.ParseHex(f.hex); err != nil {
			return fmt.Errorf("%s: %s: %w", s.Dir.Public(run.TranscriptFile), f.name, err)
		}
	}
	c, err := cs.connect(ctx, s)
	if err != nil {
		return err
	}
	if cs.reg, err = chain.OpenRegistry(ctx, c, s.Config.Chain.Registry); err != nil {
		return err
	}
	// A continued run registers with its finalized parent, whose M_T the
	// registry binds as M_0 (checked before the key setup below, which can
	// take minutes).
	if key.Parent, err = cs.parentOnChain(ctx, s, p); err != nil {
		return err
	}
	// The run is bound to its step verifier's code: that of the key it will
	// be proven with (set up now; the prove stage finds it cached).
	keys, err := s.stepKeys()
	if err != nil {
		return err
	}
	if key.StepVerifierCodeHash, err = chain.StepVerifierCodeHash(ctx, p, keys); err != nil {
		return err
	}
	r, err := chain.RegisterBeforeTraining(ctx, cs.reg, key)
	res := RegisterResult{Chain: c.Name, Registry: cs.reg.Address.Hex(), Transactions: r.Transactions}
	if r.RunID != nil {
		res.RunID = fmt.Sprintf("0x%x", r.RunID)
	}
	if err != nil {
		_ = s.SetResult(res)
		return err
	}
	tr.Beacon, tr.BeaconSource, tr.AuditReady = commit.Hex(r.Beacon), BeaconRegistry, s.Config.Seed == nil
	if err := run.WriteJSON(s.Dir.Public(run.TranscriptFile), tr, run.PublicMode); err != nil {
		return err
	}
	res.Beacon = tr.Beacon
	s.log().Info("registered; the registry fixed the beacon", "registry", res.Registry, "run_id", res.RunID, "beacon", tr.Beacon)
	return s.SetResult(res)
}

// InferResult is the infer stage's record.
type InferResult struct {
	Claims   []inferproof.Claim `json:"claims"`
	KeyTrust string             `json:"key_trust"` // the weakest prover.Trust of the claims' keys
}

// infer proves the released model's predictions on the first held-out rows,
// once per model binding (hashed inputs). Claims already written are kept.
func infer(ctx context.Context, s *State) error {
	existing, err := inferproof.Claims(s.Dir.Root)
	if err != nil {
		return err
	}
	var res InferResult
	for _, path := range existing {
		var c inferproof.Claim
		if err := run.ReadJSON(path, &c); err != nil {
			return err
		}
		res.Claims = append(res.Claims, c)
	}
	m, err := inferproof.Model(s.Dir.Root)
	if err != nil {
		return err
	}
	held, err := inferproof.HeldOut(s.Dir.Root, m)
	if err != nil {
		return err
	}
	rows := held.Rows[:min(InferenceRows, len(held.Rows))]
	for i, binding := range []string{"fixed", "committed"} {
		if i < len(res.Claims) {
			continue
		}
		c, err := inferproof.Prove(ctx, s.Dir.Root, rows, inferproof.ProveOptions{
			Options: inferproof.Options{Binding: binding, Visibility: "hashed"}, Keys: s.Keys, Logger: s.log()})
		if err != nil {
			return err
		}
		res.Claims = append(res.Claims, c)
		s.progress(StageInfer, i+1, 2)
	}
	rep, err := inferproof.Verify(s.Dir.Root, prover.KeyTrust{Pinned: s.Trust.Pinned, Dev: s.Trust.Dev})
	if err != nil {
		return err
	}
	res.KeyTrust = rep.Trust.String()
	return s.SetResult(res)
}

// ChainResult is the chain stage's record: public/chain.json's summary.
type ChainResult struct {
	Chain         string `json:"chain"`
	Registry      string `json:"registry"`
	RunID         string `json:"run_id"`
	ParentRunID   string `json:"parent_run_id,omitempty"` // the run it continues
	BeaconGiven   bool   `json:"beacon_given"`
	StepsAccepted int    `json:"steps_accepted"`
	Finalized     bool   `json:"finalized"`
	// RunsForDataset counts the runs registered on D in this registry.
	RunsForDataset uint64     `json:"runs_for_dataset"`
	Transactions   []chain.Tx `json:"transactions"`
}

// verifyOnChain submits every step proof to the registry (in order, from
// the owner), finalizes M_T and verifies the inference proofs against it,
// and writes public/chain.json.
func (cs *chainSession) verifyOnChain(ctx context.Context, s *State) error {
	c, err := cs.connect(ctx, s)
	if err != nil {
		return err
	}
	claims, err := chain.InferenceClaims(s.Dir.Root)
	if err != nil {
		return err
	}
	opts := chain.VerifyOptions{Inference: claims, Logger: s.log(), Trust: s.Trust}
	switch {
	case cs.reg != nil:
		opts.Registry = cs.reg.Address
	case s.Config.Chain.Registry != "":
		opts.Registry = common.HexToAddress(s.Config.Chain.Registry)
	}
	// A resumed continued run on a fresh simulated chain: its lineage goes
	// on-chain first, in a registry this session deploys.
	if s.From != nil && cs.reg == nil && c.Simulated() {
		if cs.reg, err = chain.OpenRegistry(ctx, c, ""); err != nil {
			return err
		}
		opts.Registry = cs.reg.Address
		p, err := s.Dir.ReadParams()
		if err != nil {
			return err
		}
		if _, err := cs.parentOnChain(ctx, s, p); err != nil {
			return err
		}
	}
	rep, err := chain.VerifyRun(ctx, c, s.Dir.Root, opts)
	if rep != nil {
		res := ChainResult{Chain: rep.Chain, Registry: rep.Registry, RunID: rep.RunID, ParentRunID: rep.ParentRunID, BeaconGiven: rep.BeaconGiven,
			StepsAccepted: rep.StepsAccepted, Finalized: rep.Finalized, RunsForDataset: rep.RunsForDataset, Transactions: rep.Transactions}
		if serr := s.SetResult(res); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}

// ErrLineageDir: on a simulated chain, a continued run's ancestors go
// on-chain from their directories, and one of them is not known.
var ErrLineageDir = errors.New("pipeline: the continued run's lineage cannot be taken on-chain")

// lineageReport is where the on-chain report of the run's k-th ancestor
// (1: its parent) goes, when a simulated chain takes it on-chain: its own
// directory's public/chain.json is left alone.
func lineageReport(d *run.Dir, k int) string {
	return d.Public(fmt.Sprintf("chain-ancestor-%d.json", k))
}

// parentOnChain is the registry's id of the finalized run that the run of
// params p continues (nil for a fresh run). A persistent chain must hold it
// already. The simulated chain starts empty with every session, so there
// the run's lineage is taken on-chain first from its directories, oldest
// first (each registered with the beacon it was trained with, its proofs
// submitted and its model finalized, as zkdp chain verify does): the
// parent is s.From's directory, and an ancestor's parent is the one its
// own pipeline run recorded (pipeline.json's from).
func (cs *chainSession) parentOnChain(ctx context.Context, s *State, p run.Params) (*big.Int, error) {
	if p.Parent == nil {
		return nil, nil
	}
	id, err := cs.reg.ParentOf(ctx, p)
	if err == nil || !errors.Is(err, chain.ErrParent) {
		return id, err
	}
	if !cs.c.Simulated() {
		parentDir := "PARENT_DIR"
		if s.File.From != nil {
			parentDir = s.File.From.Dir
		}
		return nil, fmt.Errorf("%w: take the parent run on-chain first (zkdp chain verify --run %s --rpc %s --registry %s) or continue a run finalized in this registry",
			err, parentDir, cs.c.Name, cs.reg.Address.Hex())
	}
	dirs, err := lineageDirs(s.File.From, p)
	if err != nil {
		return nil, err
	}
	for k := len(dirs); k >= 1; k-- {
		dir := dirs[k-1]
		s.log().Info("taking the continued run's lineage on-chain (simulated chain)", "run", dir, "generation", -k)
		rep, err := chain.VerifyRun(ctx, cs.c, dir, chain.VerifyOptions{Registry: cs.reg.Address, Trust: s.Trust,
			Logger: s.log(), ReportPath: lineageReport(s.Dir, k)})
		if err != nil {
			return nil, fmt.Errorf("pipeline: taking %s on-chain as the run's ancestor: %w", dir, err)
		}
		if !rep.Finalized {
			return nil, fmt.Errorf("pipeline: %s was not finalized on-chain", dir)
		}
	}
	return cs.reg.ParentOf(ctx, p)
}

// lineageDirs are the directories of the runs that a run of params p
// continues, parent first, up to a fresh run: from (the run's --from), then
// each ancestor's recorded pipeline --from.
func lineageDirs(from *From, p run.Params) ([]string, error) {
	if from == nil {
		return nil, fmt.Errorf("%w: its params continue run %s, but this pipeline run was not started with --from", ErrLineageDir, p.Parent.RunCommitment)
	}
	dirs := []string{from.Dir}
	for dir := from.Dir; ; {
		d := &run.Dir{Root: dir}
		q, err := d.ReadParams()
		if err != nil {
			return nil, err
		}
		if q.Parent == nil {
			return dirs, nil
		}
		if len(dirs) > run.MaxLineage {
			return nil, fmt.Errorf("%w: more than %d generations", ErrLineageDir, run.MaxLineage)
		}
		f, err := ReadState(d.Path(StateFile))
		if err != nil || f.From == nil {
			return nil, fmt.Errorf("%w: %s continues run %s, and it records no directory of that run (it was not made by zkdp pipeline --from): on the simulated chain the whole lineage is taken on-chain from its directories, so use a persistent chain (chain.rpc, chain.registry) where that run is finalized",
				ErrLineageDir, dir, q.Parent.RunCommitment)
		}
		dir = f.From.Dir
		dirs = append(dirs, dir)
	}
}
