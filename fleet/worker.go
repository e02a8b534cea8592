package fleet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/constraint"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
)

// Worker proves the jobs of the runs whose key it holds.
type Worker struct {
	Config Config
	Key    RunKey
	// Keys loads the proving keys by circuit (CachedKeys: a key cache); a
	// worker never runs a setup and never takes keys from a message.
	Keys Keys
	// Fetch, when set, is the key cache that keys missing from Keys are
	// fetched into from KeysBucket, by the checksums a job names.
	Fetch *prover.KeyCache
	// Name identifies the worker in results and logs; default host:pid.
	Name string
	// Compile builds the constraint system of a job's circuit (kind "step":
	// spec is the run's params.json); nil: compile it here (CompileStep).
	Compile func(kind string, spec []byte) (constraint.ConstraintSystem, string, error)

	js       jetstream.JetStream
	mu       sync.Mutex
	circuits map[string]*circuit // by circuit hash
}

// circuit is a compiled circuit and its keys, loaded once per worker.
type circuit struct {
	ccs    constraint.ConstraintSystem
	pk     groth16.ProvingKey
	vk     groth16.VerifyingKey
	vkHash string
}

// Run pulls and proves jobs until ctx ends. It waits for the run's consumer,
// which the collector creates, so workers may start first.
func (w *Worker) Run(ctx context.Context, nc *nats.Conn) error {
	w.Config = w.Config.withDefaults()
	if w.Keys == nil {
		return fmt.Errorf("%w: the worker has no key cache", ErrConfig)
	}
	if w.Name == "" {
		host, _ := os.Hostname()
		w.Name = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	log := w.Config.Logger.With("worker", w.Name)
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	w.js = js
	obj, err := ensureStreams(ctx, js)
	if err != nil {
		return err
	}
	run := w.Key.ID()
	var cons jetstream.Consumer
	for {
		if cons, err = js.Consumer(ctx, JobsStream, consumerName(run)); err == nil {
			break
		}
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("fleet: consumer %s: %w", consumerName(run), err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
	log.Info("worker ready", "run", run)
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("fleet: fetching a job: %w", err)
		}
		for m := range batch.Messages() {
			w.handle(ctx, log, js, obj, m)
		}
	}
	return nil
}

// handle proves one job and answers it. A job this worker cannot prove is
// refused: handed back (Nak) for another worker, and on its last delivery
// terminated with a sealed refusal, so the collector stops waiting.
func (w *Worker) handle(ctx context.Context, log *slog.Logger, js jetstream.JetStream, obj jetstream.ObjectStore, m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		log.Error("job without metadata", "subject", m.Subject(), "err", err)
		_ = m.Term()
		return
	}
	var j job
	if err := openMsg(ctx, w.Key, m.Subject(), m.Data(), m.Headers(), obj, &j); err != nil {
		// Nobody holding this run's key can open it: a tampered job.
		log.Error("job refused", "subject", m.Subject(), "err", err)
		w.answer(ctx, log, js, obj, m, result{Job: lastToken(m.Subject()), Worker: w.Name, Refusal: err.Error()})
		return
	}
	if jobSubject(w.Key.ID(), j.Name) != m.Subject() {
		w.answer(ctx, log, js, obj, m, result{Job: lastToken(m.Subject()), Worker: w.Name, Refusal: "the job's name is not its subject's"})
		return
	}
	log.Info("proving", "job", j.Name, "attempt", j.Attempt, "delivery", meta.NumDelivered)
	stop := w.keepAlive(m)
	start := time.Now()
	proof, err := w.prove(ctx, j)
	elapsed := time.Since(start)
	stop()
	if err != nil {
		log.Error("job refused", "job", j.Name, "delivery", meta.NumDelivered, "err", err)
		if int(meta.NumDelivered) < w.Config.MaxDeliver {
			_ = m.NakWithDelay(w.Config.AckWait / 10)
			return
		}
		w.answer(ctx, log, js, obj, m, result{Job: j.Name, Attempt: j.Attempt, Worker: w.Name,
			Refusal: fmt.Sprintf("%v (delivered %d times)", err, meta.NumDelivered)})
		return
	}
	log.Info("proved", "job", j.Name, "elapsed", elapsed)
	w.answer(ctx, log, js, obj, m, result{Job: j.Name, Attempt: j.Attempt, Worker: w.Name, Proof: proof})
}

