// Package pipeline runs zkdp's main job as a list of named stages, in the
// order the protocol needs (commit D, S and the params hash; fix the
// beacon; train from the public W_0 it defines; recompute epsilon; prove every step; verify), and records
// each finished stage in a state file so that an interrupted run resumes
// from the first unfinished stage.
//
// A stage is a name and a function over the shared [State]. The on-chain
// stages (register the run so the registry fixes the beacon, submit steps,
// finalize, verify inferences) and the inference-proof stage plug in as more
// [Stage] values: see [Stages].
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
)

// Sentinel errors.
var (
	// ErrStage: a stage failed; the error names it and wraps its cause.
	ErrStage = errors.New("pipeline: stage failed")
	// ErrState: the state file cannot be read or makes no sense.
	ErrState = errors.New("pipeline: corrupt state file")
	// ErrStages: the stage list itself is wrong (empty or repeated names).
	ErrStages = errors.New("pipeline: invalid stage list")
)

// StateFile is the state file's name in the run directory.
const StateFile = "pipeline.json"

// StateVersion is the version of the state file this code writes.
const StateVersion = 1

// Status of a stage in the state file.
type Status string

// Stage statuses.
const (
	Running  Status = "running" // started; a kill leaves it so
	Failed   Status = "failed"
	Finished Status = "finished"
)

// Stage is one named step of the pipeline. Run must leave what it finished
// in place when it fails, and must be safe to run again from the start after
// an interruption (the runner reruns an unfinished stage).
type Stage struct {
	Name string
	Run  func(ctx context.Context, s *State) error
}

// Record is one stage's entry in the state file.
type Record struct {
	Name       string          `json:"name"`
	Status     Status          `json:"status"`
	Attempts   int             `json:"attempts"`
	Seconds    float64         `json:"seconds"` // wall time over every attempt
	FinishedAt time.Time       `json:"finished_at,omitzero"`
	Error      string          `json:"error,omitempty"` // the last failure's cause
	Result     json.RawMessage `json:"result,omitempty"`
}

// File is the state file: the config the run was started from (by name,
// for the record) and one record per started stage, in order.
type File struct {
	Version int    `json:"version"`
	Config  string `json:"config"`
	// From is the released run this run continues (zkdp pipeline --from):
	// a resumed run trains from it again, and a simulated chain takes it
	// on-chain first.
	From   *From    `json:"from,omitempty"`
	Stages []Record `json:"stages"`
}

// From names the run whose released model a pipeline run continues.
type From struct {
	Dir string `json:"dir"` // absolute
	// SharesRows: the new run's records may include the earlier run's, so
	// the accountant composes both (params.parent.shares_rows).
	SharesRows bool `json:"shares_rows"`
}

// record returns the stage's record, adding it if missing.
func (f *File) record(name string) *Record {
	for i := range f.Stages {
		if f.Stages[i].Name == name {
			return &f.Stages[i]
		}
	}
	f.Stages = append(f.Stages, Record{Name: name})
	return &f.Stages[len(f.Stages)-1]
}

// Lookup returns the record of a stage, or nil if it never started.
func (f *File) Lookup(name string) *Record {
	for i := range f.Stages {
		if f.Stages[i].Name == name {
			return &f.Stages[i]
		}
	}
	return nil
}

// ReadState reads and checks a state file; every error wraps ErrState and
// names the file.
func ReadState(path string) (*File, error) {
	var f File
	if err := run.ReadJSON(path, &f); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrState, path, err)
	}
	if f.Version != StateVersion {
		return nil, fmt.Errorf("%w %s: version %d, this zkdp reads version %d", ErrState, path, f.Version, StateVersion)
	}
	seen := map[string]bool{}
	for i, r := range f.Stages {
		switch {
		case r.Name == "":
			return nil, fmt.Errorf("%w %s: stage %d has no name", ErrState, path, i)
		case seen[r.Name]:
			return nil, fmt.Errorf("%w %s: stage %q appears twice", ErrState, path, r.Name)
		}
		switch r.Status {
		case Running, Failed, Finished:
		default:
			return nil, fmt.Errorf("%w %s: stage %q has status %q", ErrState, path, r.Name, r.Status)
		}
		seen[r.Name] = true
	}
	return &f, nil
}

// WriteState writes the state file atomically (public: it holds no secret).
func WriteState(path string, f *File) error {
	return run.WriteJSON(path, f, run.PublicMode)
}

