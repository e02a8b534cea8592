package prover

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
)

// cubic proves knowledge of x with x^3 + x + 5 == y, y public. The
// commitment makes the prover's hash-to-field matter, so the Solidity mode
// produces proofs that differ from (and do not verify as) default ones.
type cubic struct {
	X frontend.Variable
	Y frontend.Variable `gnark:",public"`
}

func (c *cubic) Define(api frontend.API) error {
	x3 := api.Mul(c.X, c.X, c.X)
	api.AssertIsEqual(c.Y, api.Add(x3, c.X, 5))
	cmt, err := api.(frontend.Committer).Commit(c.X)
	if err != nil {
		return err
	}
	api.AssertIsDifferent(cmt, 0)
	return nil
}

// testLogger captures log records for assertions and keeps test output quiet.
type testLogger struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLogger) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{l}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (l *testLogger) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

type lockedWriter struct{ l *testLogger }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	return w.l.buf.Write(b)
}

var (
	fixtureOnce sync.Once
	fixCCS      constraint.ConstraintSystem
	fixPK       groth16.ProvingKey
	fixVK       groth16.VerifyingKey
	fixErr      error
)

// fixture compiles the test circuit and sets it up once per test binary.
func fixture(t testing.TB) (constraint.ConstraintSystem, groth16.ProvingKey, groth16.VerifyingKey) {
	t.Helper()
	fixtureOnce.Do(func() {
		fixCCS, fixErr = Compile(&cubic{})
		if fixErr != nil {
			return
		}
		c := &KeyCache{Dir: filepath.Join(os.TempDir(), fmt.Sprintf("zkdp-prover-test-%d", os.Getpid())), Logger: slog.New(slog.DiscardHandler)}
		defer os.RemoveAll(c.Dir)
		fixPK, fixVK, fixErr = c.Setup(fixCCS, "cubic")
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fixCCS, fixPK, fixVK
}

func cubicWitness(x int) func() (witness.Witness, error) {
	return func() (witness.Witness, error) {
		return frontend.NewWitness(&cubic{X: x, Y: x*x*x + x + 5}, ecc.BN254.ScalarField())
	}
}

func makeJobs(dir string, n int) []Job {
	jobs := make([]Job, n)
	for i := range jobs {
		name := fmt.Sprintf("step-%04d", i)
		jobs[i] = Job{Name: name, Path: filepath.Join(dir, "public", "proofs", name+".proof"), Witness: cubicWitness(i + 2)}
	}
	return jobs
}

func verifyAll(t *testing.T, vk groth16.VerifyingKey, jobs []Job, sol bool) {
	t.Helper()
	for _, j := range jobs {
		if err := VerifyProof(vk, j.Path, PublicPath(j.Path), sol); err != nil {
			t.Errorf("%s: %v", j.Name, err)
		}
		if err := VerifyProofFile(vk, j.Path); err != nil {
			t.Errorf("%s (sidecar mode): %v", j.Name, err)
		}
	}
}

func TestCircuitHashStable(t *testing.T) {
	ccs, _, _ := fixture(t)
	again, err := Compile(&cubic{})
	if err != nil {
		t.Fatal(err)
	}
	h1, err := CircuitHash(ccs)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := CircuitHash(again)
	if h1 != h2 || len(h1) != 64 {
		t.Fatalf("hash not stable: %s vs %s", h1, h2)
	}
}

func TestKeyCache(t *testing.T) {
	ccs, _, _ := fixture(t)
	var logs testLogger
	c := &KeyCache{Dir: t.TempDir(), Logger: logs.logger()}

	calls := setupCalls.Load()
	pk1, vk1, err := c.Setup(ccs, "cubic")
	if err != nil {
		t.Fatal(err)
	}
	if got := setupCalls.Load() - calls; got != 1 {
		t.Fatalf("first Setup ran setup %d times, want 1", got)
	}
	if !strings.Contains(logs.String(), "DEVELOPMENT ONLY") {
		t.Errorf("no development-only warning logged: %s", logs.String())
	}
	hash, _ := CircuitHash(ccs)
	pkPath, vkPath, metaPath := c.Paths(hash)
	var meta map[string]any
	raw, err := os.ReadFile(metaPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	if meta["circuit"] != "cubic" || meta["hash"] != hash || meta["constraints"].(float64) != float64(ccs.GetNbConstraints()) ||
		!strings.Contains(meta["setup"].(string), "development only") || meta["created"] == "" {
		t.Errorf("metadata: %s", raw)
	}
	for _, p := range []string{pkPath, vkPath, metaPath} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v", p, fi, err)
		}
	}
	stat := func(p string) time.Time { fi, _ := os.Stat(p); return fi.ModTime() }
	pkTime, vkTime := stat(pkPath), stat(vkPath)

	// Second call: loaded from disk, no setup, same keys, files untouched.
	calls = setupCalls.Load()
	pk2, vk2, err := c.Setup(ccs, "cubic")
	if err != nil {
		t.Fatal(err)
	}
	if got := setupCalls.Load() - calls; got != 0 {
		t.Fatalf("second Setup ran setup %d times, want 0: %s", got, logs.String())
	}
	if stat(pkPath) != pkTime || stat(vkPath) != vkTime {
		t.Error("cached key files rewritten")
	}
	var b1, b2 bytes.Buffer
	vk1.WriteTo(&b1)
	vk2.WriteTo(&b2)
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Error("loaded verifying key differs")
	}
	if pk1.IsDifferent(pk2) {
		t.Error("loaded proving key differs")
	}
	// The loaded keys prove.
	dir := t.TempDir()
	if _, err := ProveAll(context.Background(), ccs, pk2, vk2, makeJobs(dir, 1), Options{Workers: 1, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}

	// Corrupted (bit flip) and truncated proving keys are regenerated with a warning.
	for _, corrupt := range []func([]byte) []byte{
		func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
		func(b []byte) []byte { return b[:len(b)/3] },
	} {
		b, _ := os.ReadFile(pkPath)
		if err := os.WriteFile(pkPath, corrupt(b), 0o644); err != nil {
			t.Fatal(err)
		}
		logs.buf.Reset()
		calls = setupCalls.Load()
		_, vk3, err := c.Setup(ccs, "cubic")
		if err != nil {
			t.Fatal(err)
		}
		if got := setupCalls.Load() - calls; got != 1 {
			t.Fatalf("corrupted pk: setup ran %d times, want 1", got)
		}
		if !strings.Contains(logs.String(), "unusable") || !strings.Contains(logs.String(), ErrCorruptKey.Error()) {
			t.Errorf("no corruption warning: %s", logs.String())
		}
		var b3 bytes.Buffer
		vk3.WriteTo(&b3)
		if bytes.Equal(b1.Bytes(), b3.Bytes()) {
			t.Error("regenerated keys equal the old ones")
		}
		b1 = b3
		// and the new entry is valid again
		calls = setupCalls.Load()
		if _, _, err := c.Setup(ccs, "cubic"); err != nil || setupCalls.Load() != calls {
			t.Fatalf("regenerated entry not reused: %v", err)
		}
	}
}

func TestDefaultKeyCache(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg")
	c, err := DefaultKeyCache()
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != "/tmp/xdg/zkdp/keys" {
		t.Errorf("dir %s", c.Dir)
	}
}

func TestProveAllAndResume(t *testing.T) {
	ccs, pk, vk := fixture(t)
	dir := t.TempDir()
	jobs := makeJobs(dir, 5)
	var calls []int
	opts := Options{Workers: 2, Logger: slog.New(slog.DiscardHandler), Progress: func(done, total int, eta time.Duration) {
		if total != 5 {
			t.Errorf("total %d", total)
		}
		if (done < total) != (eta > 0) {
			t.Errorf("eta %v after %d of %d", eta, done, total)
		}
		calls = append(calls, done)
	}}
	sum, err := ProveAll(context.Background(), ccs, pk, vk, jobs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Proven != 5 || sum.Skipped != 0 || len(sum.Durations) != 5 {
		t.Fatalf("summary %+v", sum)
	}
	if fmt.Sprint(calls) != "[1 2 3 4 5]" {
		t.Errorf("progress calls %v", calls)
	}
	verifyAll(t, vk, jobs, false)

	// Delete two proofs, flip a byte in a third.
	os.Remove(jobs[0].Path)
	os.Remove(jobs[3].Path)
	b, _ := os.ReadFile(jobs[2].Path)
	b[len(b)/2] ^= 0x01
	os.WriteFile(jobs[2].Path, b, 0o644)
	if err := VerifyProof(vk, jobs[2].Path, PublicPath(jobs[2].Path), false); err == nil {
		t.Fatal("corrupted proof verifies")
	}
	var logs testLogger
	opts.Logger = logs.logger()
	opts.Progress = nil
	sum, err = ProveAll(context.Background(), ccs, pk, vk, jobs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Proven != 3 || sum.Skipped != 2 {
		t.Fatalf("resume summary %+v, want 3 proven, 2 skipped", sum)
	}
	for _, n := range []string{jobs[0].Name, jobs[2].Name, jobs[3].Name} {
		if _, ok := sum.Durations[n]; !ok {
			t.Errorf("%s not reproven", n)
		}
	}
	if !strings.Contains(logs.String(), "existing proof rejected") || !strings.Contains(logs.String(), jobs[2].Name) {
		t.Errorf("corrupted proof not reported: %s", logs.String())
	}
	verifyAll(t, vk, jobs, false)

	// Everything valid: all skipped.
	sum, err = ProveAll(context.Background(), ccs, pk, vk, jobs, opts)
	if err != nil || sum.Proven != 0 || sum.Skipped != 5 {
		t.Fatalf("third run %+v %v", sum, err)
	}
	// A proof on disk for different public inputs is not accepted for this job.
	jobs[1].Witness = cubicWitness(100)
	sum, err = ProveAll(context.Background(), ccs, pk, vk, jobs, opts)
	if err != nil || sum.Proven != 1 || sum.Skipped != 4 {
		t.Fatalf("changed job %+v %v", sum, err)
	}
	verifyAll(t, vk, jobs, false)
}

func TestCancel(t *testing.T) {
	ccs, pk, vk := fixture(t)
	dir := t.TempDir()
	jobs := makeJobs(dir, 6)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := Options{Workers: 2, Logger: slog.New(slog.DiscardHandler), Progress: func(done, total int, eta time.Duration) {
		if done == 1 {
			cancel()
		}
	}}
	sum, err := ProveAll(ctx, ccs, pk, vk, jobs, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if sum.Proven < 1 || sum.Proven >= len(jobs) {
		t.Fatalf("summary %+v", sum)
	}
	var finished []Job
	for _, j := range jobs {
		if _, err := os.Stat(j.Path); err == nil {
			finished = append(finished, j)
		}
	}
	if len(finished) != sum.Proven {
		t.Fatalf("%d proofs on disk, summary says %d", len(finished), sum.Proven)
	}
	verifyAll(t, vk, finished, false)

	opts.Progress = nil
	sum2, err := ProveAll(context.Background(), ccs, pk, vk, jobs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum2.Skipped != sum.Proven || sum2.Proven != len(jobs)-sum.Proven {
		t.Fatalf("rerun %+v after %+v", sum2, sum)
	}
	verifyAll(t, vk, jobs, false)
}

func TestVerifyRejects(t *testing.T) {
	ccs, pk, vk := fixture(t)
	dir := t.TempDir()
	jobs := makeJobs(dir, 2)
	if _, err := ProveAll(context.Background(), ccs, pk, vk, jobs, Options{Workers: 2, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	a, b := jobs[0], jobs[1]
	mustFail := func(what, proof, public string) {
		t.Helper()
		err := VerifyProof(vk, proof, public, false)
		if !errors.Is(err, ErrInvalidProof) {
			t.Errorf("%s: err %v, want ErrInvalidProof", what, err)
		}
	}
	// Proof of A with B's public witness.
	mustFail("swapped public witness", a.Path, PublicPath(b.Path))

	// A changed public input (y+1) in a copy of A's public witness.
	pub, _ := os.ReadFile(PublicPath(a.Path))
	tampered := filepath.Join(dir, "tampered.public")
	t2 := bytes.Clone(pub)
	t2[len(t2)-1]++
	os.WriteFile(tampered, t2, 0o644)
	mustFail("tampered public input", a.Path, tampered)
	// Truncated public witness.
	os.WriteFile(tampered, pub[:len(pub)-3], 0o644)
	mustFail("truncated public witness", a.Path, tampered)

	// Single-bit flips across the whole proof are rejected (decoding or pairing).
	proof, _ := os.ReadFile(a.Path)
	flipped := filepath.Join(dir, "flipped.proof")
	for i := 0; i < len(proof)*8; i += 3 { // stride 3 still hits every byte
		p := bytes.Clone(proof)
		p[i/8] ^= 1 << (i % 8)
		os.WriteFile(flipped, p, 0o644)
		mustFail(fmt.Sprintf("bit %d flipped", i), flipped, PublicPath(a.Path))
	}
	// Wrong mode.
	if err := VerifyProof(vk, a.Path, PublicPath(a.Path), true); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("default proof verified in solidity mode: %v", err)
	}
	// Missing file.
	if err := VerifyProof(vk, filepath.Join(dir, "nope.proof"), PublicPath(a.Path), false); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing proof: %v", err)
	}
	// The verifying key round-trips through its file.
	vkPath := filepath.Join(dir, "public", "vk.bin")
	if err := WriteVerifyingKey(vkPath, vk); err != nil {
		t.Fatal(err)
	}
	vk2, err := ReadVerifyingKey(vkPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyProof(vk2, a.Path, PublicPath(a.Path), false); err != nil {
		t.Fatal(err)
	}
}

func TestWitnessError(t *testing.T) {
	ccs, pk, vk := fixture(t)
	jobs := makeJobs(t.TempDir(), 3)
	jobs[1].Witness = func() (witness.Witness, error) { return nil, errors.New("private/batches.json: no such batch") }
	jobs[2].Witness = cubicWitness(3)
	jobs[2].Witness = func() (witness.Witness, error) {
		// unsatisfied: y != x^3 + x + 5
		return frontend.NewWitness(&cubic{X: 3, Y: 7}, ecc.BN254.ScalarField())
	}
	sum, err := ProveAll(context.Background(), ccs, pk, vk, jobs, Options{Workers: 2, Logger: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, ErrWitness) || !strings.Contains(err.Error(), "step-0001: build witness: private/batches.json") {
		t.Errorf("err %v", err)
	}
	if !errors.Is(err, ErrProve) || !strings.Contains(err.Error(), "step-0002: prove") {
		t.Errorf("err %v", err)
	}
	if sum.Proven != 1 || sum.Failed != 2 {
		t.Errorf("summary %+v", sum)
	}
	if _, err := os.Stat(jobs[1].Path); !errors.Is(err, os.ErrNotExist) {
		t.Error("failed job left a proof")
	}
	// A panicking builder is an error too, not a crash.
	jobs[1].Witness = func() (witness.Witness, error) { panic("boom") }
	if _, err := ProveAll(context.Background(), ccs, pk, vk, jobs[:2], Options{Workers: 1, Logger: slog.New(slog.DiscardHandler)}); !errors.Is(err, ErrWitness) || !strings.Contains(err.Error(), "step-0001") {
		t.Errorf("panic: %v", err)
	}
}

func TestSolidityMode(t *testing.T) {
	ccs, pk, vk := fixture(t)
	dir := t.TempDir()
	jobs := makeJobs(dir, 2)
	opts := Options{Workers: 2, SolidityCompatible: true, Logger: slog.New(slog.DiscardHandler)}
	sum, err := ProveAll(context.Background(), ccs, pk, vk, jobs, opts)
	if err != nil || sum.Proven != 2 {
		t.Fatalf("%+v %v", sum, err)
	}
	verifyAll(t, vk, jobs, true)
	m, err := ReadProofMeta(jobs[0].Path)
	if err != nil || !m.Solidity || m.Job != jobs[0].Name {
		t.Fatalf("sidecar %+v %v", m, err)
	}
	// Needs the matching verifier option (the commitment's hash differs).
	if err := VerifyProof(vk, jobs[0].Path, PublicPath(jobs[0].Path), false); !errors.Is(err, ErrInvalidProof) {
		t.Errorf("solidity proof verified in default mode: %v", err)
	}
	// Resuming in solidity mode skips; switching mode re-proves.
	if sum, err := ProveAll(context.Background(), ccs, pk, vk, jobs, opts); err != nil || sum.Skipped != 2 {
		t.Fatalf("%+v %v", sum, err)
	}
	opts.SolidityCompatible = false
	if sum, err := ProveAll(context.Background(), ccs, pk, vk, jobs, opts); err != nil || sum.Proven != 2 {
		t.Fatalf("%+v %v", sum, err)
	}
	verifyAll(t, vk, jobs, false)
}

func TestBadInputs(t *testing.T) {
	ccs, pk, vk := fixture(t)
	if _, err := CircuitHash(nil); !errors.Is(err, ErrUnsupported) {
		t.Error(err)
	}
	jobs := makeJobs(t.TempDir(), 2)
	jobs[1].Name = jobs[0].Name
	if _, err := ProveAll(context.Background(), ccs, pk, vk, jobs, Options{}); err == nil {
		t.Error("duplicate job names accepted")
	}
	if _, err := ProveAll(context.Background(), ccs, nil, vk, nil, Options{}); !errors.Is(err, ErrUnsupported) {
		t.Error(err)
	}
}
