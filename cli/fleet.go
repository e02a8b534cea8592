package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/ceremony"
	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/fleet"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/stepproof"
)

// QueuePasswordEnv holds the queue user's password when queue.password_file is unset.
const QueuePasswordEnv = "ZKDP_QUEUE_PASSWORD"

// QueueFlags are the settings shared by the commands that talk to a prover
// fleet's NATS server: --queue and --config on the command line, the rest
// (credentials, TLS) in the config's queue section or ZKDP_QUEUE_*.
type QueueFlags struct {
	ConfigPath string
	URL        string
	RunKey     string
	AckWait    time.Duration
	MaxDeliver int
	// Loader is filled from ConfigPath, the environment and the flags.
	Loader *config.Loader
}

func (f *QueueFlags) bind(cmd *cobra.Command, worker bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.URL, "queue", "", "NATS JetStream server of the prover fleet, nats://HOST:4222 (config queue.url)")
	fl.StringVar(&f.ConfigPath, "config", "", "config file whose queue section to use (credentials, TLS)")
	if worker {
		fl.StringVar(&f.RunKey, "run-key", "", "the run key file, a copy of the run's private/"+fleet.RunKeyFile+" (config queue.run_key; required)")
		return
	}
	fl.DurationVar(&f.AckWait, "ack-wait", 0, "redeliver a job after this long without a sign of life from its worker (config queue.ack_wait; default 30s)")
	fl.IntVar(&f.MaxDeliver, "max-deliver", 0, "attempts at each step before the run stops (config queue.max_deliver; default 5)")
}

// settings merges the config file (if any), ZKDP_QUEUE_* and the flags.
func (f *QueueFlags) settings(cmd *cobra.Command, log *slog.Logger) (fleet.Config, config.Queue, error) {
	if f.Loader == nil {
		f.Loader = config.NewLoader()
	}
	if f.ConfigPath != "" {
		if err := f.Loader.ReadFile(f.ConfigPath); err != nil {
			return fleet.Config{}, config.Queue{}, err
		}
	}
	for key, name := range map[string]string{"queue.url": "queue", "queue.run_key": "run-key", "queue.ack_wait": "ack-wait", "queue.max_deliver": "max-deliver"} {
		if err := f.Loader.BindFlag(key, cmd.Flags().Lookup(name)); err != nil {
			return fleet.Config{}, config.Queue{}, err
		}
	}
	q, err := f.Loader.Queue()
	if err != nil {
		return fleet.Config{}, q, err
	}
	c, err := fleetConfig(q, log)
	return c, q, err
}

// fleetConfig is how the fleet reaches the server of a validated queue section.
func fleetConfig(q config.Queue, log *slog.Logger) (fleet.Config, error) {
	ack, _ := time.ParseDuration(q.AckWait) // validated
	c := fleet.Config{URL: q.URL, User: q.User, NKeySeed: q.NKeySeed, Credentials: q.Credentials,
		TLSCA: q.TLSCA, TLSCert: q.TLSCert, TLSKey: q.TLSKey, AckWait: ack, MaxDeliver: q.MaxDeliver, Logger: log}
	switch {
	case q.PasswordFile != "":
		b, err := os.ReadFile(q.PasswordFile)
		if err != nil {
			return c, fmt.Errorf("queue.password_file: %w", err)
		}
		c.Password = strings.TrimRight(string(b), "\r\n")
	case q.User != "":
		c.Password = os.Getenv(QueuePasswordEnv)
	}
	return c, nil
}

// proveFunc proves one step's witness (prover.Options.Prove).
type proveFunc = func(ctx context.Context, name string, full witness.Witness) (groth16.Proof, error)

// fleetRemote starts what proves the steps of dir: the fleet at cfg.URL, or
// an embedded server and workers in-process ones; close ends it.
func fleetRemote(ctx context.Context, dir string, workers int, cfg fleet.Config) (remote func(stepproof.Circuit) (proveFunc, error), close func(), err error) {
	key, keyPath, err := fleet.RunKeyOf(dir)
	if err != nil {
		return nil, nil, err
	}
	if cfg.URL == "" {
		l, err := fleet.StartLocal(ctx, key, max(workers, 1), cfg)
		if err != nil {
			return nil, nil, err
		}
		return l.Remote, l.Close, nil
	}
	// Workers whose key cache lacks the run's keys fetch them from the
	// server's key store by checksum.
	cfg.ShareKeys = true
	nc, err := fleet.Connect(cfg, "zkdp prove")
	if err != nil {
		return nil, nil, err
	}
	c, err := fleet.NewCollector(ctx, nc, key, cfg)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	cfg.Logger.Info("proving through the fleet: workers need the run key", "queue", cfg.URL, "run", key.ID(), "run_key", keyPath)
	return c.Remote, func() { c.Close(); nc.Close() }, nil
}

// WorkerOptions are `zkdp worker`'s inputs.
type WorkerOptions struct {
	*Global
	Queue       QueueFlags
	KeysDir     string
	CeremonyDir string
	Name        string
}

