//go:build prover_checks

package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/zkdp/zkdp/internal/gethdev"
)

// The audited path through the CLI on a persistent chain (geth --dev, the
// key in a keystore file): chain register prints the chain's beacon, the run
// trains and proves with it, and chain verify finds the registered run (its
// beacon fixed on-chain) and takes it to a finalized model.
func TestChainRegisterTrainProveVerifyOnGeth(t *testing.T) {
	url := gethdev.Start(t)
	key, _ := crypto.GenerateKey()
	gethdev.Fund(t, url, crypto.PubkeyToAddress(key.PublicKey))
	ks, pw := gethdev.KeystoreFile(t, key)
	for k, v := range map[string]string{"ZKDP_TRAINING_STEPS": "2", "ZKDP_TRAINING_SAMPLING_RATE": "0.01",
		"ZKDP_TRAINING_EPSILON": "0", "ZKDP_TRAINING_NOISE_MULTIPLIER": "2", "ZKDP_FIXED_POINT_LATTICE_BITS": "4",
		"ZKDP_SEED": "3", "ZKDP_CHAIN_RPC": url, "ZKDP_CHAIN_KEYSTORE": ks, "ZKDP_CHAIN_PASSWORD_FILE": pw} {
		t.Setenv(k, v)
	}
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
	if _, errs, code := execute(t, "train", "--config", "quickstart", "--out", dir, "--beacon", beacon[1], "--log-level", "warn"); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	if out, errs, code := execute(t, "prove", "--run", dir, "--log-level", "warn"); code != 0 {
		t.Fatalf("prove: exit %d %s %s", code, out, errs)
	}
	out, errs, code = execute(t, "chain", "verify", "--run", dir, "--registry", registry[1], "--dev-keys")
	if code != 0 || !strings.Contains(out, "2/2 steps accepted, finalized true, beacon fixed on-chain") || strings.Contains(out, "registerRunWithBeacon") {
		t.Fatalf("chain verify: exit %d %s %s", code, out, errs)
	}
	t.Log("\n" + out)
}
