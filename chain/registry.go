package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/run"
	verifiercontracts "github.com/zkdp/zkdp/verifier-contracts"
)

// ErrBeaconExpired: a registered run's beacon block is more than 256 blocks
// old (blockhash no longer reads it), so its beacon can never be fixed.
var ErrBeaconExpired = errors.New("chain: the run's beacon window has passed")

// ErrParent: a continued run's parent (params.parent) is not a finalized
// run of this registry whose model is the one the params name.
var ErrParent = errors.New("chain: the continued run's parent is not finalized in this registry with the model its params name")

// beaconWindow is ZkdpRegistry.BEACON_WINDOW: blockhash reaches 256 blocks back.
const beaconWindow = 256

// Status is a run's state in the registry (ZkdpRegistry.Status).
type Status uint8

// The run states.
const (
	StatusNone Status = iota
	StatusAwaitingBeacon
	StatusTraining
	StatusFinalized
)

func (s Status) String() string {
	return [...]string{"none", "awaiting beacon", "training", "finalized"}[min(int(s), 3)]
}

// RunInfo is the registry's record of a run (ZkdpRegistry.Run).
type RunInfo struct {
	Owner           common.Address
	NextStep        uint32
	Steps           uint32
	Status          uint8
	BeaconGiven     bool
	StepVerifier    common.Address
	RegisteredBlock uint64
	RunCommitment   *big.Int
	Head            *big.Int
	ParamsHash      *big.Int
	DatasetRoot     *big.Int
	SeedCommitment  *big.Int
	InitialModel    *big.Int // M_0, from step 0's proof (zero before)
	Beacon          *big.Int
	// StepVerifierCodeHash is the runtime code hash the run's step verifier
	// must have, fixed at registration.
	StepVerifierCodeHash [32]byte
	// ParentRunId is the finalized run whose model this run continues
	// (zero for a fresh run); InitialModel is then that run's M_T.
	ParentRunId *big.Int
}

// RunKey is what identifies a run besides its owner (the run id hashes the
// commitments the registry records before the beacon, and T), and what binds
// it to its step verifier.
type RunKey struct {
	ParamsHash, DatasetRoot, SeedCommitment fr.Element
	Steps                                   uint32
	// StepVerifierCodeHash is the keccak256 of the runtime code of the step
	// circuit's verifier (VerifierCodeHash): the registry accepts no other.
	StepVerifierCodeHash common.Hash
	// Parent, for a run that continues a finalized run's model, is that
	// run's id: the registry takes M_0 from it (registerContinuedRun).
	Parent *big.Int
}

// Registry is a deployed ZkdpRegistry.
type Registry struct {
	c       *Chain
	Address common.Address
	abi     abi.ABI
}

// OpenRegistry binds the registry at addr (hex), or deploys one when addr is empty.
func OpenRegistry(ctx context.Context, c *Chain, addr string) (*Registry, error) {
	if addr != "" {
		return AtRegistry(ctx, c, common.HexToAddress(addr))
	}
	reg, _, err := DeployRegistry(ctx, c)
	return reg, err
}

// DeployRegistry compiles and deploys the registry.
func DeployRegistry(ctx context.Context, c *Chain) (*Registry, *types.Receipt, error) {
	contract, err := verifiercontracts.Registry()
	if err != nil {
		return nil, nil, err
	}
	addr, rcpt, err := c.Deploy(ctx, contract)
	if err != nil {
		return nil, rcpt, err
	}
	r, err := bindRegistry(c, addr, contract)
	return r, rcpt, err
}

// AtRegistry binds the registry deployed at addr.
func AtRegistry(ctx context.Context, c *Chain, addr common.Address) (*Registry, error) {
	contract, err := verifiercontracts.Registry()
	if err != nil {
		return nil, err
	}
	code, err := c.Client.CodeAt(ctx, addr, nil)
	if err != nil {
		return nil, err
	}
	if len(code) == 0 {
		return nil, fmt.Errorf("%w: registry %s", ErrNoContract, addr)
	}
	if err := c.abis.add(contract.ABI); err != nil {
		return nil, err
	}
	return bindRegistry(c, addr, contract)
}

func bindRegistry(c *Chain, addr common.Address, contract verifiercontracts.Contract) (*Registry, error) {
	a, err := abi.JSON(strings.NewReader(string(contract.ABI)))
	if err != nil {
		return nil, err
	}
	return &Registry{c: c, Address: addr, abi: a}, nil
}

// As is the registry seen by another sender.
func (r *Registry) As(c *Chain) *Registry {
	cp := *r
	cp.c = c
	return &cp
}

func (r *Registry) transact(ctx context.Context, method string, args ...any) (*types.Receipt, error) {
	data, err := r.abi.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	rcpt, err := r.c.Transact(ctx, &r.Address, data)
	if err != nil {
		return rcpt, fmt.Errorf("%s: %w", method, err)
	}
	return rcpt, nil
}