// NewWorkerCmd builds `zkdp worker`.
func NewWorkerCmd(o *WorkerOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Prove step jobs from a prover fleet's queue until stopped",
		Long: `Pull a run's step jobs from a NATS JetStream server, prove each, verify the
proof, publish it and acknowledge the job; run one per host (or pod).

A job carries the step's private witness sealed with the run key: the worker
needs a copy of the run's private/fleet.key (--run-key), so it is inside the
data holder's trust boundary. Proving keys never travel in messages: they
are loaded from the key cache (--keys) or derived from a ceremony folder
(--ceremony) by circuit hash, and a job whose verifying key is another is
refused. A key cache that lacks the run's keys gets them once from the
server's key store (ZKDP_KEYS), where zkdp prove --queue puts them, each
checked against the sha256 the sealed job names. A worker killed mid-proof
leaves its job unacknowledged: the server hands it to another worker after
the ack wait.`,
		Example: `  zkdp worker --queue nats://10.0.0.5:4222 --run-key qs.key --keys /var/cache/zkdp/keys`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.Run(cmd) },
	}
	o.Queue.bind(cmd, true)
	cmd.Flags().StringVar(&o.KeysDir, "keys", "", "key cache folder of the run's keys, filled from the server's key store when it lacks them (default $XDG_CACHE_HOME/zkdp/keys)")
	cmd.Flags().StringVar(&o.CeremonyDir, "ceremony", "", "prove with the sealed phase-2 keys of this ceremony folder instead")
	cmd.Flags().StringVar(&o.Name, "name", "", "the worker's name in logs and results (default host:pid)")
	cmd.MarkFlagsMutuallyExclusive("keys", "ceremony")
	return cmd
}

// Run serves jobs until interrupted.
func (o *WorkerOptions) Run(cmd *cobra.Command) error {
	log, err := NewLogger(o.Err, orDefault(o.LogLevel, "info"), orDefault(o.LogFormat, "text"))
	if err != nil {
		return err
	}
	cfg, q, err := o.Queue.settings(cmd, log)
	if err != nil {
		return err
	}
	if cfg.URL == "" || q.RunKey == "" {
		return fmt.Errorf("zkdp worker needs --queue (queue.url) and --run-key (queue.run_key)")
	}
	key, err := fleet.ReadRunKey(q.RunKey)
	if err != nil {
		return err
	}
	keys, fetch := fleet.Keys(nil), (*prover.KeyCache)(nil)
	if o.CeremonyDir != "" {
		keys = fleet.SourceKeys((&ceremony.Ceremony{Dir: o.CeremonyDir, Logger: log}).KeySource())
	} else {
		cache, err := keyCache(o.KeysDir, log)
		if err != nil {
			return err
		}
		keys = fleet.CachedKeys(cache)
		fetch = cache
	}
	nc, err := fleet.Connect(cfg, "zkdp worker")
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM)
	defer stop()
	w := &fleet.Worker{Config: cfg, Key: key, Keys: keys, Fetch: fetch, Name: o.Name}
	return w.Run(ctx, nc)
}

// QueueServeOptions are `zkdp queue serve`'s inputs.
type QueueServeOptions struct {
	*Global
	Listen       string
	StoreDir     string
	User         string
	PasswordFile string
}

// NewQueueCmd builds `zkdp queue` and `zkdp queue serve`.
func NewQueueCmd(g *Global) *cobra.Command {
	cmd := &cobra.Command{Use: "queue", Short: "Run the NATS JetStream server of a prover fleet"}
	o := &QueueServeOptions{Global: g}
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve a JetStream server embedded in zkdp, for hosts without nats-server",
		Long: `Run a NATS server with JetStream, the same server code as nats-server,
persisted to --store, until interrupted. Provers (zkdp prove --queue) and
workers (zkdp worker --queue) connect to it. It sees only sealed jobs and
results; for TLS, clustering or accounts run nats-server -js with
deploy/nats-server.conf instead.`,
		Example: `  zkdp queue serve --listen 0.0.0.0:4222 --store /var/lib/zkdp/queue`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.Run(cmd) },
	}
	serve.Flags().StringVar(&o.Listen, "listen", "127.0.0.1:4222", "HOST:PORT to listen on")
	serve.Flags().StringVar(&o.StoreDir, "store", "zkdp-queue", "folder of JetStream's streams (a restart keeps pending jobs)")
	serve.Flags().StringVar(&o.User, "user", "", "require this user name of every client (with --password-file)")
	serve.Flags().StringVar(&o.PasswordFile, "password-file", "", "file holding the password clients must give")
	serve.MarkFlagsRequiredTogether("user", "password-file")
	cmd.AddCommand(serve)
	return cmd
}

// Run serves until interrupted.
func (o *QueueServeOptions) Run(cmd *cobra.Command) error {
	var password string
	if o.PasswordFile != "" {
		b, err := os.ReadFile(o.PasswordFile)
		if err != nil {
			return fmt.Errorf("--password-file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	s, err := fleet.Serve(fleet.ServerOptions{Listen: o.Listen, StoreDir: o.StoreDir, User: o.User, Password: password, Log: true})
	if err != nil {
		return err
	}
	defer s.Shutdown()
	fmt.Fprintf(o.Out, "JetStream server listening on %s (store %s)\n", s.URL(), o.StoreDir)
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	<-ctx.Done()
	return nil
}
