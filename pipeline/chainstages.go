package pipeline

import (
	"context"
	"fmt"

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
	// The run is bound to its step verifier's code: that of the key it will
	// be proven with (set up now; the prove stage finds it cached).
	keys, err := s.stepKeys()
	if err != nil {
		return err
	}
	if key.StepVerifierCodeHash, err = chain.StepVerifierCodeHash(ctx, p, keys); err != nil {
		return err
	}
	c, err := cs.connect(ctx, s)
	if err != nil {
		return err
	}
	if cs.reg, err = chain.OpenRegistry(ctx, c, s.Config.Chain.Registry); err != nil {
		return err
	}
	// A continued run registers with its finalized parent, whose M_T the
	// registry binds as M_0.
	if key.Parent, err = cs.reg.ParentOf(ctx, p); err != nil {
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
	rep, err := chain.VerifyRun(ctx, c, s.Dir.Root, opts)
	if rep != nil {
		res := ChainResult{Chain: rep.Chain, Registry: rep.Registry, RunID: rep.RunID, BeaconGiven: rep.BeaconGiven,
			StepsAccepted: rep.StepsAccepted, Finalized: rep.Finalized, RunsForDataset: rep.RunsForDataset, Transactions: rep.Transactions}
		if serr := s.SetResult(res); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}
