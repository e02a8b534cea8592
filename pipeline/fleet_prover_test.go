//go:build prover_checks

package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/zkdp/zkdp/fleet"
	"github.com/zkdp/zkdp/internal/testrun"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
)

// The prove stage proves through State.Fleet: here a JetStream server and a
// worker whose key cache is empty, which fetches the run's keys from the
// server's key store (shared by the collector) and proves every step.
func TestProveStageThroughQueue(t *testing.T) {
	cfg, format := testrun.SmallSteps()
	cfg.Steps = 2
	dir := testrun.Write(t, testrun.Setup(t, cfg, format, 8, 99))
	srv, err := fleet.Serve(fleet.ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	key, _, err := fleet.RunKeyOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	qcfg := fleet.Config{URL: srv.URL(), ShareKeys: true}
	wnc, err := fleet.Connect(qcfg, "worker")
	if err != nil {
		t.Fatal(err)
	}
	defer wnc.Close()
	workerKeys := &prover.KeyCache{Dir: t.TempDir()}
	w := &fleet.Worker{Config: qcfg, Key: key, Keys: fleet.CachedKeys(workerKeys), Fetch: workerKeys}
	go w.Run(ctx, wnc)

	started := false
	s := &State{Dir: &run.Dir{Root: dir}, Keys: &prover.KeyCache{Dir: t.TempDir()}, Workers: 2, File: &File{},
		Fleet: func(ctx context.Context, dir string) (RemoteProver, func(), error) {
			started = true
			nc, err := fleet.Connect(qcfg, "collector")
			if err != nil {
				return nil, nil, err
			}
			c, err := fleet.NewCollector(ctx, nc, key, qcfg)
			if err != nil {
				return nil, nil, err
			}
			return c.Remote, func() { c.Close(); nc.Close() }, nil
		}}
	s.current = &Record{Name: StageProve}
	if err := proveStage(ctx, s); err != nil {
		t.Fatal(err)
	}
	if !started {
		t.Fatal("the prove stage did not use the fleet")
	}
	if rep, err := stepproof.Verify(dir, prover.KeyTrust{Dev: true}); err != nil || rep.Steps != cfg.Steps {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	pub, err := stepproof.ReadPublic(dir)
	if err != nil {
		t.Fatal(err)
	}
	ccs, hash, err := stepproof.Compile(pub.Params)
	if err != nil || ccs == nil {
		t.Fatal(err)
	}
	if _, _, err := workerKeys.Load(hash); err != nil {
		t.Fatalf("the worker's cache has no keys fetched from the store: %v", err)
	}
}
