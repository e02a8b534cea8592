package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkdp/zkdp/fleet"
	"github.com/zkdp/zkdp/internal/natstest"
)

// The fleet commands name what is missing or wrong before connecting.
func TestFleetCommandsRejectBadSettings(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"worker"}, "--run-key"},
		{[]string{"worker", "--queue", "http://h:4222", "--run-key", "k"}, "queue.url"},
		{[]string{"prove", "--run", "nowhere", "--queue", "nats://h:4222", "--max-deliver", "-1"}, "queue.max_deliver"},
		{[]string{"queue", "serve", "--user", "u"}, "password-file"},
	} {
		_, errs, code := execute(t, tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q; want an error naming %s", tc.args, code, errs, tc.want)
		}
	}
}

// The proving bar's ETA is the one the prover computed from the proofs'
// own times: an hour of key setup before the first proof does not count.
func TestProgressETAFromProofs(t *testing.T) {
	var logs bytes.Buffer
	log, err := NewLogger(&logs, "info", "text")
	if err != nil {
		t.Fatal(err)
	}
	bar := newProgress("proving", io.Discard, log)
	bar.start = time.Now().Add(-time.Hour) // the setup took an hour
	bar.updateETA(1, 10, 3*time.Minute)
	if !strings.Contains(logs.String(), "eta=3m0s") {
		t.Fatalf("got %q, want eta=3m0s", logs.String())
	}
	logs.Reset()
	bar.updateETA(2, 10, 0)
	if !strings.Contains(logs.String(), "eta=--") {
		t.Fatalf("nothing timed yet: got %q, want eta=--", logs.String())
	}
}

// zkdp worker reaches a nats-server that requires TLS with a client
// certificate and an NKey through the config's queue section: with the
// right files it serves the run (a collector's consumer is there, it logs
// "worker ready"); with the CA overridden by ZKDP_QUEUE_TLS_CA it exits with
// an error naming queue.tls_ca, and with an unknown NKey one naming
// queue.nkey_seed.
func TestWorkerOverTLSAndNKeys(t *testing.T) {
	s := natstest.StartSecure(t)
	dir := t.TempDir()
	key, err := fleet.NewRunKey()
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, fleet.RunKeyFile)
	if err := os.WriteFile(keyPath, []byte(hex.EncodeToString(key[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeConfig := func(name, seed string) string {
		path := filepath.Join(dir, name)
		conf := fmt.Sprintf("queue:\n  url: %s\n  tls_ca: %s\n  tls_cert: %s\n  tls_key: %s\n  nkey_seed: %s\n  run_key: %s\n",
			s.URL, s.CA, s.Cert, s.Key, seed, keyPath)
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := writeConfig("good.yaml", s.Seed)

	// The collector side: the consumer the worker waits for.
	nc, err := fleet.Connect(fleet.Config{URL: s.URL, TLSCA: s.CA, TLSCert: s.Cert, TLSKey: s.Key, NKeySeed: s.Seed}, "test collector")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c, err := fleet.NewCollector(context.Background(), nc, key, fleet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	if code := Execute(ctx, []string{"worker", "--config", good, "--keys", filepath.Join(dir, "keys")}, IO{Out: &out, Err: &errb}); code != 0 ||
		!strings.Contains(errb.String(), "worker ready") {
		t.Fatalf("worker with the right settings: exit %d\n%s", code, errb.String())
	}

	t.Setenv("ZKDP_QUEUE_TLS_CA", s.OtherCA)
	_, errs, code := execute(t, "worker", "--config", good, "--keys", filepath.Join(dir, "keys"))
	if code == 0 || !strings.Contains(errs, "does not chain to queue.tls_ca "+s.OtherCA) {
		t.Errorf("another CA from ZKDP_QUEUE_TLS_CA: exit %d, %s", code, errs)
	}
	os.Unsetenv("ZKDP_QUEUE_TLS_CA")
	_, errs, code = execute(t, "worker", "--config", writeConfig("stranger.yaml", s.OtherSeed), "--keys", filepath.Join(dir, "keys"))
	if code == 0 || !strings.Contains(errs, "Authorization Violation") || !strings.Contains(errs, "queue.nkey_seed") {
		t.Errorf("an unknown NKey: exit %d, %s", code, errs)
	}
}
