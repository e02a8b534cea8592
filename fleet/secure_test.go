package fleet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"
	"github.com/nats-io/nats.go"

	"github.com/zkdp/zkdp/internal/natstest"
	"github.com/zkdp/zkdp/stepproof"
)

// Over a nats-server that requires TLS with a client certificate and an
// NKey, a collector and a worker connected with the CA, the client
// certificate and the seed prove a step; a client with any one of them
// wrong or missing is refused, and the error says which setting to check.
func TestTLSAndNKeys(t *testing.T) {
	s := natstest.StartSecure(t)
	good := Config{URL: s.URL, TLSCA: s.CA, TLSCert: s.Cert, TLSKey: s.Key, NKeySeed: s.Seed, AckWait: 5 * time.Second, MaxDeliver: 1}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ccs, pk, vk := squareKeys(t)
	k := testKey(t)
	cnc, err := Connect(good, "test collector")
	if err != nil {
		t.Fatalf("collector with the right settings: %v", err)
	}
	defer cnc.Close()
	if !cnc.TLSRequired() {
		t.Fatal("the connection is not over TLS")
	}
	c, err := NewCollector(ctx, cnc, k, good)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wnc, err := Connect(good, "test worker")
	if err != nil {
		t.Fatalf("worker with the right settings: %v", err)
	}
	defer wnc.Close()
	w := &Worker{Config: good, Key: k,
		Compile: func(string, []byte) (constraint.ConstraintSystem, string, error) { return ccs, "square", nil },
		Keys: func(constraint.ConstraintSystem, string) (groth16.ProvingKey, groth16.VerifyingKey, error) {
			return pk, vk, nil
		}}
	go w.Run(ctx, wnc)
	prove, err := c.Remote(stepproof.Circuit{Hash: "square", VK: vk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prove(ctx, "step-00000", squareWitness(t)); err != nil {
		t.Fatalf("a step over TLS and NKeys: %v", err)
	}

	notSeed := filepath.Join(t.TempDir(), "not-a-seed")
	if err := os.WriteFile(notSeed, []byte("SUAnotaseed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"no CA", func(c *Config) { c.TLSCA = "" }, []string{"queue.tls_ca"}},
		{"another CA", func(c *Config) { c.TLSCA = s.OtherCA }, []string{"queue.tls_ca"}},
		{"no client certificate", func(c *Config) { c.TLSCert, c.TLSKey = "", "" }, []string{"queue.tls_cert"}},
		{"a stranger's client certificate", func(c *Config) { c.TLSCert, c.TLSKey = s.OtherCert, s.OtherKey }, []string{"queue.tls_cert"}},
		{"no NKey", func(c *Config) { c.NKeySeed = "" }, []string{"Authorization Violation", "queue.nkey_seed"}},
		{"an unknown NKey", func(c *Config) { c.NKeySeed = s.OtherSeed }, []string{"Authorization Violation", "queue.nkey_seed"}},
		{"a missing seed file", func(c *Config) { c.NKeySeed = filepath.Join(t.TempDir(), "none") }, []string{"queue.nkey_seed"}},
		{"a file that is no seed", func(c *Config) { c.NKeySeed = notSeed }, []string{"queue.nkey_seed", notSeed}},
		{"a missing CA file", func(c *Config) { c.TLSCA = filepath.Join(t.TempDir(), "none.pem") }, []string{"queue.tls_ca"}},
		{"a missing client certificate file", func(c *Config) { c.TLSCert = filepath.Join(t.TempDir(), "none.pem") }, []string{"queue.tls_cert"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			nc, err := Connect(cfg, "test")
			if err == nil {
				nc.Close()
				t.Fatal("connected")
			}
			t.Logf("%v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}

	// A client that asks for TLS from a server without it is told so.
	plain, err := Serve(ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Shutdown()
	_, err = Connect(Config{URL: plain.URL(), TLSCA: s.CA}, "test")
	if !errors.Is(err, nats.ErrSecureConnWanted) || !strings.Contains(err.Error(), "does not offer TLS") {
		t.Errorf("TLS against a plain server: %v", err)
	}
}
