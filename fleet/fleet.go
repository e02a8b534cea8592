// Package fleet proves a run's steps on many hosts through NATS JetStream:
// a collector publishes each missing step as a job on a work-queue stream and
// writes the proofs that come back; workers pull jobs, prove with keys from
// their own key cache, verify their proof, publish it and acknowledge. The
// server runs embedded in zkdp (Serve) or is any nats-server -js.
//
// A job carries private witness data, so every payload is sealed with the
// run key (XChaCha20-Poly1305), which the collector and the workers hold and
// the server never sees; results are sealed the same way. Workers are inside
// the data holder's trust boundary: they read the witness in the clear.
package fleet

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream, consumer and bucket names.
const (
	JobsStream    = "ZKDP_JOBS"    // work queue: one message per pending job
	ResultsStream = "ZKDP_RESULTS" // sealed proofs and refusals, kept MaxAge
	PayloadBucket = "ZKDP_PAYLOADS"

	jobsPrefix    = "zkdp.jobs."
	resultsPrefix = "zkdp.results."
	objectHeader  = "Zkdp-Object" // a payload too large for a message is in PayloadBucket under this name

	resultsMaxAge = 7 * 24 * time.Hour
)

// Sentinel errors.
var (
	// ErrSealed: a payload does not open with the run key (tampered, or
	// sealed with another run's key).
	ErrSealed = errors.New("fleet: payload does not authenticate under the run key (tampered or another run's key)")
	// ErrRunKey: a run key file is missing, malformed or readable by others.
	ErrRunKey = errors.New("fleet: bad run key")
	// ErrRefused: a worker refused a job (no keys for its circuit, another
	// verifying key, a proof that does not verify).
	ErrRefused = errors.New("fleet: job refused by the workers")
	// ErrRejected: the proofs returned for a step did not verify, as many
	// times as a job may be attempted.
	ErrRejected = errors.New("fleet: no valid proof came back")
	// ErrConfig: invalid queue settings.
	ErrConfig = errors.New("fleet: invalid queue settings")
)

// Config is how collectors and workers reach the server and how jobs are
// retried. The zero value, with URL set, works against an open server.
type Config struct {
	URL string
	// User and Password authenticate with a user/password pair.
	User, Password string
	// NKeySeed is a file holding an NKey seed (nk -gen user).
	NKeySeed string
	// Credentials is a decentralized-auth .creds file (JWT and seed).
	Credentials string
	// TLSCA, TLSCert and TLSKey: the server's CA file (implies TLS) and a
	// client certificate for mutual TLS.
	TLSCA, TLSCert, TLSKey string
	// AckWait is how long a job may go without a worker's ack or progress
	// report before JetStream redelivers it (a killed worker); default 30s.
	AckWait time.Duration
	// MaxDeliver bounds the attempts per step: deliveries of one job, and
	// jobs whose results the collector rejected; default 5.
	MaxDeliver int
	// MaxInline is the largest sealed payload sent inside a message; larger
	// ones go through the object store. 0: the server's max payload less 4 KiB.
	MaxInline int
	// ShareKeys has the collector put the run's keys into KeysBucket, for
	// workers whose key cache lacks them.
	ShareKeys bool
	Logger    *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = 5
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Connect dials the server with c's credentials and TLS settings. A refusal
// names the setting to check (the settings are queue.* in a zkdp config).
func Connect(c Config, name string) (*nats.Conn, error) {
	if c.URL == "" {
		return nil, fmt.Errorf("%w: no queue URL", ErrConfig)
	}
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1)}
	if c.User != "" || c.Password != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.NKeySeed != "" {
		o, err := nats.NkeyOptionFromSeed(c.NKeySeed)
		if err != nil {
			return nil, fmt.Errorf("%w: queue.nkey_seed %s is not an NKey user seed file (nk -gen user): %w", ErrConfig, c.NKeySeed, err)
		}
		opts = append(opts, o)
	}
	if c.Credentials != "" {
		opts = append(opts, nats.UserCredentials(c.Credentials))
	}
	if c.TLSCA != "" {
		opts = append(opts, nats.RootCAs(c.TLSCA))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, fmt.Errorf("%w: a client certificate needs both its certificate and key files", ErrConfig)
	}
	if c.TLSCert != "" {
		opts = append(opts, nats.ClientCert(c.TLSCert, c.TLSKey))
	}
	nc, err := nats.Connect(c.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("fleet: connecting to %s: %w%s", c.URL, err, connectHint(c, err))
	}
	return nc, nil
}

