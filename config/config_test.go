package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/zkdp/zkdp/configs"
	"github.com/zkdp/zkdp/data"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Precedence: flags > ZKDP_* environment > file > defaults.
func TestPrecedence(t *testing.T) {
	base, err := configs.Read("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	body := string(base) + "\nseed: 11\n"
	body = strings.Replace(body, "  eval_every: 2\n", "  eval_every: 7\n", 1)
	if !strings.Contains(body, "eval_every: 7") {
		t.Fatal("quickstart.yaml no longer sets training.eval_every: 2")
	}
	path := writeConfig(t, body)

	t.Setenv("ZKDP_SEED", "22")
	t.Setenv("ZKDP_TRAINING_EVAL_EVERY", "9")
	t.Setenv("ZKDP_TRAINING_CLIP_NORM", "0.25")

	l := NewLoader()
	if err := l.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.Uint64("seed", 0, "")
	fs.Int("steps", 0, "")
	if err := fs.Parse([]string{"--seed=33"}); err != nil {
		t.Fatal(err)
	}
	for key, name := range map[string]string{"seed": "seed", "training.steps": "steps"} {
		if err := l.BindFlag(key, fs.Lookup(name)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed == nil || *c.Seed != 33 {
		t.Errorf("seed: flag must beat env and file, got %v", c.Seed)
	}
	if c.Training.EvalEvery != 9 {
		t.Errorf("eval_every: env must beat file, got %d", c.Training.EvalEvery)
	}
	if c.Training.ClipNorm != 0.25 {
		t.Errorf("clip_norm: env must beat file, got %v", c.Training.ClipNorm)
	}
	fileOnly := NewLoader()
	if err := fileOnly.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	// An unset flag does not override: steps comes from the file.
	fc, err := fileOnly.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Training.Steps != fc.Training.Steps || c.Training.Steps == 0 {
		t.Errorf("steps: an unset flag overrode the file (%d vs %d)", c.Training.Steps, fc.Training.Steps)
	}
	if c.Log.Level != "info" || c.FixedPoint.FracBits != 16 {
		t.Errorf("defaults not applied: %+v %+v", c.Log, c.FixedPoint)
	}
}

func TestEnvSeedAlone(t *testing.T) {
	t.Setenv("ZKDP_SEED", "5")
	l := NewLoader()
	if err := l.ReadFile("quickstart"); err != nil {
		t.Fatal(err)
	}
	c, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed == nil || *c.Seed != 5 {
		t.Fatalf("ZKDP_SEED ignored: %v", c.Seed)
	}
}

func TestShippedConfigsValidate(t *testing.T) {
	for _, name := range configs.Names() {
		l := NewLoader()
		if err := l.ReadFile(name); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Load(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// An invalid config fails before any work, listing every problem.
func TestInvalidConfigListsEveryProblem(t *testing.T) {
	path := writeConfig(t, `
data:
  name: nosuch
training:
  steps: 0
  sampling_rate: 3
  clip_norm: 1
  learning_rate: 1
  epsilon: 1
beacon: "0x12"
log:
  level: loud
`)
	l := NewLoader()
	if err := l.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	_, err := l.Load()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v", err)
	}
	for _, key := range []string{"data.name", "training.steps", "training.sampling_rate", "beacon", "log.level"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
}

func TestUnknownKeyRejected(t *testing.T) {
	base, _ := configs.Read("quickstart")
	path := writeConfig(t, string(base)+"\ntraining_typo: 3\n")
	l := NewLoader()
	if err := l.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Load(); err == nil || !strings.Contains(err.Error(), "training_typo") {
		t.Fatalf("unknown key not named: %v", err)
	}
}

func TestMissingFileNamed(t *testing.T) {
	l := NewLoader()
	err := l.ReadFile("no/such/file.yaml")
	if err == nil || !strings.Contains(err.Error(), "no/such/file.yaml") {
		t.Fatalf("got %v", err)
	}
}

// An unset flag with a default (seed 0) must not make the run reproducible.
func TestUnsetFlagDoesNotOverride(t *testing.T) {
	l := NewLoader()
	if err := l.ReadFile("quickstart"); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.Uint64("seed", 0, "")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := l.BindFlag("seed", fs.Lookup("seed")); err != nil {
		t.Fatal(err)
	}
	c, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != nil {
		t.Fatalf("seed set to %d by an unset flag", *c.Seed)
	}
}

// Keys names every key viper knows, and setDefaults is built on it.
func TestKeysCoverViper(t *testing.T) {
	keys := map[string]Key{}
	for _, k := range Keys() {
		if _, dup := keys[k.Name]; dup {
			t.Errorf("key %s listed twice", k.Name)
		}
		keys[k.Name] = k
	}
	for _, name := range NewLoader().v.AllKeys() {
		if _, ok := keys[name]; !ok {
			t.Errorf("viper key %s is not in Keys()", name)
		}
	}
	for _, name := range []string{"seed", "beacon", "data.features[].min", "training.steps", "fixed_point.lattice_bits", "log.format"} {
		if _, ok := keys[name]; !ok {
			t.Errorf("Keys() lacks %s", name)
		}
	}
	if k := keys["training.delta"]; k.Default != 1e-5 || k.Owner.Name() != "Config" || k.Owner.PkgPath() != "github.com/zkdp/zkdp/trainer" {
		t.Errorf("training.delta: %+v", k)
	}
}

// Settings keys the decoded config like the file, nested, with a nil seed.
func TestSettings(t *testing.T) {
	c := Defaults()
	c.Data.Features = []data.FeatureSpec{{Column: "a", Kind: data.KindMinMax, Max: 2}}
	s := Settings(c)
	if s["seed"] != nil || s["beacon"] != "" {
		t.Errorf("seed %v, beacon %v", s["seed"], s["beacon"])
	}
	tr := s["training"].(map[string]any)
	if tr["delta"] != 1e-5 || tr["accountant"] != "rdp" {
		t.Errorf("training: %v", tr)
	}
	f := s["data"].(map[string]any)["features"].([]any)[0].(map[string]any)
	if f["column"] != "a" || f["max"] != 2.0 || f["kind"] != data.KindMinMax {
		t.Errorf("features[0]: %v", f)
	}
	seed := uint64(7)
	c.Seed = &seed
	if got := Settings(c)["seed"]; got != uint64(7) {
		t.Errorf("seed 7 became %v", got)
	}
}

// The chain section: an RPC URL needs a keystore file, and a raw key is an
// unknown key, in the whole config and in the chain section alone.
func TestChainSection(t *testing.T) {
	base, err := configs.Read("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	for body, want := range map[string]string{
		"chain:\n  rpc: http://127.0.0.1:8545\n": "chain.keystore",
		"chain:\n  private_key: 0x0123\n":        "private_key",
		"chain:\n  registry: 0x12\n":             "chain.registry",
		"chain:\n  rpc: http://x:1\n  keystore: k.json\n  registry: 0x" + strings.Repeat("ab", 20) + "\n": "",
	} {
		path := writeConfig(t, string(base)+"\n"+body)
		for _, whole := range []bool{true, false} {
			l := NewLoader()
			if err := l.ReadFile(path); err != nil {
				t.Fatal(err)
			}
			if whole {
				_, err = l.Load()
			} else {
				_, err = l.Chain()
			}
			switch {
			case want == "" && err != nil:
				t.Errorf("%q: %v", body, err)
			case want != "" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want)):
				t.Errorf("%q (whole config %v): got %v, want an error naming %s", body, whole, err, want)
			}
		}
	}
	t.Setenv("ZKDP_CHAIN_RPC", "http://127.0.0.1:8545")
	t.Setenv("ZKDP_CHAIN_KEYSTORE", "key.json")
	c, err := NewLoader().Chain()
	if err != nil || c.RPC != "http://127.0.0.1:8545" || c.Keystore != "key.json" {
		t.Fatalf("environment: %+v, %v", c, err)
	}
}

// A placeholder `zkdp init` left is refused before decoding, naming the
// file, line, column and key of each.
func TestPlaceholdersRefused(t *testing.T) {
	path := writeConfig(t, `data:
  name: patients
  path: patients.csv
  label: diagnosis
  classes: "PLACEHOLDER: from a public data dictionary (the label's values)"
  test_fraction: 0.2
  max_rows: 64
  features:
    - column: age
      kind: minmax
      min: 0
      max: "PLACEHOLDER: from a public data dictionary (documented maximum)"
    - column: sex
      kind: onehot
      categories: [F, "PLACEHOLDER: from a public data dictionary"]
`)
	err := NewLoader().ReadFile(path)
	if !errors.Is(err, ErrPlaceholder) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v, want ErrPlaceholder and ErrInvalid", err)
	}
	for _, want := range []string{
		path + ":5:12: data.classes: placeholder left",
		path + ":12:12: data.features[0].max: placeholder left",
		path + ":15:23: data.features[1].categories[1]: placeholder left",
		"3 of them",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\ndoes not say %q", err, want)
		}
	}
}

// The queue section: bad values and unknown keys (a password inline) are
// named, in the whole config and in the queue section alone; ZKDP_QUEUE_*
// reaches it.
func TestQueueSection(t *testing.T) {
	base, err := configs.Read("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	for body, want := range map[string]string{
		"queue:\n  url: http://x:4222\n": "queue.url",
		"queue:\n  password: hunter2\n":  "password",
		"queue:\n  ack_wait: soon\n":     "queue.ack_wait",
		"queue:\n  max_deliver: 0\n":     "queue.max_deliver",
		"queue:\n  tls_cert: c.pem\n":    "queue.tls_cert",
		"queue:\n  url: tls://h:4222\n  user: z\n  password_file: p\n  tls_ca: ca.pem\n  ack_wait: 2m\n  max_deliver: 3\n": "",
	} {
		path := writeConfig(t, string(base)+"\n"+body)
		for _, whole := range []bool{true, false} {
			l := NewLoader()
			if err := l.ReadFile(path); err != nil {
				t.Fatal(err)
			}
			if whole {
				_, err = l.Load()
			} else {
				_, err = l.Queue()
			}
			switch {
			case want == "" && err != nil:
				t.Errorf("%q: %v", body, err)
			case want != "" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want)):
				t.Errorf("%q (whole config %v): got %v, want an error naming %s", body, whole, err, want)
			}
		}
	}
	t.Setenv("ZKDP_QUEUE_URL", "nats://10.0.0.1:4222")
	q, err := NewLoader().Queue()
	if err != nil || q.URL != "nats://10.0.0.1:4222" || q.AckWait != "30s" || q.MaxDeliver != 5 {
		t.Fatalf("environment and defaults: %+v, %v", q, err)
	}
}
