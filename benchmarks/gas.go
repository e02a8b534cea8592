package benchmarks

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/zkdp/zkdp/chain"
	"github.com/zkdp/zkdp/pipeline"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
)

// Gas measures every registry transaction of a real run on go-ethereum's
// simulated chain (mainnet's rules): the quickstart pipeline in dir (the
// audited path: register, fixBeacon, every submitStep, finalize, both
// inference bindings), then the same run on a fresh chain, registered after
// training with its beacon given, to measure the registry's deployment,
// registerRunWithBeacon and a bare call to the step verifier with step 0's
// proof; submitStep minus that bare call is the registry's bookkeeping.
func Gas(ctx context.Context, dir string, keys *prover.KeyCache, log *slog.Logger) ([]GasRow, error) {
	log = logger(log)
	cfg, err := LoadConfig("quickstart")
	if err != nil {
		return nil, err
	}
	st, err := pipeline.Open(pipeline.OpenOptions{Dir: dir, ConfigName: "quickstart", Force: true}, cfg)
	if err != nil {
		return nil, err
	}
	// Gas does not depend on who made the keys: the benchmark's own
	// single-party ones (development keys).
	st.Logger, st.Keys, st.Workers, st.Trust = log, keys, 1, prover.KeyTrust{Dev: true}
	stages, closeChain := pipeline.Stages()
	err = pipeline.Run(ctx, st, stages)
	closeChain()
	if err != nil {
		return nil, err
	}
	sum, err := pipeline.Summarize(st)
	if err != nil {
		return nil, err
	}
	var rows []GasRow
	add := func(name string, gas uint64, note string) {
		rows = append(rows, GasRow{Transaction: name, Gas: gas, Note: note})
	}
	var submit uint64
	for _, tx := range sum.Transactions {
		if !tx.Accepted {
			return nil, fmt.Errorf("benchmarks: %s was rejected: %s", tx.Name, tx.Reason)
		}
		switch {
		case strings.HasPrefix(tx.Name, "submitStep"):
			submit = max(submit, tx.GasUsed)
			if tx.Name != "submitStep 0" {
				continue // the others differ by a few gas units
			}
		case strings.HasPrefix(tx.Name, "deploy inference verifier"), strings.HasPrefix(tx.Name, "registerInferenceVerifier"), strings.HasPrefix(tx.Name, "verifyInference"):
			tx.Name += " (" + inferenceBinding(sum, tx.Name) + ")"
		}
		add(tx.Name, tx.GasUsed, "quickstart pipeline, audited path")
	}

	c, err := chain.NewSimulated()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	reg, rcpt, err := chain.DeployRegistry(ctx, c)
	if err != nil {
		return nil, err
	}
	add("deploy registry", rcpt.GasUsed, "with the generated Poseidon2 library")
	rep, err := chain.VerifyRun(ctx, c, dir, chain.VerifyOptions{Registry: reg.Address, Logger: log, Trust: st.Trust})
	if err != nil {
		return nil, err
	}
	for _, tx := range rep.Transactions {
		if tx.Name == "registerRunWithBeacon" {
			add(tx.Name, tx.GasUsed, "a run registered after training, its beacon marked as given")
		}
	}
	proof, input, err := chain.ProofFiles(filepath.Join(dir, run.PublicDir, run.ProofsDir, "step-00000.proof"))
	if err != nil {
		return nil, err
	}
	bare, err := chain.CallVerifier(ctx, c, common.HexToAddress(rep.StepVerifier), proof, input)
	if err != nil {
		return nil, err
	}
	add("bare verifyProof of a step proof", bare.GasUsed, "a transaction straight to the step verifier (4 public inputs, 1 commitment)")
	add("registry bookkeeping per step", submit-bare.GasUsed, "the largest submitStep minus the bare call (target at most 25,000)")
	return rows, nil
}

// inferenceBinding names the binding of the claim a transaction is about,
// from the infer stage's circuit names ("fixed-hashed-b2 (...): infer-00000.proof").
func inferenceBinding(sum pipeline.Summary, txName string) string {
	fields := strings.Fields(txName)
	proof := fields[len(fields)-1] + ".proof"
	for _, c := range sum.InferenceCircuits {
		if strings.HasSuffix(c, proof) {
			return strings.Fields(c)[0]
		}
	}
	return "?"
}
