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
	"sync"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/stepproof"
)

// Collector publishes a run's step jobs and gathers the proofs. It plugs
// into stepproof.Prove (Options.Remote), so resuming, never redoing a
// verified proof, verifying before writing and the atomic writes are the
// local prover's own.
type Collector struct {
	cfg     Config
	key     RunKey
	run     string
	js      jetstream.JetStream
	obj     jetstream.ObjectStore
	log     *slog.Logger
	cons    jetstream.ConsumeContext
	results jetstream.Stream
	jobs    jetstream.Stream
	gaveUp  *nats.Subscription // JetStream's max-deliveries advisories
	max     int
	stop    chan struct{} // ends the watcher
	watched sync.WaitGroup

	mu      sync.Mutex
	waiting map[string]chan result // by job name
	arrived map[string][]result    // results nobody waits for yet
	queued  map[string]*queued     // the job message each waiting job's result must come from
}

// queued is a job message the collector waits on.
type queued struct {
	seq  uint64    // in JobsStream
	gone time.Time // when the watcher first found it acknowledged or removed
}

// NewCollector sets up the streams and the run's worker consumer and starts
// reading the run's results, from the first one kept: a restarted collector
// finds the results that came back while it was down.
func NewCollector(ctx context.Context, nc *nats.Conn, key RunKey, cfg Config) (*Collector, error) {
	cfg = cfg.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	obj, err := ensureStreams(ctx, js)
	if err != nil {
		return nil, err
	}
	c := &Collector{cfg: cfg, key: key, run: key.ID(), js: js, obj: obj, log: cfg.Logger,
		waiting: map[string]chan result{}, arrived: map[string][]result{}, queued: map[string]*queued{}, stop: make(chan struct{})}
	c.max = cfg.MaxInline
	if c.max <= 0 {
		c.max = int(nc.MaxPayload()) - 4096
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, JobsStream, jetstream.ConsumerConfig{
		Durable: consumerName(c.run), FilterSubject: jobSubject(c.run, ">"), AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: cfg.AckWait, MaxDeliver: cfg.MaxDeliver, MaxAckPending: -1,
	}); err != nil {
		return nil, fmt.Errorf("fleet: consumer %s: %w", consumerName(c.run), err)
	}
	if c.results, err = js.Stream(ctx, ResultsStream); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	results, err := js.OrderedConsumer(ctx, ResultsStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{resultSubject(c.run, ">")}, DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: reading results: %w", err)
	}
	if c.cons, err = results.Consume(c.receive); err != nil {
		return nil, fmt.Errorf("fleet: reading results: %w", err)
	}
	if c.jobs, err = js.Stream(ctx, JobsStream); err != nil {
		c.cons.Stop()
		return nil, fmt.Errorf("fleet: %w", err)
	}
	advisory := "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + JobsStream + "." + consumerName(c.run)
	if c.gaveUp, err = nc.Subscribe(advisory, c.maxDeliveries); err != nil {
		c.cons.Stop()
		return nil, fmt.Errorf("fleet: %w", err)
	}
	c.watched.Go(c.watch)
	return c, nil
}

// Close stops reading results and watching jobs.
func (c *Collector) Close() {
	c.cons.Stop()
	_ = c.gaveUp.Unsubscribe()
	close(c.stop)
	c.watched.Wait()
}

// watch checks, every ack wait, whether each job waited on can still be
// answered, and turns the ones that cannot into refusals of their step.
// The max-deliveries advisory says so at once, but it is a plain NATS
// message: a collector that was down or disconnected when JetStream gave up
// on a job never hears it, and would wait forever for a job nobody will
// take again.
func (c *Collector) watch() {
	t := time.NewTicker(max(c.cfg.AckWait, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := c.checkQueued(ctx); err != nil {
			c.log.Warn("checking the queued jobs", "err", err)
		}
		cancel()
	}
}

// checkQueued refuses the waited-on jobs that JetStream will never deliver
// again: still in the stream but no longer pending on the run's consumer
// (below its ack floor, or delivered while nothing is pending: it was given
// up after MaxDeliver deliveries), or gone from the stream for a whole ack
// wait without a result (acknowledged or removed, and nothing came back).
func (c *Collector) checkQueued(ctx context.Context) error {
	c.mu.Lock()
	jobs := make(map[string]queued, len(c.queued))
	for name, q := range c.queued {
		jobs[name] = *q
	}
	c.mu.Unlock()
	if len(jobs) == 0 {
		return nil
	}
	cons, err := c.js.Consumer(ctx, JobsStream, consumerName(c.run))
	if err != nil {
		return err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	for name, q := range jobs {
		var why string
		_, err := c.jobs.GetMsg(ctx, q.seq)
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			if q.gone.IsZero() {
				c.markGone(name, q.seq)
			} else if time.Since(q.gone) > c.cfg.AckWait {
				why = "its job left the queue and no result came back"
			}
		case err != nil:
			return err
		case q.seq <= info.AckFloor.Stream || (info.NumAckPending == 0 && q.seq <= info.Delivered.Stream):
			// Removing it settles a race with a worker's ack (which also
			// removes it, after the consumer forgot it): whoever is first.
			err := c.jobs.DeleteMsg(ctx, q.seq)
			if errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) {
				if _, gerr := c.jobs.GetMsg(ctx, q.seq); errors.Is(gerr, jetstream.ErrMsgNotFound) {
					err = gerr
				}
			}
			switch {
			case err == nil:
				why = "delivered and never answered until JetStream gave it up (workers killed or crashed while proving it, or they dropped it)"
			case errors.Is(err, jetstream.ErrMsgNotFound):
				c.markGone(name, q.seq) // acknowledged just now: its result is on its way
			default:
				return err
			}
		}
		if why != "" {
			c.log.Warn("job lost", "job", name, "seq", q.seq, "why", why)
			c.dispatch(result{Job: name, Worker: "(none)", Refusal: why, seq: q.seq})
		}
	}
	return nil
}

