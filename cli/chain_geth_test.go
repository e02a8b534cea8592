//go:build prover_checks

package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/zkdp/zkdp/internal/gethdev"
	"github.com/zkdp/zkdp/pipeline"
)

// The audited path through the CLI on a persistent chain (geth --dev, the
// key in a keystore file): chain register prints the chain's beacon, the run
// trains and proves with it, and chain verify finds the registered run (its
// beacon fixed on-chain) and takes it to a finalized model.
func TestChainRegisterTrainProveVerifyOnGeth(t *testing.T) {
	gethRunEnv(t)
	out, errs, code := execute(t, "chain", "register", "--config", "quickstart")
	if code != 0 {
		t.Fatalf("register: exit %d %s %s", code, out, errs)
	}
	beacon := regexp.MustCompile(`beacon (0x[0-9a-f]{64})\n`).FindStringSubmatch(out)
	registry := regexp.MustCompile(`--registry (0x[0-9a-fA-F]{40})`).FindStringSubmatch(out)
	if beacon == nil || registry == nil {
		t.Fatalf("no beacon or registry in %q", out)
	}
	dir := filepath.Join(t.TempDir(), "run")
	trainAndProve(t, dir, "--beacon", beacon[1])
	out, errs, code = execute(t, "chain", "verify", "--run", dir, "--registry", registry[1], "--dev-keys")
	if code != 0 || !strings.Contains(out, "2/2 steps accepted, finalized true, beacon fixed on-chain") || strings.Contains(out, "registerRunWithBeacon") {
		t.Fatalf("chain verify: exit %d %s %s", code, out, errs)
	}
	t.Log("\n" + out)
}

// A continued run on a persistent chain (geth --dev): the parent is
// registered, trained, proven and finalized; chain register --from
// registers a run that continues its released model as its child, which
// trains, proves and is finalized by chain verify; zkdp pipeline --from
// does the same in one command against that registry. Against a registry
// without the parent, both refuse, naming the command that puts it there.
func TestContinuedRunOnGeth(t *testing.T) {
	gethRunEnv(t)
	beaconRe, registryRe := regexp.MustCompile(`beacon (0x[0-9a-f]{64})\n`), regexp.MustCompile(`--registry (0x[0-9a-fA-F]{40})`)
	out, errs, code := execute(t, "chain", "register", "--config", "quickstart")
	beacon, registry := beaconRe.FindStringSubmatch(out), registryRe.FindStringSubmatch(out)
	if code != 0 || beacon == nil || registry == nil {
		t.Fatalf("register: exit %d %s %s", code, out, errs)
	}
	parent := filepath.Join(t.TempDir(), "parent")
	trainAndProve(t, parent, "--beacon", beacon[1])
	out, errs, code = execute(t, "chain", "verify", "--run", parent, "--registry", registry[1], "--dev-keys")
	parentID := regexp.MustCompile(`run (0x[0-9a-f]+)`).FindStringSubmatch(out)
	if code != 0 || !strings.Contains(out, "finalized true") || parentID == nil {
		t.Fatalf("chain verify: exit %d %s %s", code, out, errs)
	}

	// A registry without the parent: both refuse before any key setup.
	t.Setenv("ZKDP_SEED", "4")
	_, errs, code = execute(t, "chain", "register", "--config", "quickstart", "--from", parent)
	if code == 0 || !strings.Contains(errs, "take it on-chain first: zkdp chain verify --run "+parent) {
		t.Fatalf("register --from on a fresh registry: exit %d %s", code, errs)
	}
	_, err := runPipeline(context.Background(), t, nil, "--config", "quickstart", "--out", filepath.Join(t.TempDir(), "p"), "--from", parent)
	if err == nil || !strings.Contains(err.Error(), "take the parent run on-chain first (zkdp chain verify --run "+parent+" --rpc") {
		t.Fatalf("pipeline --from on a fresh registry: %v", err)
	}

	// chain register --from, train --from, prove, chain verify.
	out, errs, code = execute(t, "chain", "register", "--config", "quickstart", "--from", parent, "--registry", registry[1])
	beacon = beaconRe.FindStringSubmatch(out)
	if code != 0 || beacon == nil || !strings.Contains(out, "registerContinuedRun") || !strings.Contains(out, "continues run "+parentID[1]) ||
		!strings.Contains(out, "--from "+parent) {
		t.Fatalf("register --from: exit %d %s %s", code, out, errs)
	}
	child := filepath.Join(t.TempDir(), "child")
	trainAndProve(t, child, "--beacon", beacon[1], "--from", parent)
	out, errs, code = execute(t, "chain", "verify", "--run", child, "--registry", registry[1], "--dev-keys")
	if code != 0 || !strings.Contains(out, "2/2 steps accepted, finalized true, beacon fixed on-chain") ||
		!strings.Contains(out, "continues the finalized model of run "+parentID[1]) {
		t.Fatalf("chain verify of the continued run: exit %d %s %s", code, out, errs)
	}

	// zkdp pipeline --from against the registry that holds the parent.
	t.Setenv("ZKDP_SEED", "5")
	t.Setenv("ZKDP_CHAIN_REGISTRY", registry[1])
	out, err = runPipeline(context.Background(), t, nil, "--config", "quickstart", "--out", filepath.Join(t.TempDir(), "piped"), "--from", parent, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var sum pipeline.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.ParentRunID != parentID[1] || !sum.Finalized || sum.StepsAccepted != 2 {
		t.Fatalf("pipeline --from: %+v, %v", sum, err)
	}
}

// gethRunEnv starts geth --dev with a funded keystore account and sets the
// environment of a short quickstart run against it; it returns the RPC URL.
func gethRunEnv(t *testing.T) string {
	t.Helper()
	url := gethdev.Start(t)
	key, _ := crypto.GenerateKey()
	gethdev.Fund(t, url, crypto.PubkeyToAddress(key.PublicKey))
	ks, pw := gethdev.KeystoreFile(t, key)
	for k, v := range map[string]string{"ZKDP_TRAINING_STEPS": "2", "ZKDP_TRAINING_SAMPLING_RATE": "0.01",
		"ZKDP_TRAINING_EPSILON": "0", "ZKDP_TRAINING_NOISE_MULTIPLIER": "2", "ZKDP_FIXED_POINT_LATTICE_BITS": "4",
		"ZKDP_SEED": "3", "ZKDP_CHAIN_RPC": url, "ZKDP_CHAIN_KEYSTORE": ks, "ZKDP_CHAIN_PASSWORD_FILE": pw} {
		t.Setenv(k, v)
	}
	return url
}

// trainAndProve trains the quickstart config into dir with the extra train
// flags and proves it, failing the test on either.
func trainAndProve(t *testing.T, dir string, trainFlags ...string) {
	t.Helper()
	args := append([]string{"train", "--config", "quickstart", "--out", dir, "--log-level", "warn"}, trainFlags...)
	if _, errs, code := execute(t, args...); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	if out, errs, code := execute(t, "prove", "--run", dir, "--log-level", "warn"); code != 0 {
		t.Fatalf("prove: exit %d %s %s", code, out, errs)
	}
}
