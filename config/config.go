// Package config is zkdp's typed configuration: one viper instance reads the
// defaults, a YAML file, ZKDP_* environment variables and command-line flags,
// in increasing precedence, and unmarshals them into Config.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/configs"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/datasets"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/trainer"
)

// EnvPrefix prefixes environment variables: ZKDP_TRAINING_STEPS sets training.steps.
const EnvPrefix = "ZKDP"

// ErrInvalid matches every error Validate returns.
var ErrInvalid = errors.New("config: invalid")

// Config is the whole configuration of a run.
type Config struct {
	// Seed, when set, makes a run reproducible: it fixes the split, the
	// initialization and the secret PRF seed. Unset, the secret seed comes
	// from crypto/rand, as production use requires.
	Seed *uint64 `mapstructure:"seed"`
	// Beacon is the public randomness fixed after the seed commitment was
	// published (hex field element). Unset, the trainer draws one and marks
	// the run as not fit for an audit.
	Beacon string `mapstructure:"beacon"`
	// Data is the dataset and how its columns become features (package data).
	Data data.Config `mapstructure:"data"`
	// Training is the model, the DP-SGD hyper-parameters and the privacy
	// target (package trainer).
	Training trainer.Config `mapstructure:"training"`
	// Text is how a token-level corpus (data.name btc) becomes records:
	// one sentence per record, padded or cut to a public length, with the
	// GloVe window features of package backbone/glove. Only for corpora.
	Text trainer.TextConfig `mapstructure:"text"`
	// FixedPoint is the fixed-point format shared by the trainer's quantized
	// step and the circuits; it is public and part of the run's params.
	FixedPoint fixedpoint.Format `mapstructure:"fixed_point"`
	// Log configures logging to standard error.
	Log Log `mapstructure:"log"`
	// Chain says which EVM chain `zkdp chain` uses and how it signs.
	Chain Chain `mapstructure:"chain"`
	// Queue says how `zkdp prove`, `zkdp pipeline` and `zkdp worker` reach
	// the NATS JetStream server of a prover fleet.
	Queue Queue `mapstructure:"queue"`
}

// Queue is the connection to a prover fleet's NATS JetStream server
// (package fleet). Secrets stay in files, never in the config: a password
// file, an NKey seed, a credentials file, the run key.
type Queue struct {
	// URL is the server, nats://HOST:4222 (tls://HOST:4222 for TLS); empty:
	// `zkdp prove` and `zkdp pipeline` run an embedded server and --workers
	// local workers.
	URL string `mapstructure:"url"`
	// User is the user name of user/password authentication.
	User string `mapstructure:"user"`
	// PasswordFile holds that user's password; empty: $ZKDP_QUEUE_PASSWORD.
	PasswordFile string `mapstructure:"password_file"`
	// NKeySeed is a file holding an NKey user seed (nk -gen user).
	NKeySeed string `mapstructure:"nkey_seed"`
	// Credentials is a decentralized-auth .creds file (JWT and NKey seed).
	Credentials string `mapstructure:"credentials"`
	// TLSCA is the CA file that the server's certificate must chain to.
	TLSCA string `mapstructure:"tls_ca"`
	// TLSCert is a client certificate file, for mutual TLS (with tls_key).
	TLSCert string `mapstructure:"tls_cert"`
	// TLSKey is the client certificate's key file.
	TLSKey string `mapstructure:"tls_key"`
	// RunKey is the file of the run key a worker opens jobs with (a copy of
	// the run's private/fleet.key, mode 0600).
	RunKey string `mapstructure:"run_key"`
	// AckWait is how long a job may go without a sign of life from its
	// worker before JetStream hands it to another (a killed worker).
	AckWait string `mapstructure:"ack_wait"`
	// MaxDeliver bounds the attempts at each step before the run stops with
	// an error naming it.
	MaxDeliver int `mapstructure:"max_deliver"`
}

// queueKeys are Queue's keys, in order.
var queueKeys = []string{"url", "user", "password_file", "nkey_seed", "credentials", "tls_ca", "tls_cert", "tls_key", "run_key", "ack_wait", "max_deliver"}

// Validate checks the queue section alone.
func (q Queue) Validate() []error {
	var errs []error
	if q.URL != "" && !strings.HasPrefix(q.URL, "nats://") && !strings.HasPrefix(q.URL, "tls://") {
		errs = append(errs, fmt.Errorf("queue.url: must start with nats:// or tls://, got %q", q.URL))
	}
	if (q.TLSCert == "") != (q.TLSKey == "") {
		errs = append(errs, errors.New("queue.tls_cert: a client certificate needs both tls_cert and tls_key"))
	}
	if d, err := time.ParseDuration(q.AckWait); err != nil || d < time.Second {
		errs = append(errs, fmt.Errorf("queue.ack_wait: must be a duration of at least 1s, got %q", q.AckWait))
	}
	if q.MaxDeliver < 1 {
		errs = append(errs, fmt.Errorf("queue.max_deliver: must be at least 1, got %d", q.MaxDeliver))
	}
	return errs
}

