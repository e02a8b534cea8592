package fleet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
)

func testKey(t *testing.T) RunKey {
	t.Helper()
	k, err := NewRunKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A sealed job opens only with its key and under its subject; any flipped
// byte is rejected.
func TestSealTamper(t *testing.T) {
	k, other := testKey(t), testKey(t)
	subj := jobSubject(k.ID(), "step-00001")
	plain := []byte("private witness: rows, salts, weights")
	box, err := seal(k, subj, plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(box, plain[:16]) {
		t.Fatal("the sealed payload contains the plaintext")
	}
	if got, err := open(k, subj, box); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("honest payload: %q, %v", got, err)
	}
	if _, err := open(other, subj, box); !errors.Is(err, ErrSealed) {
		t.Errorf("another run's key: got %v, want ErrSealed", err)
	}
	if _, err := open(k, jobSubject(k.ID(), "step-00002"), box); !errors.Is(err, ErrSealed) {
		t.Errorf("moved to another step's subject: got %v, want ErrSealed", err)
	}
	for i := range box {
		b := bytes.Clone(box)
		b[i] ^= 0x40
		if _, err := open(k, subj, b); !errors.Is(err, ErrSealed) {
			t.Fatalf("byte %d flipped: got %v, want ErrSealed", i, err)
		}
	}
	if _, err := open(k, subj, box[:10]); !errors.Is(err, ErrSealed) {
		t.Errorf("truncated: got %v", err)
	}
}

// The run key is created once in private/ with mode 0600, read back the
// same, and refused when others can read it or it is malformed.
func TestRunKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	d, err := run.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.Public(run.ParamsFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	k1, path, err := RunKeyOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 || filepath.Dir(path) != filepath.Join(dir, "private") {
		t.Fatalf("key file %s: %v %v", path, st.Mode(), err)
	}
	k2, _, err := RunKeyOf(dir)
	if err != nil || k1 != k2 {
		t.Fatalf("second read: %v, same key %v", err, k1 == k2)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRunKey(path); !errors.Is(err, ErrRunKey) {
		t.Errorf("world-readable key: got %v, want ErrRunKey", err)
	}
	bad := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(bad, []byte("abcd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRunKey(bad); !errors.Is(err, ErrRunKey) {
		t.Errorf("short key: got %v, want ErrRunKey", err)
	}
}

// startServer runs an embedded server for one test.
// collectorOnServer starts a server and a collector of run key k under cfg,
// both closed with the test, and returns a minute's context for it.
func collectorOnServer(t *testing.T, k RunKey, cfg Config) (context.Context, *nats.Conn, *Collector) {
	t.Helper()
	_, nc := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	c, err := NewCollector(ctx, nc, k, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return ctx, nc, c
}

func startServer(t testing.TB) (*Server, *nats.Conn) {
	t.Helper()
	s, err := Serve(ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	nc, err := Connect(Config{URL: s.URL()}, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return s, nc
}

// A payload above the inline limit travels through the object store; the
// server stores only ciphertext, inline or in the bucket.
func TestMessagesThroughServer(t *testing.T) {
	_, nc := startServer(t)
	ctx := context.Background()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := ensureStreams(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	k := testKey(t)
	secret := bytes.Repeat([]byte("SECRET-ROW-"), 2000)
	for _, tc := range []struct {
		name      string
		maxInline int
		object    bool
	}{{"inline", 1 << 20, false}, {"object store", 1024, true}} {
		j := job{Name: "step-00003", Witness: secret}
		subj := jobSubject(k.ID(), j.Name)
		msg, err := sealMsg(ctx, k, subj, j, obj, tc.maxInline)
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Header.Get(objectHeader) != ""; got != tc.object {
			t.Fatalf("%s: through the object store: %v", tc.name, got)
		}
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
		raw, err := js.Stream(ctx, JobsStream)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := raw.GetLastMsgForSubject(ctx, subj)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored.Data, []byte("SECRET-ROW")) {
			t.Fatalf("%s: the server holds the plaintext", tc.name)
		}
		if tc.object {
			blob, err := obj.GetBytes(ctx, msg.Header.Get(objectHeader))
			if err != nil || bytes.Contains(blob, []byte("SECRET-ROW")) {
				t.Fatalf("object: %v, or it holds the plaintext", err)
			}
		}
		var got job
		if err := openMsg(ctx, k, subj, stored.Data, stored.Header, obj, &got); err != nil || !bytes.Equal(got.Witness, secret) {
			t.Fatalf("%s: reopened: %v", tc.name, err)
		}
		if err := openMsg(ctx, testKey(t), subj, stored.Data, stored.Header, obj, &got); !errors.Is(err, ErrSealed) {
			t.Fatalf("%s: a worker without the run key read the job: %v", tc.name, err)
		}
		if err := raw.Purge(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// A restarted server on the same store still holds the pending jobs.
func TestServerPersists(t *testing.T) {
	store := t.TempDir()
	s, err := Serve(ServerOptions{StoreDir: store})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := Connect(Config{URL: s.URL()}, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, _ := jetstream.New(nc)
	if _, err := ensureStreams(ctx, js); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, jobSubject("r", "step-00000"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	s.Shutdown()
	s, err = Serve(ServerOptions{StoreDir: store})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	nc, err = Connect(Config{URL: s.URL()}, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ = jetstream.New(nc)
	st, err := js.Stream(ctx, JobsStream)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := st.Info(ctx); err != nil || info.State.Msgs != 1 {
		t.Fatalf("after restart: %+v, %v", info, err)
	}
}

func TestServeAndConnectErrors(t *testing.T) {
	if _, err := Serve(ServerOptions{Listen: "nohostport", StoreDir: t.TempDir()}); !errors.Is(err, ErrConfig) {
		t.Errorf("bad listen: %v", err)
	}
	if _, err := Serve(ServerOptions{}); !errors.Is(err, ErrConfig) {
		t.Errorf("no store: %v", err)
	}
	if _, err := Connect(Config{}, "x"); !errors.Is(err, ErrConfig) {
		t.Errorf("no URL: %v", err)
	}
	if _, err := Connect(Config{URL: "nats://127.0.0.1:1", TLSCert: "c"}, "x"); !errors.Is(err, ErrConfig) {
		t.Errorf("cert without key: %v", err)
	}
	// user/password: the server refuses a client without them.
	s, err := Serve(ServerOptions{StoreDir: t.TempDir(), User: "zkdp", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	if _, err := Connect(Config{URL: s.URL()}, "x"); err == nil {
		t.Error("connected without credentials")
	}
	nc, err := Connect(Config{URL: s.URL(), User: "zkdp", Password: "pw"}, "x")
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
}

// A tampered job is refused by the worker with a sealed refusal the
// collector reads; a tampered result never reaches the job waiting for it.
func TestTamperedJobAndResult(t *testing.T) {
	k := testKey(t)
	cfg := Config{AckWait: time.Second, MaxDeliver: 2}
	ctx, nc, c := collectorOnServer(t, k, cfg)
	w := &Worker{Config: cfg, Key: k, Keys: CachedKeys(&prover.KeyCache{Dir: t.TempDir()})}
	go w.Run(ctx, nc)

	subj := jobSubject(k.ID(), "step-00000")
	msg, err := sealMsg(ctx, k, subj, job{Name: "step-00000"}, c.obj, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	msg.Data[len(msg.Data)-1] ^= 1
	refusal := c.await("step-00000")
	if _, err := c.js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-refusal:
		if !strings.Contains(r.Refusal, "does not authenticate") {
			t.Fatalf("refusal %q does not say the job failed to authenticate", r.Refusal)
		}
	case <-ctx.Done():
		t.Fatal("no refusal of the tampered job")
	}

	good := c.await("step-00001")
	rs := resultSubject(k.ID(), "step-00001")
	for i, refusal := range []string{"tampered", "honest"} {
		m, err := sealMsg(ctx, k, rs, result{Job: "step-00001", Refusal: refusal}, c.obj, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			m.Data[len(m.Data)/2] ^= 1
		}
		if _, err := c.js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case r := <-good:
		if r.Refusal != "honest" {
			t.Fatalf("got result %q", r.Refusal)
		}
	case <-ctx.Done():
		t.Fatal("the honest result did not arrive")
	}
}

// A job whose every delivery goes unanswered (its workers die) is given up
// by JetStream after MaxDeliver; the collector turns the advisory into a
// refusal of that step and removes the job, instead of waiting forever.
func TestUnansweredJobIsRefused(t *testing.T) {
	k := testKey(t)
	ctx, _, c := collectorOnServer(t, k, Config{AckWait: 500 * time.Millisecond, MaxDeliver: 2})
	cons, err := c.js.Consumer(ctx, JobsStream, consumerName(k.ID()))
	if err != nil {
		t.Fatal(err)
	}
	// A worker that takes each job and dies before answering.
	go func() {
		for ctx.Err() == nil {
			batch, err := cons.Fetch(1, jetstream.FetchMaxWait(200*time.Millisecond))
			if err != nil {
				return
			}
			for range batch.Messages() {
			}
		}
	}()
	ch := c.await("step-00004")
	if _, err := c.publish(ctx, job{Name: "step-00004"}, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ch:
		if !strings.Contains(r.Refusal, "never answered") {
			t.Fatalf("refusal %q", r.Refusal)
		}
	case <-ctx.Done():
		t.Fatal("the collector never learned that the job was given up")
	}
	info, err := c.jobs.Info(ctx)
	if err != nil || info.State.Msgs != 0 {
		t.Fatalf("the given-up job is still queued: %+v, %v", info.State, err)
	}
}

// A job that JetStream gave up on while no collector listened (the
// max-deliveries advisory went to nobody: the collector was down) is found
// by the next collector's watcher and refused, instead of being waited on
// forever as a job "pending already".
func TestLostJobFoundWithoutAdvisory(t *testing.T) {
	_, nc := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := testKey(t)
	cfg := Config{AckWait: 300 * time.Millisecond, MaxDeliver: 2}
	first, err := NewCollector(ctx, nc, k, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.publish(ctx, job{Name: "step-00007"}, 1); err != nil {
		t.Fatal(err)
	}
	first.Close() // the collector goes down with its job queued
	cons, err := first.js.Consumer(ctx, JobsStream, consumerName(k.ID()))
	if err != nil {
		t.Fatal(err)
	}
	// A worker that takes each delivery and vanishes, until JetStream gives up.
	for {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for range batch.Messages() {
		}
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Delivered.Stream > 0 && info.NumAckPending == 0 && info.NumPending == 0 {
			break
		}
	}
	second, err := NewCollector(ctx, nc, k, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	ch := second.await("step-00007")
	if _, err := second.publish(ctx, job{Name: "step-00007"}, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ch:
		if !strings.Contains(r.Refusal, "never answered") {
			t.Fatalf("refusal %q", r.Refusal)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the restarted collector still waits for a job JetStream gave up on")
	}
	if info, err := second.jobs.Info(ctx); err != nil || info.State.Msgs != 0 {
		t.Fatalf("the lost job is still queued: %+v, %v", info.State, err)
	}
}

// square is a one-constraint circuit: the fleet's tests of timing prove it
// for real in milliseconds.
type square struct {
	X frontend.Variable
	Y frontend.Variable `gnark:",public"`
}

func (c *square) Define(api frontend.API) error {
	api.AssertIsEqual(api.Mul(c.X, c.X), c.Y)
	return nil
}

func squareKeys(t *testing.T) (constraint.ConstraintSystem, groth16.ProvingKey, groth16.VerifyingKey) {
	t.Helper()
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, &square{})
	if err != nil {
		t.Fatal(err)
	}
	pk, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	return ccs, pk, vk
}

func squareWitness(t *testing.T) witness.Witness {
	t.Helper()
	full, err := frontend.NewWitness(&square{X: 3, Y: 9}, ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	return full
}

// A worker whose job takes several ack waits (here its keys load slowly)
// keeps it with in-progress acks: the job is delivered once and its proof
// is kept, although one delivery is all a job may have.
func TestSlowWorkerKeepsItsJob(t *testing.T) {
	ccs, pk, vk := squareKeys(t)
	k := testKey(t)
	cfg := Config{AckWait: time.Second, MaxDeliver: 1}
	ctx, nc, c := collectorOnServer(t, k, cfg)
	var logs bytes.Buffer
	var mu sync.Mutex
	wcfg := cfg
	wcfg.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	w := &Worker{Config: wcfg, Key: k, Name: "slow",
		Compile: func(string, []byte) (constraint.ConstraintSystem, string, error) { return ccs, "square", nil },
		Keys: func(constraint.ConstraintSystem, string) (groth16.ProvingKey, groth16.VerifyingKey, error) {
			time.Sleep(3 * cfg.AckWait)
			return pk, vk, nil
		}}
	go w.Run(ctx, nc)
	prove, err := c.Remote(stepproof.Circuit{Hash: "square", VK: vk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prove(ctx, "step-00000", squareWitness(t)); err != nil {
		t.Fatalf("the slow worker's proof: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "msg=proving"); n != 1 {
		t.Fatalf("delivered %d times:\n%s", n, logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A worker whose key cache lacks the run's keys fetches them from the key
// store, where the collector shared them, checks them against the sums its
// sealed job names, and keeps them in its cache; keys swapped in the store
// are refused.
func TestWorkerFetchesSharedKeys(t *testing.T) {
	ccs, pk, vk := squareKeys(t)
	k := testKey(t)
	for _, tc := range []struct {
		name   string
		tamper bool
	}{{"shared", false}, {"swapped in the store", true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{AckWait: time.Second, MaxDeliver: 1, ShareKeys: true}
			ctx, nc, c := collectorOnServer(t, k, cfg)
			prove, err := c.Remote(stepproof.Circuit{Hash: "square", VK: vk, PK: pk})
			if err != nil {
				t.Fatal(err)
			}
			if tc.tamper {
				store, err := keyStore(ctx, c.js)
				if err != nil {
					t.Fatal(err)
				}
				infos, err := store.List(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(infos) != 2 {
					t.Fatalf("%d objects in the key store, want pk and vk", len(infos))
				}
				pkInfo := infos[0] // the proving key is the larger
				if infos[1].Size > pkInfo.Size {
					pkInfo = infos[1]
				}
				if _, err := store.PutBytes(ctx, pkInfo.Name, make([]byte, pkInfo.Size)); err != nil {
					t.Fatal(err)
				}
			}
			cache := &prover.KeyCache{Dir: t.TempDir()}
			w := &Worker{Config: cfg, Key: k, Keys: CachedKeys(cache), Fetch: cache,
				Compile: func(string, []byte) (constraint.ConstraintSystem, string, error) { return ccs, "square", nil }}
			go w.Run(ctx, nc)
			_, err = prove(ctx, "step-00000", squareWitness(t))
			if tc.tamper {
				if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "sha256") {
					t.Fatalf("got %v, want a refusal of the swapped key", err)
				}
				if _, _, err := cache.Load("square"); err == nil {
					t.Fatal("the swapped key entered the cache")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := cache.Load("square"); err != nil {
				t.Fatalf("the fetched keys are not in the cache: %v", err)
			}
		})
	}
}

// A worker whose keys are another setup's for the same circuit refuses the
// job, saying so, and the step fails.
func TestWorkerWithOtherKeysRefuses(t *testing.T) {
	ccs, _, vk := squareKeys(t)
	pk2, vk2, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	k := testKey(t)
	cfg := Config{AckWait: time.Second, MaxDeliver: 1}
	ctx, nc, c := collectorOnServer(t, k, cfg)
	w := &Worker{Config: cfg, Key: k,
		Compile: func(string, []byte) (constraint.ConstraintSystem, string, error) { return ccs, "square", nil },
		Keys: func(constraint.ConstraintSystem, string) (groth16.ProvingKey, groth16.VerifyingKey, error) {
			return pk2, vk2, nil
		}}
	go w.Run(ctx, nc)
	prove, err := c.Remote(stepproof.Circuit{Hash: "square", VK: vk})
	if err != nil {
		t.Fatal(err)
	}
	_, err = prove(ctx, "step-00003", squareWitness(t))
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "wrong keys") {
		t.Fatalf("got %v, want a refusal for wrong keys", err)
	}
}