// answer publishes r, then acknowledges (a proof) or terminates (a refusal)
// the job: published first, so a crash in between costs a duplicate, never
// a lost result.
func (w *Worker) answer(ctx context.Context, log *slog.Logger, js jetstream.JetStream, obj jetstream.ObjectStore, m jetstream.Msg, r result) {
	msg, err := sealMsg(ctx, w.Key, resultSubject(w.Key.ID(), r.Job), r, obj, int(^uint(0)>>1))
	if err == nil {
		_, err = js.PublishMsg(ctx, msg)
	}
	if err != nil {
		log.Error("publishing the result failed; the job will be redelivered", "job", r.Job, "err", err)
		_ = m.Nak()
		return
	}
	if r.Refusal != "" {
		err = m.Term()
	} else {
		err = m.DoubleAck(ctx)
		log.Info("proof sent", "job", r.Job)
	}
	if err != nil {
		log.Warn("acknowledging the job failed; it may be proven twice", "job", r.Job, "err", err)
	}
}

// keepAlive tells JetStream the job is in progress while it is proven, so
// that a proof longer than the ack wait is not redelivered; a killed worker
// stops telling, and its job comes back after the ack wait.
func (w *Worker) keepAlive(m jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(w.Config.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = m.InProgress()
			}
		}
	}()
	return func() { close(done) }
}

// prove proves j with this worker's own keys and checks the proof.
func (w *Worker) prove(ctx context.Context, j job) ([]byte, error) {
	c, err := w.circuit(ctx, j)
	if err != nil {
		return nil, err
	}
	full, err := witness.New(ecc.BN254.ScalarField())
	if err != nil {
		return nil, err
	}
	if err := full.UnmarshalBinary(j.Witness); err != nil {
		return nil, fmt.Errorf("%w: witness: %w", prover.ErrWitness, err)
	}
	pub, err := full.Public()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", prover.ErrWitness, err)
	}
	proof, err := prover.Prove(c.ccs, c.pk, full, j.Solidity)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", prover.ErrProve, err)
	}
	if err := prover.Verify(c.vk, proof, pub, j.Solidity); err != nil {
		return nil, fmt.Errorf("own proof: %w", err)
	}
	var b bytes.Buffer
	if _, err := proof.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// circuit compiles j's circuit and loads its keys, once per circuit hash,
// and checks that they are the ones the job names.
func (w *Worker) circuit(ctx context.Context, j job) (*circuit, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.circuits[j.CircuitHash]; ok {
		return c, c.check(j)
	}
	compile := w.Compile
	if compile == nil {
		compile = CompileStep
	}
	ccs, hash, err := compile(j.Circuit, j.Spec)
	if err != nil {
		return nil, err
	}
	if hash != j.CircuitHash {
		return nil, fmt.Errorf("%w: this worker compiles the params to circuit %s, the job is for %s (another zkdp version?)", stepproof.ErrCircuit, hash, j.CircuitHash)
	}
	pk, vk, err := w.Keys(ccs, hash)
	if err != nil && w.Fetch != nil && j.PKSHA256 != "" && w.js != nil {
		if ferr := w.fetchKeys(ctx, j, ccs, hash); ferr != nil {
			return nil, fmt.Errorf("%w; fetching them: %w", err, ferr)
		}
		pk, vk, err = w.Keys(ccs, hash)
	}
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := vk.WriteTo(&b); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b.Bytes())
	c := &circuit{ccs: ccs, pk: pk, vk: vk, vkHash: hex.EncodeToString(sum[:])}
	if w.circuits == nil {
		w.circuits = map[string]*circuit{}
	}
	w.circuits[hash] = c
	return c, c.check(j)
}

// CompileStep compiles the step circuit of a run's params.json.
func CompileStep(kind string, spec []byte) (constraint.ConstraintSystem, string, error) {
	if kind != "step" {
		return nil, "", fmt.Errorf("unknown circuit kind %q", kind)
	}
	var p run.Params
	if err := json.Unmarshal(spec, &p); err != nil {
		return nil, "", fmt.Errorf("%w: params: %w", run.ErrMalformed, err)
	}
	if err := p.Validate(); err != nil {
		return nil, "", fmt.Errorf("params: %w", err)
	}
	return stepproof.Compile(p)
}

func (c *circuit) check(j job) error {
	if c.vkHash != j.VKSHA256 {
		return fmt.Errorf("wrong keys: this worker's verifying key for circuit %s has sha256 %s, the run's is %s", j.CircuitHash, c.vkHash, j.VKSHA256)
	}
	return nil
}

func lastToken(subject string) string {
	for i := len(subject) - 1; i >= 0; i-- {
		if subject[i] == '.' {
			return subject[i+1:]
		}
	}
	return subject
}