func (r *Registry) call(ctx context.Context, method string, args ...any) ([]any, error) {
	data, err := r.abi.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	out, err := r.c.Call(ctx, r.Address, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	return r.abi.Unpack(method, out)
}

// Big converts a field element for the ABI.
func Big(e fr.Element) *big.Int {
	var b big.Int
	return e.BigInt(&b)
}

// RunID is the id of the run key registered by owner.
func (r *Registry) RunID(ctx context.Context, owner common.Address, k RunKey) (*big.Int, error) {
	out, err := r.call(ctx, "runIdOf", owner, Big(k.ParamsHash), Big(k.DatasetRoot), Big(k.SeedCommitment), k.Steps)
	if err != nil {
		return nil, err
	}
	return out[0].(*big.Int), nil
}

// RunCommitment computes Poseidon2(TagRun, params hash, D, S, beacon, T) on-chain.
func (r *Registry) RunCommitment(ctx context.Context, paramsHash, root, seed, beacon *big.Int, steps uint32) (*big.Int, error) {
	out, err := r.call(ctx, "computeRunCommitment", paramsHash, root, seed, beacon, steps)
	if err != nil {
		return nil, err
	}
	return out[0].(*big.Int), nil
}

// ContinuedRunCommitment computes Poseidon2(TagRun, params hash, D, S,
// beacon, T, M_0) on-chain: a continued run's commitment.
func (r *Registry) ContinuedRunCommitment(ctx context.Context, paramsHash, root, seed, beacon *big.Int, steps uint32, m0 *big.Int) (*big.Int, error) {
	out, err := r.call(ctx, "computeContinuedRunCommitment", paramsHash, root, seed, beacon, steps, m0)
	if err != nil {
		return nil, err
	}
	return out[0].(*big.Int), nil
}

// RunIDByCommitment is the id of the first run whose beacon fixed this run
// commitment (zero for none): how a continued run's params, which name
// their parent by its run commitment, lead to the parent's record.
func (r *Registry) RunIDByCommitment(ctx context.Context, runCommitment fr.Element) (*big.Int, error) {
	out, err := r.call(ctx, "runIdByCommitment", Big(runCommitment))
	if err != nil {
		return nil, err
	}
	return out[0].(*big.Int), nil
}

// ParentOf is the registry's id of the run that p continues (nil for a
// fresh run): the run of its params' parent run commitment, finalized, with
// M_T the model the params name (ErrParent otherwise). The registry reads
// the continued run's M_0 from it.
func (r *Registry) ParentOf(ctx context.Context, p run.Params) (*big.Int, error) {
	if p.Parent == nil {
		return nil, nil
	}
	rc, err := commit.ParseHex(p.Parent.RunCommitment)
	if err != nil {
		return nil, fmt.Errorf("params: parent.run_commitment: %w", err)
	}
	id, err := r.RunIDByCommitment(ctx, rc)
	if err != nil {
		return nil, err
	}
	if id.Sign() == 0 {
		return nil, fmt.Errorf("%w: no run of commitment %s", ErrParent, p.Parent.RunCommitment)
	}
	info, err := r.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	if Status(info.Status) != StatusFinalized {
		return nil, fmt.Errorf("%w: run %#x is %s", ErrParent, id, Status(info.Status))
	}
	if m, err := commit.ParseHex(p.Parent.Model); err != nil || info.Head.Cmp(Big(m)) != 0 {
		return nil, fmt.Errorf("%w: run %#x finalized model %#x, the params name %s", ErrParent, id, info.Head, p.Parent.Model)
	}
	return id, nil
}

// Run reads a run's record (Status none if it is not registered).
func (r *Registry) Run(ctx context.Context, runID *big.Int) (RunInfo, error) {
	var info RunInfo
	out, err := r.call(ctx, "getRun", runID)
	if err != nil {
		return info, err
	}
	info = *abi.ConvertType(out[0], new(RunInfo)).(*RunInfo)
	return info, nil
}

// RunsPerDataset is how many runs were registered on dataset root D: each
// counts toward the data's privacy budget, abandoned ones included.
func (r *Registry) RunsPerDataset(ctx context.Context, datasetRoot fr.Element) (uint64, error) {
	out, err := r.call(ctx, "runsPerDataset", Big(datasetRoot))
	if err != nil {
		return 0, err
	}
	return out[0].(*big.Int).Uint64(), nil
}

// BeaconDelay is the registry's BEACON_DELAY: a run registered in block n
// takes its beacon from block n + BeaconDelay's hash.
func (r *Registry) BeaconDelay(ctx context.Context) (uint64, error) {
	out, err := r.call(ctx, "BEACON_DELAY")
	if err != nil {
		return 0, err
	}
	return out[0].(*big.Int).Uint64(), nil
}

// RegisterRun registers a run before training (the audited path); its
// beacon is fixed later by FixBeacon. A key with a Parent registers a run
// that continues that finalized run's model.
func (r *Registry) RegisterRun(ctx context.Context, k RunKey) (*big.Int, *types.Receipt, error) {
	args := []any{Big(k.ParamsHash), Big(k.DatasetRoot), Big(k.SeedCommitment), k.Steps, [32]byte(k.StepVerifierCodeHash)}
	method := "registerRun"
	if k.Parent != nil {
		method, args = "registerContinuedRun", append(args, k.Parent)
	}
	rcpt, err := r.transact(ctx, method, args...)
	if err != nil {
		return nil, rcpt, err
	}
	id, err := r.RunID(ctx, r.c.From, k)
	return id, rcpt, err
}

// RegisterRunWithBeacon registers a run trained with a beacon fixed
// elsewhere; the registry marks it beaconGiven: nothing on-chain shows that
// the owner did not choose (grind) it.
func (r *Registry) RegisterRunWithBeacon(ctx context.Context, k RunKey, beacon fr.Element) (*big.Int, *types.Receipt, error) {
	args := []any{Big(k.ParamsHash), Big(k.DatasetRoot), Big(k.SeedCommitment), k.Steps, Big(beacon), [32]byte(k.StepVerifierCodeHash)}
	method := "registerRunWithBeacon"
	if k.Parent != nil {
		method, args = "registerContinuedRunWithBeacon", append(args, k.Parent)
	}
	rcpt, err := r.transact(ctx, method, args...)
	if err != nil {
		return nil, rcpt, err
	}
	id, err := r.RunID(ctx, r.c.From, k)
	return id, rcpt, err
}

// FixBeacon fixes a registered run's beacon from the hash of block n +
// BEACON_DELAY (n: its registration block), mining or waiting for the
// block after it to be sealed first. Past the 256-block window the registry
// refuses (OutsideBeaconWindow): the run must be registered again.
func (r *Registry) FixBeacon(ctx context.Context, runID *big.Int) (fr.Element, *types.Receipt, error) {
	var beacon fr.Element
	info, err := r.Run(ctx, runID)
	if err != nil {
		return beacon, nil, err
	}
	now, err := r.c.Client.BlockNumber(ctx)
	if err != nil {
		return beacon, nil, err
	}
	delay, err := r.BeaconDelay(ctx)
	if err != nil {
		return beacon, nil, err
	}
	if last := info.RegisteredBlock + delay + beaconWindow; Status(info.Status) == StatusAwaitingBeacon && now >= last {
		return beacon, nil, fmt.Errorf("%w: run %x was registered in block %d, its beacon block %d is no longer readable (now %d): register the run again with a fresh seed (the abandoned run still counts toward the dataset's runs)",
			ErrBeaconExpired, runID, info.RegisteredBlock, info.RegisteredBlock+delay, now)
	}
	// blockhash(n+delay) is readable from block n+delay+1 on; nodes estimate
	// gas at the latest block's number, so that block must be sealed first.
	if need := info.RegisteredBlock + delay + 1; now < need {
		if err := r.c.AdvanceBlocks(ctx, need-now); err != nil {
			return beacon, nil, err
		}
	}
	rcpt, err := r.transact(ctx, "fixBeacon", runID)
	if err != nil {
		return beacon, rcpt, err
	}
	if info, err = r.Run(ctx, runID); err != nil {
		return beacon, rcpt, err
	}
	beacon.SetBigInt(info.Beacon)
	return beacon, rcpt, nil
}

// SetStepVerifier names the run's step verifier (owner, once, before step
// 0); the registry refuses a contract whose code hash is not the run's.
func (r *Registry) SetStepVerifier(ctx context.Context, runID *big.Int, verifier common.Address) (*types.Receipt, error) {
	return r.transact(ctx, "setStepVerifier", runID, verifier)
}

// SubmitStep submits step proof (in Solidity form) with its four public inputs.
func (r *Registry) SubmitStep(ctx context.Context, runID *big.Int, proof []byte, input [4]*big.Int) (*types.Receipt, error) {
	return r.transact(ctx, "submitStep", runID, proof, input)
}

// Finalize registers M_T once every step is accepted.
func (r *Registry) Finalize(ctx context.Context, runID *big.Int) (*types.Receipt, error) {
	return r.transact(ctx, "finalize", runID)
}

// RegisterInferenceVerifier lets verifier's proofs count for the run.
func (r *Registry) RegisterInferenceVerifier(ctx context.Context, runID *big.Int, verifier common.Address, fixedBinding bool) (*types.Receipt, error) {
	return r.transact(ctx, "registerInferenceVerifier", runID, verifier, fixedBinding)
}

// InferenceBinding reads how a verifier is registered for a run: 0 none,
// 1 committed, 2 fixed (owner-attested).
func (r *Registry) InferenceBinding(ctx context.Context, runID *big.Int, verifier common.Address) (uint8, error) {
	out, err := r.call(ctx, "inferenceVerifiers", runID, verifier)
	if err != nil {
		return 0, err
	}
	return out[0].(uint8), nil
}

// VerifyInference submits an inference proof against the run's final model.
func (r *Registry) VerifyInference(ctx context.Context, runID *big.Int, verifier common.Address, proof []byte, input []*big.Int) (*types.Receipt, error) {
	return r.transact(ctx, "verifyInference", runID, verifier, proof, input)
}
