package fleet

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/constraint"
	"github.com/nats-io/nats.go"

	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/stepproof"
)

// Keys gives a worker the Groth16 keys of a compiled circuit. It must load
// existing keys, never make new ones: proofs must verify against the run's
// verifying key.
type Keys func(ccs constraint.ConstraintSystem, hash string) (groth16.ProvingKey, groth16.VerifyingKey, error)

// CachedKeys loads keys from a key cache by circuit hash (prover.KeyCache.Load).
func CachedKeys(c *prover.KeyCache) Keys {
	return func(_ constraint.ConstraintSystem, hash string) (groth16.ProvingKey, groth16.VerifyingKey, error) {
		pk, vk, err := c.Load(hash)
		if err != nil {
			return nil, nil, fmt.Errorf("no proving key for circuit %s in %s: %w", hash, c.Dir, err)
		}
		return pk, vk, nil
	}
}

// SourceKeys takes keys from a key source that only loads, such as the
// sealed keys of a ceremony.
func SourceKeys(s prover.KeySource) Keys {
	return func(ccs constraint.ConstraintSystem, _ string) (groth16.ProvingKey, groth16.VerifyingKey, error) {
		return s.Setup(ccs, "step")
	}
}

// Local is a fleet inside this process: an embedded server on a loopback
// port and n workers, the path `zkdp prove --workers N` takes. Its workers
// share the collector's constraint system and keys (Remote hands them over)
// instead of compiling and loading their own.
type Local struct {
	Collector *Collector
	circuit   atomic.Pointer[stepproof.Circuit]
	server    *Server
	store     string
	conns     []*nats.Conn
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	errs      []error
}

// StartLocal starts the server, n workers holding key, and the collector.
func StartLocal(ctx context.Context, key RunKey, n int, cfg Config) (_ *Local, err error) {
	l := &Local{}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if l.store, err = os.MkdirTemp("", "zkdp-queue-"); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	if l.server, err = Serve(ServerOptions{StoreDir: l.store}); err != nil {
		return nil, err
	}
	cfg.URL = l.server.URL()
	cfg = cfg.withDefaults()
	nc, err := Connect(cfg, "zkdp collector")
	if err != nil {
		return nil, err
	}
	l.conns = append(l.conns, nc)
	if l.Collector, err = NewCollector(ctx, nc, key, cfg); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	var mu sync.Mutex
	for i := range n {
		wc, err := Connect(cfg, fmt.Sprintf("zkdp worker %d", i))
		if err != nil {
			return nil, err
		}
		l.conns = append(l.conns, wc)
		w := &Worker{Config: cfg, Key: key, Keys: l.keys, Compile: l.compile, Name: fmt.Sprintf("local-%d", i)}
		l.wg.Go(func() {
			if err := w.Run(wctx, wc); err != nil {
				mu.Lock()
				l.errs = append(l.errs, err)
				mu.Unlock()
			}
		})
	}
	return l, nil
}

// Remote is stepproof.Options.Remote: the collector's, after it keeps the
// circuit for the workers.
func (l *Local) Remote(c stepproof.Circuit) (func(ctx context.Context, name string, full witness.Witness) (groth16.Proof, error), error) {
	if c.CCS == nil || c.PK == nil {
		return nil, fmt.Errorf("%w: an in-process fleet needs the circuit and its proving key", ErrConfig)
	}
	l.circuit.Store(&c)
	return l.Collector.Remote(c)
}

func (l *Local) shared(hash string) (*stepproof.Circuit, error) {
	c := l.circuit.Load()
	if c == nil || c.Hash != hash {
		return nil, fmt.Errorf("%w: the in-process workers hold no circuit %s", stepproof.ErrCircuit, hash)
	}
	return c, nil
}

func (l *Local) compile(_ string, spec []byte) (constraint.ConstraintSystem, string, error) {
	c := l.circuit.Load()
	if c == nil {
		return nil, "", fmt.Errorf("%w: the in-process workers hold no circuit yet", stepproof.ErrCircuit)
	}
	return c.CCS, c.Hash, nil
}

func (l *Local) keys(_ constraint.ConstraintSystem, hash string) (groth16.ProvingKey, groth16.VerifyingKey, error) {
	c, err := l.shared(hash)
	if err != nil {
		return nil, nil, err
	}
	return c.PK, c.VK, nil
}

// Close stops the workers, the server, and removes its store.
func (l *Local) Close() {
	if l.Collector != nil {
		l.Collector.Close()
	}
	if l.cancel != nil {
		l.cancel()
	}
	l.wg.Wait()
	for _, c := range l.conns {
		c.Close()
	}
	if l.server != nil {
		l.server.Shutdown()
	}
	if l.store != "" {
		os.RemoveAll(l.store)
	}
}