// Chain says where `zkdp chain` sends transactions. There is deliberately
// no key here: over RPC the sender's key comes from an encrypted keystore
// file, and unknown keys (a private_key, say) are rejected.
type Chain struct {
	// RPC is a JSON-RPC URL; empty: the in-process simulated chain (lives
	// as long as one command).
	RPC string `mapstructure:"rpc"`
	// Keystore is an encrypted go-ethereum keystore file (RPC only).
	Keystore string `mapstructure:"keystore"`
	// PasswordFile holds the keystore's passphrase; empty: $ZKDP_CHAIN_PASSWORD.
	PasswordFile string `mapstructure:"password_file"`
	// Registry is a deployed registry to use (hex address); empty: deploy one.
	Registry string `mapstructure:"registry"`
}

// Validate checks the chain section alone.
func (c Chain) Validate() []error {
	var errs []error
	if c.RPC != "" && c.Keystore == "" {
		errs = append(errs, errors.New("chain.keystore: an RPC chain needs the sender's encrypted keystore file"))
	}
	if c.RPC == "" && (c.Keystore != "" || c.PasswordFile != "") {
		errs = append(errs, errors.New("chain.keystore: a keystore is for an RPC chain (chain.rpc); the simulated chain uses a generated dev key"))
	}
	if c.Registry != "" && !addressPattern.MatchString(c.Registry) {
		errs = append(errs, fmt.Errorf("chain.registry: not a hex address: %q", c.Registry))
	}
	return errs
}

var addressPattern = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)

// Log configures log/slog (and gnark's logger, routed through it).
type Log struct {
	Level  string `mapstructure:"level"`  // debug, info, warn, error
	Format string `mapstructure:"format"` // text or json
}

// Defaults is the configuration before any file, variable or flag.
func Defaults() Config {
	return Config{
		Training:   trainer.DefaultConfig(),
		FixedPoint: fixedpoint.DefaultFormat(),
		Log:        Log{Level: "info", Format: "text"},
		Queue:      Queue{AckWait: "30s", MaxDeliver: 5},
	}
}

// Validate lists every problem, each naming its key.
func (c Config) Validate() error {
	var errs []error
	for _, e := range c.Data.Validate() {
		errs = append(errs, e)
	}
	errs = append(errs, c.Training.Validate()...)
	if data.IsCorpus(c.Data.Name) {
		errs = append(errs, c.Text.Validate()...)
		if len(c.Training.Hidden) > 0 {
			errs = append(errs, fmt.Errorf("training.hidden: a token-level corpus trains a softmax head on frozen features: leave it empty"))
		}
	} else if c.Text != (trainer.TextConfig{}) {
		errs = append(errs, fmt.Errorf("text: only applies to a token-level corpus (%s), not to %q", strings.Join(datasets.Corpora, ", "), c.Data.Name))
	}
	if err := c.FixedPoint.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("fixed_point: %w", err))
	}
	if c.Beacon != "" {
		if _, err := commit.ParseHex(c.Beacon); err != nil {
			errs = append(errs, fmt.Errorf("beacon: %w", err))
		}
	}
	errs = append(errs, c.Chain.Validate()...)
	errs = append(errs, c.Queue.Validate()...)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: must be debug, info, warn or error, got %q", c.Log.Level))
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, fmt.Errorf("log.format: must be text or json, got %q", c.Log.Format))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d problems:\n  %w", ErrInvalid, len(errs), joinIndented(errs))
}

func joinIndented(errs []error) error { return indented(errs) }

// indented lists errors one per line, each indented, and matches any of
// them under errors.Is and errors.As (errors.Join would print them twice
// after a summary line).
type indented []error

func (e indented) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "\n  ")
}

func (e indented) Unwrap() []error { return e }

// Loader reads a Config.
type Loader struct {
	v *viper.Viper
}

// NewLoader returns a loader whose keys all have defaults and environment
// bindings, so that ZKDP_* variables reach every key.
func NewLoader() *Loader {
	v := viper.New()
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	setDefaults(v)
	_ = v.BindEnv("seed")
	_ = v.BindEnv("beacon")
	return &Loader{v: v}
}

// setDefaults registers every leaf key as a viper default (a struct is its
// fields; a pointer, unset by default, is bound to the environment instead).
func setDefaults(v *viper.Viper) {
	for _, k := range Keys() {
		if k.InList || k.Default == nil || k.Field.Type.Kind() == reflect.Struct {
			continue
		}
		v.SetDefault(k.Name, k.Default)
	}
}

// ReadFile reads a YAML config file; a name without a path separator or
// extension that is not a file on disk is looked up among the shipped configs.
func (l *Loader) ReadFile(path string) error {
	l.v.SetConfigType("yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) || strings.ContainsAny(path, `/\.`) {
			return fmt.Errorf("config: %w", err)
		}
		if raw, err = configs.Read(path); err != nil {
			return err
		}
	}
	if err := l.v.ReadConfig(bytes.NewReader(raw)); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
	}
	return checkPlaceholders(path, raw)
}