func (c *Collector) markGone(name string, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if q := c.queued[name]; q != nil && q.seq == seq && q.gone.IsZero() {
		q.gone = time.Now()
	}
}

// maxDeliveries handles JetStream's advisory that a job was delivered
// MaxDeliver times and never answered (its workers were killed or crashed
// each time): the job is removed from the queue and its step gets a
// refusal, so the run stops naming it instead of waiting forever.
func (c *Collector) maxDeliveries(m *nats.Msg) {
	var adv struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries uint64 `json:"deliveries"`
	}
	if err := json.Unmarshal(m.Data, &adv); err != nil {
		c.log.Error("unreadable max-deliveries advisory", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := c.jobs.GetMsg(ctx, adv.StreamSeq)
	if err != nil {
		c.log.Error("job given up by JetStream, not found", "seq", adv.StreamSeq, "err", err)
		return
	}
	name := lastToken(raw.Subject)
	if err := c.jobs.DeleteMsg(ctx, adv.StreamSeq); err != nil {
		c.log.Warn("removing a job given up by JetStream", "job", name, "err", err)
	}
	c.dispatch(result{Job: name, Worker: "(none)", seq: adv.StreamSeq,
		Refusal: fmt.Sprintf("delivered %d times and never answered (workers killed or crashed while proving it)", adv.Deliveries)})
}

// receive opens one result and hands it to the job waiting for it; a result
// that does not open is logged and dropped (it could be anyone's).
func (c *Collector) receive(m jetstream.Msg) {
	var r result
	if err := openMsg(context.Background(), c.key, m.Subject(), m.Data(), m.Headers(), c.obj, &r); err != nil {
		c.log.Error("result rejected", "subject", m.Subject(), "err", err)
		return
	}
	if resultSubject(c.run, r.Job) != m.Subject() {
		c.log.Error("result rejected: its job is not its subject's", "subject", m.Subject(), "job", r.Job)
		return
	}
	if md, err := m.Metadata(); err == nil {
		r.resultSeq = md.Sequence.Stream
	}
	c.dispatch(r)
}

// dispatch hands r to the job waiting for it, or keeps it for later. A
// refusal made up for a lost job message (r.seq) goes only to a job that
// still waits on that message, and only once. Any result ends the watch of
// its job's message: the job either finishes or publishes (watches) again.
func (c *Collector) dispatch(r result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if q := c.queued[r.Job]; r.seq != 0 && (q == nil || q.seq != r.seq) {
		return
	}
	delete(c.queued, r.Job)
	if ch, ok := c.waiting[r.Job]; ok {
		select {
		case ch <- r:
			return
		default: // the waiter has one result already; keep this one for a retry
		}
	}
	c.arrived[r.Job] = append(c.arrived[r.Job], r)
}

// await registers interest in job's results and returns the channel.
func (c *Collector) await(name string) chan result {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan result, 1)
	if rs := c.arrived[name]; len(rs) > 0 {
		ch <- rs[0]
		c.arrived[name] = rs[1:]
	}
	c.waiting[name] = ch
	return ch
}

func (c *Collector) done(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.waiting, name)
	delete(c.arrived, name)
	delete(c.queued, name)
}

