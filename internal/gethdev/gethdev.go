// Package gethdev starts a real local Ethereum node for tests: geth --dev,
// built from the Go module proxy at the version of go-ethereum this module
// requires (go.mod pins cmd/geth as a tool, so its dependencies are in
// go.sum) and cached under $XDG_CACHE_HOME/zkdp.
package gethdev

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/google/uuid"
)

const gethModule = "github.com/ethereum/go-ethereum"

// Binary builds geth from the module proxy at the version this module
// requires (go.mod's tool directive pins it, so its dependencies are in
// go.sum), once: the binary is cached under $XDG_CACHE_HOME/zkdp.
func Binary(t testing.TB) string {
	t.Helper()
	version := Version(t)
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(cache, "zkdp", "geth-"+version)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := bin + ".tmp-" + strconv.Itoa(os.Getpid())
	t.Logf("building geth %s (once; cached at %s)", version, bin)
	cmd := exec.Command("go", "build", "-o", tmp, gethModule+"/cmd/geth")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build geth: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs `geth --dev` (a block a second) on free loopback ports until
// the test ends and returns its HTTP RPC URL.
func Start(t testing.TB) string {
	t.Helper()
	bin := Binary(t)
	port := freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--dev", "--dev.period", "1", "--datadir", dir,
		"--http", "--http.addr", "127.0.0.1", "--http.port", strconv.Itoa(port), "--http.api", "eth,net,web3",
		"--authrpc.port", strconv.Itoa(freePort(t)), "--port", "0", "--nodiscover", "--maxpeers", "0", "--ipcdisable")
	logf, err := os.Create(filepath.Join(dir, "geth.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("geth log (tail):\n%s", tail(b, 3000))
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := rpc.Dial(url)
		if err == nil {
			var n hexutil.Uint64
			err = c.Call(&n, "eth_blockNumber")
			c.Close()
			if err == nil {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("geth did not answer on %s: %v", url, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// Fund sends ether from geth's unlocked dev account.
func Fund(t testing.TB, url string, to ...common.Address) {
	t.Helper()
	c, err := rpc.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var accounts []common.Address
	if err := c.Call(&accounts, "eth_accounts"); err != nil || len(accounts) == 0 {
		t.Fatalf("geth's dev account: %v %v", accounts, err)
	}
	for _, a := range to {
		var h common.Hash
		value := new(big.Int).Exp(big.NewInt(10), big.NewInt(21), nil)
		if err := c.Call(&h, "eth_sendTransaction", map[string]any{"from": accounts[0], "to": a, "value": (*hexutil.Big)(value)}); err != nil {
			t.Fatalf("funding %s: %v", a, err)
		}
	}
	// Wait until the last account holds the ether.
	for range 100 {
		var bal hexutil.Big
		if err := c.Call(&bal, "eth_getBalance", to[len(to)-1], "latest"); err == nil && (*big.Int)(&bal).Sign() > 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("funding was not mined")
}

// KeystoreFile writes key encrypted in a go-ethereum keystore file and its
// passphrase in a password file.
func KeystoreFile(t testing.TB, key *ecdsa.PrivateKey) (string, string) {
	t.Helper()
	dir := t.TempDir()
	blob, err := keystore.EncryptKey(&keystore.Key{Id: uuid.New(), Address: crypto.PubkeyToAddress(key.PublicKey), PrivateKey: key},
		"correct horse", keystore.LightScryptN, keystore.LightScryptP)
	if err != nil {
		t.Fatal(err)
	}
	ks, pw := filepath.Join(dir, "key.json"), filepath.Join(dir, "password")
	if err := os.WriteFile(ks, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw, []byte("correct horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return ks, pw
}

// Version is the go-ethereum version this module requires (a test binary
// carries no module information, so ask go list).
func Version(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", gethModule).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", gethModule, err)
	}
	return strings.TrimSpace(string(out))
}