// connectHint says which setting a refused connection points to: the
// messages of nats.go and crypto/tls name the protocol's fault, not the
// file to fix.
func connectHint(c Config, err error) string {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	msg := err.Error()
	switch {
	case c.TLSCA != "" && strings.Contains(msg, "rootCA"):
		return fmt.Sprintf(" (queue.tls_ca %s: not a readable PEM CA file)", c.TLSCA)
	case c.TLSCert != "" && !strings.Contains(msg, "remote error") && strings.Contains(msg, "client certificate"):
		return fmt.Sprintf(" (queue.tls_cert %s, queue.tls_key %s: not a readable certificate and key pair)", c.TLSCert, c.TLSKey)
	case errors.As(err, &unknownCA):
		if c.TLSCA == "" {
			return " (the server's certificate is not from a CA this host trusts: set queue.tls_ca to the fleet's CA file)"
		}
		return fmt.Sprintf(" (the server's certificate does not chain to queue.tls_ca %s)", c.TLSCA)
	case errors.As(err, &hostname):
		return " (the server's certificate does not name the host of queue.url)"
	case errors.Is(err, nats.ErrSecureConnWanted):
		return " (the server does not offer TLS: use nats:// without queue.tls_*, or enable TLS on the server)"
	case strings.Contains(msg, "remote error: tls") || strings.Contains(msg, "after TLS handshake"):
		// Under TLS 1.3 the server checks the client's certificate after
		// the client's side of the handshake: its refusal arrives as an
		// alert, or, racing the client's first write, as a closed
		// connection.
		if c.TLSCert == "" {
			return " (the server wants a client certificate: set queue.tls_cert and queue.tls_key)"
		}
		return fmt.Sprintf(" (the server refused the client certificate queue.tls_cert %s: it must be issued by the server's client CA)", c.TLSCert)
	case errors.Is(err, nats.ErrAuthorization) || strings.Contains(strings.ToLower(msg), "authorization violation"):
		return " (the server refused the credentials: check queue.user and queue.password_file, queue.nkey_seed or queue.credentials)"
	}
	return ""
}

// ensureStreams creates the jobs and results streams and the payload bucket
// if they do not exist yet (idempotent, same settings every time).
func ensureStreams(ctx context.Context, js jetstream.JetStream) (jetstream.ObjectStore, error) {
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: JobsStream, Subjects: []string{jobsPrefix + ">"}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
	}); err != nil {
		return nil, fmt.Errorf("fleet: stream %s: %w", JobsStream, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: ResultsStream, Subjects: []string{resultsPrefix + ">"}, Retention: jetstream.LimitsPolicy,
		MaxAge: resultsMaxAge, Storage: jetstream.FileStorage,
	}); err != nil {
		return nil, fmt.Errorf("fleet: stream %s: %w", ResultsStream, err)
	}
	obj, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: PayloadBucket, TTL: resultsMaxAge, Storage: jetstream.FileStorage})
	if err != nil {
		return nil, fmt.Errorf("fleet: object store %s: %w", PayloadBucket, err)
	}
	return obj, nil
}

// Subjects and the consumer of one run (its key's ID).
func jobSubject(run, job string) string    { return jobsPrefix + run + "." + job }
func resultSubject(run, job string) string { return resultsPrefix + run + "." + job }
func consumerName(run string) string       { return "workers-" + run }
