package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/run"
)

// Sentinel errors of Open.
var (
	// ErrRunExists: the folder is not empty and neither --resume nor --force was given.
	ErrRunExists = errors.New("pipeline: the output folder is not empty")
	// ErrNothingToResume: --resume on a folder without a state file.
	ErrNothingToResume = errors.New("pipeline: no pipeline run to resume")
	// ErrFlags: --resume and --force together.
	ErrFlags = errors.New("pipeline: give --resume (continue) or --force (start over), not both")
)

// ConfigFile is the config a pipeline run was started with, in private/: a
// config may hold a `seed`, from which the secret seed derives.
const ConfigFile = "config.json"

// OpenOptions say where a run goes and how to treat what is already there.
type OpenOptions struct {
	Dir        string
	ConfigName string // as given on the command line, for the record
	Resume     bool   // continue the pipeline run in Dir
	Force      bool   // start over, removing a previous run's files from Dir
}

// Open prepares the run directory and returns the state for Run without its
// tools (logger, keys, progress), which the caller sets. A fresh run is
// started from cfg; a resumed run uses the config it was started with, so
// that every stage sees the same parameters.
func Open(o OpenOptions, cfg config.Config) (*State, error) {
	statePath := filepath.Join(o.Dir, StateFile)
	if o.Resume {
		if o.Force {
			return nil, ErrFlags
		}
		if !exists(statePath) {
			return nil, fmt.Errorf("%w: %s has no %s", ErrNothingToResume, o.Dir, StateFile)
		}
		f, err := ReadState(statePath)
		if err != nil {
			return nil, err
		}
		d, err := run.Create(o.Dir)
		if err != nil {
			return nil, err
		}
		var stored config.Config
		if err := run.ReadJSON(d.Private(ConfigFile), &stored); err != nil {
			return nil, fmt.Errorf("pipeline: the run's config: %w", err)
		}
		return &State{Dir: d, Config: stored, File: f}, nil
	}
	entries, err := os.ReadDir(o.Dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if len(entries) > 0 {
		if !o.Force {
			if exists(statePath) {
				return nil, fmt.Errorf("%w: %s holds a pipeline run (--resume continues it, --force starts over)", ErrRunExists, o.Dir)
			}
			return nil, fmt.Errorf("%w: %s (--force replaces a previous run's files there)", ErrRunExists, o.Dir)
		}
		if err := removeRun(o.Dir); err != nil {
			return nil, err
		}
	}
	d, err := run.Create(o.Dir)
	if err != nil {
		return nil, err
	}
	if err := run.WriteJSON(d.Private(ConfigFile), cfg, run.PrivateMode); err != nil {
		return nil, err
	}
	f := &File{Version: StateVersion, Config: o.ConfigName}
	if err := WriteState(statePath, f); err != nil {
		return nil, err
	}
	return &State{Dir: d, Config: cfg, File: f}, nil
}

// removeRun deletes what a run writes in root, and only that: --force must
// not wipe a folder the user pointed at by mistake.
func removeRun(root string) error {
	for _, name := range []string{run.PublicDir, run.PrivateDir, run.PlotsDir, run.ReportFile,
		"classification_report.json", "classification_report.txt", StateFile, SummaryFile} {
		if err := os.RemoveAll(filepath.Join(root, name)); err != nil {
			return fmt.Errorf("pipeline: clearing %s: %w", root, err)
		}
	}
	return nil
}
