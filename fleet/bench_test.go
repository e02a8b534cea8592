//go:build prover_checks

package fleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zkdp/zkdp/benchmarks"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
	"github.com/zkdp/zkdp/trainer"
)

// benchRun trains the config ZKDP_FLEET_BENCH_CONFIG (default quickstart;
// benchmark seed 1) with ZKDP_FLEET_BENCH_STEPS steps (default 8) into a
// fresh run.
func benchRun(b *testing.B) string {
	b.Helper()
	name := os.Getenv("ZKDP_FLEET_BENCH_CONFIG")
	if name == "" {
		name = "quickstart"
	}
	cfg, err := benchmarks.LoadConfig(name)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Training.Steps = 8
	if s, err := strconv.Atoi(os.Getenv("ZKDP_FLEET_BENCH_STEPS")); err == nil && s > 0 {
		cfg.Training.Steps = s
	}
	s, err := benchmarks.SeededSetup(cfg, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	s.Source = &run.DataSource{Data: cfg.Data, SplitSeed: 1}
	res, err := trainer.Train(context.Background(), s, trainer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "run")
	d, err := run.Create(dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := res.Write(d, cfg.Training.ModelName()); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkProve proves every step of a quickstart run with the plain
// local prover (1 and 2 concurrent proofs, no queue) and through the fleet
// (an embedded server and 1 or 2 worker processes); s/step is wall time
// over steps. The key setup and the workers' circuit compilation come
// first, untimed.
//
//	ZKDP_FLEET_BENCH_STEPS=4 go test -tags prover_checks -run '^$' -bench Prove -benchtime 1x -timeout 1h ./fleet/
//	ZKDP_FLEET_BENCH_CONFIG=breast_cancer ZKDP_FLEET_BENCH_STEPS=4 go test ...
func BenchmarkProve(b *testing.B) {
	dir := benchRun(b)
	keysDir := b.TempDir()
	cache := &prover.KeyCache{Dir: keysDir}
	start := time.Now()
	if _, err := stepproof.Prove(context.Background(), dir, stepproof.Options{Workers: 1, Keys: cache}); err != nil {
		b.Fatal(err)
	}
	b.Logf("setup and first local prove: %s", time.Since(start))
	pub, err := stepproof.ReadPublic(dir)
	if err != nil {
		b.Fatal(err)
	}
	steps := pub.Params.Steps
	clear := func() {
		if err := os.RemoveAll(filepath.Join(dir, run.PublicDir, run.ProofsDir)); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		fleet   bool
		workers int
	}{{false, 1}, {false, 2}, {true, 1}, {true, 2}} {
		name := fmt.Sprintf("local-%d", tc.workers)
		if tc.fleet {
			name = fmt.Sprintf("fleet-%d", tc.workers)
		}
		b.Run(name, func(b *testing.B) {
			opts := stepproof.Options{Workers: tc.workers, Keys: cache}
			var workers []*proc
			if tc.fleet {
				srv, err := Serve(ServerOptions{StoreDir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				defer srv.Shutdown()
				key, keyPath, err := RunKeyOf(dir)
				if err != nil {
					b.Fatal(err)
				}
				for range tc.workers {
					workers = append(workers, startProc(b, srv.URL(), keyPath, keysDir, ""))
				}
				nc, err := Connect(Config{URL: srv.URL()}, "bench")
				if err != nil {
					b.Fatal(err)
				}
				defer nc.Close()
				c, err := NewCollector(context.Background(), nc, key, Config{})
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				opts.Remote = c.Remote
				// Warm up: every worker compiles the circuit and loads the keys.
				clear()
				if _, err := stepproof.Prove(context.Background(), dir, opts); err != nil {
					b.Fatal(err)
				}
			}
			var warm time.Duration
			for _, w := range workers {
				warm += w.proved(b)
			}
			b.ResetTimer()
			var total time.Duration
			for range b.N {
				b.StopTimer()
				clear()
				b.StartTimer()
				t0 := time.Now()
				sum, err := stepproof.Prove(context.Background(), dir, opts)
				total += time.Since(t0)
				if err != nil || sum.Proven != steps {
					b.Fatalf("%+v, %v", sum, err)
				}
			}
			b.ReportMetric(total.Seconds()/float64(b.N*steps), "s/step")
			if len(workers) == 1 {
				// One worker proves the steps one after another: whatever of
				// the wall time is not its proving is the fleet's cost
				// (witness building, sealing, transfer, the collector's checks).
				proving := workers[0].proved(b) - warm
				b.ReportMetric(100*(total-proving).Seconds()/total.Seconds(), "%_not_proving")
			}
		})
	}
}

// BenchmarkQueueRoundTrip is the queue's own cost per step: a job the size
// of a quickstart step's witness encoded, sealed, published, fetched,
// opened and decoded, and a proof-sized result back the same way, through an
// embedded server on loopback. Compare with BenchmarkProve's s/step.
//
//	go test -tags prover_checks -run '^$' -bench QueueRoundTrip ./fleet/
func BenchmarkQueueRoundTrip(b *testing.B) {
	cfg, err := benchmarks.LoadConfig("quickstart")
	if err != nil {
		b.Fatal(err)
	}
	s, err := benchmarks.SeededSetup(cfg, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	res, err := trainer.Train(context.Background(), s, trainer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ccs, _, err := stepproof.Compile(res.Params)
	if err != nil {
		b.Fatal(err)
	}
	// gnark's binary witness: a 12-byte header and 32 bytes per value.
	size := 12 + 32*(ccs.GetNbPublicVariables()-1+ccs.GetNbSecretVariables())
	b.SetBytes(int64(size))
	_, nc := startServer(b)
	ctx := context.Background()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	obj, err := ensureStreams(ctx, js)
	if err != nil {
		b.Fatal(err)
	}
	key, err := NewRunKey()
	if err != nil {
		b.Fatal(err)
	}
	run := key.ID()
	cons, err := js.CreateOrUpdateConsumer(ctx, JobsStream, jetstream.ConsumerConfig{Durable: consumerName(run),
		FilterSubject: jobSubject(run, ">"), AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		b.Fatal(err)
	}
	maxInline := int(nc.MaxPayload()) - 4096
	j := job{Name: "step-00000", Circuit: "step", Witness: make([]byte, size)}
	proof := make([]byte, 388)
	b.ResetTimer()
	for range b.N {
		msg, err := sealMsg(ctx, key, jobSubject(run, j.Name), j, obj, maxInline)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			b.Fatal(err)
		}
		m, err := cons.Next()
		if err != nil {
			b.Fatal(err)
		}
		var got job
		if err := openMsg(ctx, key, m.Subject(), m.Data(), m.Headers(), obj, &got); err != nil {
			b.Fatal(err)
		}
		rmsg, err := sealMsg(ctx, key, resultSubject(run, got.Name), result{Job: got.Name, Proof: proof}, obj, maxInline)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := js.PublishMsg(ctx, rmsg); err != nil {
			b.Fatal(err)
		}
		if err := m.DoubleAck(ctx); err != nil {
			b.Fatal(err)
		}
		var r result
		if err := openMsg(ctx, key, rmsg.Subject, rmsg.Data, rmsg.Header, obj, &r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "witness_bytes")
}
