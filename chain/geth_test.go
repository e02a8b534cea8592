//go:build prover_checks

package chain

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/zkdp/zkdp/internal/gethdev"
)

// A full run verifies on a real node (geth --dev over JSON-RPC, the key in a
// keystore file), and every tamper case reverts with its decoded reason.
func TestRunOnGethDev(t *testing.T) {
	url := gethdev.Start(t)
	owner, _ := crypto.GenerateKey()
	other, _ := crypto.GenerateKey()
	gethdev.Fund(t, url, crypto.PubkeyToAddress(owner.PublicKey), crypto.PubkeyToAddress(other.PublicKey))
	ks, pw := gethdev.KeystoreFile(t, owner)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := Dial(ctx, url, ks, pw)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := Dial(ctx, url, ks, filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing password file was accepted")
	}
	// The audited path: register, then the beacon from a later block.
	reg, _, err := DeployRegistry(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	key := RunKey{ParamsHash: randElement(t), DatasetRoot: randElement(t), SeedCommitment: randElement(t), Steps: 3,
		StepVerifierCodeHash: crypto.Keccak256Hash([]byte("a step verifier's code"))}
	registration, err := RegisterBeforeTraining(ctx, reg, key)
	if err != nil {
		t.Fatal(err)
	}
	checkChainBeacon(t, c, reg, registration.RunID, registration.Beacon)

	r := newProvenRun(t)
	r.onChain(t, c, c.As(other), fmt.Sprintf("step circuit of a breast-cancer run (%d steps), geth --dev %s", r.pub.Params.Steps, gethdev.Version(t)))
}
