//go:build prover_checks

package fleet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zkdp/zkdp/internal/testrun"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
)

const (
	testAckWait = 2 * time.Second
	// steps of every test run: they share one circuit, so one setup.
	steps = 3
)

var (
	sharedKeysOnce sync.Once
	sharedKeys     string
)

// testKeys is a key cache folder shared by the tests of this run.
func testKeys(t *testing.T) string {
	sharedKeysOnce.Do(func() {
		var err error
		if sharedKeys, err = os.MkdirTemp("", "zkdp-fleet-keys-"); err != nil {
			t.Fatal(err)
		}
		cleanups = append(cleanups, func() { os.RemoveAll(sharedKeys) })
	})
	return sharedKeys
}

// smallRun is the stepproof tests' small run with 3 steps.
func smallRun(t *testing.T) string {
	t.Helper()
	cfg, format := testrun.SmallSteps()
	cfg.Steps = steps
	return testrun.Write(t, testrun.Setup(t, cfg, format, 8, 99))
}

// proc is a re-executed test binary (a worker or a collector) whose log
// lines the test can wait for.
type proc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	seen  chan struct{} // pinged on each line
}

func startProc(t testing.TB, url, keyPath, keysDir, runDir string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWorkerURL+"="+url, envWorkerKey+"="+keyPath, envWorkerKeys+"="+keysDir,
		envAckWait+"="+testAckWait.String(), envCollectorRun+"="+runDir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, seen: make(chan struct{}, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			select {
			case p.seen <- struct{}{}:
			default:
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		p.mu.Lock()
		defer p.mu.Unlock()
		t.Logf("log of %s (pid %d):\n%s", map[bool]string{true: "collector", false: "worker"}[runDir != ""], cmd.Process.Pid, strings.Join(p.lines, "\n"))
	})
	return p
}

// proved sums the proving times the worker logged ("proved ... elapsed=").
func (p *proc) proved(tb testing.TB) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var sum time.Duration
	for _, l := range p.lines {
		if !strings.Contains(l, "msg=proved ") {
			continue
		}
		_, v, _ := strings.Cut(l, "elapsed=")
		d, err := time.ParseDuration(strings.Fields(v)[0])
		if err != nil {
			tb.Fatalf("%q: %v", l, err)
		}
		sum += d
	}
	return sum
}

// has reports whether a log line contains every one of parts.
func (p *proc) has(parts ...string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		ok := true
		for _, s := range parts {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			return true
		}
	}
	return false
}

func (p *proc) waitFor(t testing.TB, parts ...string) {
	t.Helper()
	deadline := time.After(5 * time.Minute)
	for !p.has(parts...) {
		select {
		case <-p.seen:
		case <-deadline:
			t.Fatalf("no log line with %q", parts)
		}
	}
}

