package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/run"
)

func quickstart(t *testing.T) config.Config {
	t.Helper()
	l := config.NewLoader()
	if err := l.ReadFile("quickstart"); err != nil {
		t.Fatal(err)
	}
	cfg, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func open(t *testing.T, o OpenOptions) *State {
	t.Helper()
	s, err := Open(o, quickstart(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A stage that writes a file, then one that fails: the error names the
// failing stage and wraps its cause, the state file records both, and the
// first stage's file stays.
func TestFailureNamesStageAndKeepsArtifacts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	s := open(t, OpenOptions{Dir: dir, ConfigName: "quickstart"})
	cause := errors.New("disk on fire")
	stages := []Stage{
		{"write", func(_ context.Context, s *State) error {
			return run.WriteFile(s.Dir.Path("artifact"), []byte("kept"), run.PublicMode)
		}},
		{"explode", func(context.Context, *State) error { return cause }},
		{"never", func(context.Context, *State) error { t.Error("ran after a failure"); return nil }},
	}
	err := Run(context.Background(), s, stages)
	var se *StageError
	if !errors.As(err, &se) || se.Stage != "explode" || !errors.Is(err, ErrStage) || !errors.Is(err, cause) ||
		!strings.Contains(err.Error(), `"explode"`) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("got %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "artifact")); err != nil || string(b) != "kept" {
		t.Fatalf("the finished stage's artifact: %q %v", b, err)
	}
	f, err := ReadState(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	if w, e := f.Lookup("write"), f.Lookup("explode"); w == nil || w.Status != Finished || e == nil || e.Status != Failed ||
		e.Error != "disk on fire" || e.Attempts != 1 || f.Lookup("never") != nil {
		t.Fatalf("state %+v", f)
	}
}

// --resume skips finished stages and reruns the failed one.
func TestResumeSkipsFinishedStages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	calls := map[string]int{}
	fail := true
	stages := []Stage{
		{"a", func(_ context.Context, s *State) error { calls["a"]++; return s.SetResult(map[string]int{"n": 7}) }},
		{"b", func(context.Context, *State) error {
			calls["b"]++
			if fail {
				return errors.New("interrupted")
			}
			return nil
		}},
		{"c", func(context.Context, *State) error { calls["c"]++; return nil }},
	}
	if err := Run(context.Background(), open(t, OpenOptions{Dir: dir}), stages); err == nil {
		t.Fatal("b did not fail")
	}
	fail = false
	s := open(t, OpenOptions{Dir: dir, Resume: true})
	if err := Run(context.Background(), s, stages); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(calls, map[string]int{"a": 1, "b": 2, "c": 1}) {
		t.Fatalf("calls %v", calls)
	}
	var got map[string]int
	if ok, err := s.Result("a", &got); !ok || err != nil || got["n"] != 7 {
		t.Fatalf("a's result after resuming: %v %v %v", got, ok, err)
	}
	if r := s.File.Lookup("b"); r.Attempts != 2 || r.Status != Finished || r.Error != "" {
		t.Fatalf("b %+v", r)
	}
	// Everything finished: a second resume runs nothing.
	if err := Run(context.Background(), open(t, OpenOptions{Dir: dir, Resume: true}), stages); err != nil || calls["c"] != 1 {
		t.Fatalf("%v %v", err, calls)
	}
}

func TestStateFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), StateFile)
	f := &File{Version: StateVersion, Config: "quickstart", Stages: []Record{
		{Name: "a", Status: Finished, Attempts: 1, Seconds: 1.5, FinishedAt: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), Result: []byte(`{"x":1}`)},
		{Name: "b", Status: Failed, Attempts: 2, Seconds: 3, Error: "boom"},
	}}
	if err := WriteState(path, f); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(path)
	if err != nil {
		t.Fatal(err)
	}
	// Results are compared as JSON: the file indents them.
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(f)
	if string(a) != string(b) {
		t.Fatalf("read %s, wrote %s", a, b)
	}
}

// A corrupt state file gives an error that says so and names the file.
func TestCorruptStateFile(t *testing.T) {
	for name, content := range map[string]string{
		"truncated":      `{"version": 1, "stages": [`,
		"unknown field":  `{"version": 1, "stages": [], "extra": 1}`,
		"wrong version":  `{"version": 99, "stages": []}`,
		"unknown status": `{"version": 1, "stages": [{"name": "a", "status": "maybe"}]}`,
		"repeated stage": `{"version": 1, "stages": [{"name": "a", "status": "failed"}, {"name": "a", "status": "failed"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			open(t, OpenOptions{Dir: dir})
			path := filepath.Join(dir, StateFile)
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(OpenOptions{Dir: dir, Resume: true}, config.Config{})
			if !errors.Is(err, ErrState) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// The run folder is never overwritten by accident.
func TestOpenGuardsTheFolder(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := quickstart(t)
	if _, err := Open(OpenOptions{Dir: dir}, cfg); !errors.Is(err, ErrRunExists) {
		t.Fatalf("a non-empty folder without --force: %v", err)
	}
	if _, err := Open(OpenOptions{Dir: dir, Resume: true}, cfg); !errors.Is(err, ErrNothingToResume) {
		t.Fatalf("--resume without a state file: %v", err)
	}
	if _, err := Open(OpenOptions{Dir: dir, Resume: true, Force: true}, cfg); !errors.Is(err, ErrFlags) {
		t.Fatalf("--resume --force: %v", err)
	}
	s, err := Open(OpenOptions{Dir: dir, Force: true}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.WriteFile(s.Dir.Public("x"), nil, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(OpenOptions{Dir: dir}, cfg); !errors.Is(err, ErrRunExists) || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("a pipeline folder without --resume or --force: %v", err)
	}
	if _, err := Open(OpenOptions{Dir: dir, Force: true}, cfg); err != nil {
		t.Fatal(err)
	}
	// --force removed the previous run's files and nothing else.
	if _, err := os.Stat(s.Dir.Public("x")); !os.IsNotExist(err) {
		t.Fatalf("a previous run's file survived --force: %v", err)
	}
	if b, err := os.ReadFile(other); err != nil || string(b) != "mine" {
		t.Fatalf("--force touched a file that is not the run's: %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, run.PrivateDir, ConfigFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the stored config: %v", err)
	}
}

func TestStageListChecked(t *testing.T) {
	s := open(t, OpenOptions{Dir: filepath.Join(t.TempDir(), "run")})
	noop := func(context.Context, *State) error { return nil }
	for _, stages := range [][]Stage{nil, {{"a", noop}, {"a", noop}}, {{"", noop}}, {{"a", nil}}} {
		if err := Run(context.Background(), s, stages); !errors.Is(err, ErrStages) {
			t.Fatalf("%v: got %v", stages, err)
		}
	}
}
