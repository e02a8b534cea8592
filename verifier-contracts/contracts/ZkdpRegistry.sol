// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Poseidon2} from "./Poseidon2.sol";

/// @notice A gnark-exported Groth16 verifier of the step circuit (four public
/// inputs). It returns nothing and reverts unless the proof verifies.
interface IStepVerifier {
    function verifyProof(bytes calldata proof, uint256[4] calldata input) external view;
}

/// @title zkdp registry of provably private training runs
/// @notice Records a DP-SGD run (params hash, dataset root D, seed commitment
/// S, step count T), fixes its beacon from the hash of a block BEACON_DELAY
/// blocks after registration, accepts one Groth16 proof per step in order,
/// each continuing the model commitment chain M_0 -> M_1 -> ... -> M_T,
/// finalizes M_T after exactly T steps, and verifies inference proofs
/// against a finalized model. Every registered run counts toward its
/// dataset's privacy budget (runsPerDataset, RunRegistered), abandoned ones
/// included: registering again to get another beacon is visible and costs
/// privacy.
/// @dev T is in the run commitment, which every step proof's first public
/// input must equal, and the step circuit asserts t < T; M_0 is not the
/// owner's word but step 0's ModelBefore, which the circuit constrains to
/// H(W_0) of the public initial model. Each run is bound at registration to
/// the runtime code hash of its step verifier (EXTCODEHASH), so the owner
/// cannot later pair the params with a verifier of another circuit. What the
/// contract cannot check, readers must: that the code hash is the one of the
/// gnark-exported verifier of the circuit the params define, with a key from
/// a trusted setup (zkdp chain verify recompiles it from the trusted key),
/// and that each inference verifier's code hash (emitted on registration) is
/// a trusted key's. Anyone can recompute epsilon from the params.
/// A run may continue a finalized run's model (registerContinuedRun): its
/// M_0 is then the parent's M_T, fixed at registration and bound in its run
/// commitment (the step circuit of a continued run starts from the M_0 its
/// run commitment names), and the link is recorded (parentRunId,
/// RunContinues), so anyone can follow a model's lineage.
contract ZkdpRegistry {
    /// @notice The BN254 scalar field modulus: every public input is below it.
    uint256 public constant SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice commit.TagRun: the domain tag of the run commitment.
    uint256 public constant TAG_RUN = 8;
    /// @notice blockhash reaches 256 blocks back: the window to fix a beacon.
    uint256 public constant BEACON_WINDOW = 256;
    /// @notice A run registered in block n takes its beacon from block
    /// n + BEACON_DELAY's hash, which nobody knows when S is committed.
    uint256 public constant BEACON_DELAY = 4;

    enum Status {
        None,
        AwaitingBeacon,
        Training,
        Finalized
    }

    enum InferenceBinding {
        None,
        /// input[0] of the proof is the model commitment, checked against M_T.
        Committed,
        /// the verifying key holds the weights: the owner attests they are M_T's.
        FixedOwnerAttested
    }

    /// @dev Slots 0 and 1 hold everything submitStep reads besides the two
    /// commitments, so a step costs four storage reads.
    struct Run {
        address owner;
        uint32 nextStep;
        uint32 steps;
        Status status;
        bool beaconGiven;
        address stepVerifier;
        uint64 registeredBlock;
        uint256 runCommitment;
        uint256 head;
        uint256 paramsHash;
        uint256 datasetRoot;
        uint256 seedCommitment;
        /// M_0, set by step 0's proof (zero before).
        uint256 initialModel;
        uint256 beacon;
        /// The step verifier's runtime code hash, fixed at registration.
        bytes32 stepVerifierCodeHash;
        /// The finalized run whose model this run continues (0: a fresh run).
        uint256 parentRunId;
    }

    mapping(uint256 => Run) internal runs;
    /// @notice The inference verifiers a run's owner registered, with their binding.
    mapping(uint256 => mapping(address => InferenceBinding)) public inferenceVerifiers;
    /// @notice How many runs were registered on dataset root D, whatever became
    /// of them: each may have used the data, so each counts toward its budget.
    mapping(uint256 => uint256) public runsPerDataset;
    /// @notice The run whose beacon fixed this run commitment (0: none), so
    /// that a continued run's params, which name their parent by its run
    /// commitment, lead to the parent's record.
    mapping(uint256 => uint256) public runIdByCommitment;

    /// @notice A run was registered on dataset `datasetRoot` with seed
    /// commitment `seedCommitment`; `runsForDataset` counts it. beaconGiven:
    /// its beacon was not fixed by this chain.
    event RunRegistered(
        uint256 indexed runId,
        address indexed owner,
        uint256 indexed datasetRoot,
        uint256 seedCommitment,
        uint256 paramsHash,
        uint256 steps,
        bool beaconGiven,
        uint256 runsForDataset
    );
    /// @notice The run continues the finalized model `initialModel` (M_T) of run `parentRunId`.
    event RunContinues(uint256 indexed runId, uint256 indexed parentRunId, uint256 initialModel);
    /// @notice The owner named the run's step verifier.
    event StepVerifierSet(uint256 indexed runId, address verifier, bytes32 codeHash);
    /// @notice The run's beacon and run commitment are fixed; steps may follow.
    event BeaconFixed(uint256 indexed runId, uint256 beacon, uint256 runCommitment);
    /// @notice Step `step` was accepted; modelAfter (M_{t+1}) is the new head.
    event StepAccepted(uint256 indexed runId, uint256 step, uint256 modelAfter);
    /// @notice All T steps were accepted: `model` (M_T) is the run's model.
    event RunFinalized(uint256 indexed runId, uint256 paramsHash, uint256 model);
    /// @notice The owner registered an inference verifier for the run.
    event InferenceVerifierRegistered(uint256 indexed runId, address indexed verifier, bool fixedBinding, bytes32 codeHash);
    /// @notice An inference proof verified against the run's model.
    event InferenceVerified(uint256 indexed runId, address indexed verifier, bytes32 inputHash);

    /// @notice A value is not below SCALAR_FIELD.
    error NotInField(uint256 value);
    /// @notice A run needs at least one step.
    error NoSteps();
    /// @notice No contract at the verifier address, or no step verifier set yet.
    error NoVerifier();
    /// @notice This owner already registered a run with these commitments: runs are never overwritten.
    error RunExists(uint256 runId);
    /// @notice No run has this id.
    error UnknownRun(uint256 runId);
    /// @notice Only the run's owner may do this.
    error NotOwner(uint256 runId, address sender);
    /// @notice The run's beacon is already fixed (or was given).
    error NotAwaitingBeacon(uint256 runId);
    /// @notice fixBeacon is possible only while blockhash(n + BEACON_DELAY) is
    /// readable; after the window the run must be registered again (and that
    /// run counts toward the dataset's budget too).
    error OutsideBeaconWindow(uint256 firstBlock, uint256 lastBlock, uint256 current);
    /// @notice The run does not accept steps (beacon not fixed yet, or finalized).
    error NotTraining(uint256 runId);
    /// @notice The proof's run commitment (input[0]) is another run's.
    error WrongRun(uint256 expectedRunCommitment, uint256 got);
    /// @notice A replay: this step was accepted before.
    error StepAlreadyAccepted(uint256 step);
    /// @notice Steps are accepted in order only.
    error StepOutOfOrder(uint256 expected, uint256 got);
    /// @notice The run has fewer steps.
    error StepBeyondRun(uint256 step, uint256 steps);
    /// @notice input[2] (M_t) is not the stored head: the proof does not continue the chain.
    error ChainBroken(uint256 expectedModel, uint256 got);
    /// @notice finalize needs all T steps.
    error StepsMissing(uint256 accepted, uint256 steps);
    /// @notice Inference proofs count only against a finalized model.
    error NotFinalized(uint256 runId);
    /// @notice The inference verifier is registered for this run already.
    error VerifierAlreadyRegistered(address verifier);
    /// @notice A run must name its step verifier's runtime code hash.
    error NoVerifierCodeHash();
    /// @notice The verifier's runtime code is not the one the run was registered with.
    error VerifierCodeMismatch(bytes32 expected, bytes32 got);
    /// @notice The step verifier is set once.
    error StepVerifierAlreadySet(address verifier);
    /// @notice The run's owner did not register this inference verifier.
    error UnknownInferenceVerifier(address verifier);
    /// @notice The inference proof's model commitment (input[0]) is not M_T.
    error ModelMismatch(uint256 expectedModel, uint256 got);
    /// @notice A run continues only a finalized run's model.
    error ParentNotFinalized(uint256 parentRunId);

    /// @notice A run's id: its owner and public commitments (T included), so
    /// nobody can take or overwrite another's run, and the same run has one id.
    function runIdOf(address owner, uint256 paramsHash, uint256 datasetRoot, uint256 seedCommitment, uint32 steps)
        public
        pure
        returns (uint256)
    {
        return uint256(keccak256(abi.encode(owner, paramsHash, datasetRoot, seedCommitment, steps)));
    }

    /// @notice The step proofs' first public input: Poseidon2(TAG_RUN,
    /// paramsHash, D, S, beacon, T), as commit.Hash (step.RunCommitment).
    function computeRunCommitment(
        uint256 paramsHash,
        uint256 datasetRoot,
        uint256 seedCommitment,
        uint256 beacon,
        uint32 steps
    ) public pure returns (uint256) {
        return Poseidon2.hash6(TAG_RUN, paramsHash, datasetRoot, seedCommitment, beacon, steps);
    }

    /// @notice A continued run's run commitment: Poseidon2(TAG_RUN,
    /// paramsHash, D, S, beacon, T, M_0), as step.ContinuedRunCommitment.
    function computeContinuedRunCommitment(
        uint256 paramsHash,
        uint256 datasetRoot,
        uint256 seedCommitment,
        uint256 beacon,
        uint32 steps,
        uint256 initialModel
    ) public pure returns (uint256) {
        return Poseidon2.hash7(TAG_RUN, paramsHash, datasetRoot, seedCommitment, beacon, steps, initialModel);
    }

    /// @notice The audited path: register a run before training. Its beacon
    /// is then fixed by fixBeacon from the hash of block n + BEACON_DELAY,
    /// which the owner cannot know when committing to S here, so seeds
    /// cannot be ground; a run given up to draw another beacon stays counted.
    /// @param steps T, the params' step count: it goes into the run
    /// commitment, so proofs of a run with another T are refused.
    /// @param stepVerifierCodeHash the runtime code hash of the step circuit's
    /// verifier: setStepVerifier accepts only a contract with this code.
    function registerRun(uint256 paramsHash, uint256 datasetRoot, uint256 seedCommitment, uint32 steps, bytes32 stepVerifierCodeHash)
        external
        returns (uint256 runId)
    {
        Run storage r;
        (runId, r) = _register(paramsHash, datasetRoot, seedCommitment, steps, false, stepVerifierCodeHash);
        r.status = Status.AwaitingBeacon;
    }

    /// @notice Register a run trained before registration, with the beacon it
    /// was trained with (an auditor's coin, or none). The run is marked
    /// beaconGiven: the chain did not fix its beacon, so nothing on-chain
    /// prevents the owner from having chosen it (and ground it); readers must
    /// authenticate the beacon themselves. It counts toward the dataset's runs.
    function registerRunWithBeacon(
        uint256 paramsHash,
        uint256 datasetRoot,
        uint256 seedCommitment,
        uint32 steps,
        uint256 beacon,
        bytes32 stepVerifierCodeHash
    ) external returns (uint256 runId) {
        _inField(beacon);
        Run storage r;
        (runId, r) = _register(paramsHash, datasetRoot, seedCommitment, steps, true, stepVerifierCodeHash);
        r.beaconGiven = true;
        _setBeacon(runId, r, beacon);
    }

    /// @notice registerRun for a run that continues the model of the
    /// finalized run `parentRunId`: M_0 is that run's M_T, read here, and
    /// bound in the run commitment when the beacon is fixed.
    function registerContinuedRun(
        uint256 paramsHash,
        uint256 datasetRoot,
        uint256 seedCommitment,
        uint32 steps,
        bytes32 stepVerifierCodeHash,
        uint256 parentRunId
    ) external returns (uint256 runId) {
        Run storage r;
        (runId, r) = _register(paramsHash, datasetRoot, seedCommitment, steps, false, stepVerifierCodeHash);
        _continue(runId, r, parentRunId);
        r.status = Status.AwaitingBeacon;
    }

    /// @notice registerRunWithBeacon for a run that continues the model of
    /// the finalized run `parentRunId` (see registerContinuedRun).
    function registerContinuedRunWithBeacon(
        uint256 paramsHash,
        uint256 datasetRoot,
        uint256 seedCommitment,
        uint32 steps,
        uint256 beacon,
        bytes32 stepVerifierCodeHash,
        uint256 parentRunId
    ) external returns (uint256 runId) {
        _inField(beacon);
        Run storage r;
        (runId, r) = _register(paramsHash, datasetRoot, seedCommitment, steps, true, stepVerifierCodeHash);
        _continue(runId, r, parentRunId);
        r.beaconGiven = true;
        _setBeacon(runId, r, beacon);
    }

    /// @notice Fix a registered run's beacon: keccak256(blockhash(n +
    /// BEACON_DELAY), runId) mod SCALAR_FIELD, n being the registration
    /// block. Anyone may call it, once, while that block hash is readable
    /// (blocks n + BEACON_DELAY + 1 .. n + BEACON_DELAY + 256); a run whose
    /// window passed must be registered again with a fresh seed, and both
    /// registrations count toward the dataset's runs.
    function fixBeacon(uint256 runId) external returns (uint256 beacon) {
        Run storage r = runs[runId];
        if (r.status == Status.None) revert UnknownRun(runId);
        if (r.status != Status.AwaitingBeacon) revert NotAwaitingBeacon(runId);
        uint256 source = uint256(r.registeredBlock) + BEACON_DELAY;
        if (block.number <= source || block.number > source + BEACON_WINDOW) {
            revert OutsideBeaconWindow(source + 1, source + BEACON_WINDOW, block.number);
        }
        beacon = uint256(keccak256(abi.encode(blockhash(source), runId))) % SCALAR_FIELD;
        _setBeacon(runId, r, beacon);
    }

    /// @notice The owner names the step circuit's verifier, once, before the
    /// first step: a contract whose runtime code hash is the one the run was
    /// registered with.
    function setStepVerifier(uint256 runId, address verifier) external {
        Run storage r = runs[runId];
        if (r.status == Status.None) revert UnknownRun(runId);
        if (msg.sender != r.owner) revert NotOwner(runId, msg.sender);
        if (r.stepVerifier != address(0)) revert StepVerifierAlreadySet(r.stepVerifier);
        if (verifier.code.length == 0) revert NoVerifier();
        bytes32 codeHash = verifier.codehash;
        if (codeHash != r.stepVerifierCodeHash) revert VerifierCodeMismatch(r.stepVerifierCodeHash, codeHash);
        r.stepVerifier = verifier;
        emit StepVerifierSet(runId, verifier, codeHash);
    }

    /// @notice Accept step t's proof: only from the run's owner, only for the
    /// next step, only if it continues the chain (input[2] is the stored
    /// M_t; step 0's input[2] becomes M_0, which the circuit constrains to
    /// the public W_0's commitment, or for a continued run must be the M_0
    /// read from its parent), and only if the step verifier accepts
    /// it. Then M_{t+1} = input[3] becomes the head. The verifier's own errors (ProofInvalid,
    /// PublicInputNotInField, ...) are passed through.
    /// @param input [runCommitment, t, M_t, M_{t+1}], the step circuit's public inputs.
    function submitStep(uint256 runId, bytes calldata proof, uint256[4] calldata input) external {
        Run storage r = runs[runId];
        if (r.status != Status.Training) {
            if (r.status == Status.None) revert UnknownRun(runId);
            revert NotTraining(runId);
        }
        if (msg.sender != r.owner) revert NotOwner(runId, msg.sender);
        uint256 next = r.nextStep;
        uint256 t = input[1];
        if (t != next) {
            if (t < next) revert StepAlreadyAccepted(t);
            revert StepOutOfOrder(next, t);
        }
        if (t >= r.steps) revert StepBeyondRun(t, r.steps);
        if (input[0] != r.runCommitment) revert WrongRun(r.runCommitment, input[0]);
        if (t != 0 && input[2] != r.head) revert ChainBroken(r.head, input[2]);
        if (t == 0 && r.parentRunId != 0 && input[2] != r.initialModel) revert ChainBroken(r.initialModel, input[2]);
        address verifier = r.stepVerifier;
        if (verifier == address(0)) revert NoVerifier();
        IStepVerifier(verifier).verifyProof(proof, input);
        if (t == 0 && r.parentRunId == 0) r.initialModel = input[2];
        r.head = input[3];
        r.nextStep = uint32(t + 1);
        emit StepAccepted(runId, t, input[3]);
    }

    /// @notice After T accepted steps, register M_T as the run's model. Anyone
    /// may call it: the outcome is fixed by the accepted proofs.
    function finalize(uint256 runId) external {
        Run storage r = runs[runId];
        if (r.status != Status.Training) {
            if (r.status == Status.None) revert UnknownRun(runId);
            revert NotTraining(runId);
        }
        if (r.nextStep != r.steps) revert StepsMissing(r.nextStep, r.steps);
        r.status = Status.Finalized;
        emit RunFinalized(runId, r.paramsHash, r.head);
    }

    /// @notice The owner registers an inference circuit's verifier for the
    /// run, once. A fixed-binding verifier bakes the weights into its key: the
    /// contract cannot check them, so it is recorded as owner-attested.
    /// Inference circuits are chosen after training (batch, options; a fixed
    /// one holds M_T's weights), so no code hash is fixed at registration:
    /// the event records the verifier's, for readers to check against a
    /// trusted key.
    function registerInferenceVerifier(uint256 runId, address verifier, bool fixedBinding) external {
        Run storage r = runs[runId];
        if (r.status == Status.None) revert UnknownRun(runId);
        if (msg.sender != r.owner) revert NotOwner(runId, msg.sender);
        if (verifier.code.length == 0) revert NoVerifier();
        if (inferenceVerifiers[runId][verifier] != InferenceBinding.None) revert VerifierAlreadyRegistered(verifier);
        inferenceVerifiers[runId][verifier] =
            fixedBinding ? InferenceBinding.FixedOwnerAttested : InferenceBinding.Committed;
        emit InferenceVerifierRegistered(runId, verifier, fixedBinding, verifier.codehash);
    }

    /// @notice Accept an inference proof against a finalized run's model: for
    /// a committed binding input[0] must be M_T. Reverts with the verifier's
    /// error if the proof does not verify.
    /// @param input the inference circuit's public inputs, in its order.
    function verifyInference(uint256 runId, address verifier, bytes calldata proof, uint256[] calldata input)
        external
        returns (bool)
    {
        Run storage r = runs[runId];
        if (r.status != Status.Finalized) {
            if (r.status == Status.None) revert UnknownRun(runId);
            revert NotFinalized(runId);
        }
        InferenceBinding b = inferenceVerifiers[runId][verifier];
        if (b == InferenceBinding.None) revert UnknownInferenceVerifier(verifier);
        if (b == InferenceBinding.Committed) {
            if (input.length == 0 || input[0] != r.head) revert ModelMismatch(r.head, input.length == 0 ? 0 : input[0]);
        }
        (bool ok, bytes memory ret) = verifier.staticcall(_verifyProofCall(proof, input));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        emit InferenceVerified(runId, verifier, keccak256(abi.encodePacked(input)));
        return true;
    }

    /// @notice A run's record.
    function getRun(uint256 runId) external view returns (Run memory) {
        return runs[runId];
    }

    function _register(
        uint256 paramsHash,
        uint256 datasetRoot,
        uint256 seedCommitment,
        uint32 steps,
        bool beaconGiven,
        bytes32 stepVerifierCodeHash
    ) internal returns (uint256 runId, Run storage r) {
        _inField(paramsHash);
        _inField(datasetRoot);
        _inField(seedCommitment);
        if (steps == 0) revert NoSteps();
        if (stepVerifierCodeHash == bytes32(0)) revert NoVerifierCodeHash();
        runId = runIdOf(msg.sender, paramsHash, datasetRoot, seedCommitment, steps);
        r = runs[runId];
        if (r.status != Status.None) revert RunExists(runId);
        r.owner = msg.sender;
        r.steps = steps;
        r.registeredBlock = uint64(block.number);
        r.paramsHash = paramsHash;
        r.datasetRoot = datasetRoot;
        r.seedCommitment = seedCommitment;
        uint256 count = ++runsPerDataset[datasetRoot];
        emit RunRegistered(runId, msg.sender, datasetRoot, seedCommitment, paramsHash, steps, beaconGiven, count);
        r.stepVerifierCodeHash = stepVerifierCodeHash;
    }

    /// @dev A continued run's M_0 is its parent's finalized M_T.
    function _continue(uint256 runId, Run storage r, uint256 parentRunId) internal {
        Run storage parent = runs[parentRunId];
        if (parent.status != Status.Finalized) {
            if (parent.status == Status.None) revert UnknownRun(parentRunId);
            revert ParentNotFinalized(parentRunId);
        }
        r.parentRunId = parentRunId;
        r.initialModel = parent.head;
        emit RunContinues(runId, parentRunId, parent.head);
    }

    /// @dev The run commitment is hashed once here, so a step only compares.
    function _setBeacon(uint256 runId, Run storage r, uint256 beacon) internal {
        r.beacon = beacon;
        r.runCommitment = r.parentRunId == 0
            ? computeRunCommitment(r.paramsHash, r.datasetRoot, r.seedCommitment, beacon, r.steps)
            : computeContinuedRunCommitment(r.paramsHash, r.datasetRoot, r.seedCommitment, beacon, r.steps, r.initialModel);
        // The first run of a commitment keeps it (a copy registered later
        // with the same items does not redirect a lineage).
        if (runIdByCommitment[r.runCommitment] == 0) runIdByCommitment[r.runCommitment] = runId;
        r.status = Status.Training;
        emit BeaconFixed(runId, beacon, r.runCommitment);
    }

    /// @dev verifyProof(bytes, uint256[N]) with the circuit's N, encoded by
    /// hand: the head holds the bytes' offset, then the N words inline.
    function _verifyProofCall(bytes calldata proof, uint256[] calldata input) internal pure returns (bytes memory) {
        return abi.encodePacked(
            bytes4(keccak256(abi.encodePacked("verifyProof(bytes,uint256[", _decimal(input.length), "])"))),
            uint256(32 * (input.length + 1)),
            input,
            proof.length,
            proof,
            new bytes((32 - proof.length % 32) % 32)
        );
    }

    function _inField(uint256 v) internal pure {
        if (v >= SCALAR_FIELD) revert NotInField(v);
    }

    function _decimal(uint256 v) internal pure returns (bytes memory s) {
        if (v == 0) return "0";
        uint256 n;
        for (uint256 w = v; w != 0; w /= 10) n++;
        s = new bytes(n);
        for (; v != 0; v /= 10) s[--n] = bytes1(uint8(48 + v % 10));
    }
}