// Several worker processes prove a run end to end while one worker is
// killed with SIGKILL in the middle of its job and the collector is killed
// after the first proof and restarted: the run completes, every step has one
// proof that verifies, and the statements are what a single-machine prove
// writes.
func TestFleetProvesRunDespiteKills(t *testing.T) {
	dir := smallRun(t)
	keysDir := testKeys(t)
	srv, err := Serve(ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	key, keyPath, err := RunKeyOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := &run.Dir{Root: dir}

	collector := startProc(t, srv.URL(), keyPath, keysDir, dir)
	killed := startProc(t, srv.URL(), keyPath, keysDir, "")
	survivor := startProc(t, srv.URL(), keyPath, keysDir, "")

	killed.waitFor(t, "msg=proving")
	if err := killed.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	t.Log("worker killed in the middle of its job")
	for written := false; !written; time.Sleep(50 * time.Millisecond) {
		for s := range steps {
			if _, err := os.Stat(stepproof.ProofPath(d, s)); err == nil {
				written = true
			}
		}
	}
	if err := collector.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Log("collector killed after its first proof")

	nc, err := Connect(Config{URL: srv.URL()}, "collector 2")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c, err := NewCollector(context.Background(), nc, key, Config{AckWait: testAckWait})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cache := &prover.KeyCache{Dir: keysDir}
	sum, err := stepproof.Prove(context.Background(), dir, stepproof.Options{Workers: steps, Keys: cache, Remote: c.Remote})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped < 1 || sum.Proven+sum.Skipped != steps || sum.Failed != 0 {
		t.Fatalf("restarted collector: %+v, want at least one kept and %d in all", sum, steps)
	}
	if _, err := stepproof.Verify(dir, prover.KeyTrust{Dev: true}); err != nil {
		t.Fatalf("fleet proofs: %v", err)
	}
	if !survivor.has("msg=proving", "delivery=2") {
		t.Error("the killed worker's job was not redelivered to the survivor")
	}
	// What the fleet wrote is public: nothing private in the proof files.
	// (testrun.AssertNothingPrivate on the whole run trips over the
	// trainer's plots/epsilon.png with 3 steps, which the fleet never writes.)
	secrets := testrun.PrivateValues(t, dir)
	files, _ := filepath.Glob(filepath.Join(dir, run.PublicDir, run.ProofsDir, "*"))
	for _, f := range append(files, d.Public(stepproof.CircuitFile)) {
		b, _ := os.ReadFile(f)
		if found := secrets.Find(b); len(found) > 0 {
			t.Errorf("%s carries %v", f, found)
		}
	}

	// The same run proven on one machine states exactly the same.
	local := filepath.Join(t.TempDir(), "run")
	if err := os.CopyFS(local, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(local, run.PublicDir, run.ProofsDir)); err != nil {
		t.Fatal(err)
	}
	if sum, err := stepproof.Prove(context.Background(), local, stepproof.Options{Workers: 1, Keys: cache}); err != nil || sum.Proven != steps {
		t.Fatalf("local prove: %+v, %v", sum, err)
	}
	ld := &run.Dir{Root: local}
	for s := range steps {
		a, _ := os.ReadFile(prover.PublicPath(stepproof.ProofPath(d, s)))
		b, _ := os.ReadFile(prover.PublicPath(stepproof.ProofPath(ld, s)))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("step %d: the fleet's statement differs from the local prover's", s)
		}
	}
	for _, f := range []string{stepproof.VerifyingKeyFile, stepproof.CircuitFile} {
		a, _ := os.ReadFile(d.Public(f))
		b, _ := os.ReadFile(ld.Public(f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs", f)
		}
	}
}

// A worker without the run's keys refuses each job clearly; a worker whose
// proofs do not verify has them rejected; both are retried MaxDeliver times,
// then the run stops with an error naming the step.
func TestFleetRefusalsAndBadProofsStopTheRun(t *testing.T) {
	dir := smallRun(t)
	cache := &prover.KeyCache{Dir: testKeys(t)}
	key, _, err := RunKeyOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{AckWait: time.Second, MaxDeliver: 2}

	// Each case has its own server: a worker of the first case still
	// pulling when its context ends could take (and drop) the second's job.
	t.Run("no keys", func(t *testing.T) {
		_, nc := startServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c, err := NewCollector(ctx, nc, key, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		w := &Worker{Config: cfg, Key: key, Keys: CachedKeys(&prover.KeyCache{Dir: t.TempDir()})}
		go w.Run(ctx, nc)
		_, err = stepproof.Prove(ctx, dir, stepproof.Options{Workers: 1, Keys: cache, Remote: c.Remote})
		if !errors.Is(err, ErrRefused) || !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "step-00000") ||
			!strings.Contains(err.Error(), "no proving key for circuit") {
			t.Fatalf("got %v, want a refusal naming step-00000 and the missing key", err)
		}
	})

	t.Run("bad proofs", func(t *testing.T) {
		_, nc := startServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c, err := NewCollector(ctx, nc, key, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		go forger(ctx, t, nc, key)
		_, err = stepproof.Prove(ctx, dir, stepproof.Options{Workers: 1, Keys: cache, Remote: c.Remote})
		if !errors.Is(err, ErrRejected) || !errors.Is(err, prover.ErrInvalidProof) || !strings.Contains(err.Error(), "step-00000") {
			t.Fatalf("got %v, want a rejection naming step-00000", err)
		}
		if _, err := os.Stat(stepproof.ProofPath(&run.Dir{Root: dir}, 0)); err == nil {
			t.Fatal("a forged proof was written")
		}
	})
}

// forger is a malicious worker that holds the run key: it answers every
// job with a well-formed proof that does not verify.
func forger(ctx context.Context, t *testing.T, nc *nats.Conn, key RunKey) {
	js, err := jetstream.New(nc)
	if err != nil {
		t.Error(err)
		return
	}
	obj, _ := ensureStreams(ctx, js)
	cons, err := js.Consumer(ctx, JobsStream, consumerName(key.ID()))
	if err != nil {
		t.Error(err)
		return
	}
	var forged bytes.Buffer
	if _, err := groth16.NewProof(ecc.BN254).WriteTo(&forged); err != nil {
		t.Error(err)
		return
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			return
		}
		for m := range batch.Messages() {
			var j job
			if err := openMsg(ctx, key, m.Subject(), m.Data(), m.Headers(), obj, &j); err != nil {
				t.Error(err)
				return
			}
			msg, _ := sealMsg(ctx, key, resultSubject(key.ID(), j.Name), result{Job: j.Name, Worker: "forger", Proof: forged.Bytes()}, obj, 1<<20)
			if _, err := js.PublishMsg(ctx, msg); err != nil {
				return
			}
			_ = m.Ack()
		}
	}
}

// The in-process fleet (zkdp prove without --queue) proves with the
// collector's own circuit and keys.
func TestLocalFleet(t *testing.T) {
	dir := smallRun(t)
	key, _, err := RunKeyOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := StartLocal(context.Background(), key, 2, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sum, err := stepproof.Prove(context.Background(), dir, stepproof.Options{Workers: 2, Keys: &prover.KeyCache{Dir: testKeys(t)}, Remote: l.Remote})
	if err != nil || sum.Proven != steps {
		t.Fatalf("%+v, %v", sum, err)
	}
	if _, err := stepproof.Verify(dir, prover.KeyTrust{Dev: true}); err != nil {
		t.Fatal(err)
	}
}

// Duplicate results are harmless: a worker that answers each job with a
// forged proof and then twice with its honest one still gives a run whose
// every step has one proof that verifies (the first that verifies is kept).
func TestDuplicateResultsAreHarmless(t *testing.T) {
	dir := smallRun(t)
	cache := &prover.KeyCache{Dir: testKeys(t)}
	_, nc := startServer(t)
	key, _, err := RunKeyOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := NewCollector(ctx, nc, key, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		js, _ := jetstream.New(nc)
		obj, _ := ensureStreams(ctx, js)
		cons, err := js.Consumer(ctx, JobsStream, consumerName(key.ID()))
		if err != nil {
			t.Error(err)
			return
		}
		var forged bytes.Buffer
		groth16.NewProof(ecc.BN254).WriteTo(&forged)
		w := &Worker{Config: Config{}.withDefaults(), Key: key, Keys: CachedKeys(cache)}
		for ctx.Err() == nil {
			batch, err := cons.Fetch(1, jetstream.FetchMaxWait(500*time.Millisecond))
			if err != nil {
				return
			}
			for m := range batch.Messages() {
				var j job
				if err := openMsg(ctx, key, m.Subject(), m.Data(), m.Headers(), obj, &j); err != nil {
					t.Error(err)
					return
				}
				proof, err := w.prove(ctx, j)
				if err != nil {
					t.Error(err)
					return
				}
				for _, p := range [][]byte{forged.Bytes(), proof, proof} {
					msg, _ := sealMsg(ctx, key, resultSubject(key.ID(), j.Name), result{Job: j.Name, Worker: "duplicator", Proof: p}, obj, 1<<20)
					if _, err := js.PublishMsg(ctx, msg); err != nil {
						return
					}
				}
				_ = m.Ack()
			}
		}
	}()
	sum, err := stepproof.Prove(ctx, dir, stepproof.Options{Workers: steps, Keys: cache, Remote: c.Remote})
	if err != nil || sum.Proven != steps {
		t.Fatalf("%+v, %v", sum, err)
	}
	if _, err := stepproof.Verify(dir, prover.KeyTrust{Dev: true}); err != nil {
		t.Fatal(err)
	}
}