// State is what the stages share. Stages read their inputs from the run
// directory's files, never from memory left by an earlier stage, so that a
// resumed run sees what an uninterrupted one would.
type State struct {
	Dir    *run.Dir
	Config config.Config
	Logger *slog.Logger
	Keys   *prover.KeyCache // Groth16 key cache; nil: the default one
	// StepKeys, if set, supplies the step circuit's keys instead of Keys
	// (a ceremony's sealed keys).
	StepKeys prover.KeySource
	// Trust is the rule by which the verify, infer and chain stages accept
	// verifying keys; its Derive (a ceremony's) applies to the step circuit
	// only. The zero value accepts no key: a caller that verifies the keys
	// the pipeline made itself says so with Dev, and the summary then says
	// that the run's proofs prove nothing to a third party.
	Trust prover.KeyTrust
	// From is the released model the run continues (File.From's, checked
	// against its transcript's M_T); nil for a fresh run.
	From *run.Released
	// Workers is how many proofs are computed at once.
	Workers int
	// Fleet, if set, starts what proves the steps elsewhere (a prover fleet,
	// package fleet) for the run in dir: stepproof.Options.Remote, and the
	// function that stops it.
	Fleet func(ctx context.Context, dir string) (remote RemoteProver, stop func(), err error)
	// Progress, if set, reports a stage's inner progress (training steps,
	// proofs); it is never called concurrently.
	Progress func(stage string, done, total int)
	File     *File

	current *Record
}

// SetResult records v (JSON) as the running stage's result in the state
// file; a failing stage may record what it did before failing.
func (s *State) SetResult(v any) error {
	if s.current == nil {
		return fmt.Errorf("pipeline: SetResult outside a stage")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("pipeline: stage %s: encoding its result: %w", s.current.Name, err)
	}
	s.current.Result = b
	return nil
}

// Result decodes the recorded result of stage into v; false if the stage
// recorded none.
func (s *State) Result(stage string, v any) (bool, error) {
	r := s.File.Lookup(stage)
	if r == nil || len(r.Result) == 0 {
		return false, nil
	}
	if err := json.Unmarshal(r.Result, v); err != nil {
		return false, fmt.Errorf("%w %s: stage %q result: %w", ErrState, s.statePath(), stage, err)
	}
	return true, nil
}

func (s *State) statePath() string { return s.Dir.Path(StateFile) }

func (s *State) progress(stage string, done, total int) {
	if s.Progress != nil {
		s.Progress(stage, done, total)
	}
}

func (s *State) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// StageError is a stage's failure: it names the stage and wraps both
// ErrStage and the cause.
type StageError struct {
	Stage string
	Err   error
}

func (e *StageError) Error() string   { return fmt.Sprintf("stage %q failed: %v", e.Stage, e.Err) }
func (e *StageError) Unwrap() []error { return []error{ErrStage, e.Err} }

// Run runs the stages in order, skipping those the state file records as
// finished, and saves the state file before and after each stage. It stops
// at the first failure, which it records and returns as a *StageError.
func Run(ctx context.Context, s *State, stages []Stage) error {
	if err := checkStages(stages); err != nil {
		return err
	}
	log := s.log()
	for i, st := range stages {
		rec := s.File.record(st.Name)
		if rec.Status == Finished {
			log.Info("stage already finished, skipping", "stage", st.Name, "n", i+1, "of", len(stages))
			continue
		}
		if err := ctx.Err(); err != nil {
			return &StageError{Stage: st.Name, Err: err}
		}
		rec.Status, rec.Error = Running, ""
		rec.Attempts++
		if err := WriteState(s.statePath(), s.File); err != nil {
			return &StageError{Stage: st.Name, Err: err}
		}
		log.Info("stage", "stage", st.Name, "n", i+1, "of", len(stages), "attempt", rec.Attempts)
		start := time.Now()
		s.current = rec
		err := st.Run(ctx, s)
		s.current = nil
		rec.Seconds += time.Since(start).Seconds()
		if err != nil {
			rec.Status, rec.Error = Failed, err.Error()
			if werr := WriteState(s.statePath(), s.File); werr != nil {
				err = errors.Join(err, werr)
			}
			log.Error("stage failed", "stage", st.Name, "err", err)
			return &StageError{Stage: st.Name, Err: err}
		}
		rec.Status, rec.FinishedAt = Finished, time.Now().UTC()
		if err := WriteState(s.statePath(), s.File); err != nil {
			return &StageError{Stage: st.Name, Err: err}
		}
		log.Info("stage finished", "stage", st.Name, "seconds", rec.Seconds)
	}
	return nil
}

func checkStages(stages []Stage) error {
	if len(stages) == 0 {
		return fmt.Errorf("%w: no stages", ErrStages)
	}
	seen := map[string]bool{}
	for i, st := range stages {
		switch {
		case st.Name == "" || st.Run == nil:
			return fmt.Errorf("%w: stage %d needs a name and a function", ErrStages, i)
		case seen[st.Name]:
			return fmt.Errorf("%w: %q appears twice", ErrStages, st.Name)
		}
		seen[st.Name] = true
	}
	return nil
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// stepKeys is where the step circuit's keys come from, as stepproof.Prove
// picks them: StepKeys, else Keys, else the default key cache.
func (s *State) stepKeys() (prover.KeySource, error) {
	switch {
	case s.StepKeys != nil:
		return s.StepKeys, nil
	case s.Keys != nil:
		return s.Keys, nil
	}
	keys, err := prover.DefaultKeyCache()
	if err != nil {
		return nil, err
	}
	keys.Logger = s.log()
	return keys, nil
}
