package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/stepproof"
)

// Environment of a worker process: the test binary re-executed (see
// startWorker) is a real worker, so that tests can kill one.
const (
	envWorkerURL  = "ZKDP_FLEET_TEST_WORKER_URL"
	envWorkerKey  = "ZKDP_FLEET_TEST_WORKER_KEY"
	envWorkerKeys = "ZKDP_FLEET_TEST_WORKER_KEYS"
	envAckWait    = "ZKDP_FLEET_TEST_ACK_WAIT"
	// A collector process proves the run in this folder.
	envCollectorRun = "ZKDP_FLEET_TEST_COLLECTOR_RUN"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(envWorkerURL); url != "" {
		run, main := os.Getenv(envCollectorRun), workerMain
		if run != "" {
			main = func(url string) error { return collectorMain(url, run) }
		}
		if err := main(url); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	for _, f := range cleanups {
		f()
	}
	os.Exit(code)
}

// cleanups run after every test (shared fixtures).
var cleanups []func()

// testConn reads the run key, the ack wait and connects, from the environment.
func testConn(url, name string) (RunKey, Config, *nats.Conn, error) {
	key, err := ReadRunKey(os.Getenv(envWorkerKey))
	if err != nil {
		return key, Config{}, nil, err
	}
	ackWait, err := time.ParseDuration(os.Getenv(envAckWait))
	if err != nil {
		return key, Config{}, nil, err
	}
	cfg := Config{URL: url, AckWait: ackWait, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	nc, err := Connect(cfg, name)
	return key, cfg, nc, err
}

func collectorMain(url, dir string) error {
	key, cfg, nc, err := testConn(url, "test collector")
	if err != nil {
		return err
	}
	defer nc.Close()
	c, err := NewCollector(context.Background(), nc, key, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = stepproof.Prove(context.Background(), dir, stepproof.Options{Workers: 4, Logger: cfg.Logger,
		Keys: &prover.KeyCache{Dir: os.Getenv(envWorkerKeys)}, Remote: c.Remote})
	return err
}

func workerMain(url string) error {
	key, cfg, nc, err := testConn(url, "test worker")
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	w := &Worker{Config: cfg, Key: key, Keys: CachedKeys(&prover.KeyCache{Dir: os.Getenv(envWorkerKeys)})}
	return w.Run(ctx, nc)
}