// Remote is stepproof.Options.Remote: it returns the function that proves
// one step through the fleet.
func (c *Collector) Remote(circ stepproof.Circuit) (func(ctx context.Context, name string, full witness.Witness) (groth16.Proof, error), error) {
	spec, err := json.Marshal(circ.Params)
	if err != nil {
		return nil, fmt.Errorf("fleet: encoding params: %w", err)
	}
	var vk bytes.Buffer
	if _, err := circ.VK.WriteTo(&vk); err != nil {
		return nil, fmt.Errorf("fleet: encoding the verifying key: %w", err)
	}
	sum := sha256.Sum256(vk.Bytes())
	tmpl := job{Circuit: "step", Spec: spec, CircuitHash: circ.Hash, VKSHA256: hex.EncodeToString(sum[:]), Solidity: circ.Solidity}
	if c.cfg.ShareKeys {
		if circ.PK == nil {
			return nil, fmt.Errorf("%w: sharing the keys needs the proving key", ErrConfig)
		}
		if tmpl.PKSHA256, err = c.shareKeys(context.Background(), circ.PK, vk.Bytes(), tmpl.VKSHA256); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, name string, full witness.Witness) (groth16.Proof, error) {
		return c.prove(ctx, tmpl, circ, name, full)
	}, nil
}

// prove publishes name's job unless one is pending already (a restarted
// collector), waits for a result and checks it; a refusal or a proof that
// does not verify costs one attempt, up to MaxDeliver.
func (c *Collector) prove(ctx context.Context, tmpl job, circ stepproof.Circuit, name string, full witness.Witness) (groth16.Proof, error) {
	defer c.done(name)
	pub, err := full.Public()
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	j := tmpl
	j.Name = name
	if j.Witness, err = full.MarshalBinary(); err != nil {
		return nil, fmt.Errorf("fleet: encoding the witness: %w", err)
	}
	var errs []error
	for attempt := 1; attempt <= c.cfg.MaxDeliver; attempt++ {
		ch := c.await(name)
		object, err := c.publish(ctx, j, attempt)
		if err != nil {
			return nil, err
		}
		var r result
		select {
		case r = <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if object != "" {
			_ = c.obj.Delete(ctx, object) // else its TTL removes it
		}
		// A result read is never read again, by this collector or a
		// restarted one: a stale refusal must not cost a later attempt.
		// Only it and those before it go: a valid proof published just
		// after a forged one may not have reached this collector yet.
		if r.resultSeq != 0 {
			if err := c.results.Purge(ctx, jetstream.WithPurgeSubject(resultSubject(c.run, name)), jetstream.WithPurgeSequence(r.resultSeq+1)); err != nil {
				c.log.Warn("purging a result", "job", name, "err", err)
			}
		}
		proof, err := c.check(r, circ, pub)
		if err == nil {
			return proof, nil
		}
		c.log.Warn("result rejected", "job", name, "attempt", attempt, "worker", r.Worker, "err", err)
		errs = append(errs, fmt.Errorf("attempt %d (worker %s): %w", attempt, r.Worker, err))
	}
	return nil, fmt.Errorf("%w in %d attempts: %w", ErrRejected, c.cfg.MaxDeliver, errors.Join(errs...))
}

// publish sends j unless its subject still holds a pending job (published by
// an earlier collector, or being proven right now), and has the watcher
// watch the job's message. It returns the name of the payload's object, if
// it went through the object store.
func (c *Collector) publish(ctx context.Context, j job, attempt int) (string, error) {
	subject := jobSubject(c.run, j.Name)
	pending, err := c.jobs.GetLastMsgForSubject(ctx, subject)
	if err == nil {
		c.log.Debug("job pending already", "job", j.Name, "seq", pending.Sequence)
		c.queue(j.Name, pending.Sequence)
		return "", nil
	}
	if !errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", fmt.Errorf("fleet: looking for a pending %s: %w", j.Name, err)
	}
	j.Attempt = attempt
	msg, err := sealMsg(ctx, c.key, subject, j, c.obj, c.max)
	if err != nil {
		return "", err
	}
	ack, err := c.js.PublishMsg(ctx, msg)
	if err != nil {
		return "", fmt.Errorf("fleet: publishing %s: %w", j.Name, err)
	}
	c.queue(j.Name, ack.Sequence)
	c.log.Debug("job published", "job", j.Name, "attempt", attempt, "seq", ack.Sequence, "object", msg.Header.Get(objectHeader))
	return msg.Header.Get(objectHeader), nil
}

func (c *Collector) queue(name string, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queued[name] = &queued{seq: seq}
}

// check turns a result into a proof that verifies against the run's key and
// the job's own public inputs, or says why not.
func (c *Collector) check(r result, circ stepproof.Circuit, pub witness.Witness) (groth16.Proof, error) {
	if r.Refusal != "" {
		return nil, fmt.Errorf("%w: %s", ErrRefused, r.Refusal)
	}
	proof := groth16.NewProof(ecc.BN254)
	if _, err := proof.ReadFrom(bytes.NewReader(r.Proof)); err != nil {
		return nil, fmt.Errorf("%w: %w", prover.ErrMalformed, err)
	}
	if err := prover.Verify(circ.VK, proof, pub, circ.Solidity); err != nil {
		return nil, err
	}
	return proof, nil
}