// ErrPlaceholder is wrapped (with ErrInvalid) by the error for a config
// that still holds a placeholder `zkdp init` wrote.
var ErrPlaceholder = errors.New("placeholder left")

// checkPlaceholders names, by file, line, column and key, every value of
// raw that is still a placeholder of `zkdp init`: a bound or category list
// it could not know, which must come from public knowledge. It runs before
// decoding, since a placeholder for a number would otherwise fail as a
// type error and one for a list would decode as a one-element list.
func checkPlaceholders(path string, raw []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
	}
	var errs []error
	var walk func(key string, n *yaml.Node)
	walk = func(key string, n *yaml.Node) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(key, c)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if key != "" {
					k = key + "." + k
				}
				walk(k, n.Content[i+1])
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(fmt.Sprintf("%s[%d]", key, i), c)
			}
		case yaml.ScalarNode:
			if n.Tag == "!!str" && data.IsPlaceholder(n.Value) {
				errs = append(errs, fmt.Errorf("%s:%d:%d: %s: placeholder left", path, n.Line, n.Column, key))
			}
		}
	}
	walk("", &doc)
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w: %s: %d of them; fill each from public knowledge (a data dictionary, a codebook, a documented range), never from the private rows (or rerun zkdp init --from-data, which puts the run outside the DP guarantee):\n  %w",
		ErrInvalid, ErrPlaceholder, path, len(errs), joinIndented(errs))
}

// BindFlag makes a command-line flag override key. A flag the user did not
// set is not bound: viper would otherwise fall back to the flag's default and
// let it beat the file and the environment.
func (l *Loader) BindFlag(key string, f *pflag.Flag) error {
	if f == nil || !f.Changed {
		return nil
	}
	if err := l.v.BindPFlag(key, f); err != nil {
		return fmt.Errorf("config: binding --%s to %s: %w", f.Name, key, err)
	}
	return nil
}

// Load unmarshals the layers into a Config, rejecting unknown keys in the
// file, and validates it.
func (l *Loader) Load() (Config, error) {
	var c Config
	err := l.v.Unmarshal(&c, func(dc *mapstructure.DecoderConfig) {
		dc.ErrorUnused = true
		dc.WeaklyTypedInput = true
	})
	if err != nil {
		return c, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	// A run stores its data source in private/ for the prover to reload the
	// rows: an absolute path keeps that working from any directory.
	for _, p := range []*string{&c.Data.Path, &c.Data.TestPath} {
		if *p != "" && !filepath.IsAbs(*p) {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return c, fmt.Errorf("config: data.path: %w", err)
			}
			*p = abs
		}
	}
	return c, nil
}

// Queue reads only the queue section (defaults, a file if one was read,
// ZKDP_QUEUE_* and bound flags), as Chain does.
func (l *Loader) Queue() (Queue, error) {
	q := Queue{URL: l.v.GetString("queue.url"), User: l.v.GetString("queue.user"), PasswordFile: l.v.GetString("queue.password_file"),
		NKeySeed: l.v.GetString("queue.nkey_seed"), Credentials: l.v.GetString("queue.credentials"), TLSCA: l.v.GetString("queue.tls_ca"),
		TLSCert: l.v.GetString("queue.tls_cert"), TLSKey: l.v.GetString("queue.tls_key"), RunKey: l.v.GetString("queue.run_key"),
		AckWait: l.v.GetString("queue.ack_wait"), MaxDeliver: l.v.GetInt("queue.max_deliver")}
	errs := q.Validate()
	if m, ok := l.v.Get("queue").(map[string]any); ok {
		for k := range m {
			if !slices.Contains(queueKeys, k) {
				errs = append(errs, fmt.Errorf("queue.%s: unknown key (secrets go in files: password_file, nkey_seed, credentials, run_key)", k))
			}
		}
	}
	if len(errs) > 0 {
		return q, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return q, nil
}

// Chain reads only the chain section (defaults, a file if one was read,
// ZKDP_CHAIN_* and bound flags): `zkdp chain verify` needs no training config.
func (l *Loader) Chain() (Chain, error) {
	// Read key by key: viper's UnmarshalKey of a parent key misses values
	// bound to its children (flags, environment).
	c := Chain{RPC: l.v.GetString("chain.rpc"), Keystore: l.v.GetString("chain.keystore"),
		PasswordFile: l.v.GetString("chain.password_file"), Registry: l.v.GetString("chain.registry")}
	errs := c.Validate()
	if m, ok := l.v.Get("chain").(map[string]any); ok {
		for k := range m {
			switch k {
			case "rpc", "keystore", "password_file", "registry":
			default:
				errs = append(errs, fmt.Errorf("chain.%s: unknown key (a key never goes in a config: use an encrypted keystore file)", k))
			}
		}
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return c, nil
}
