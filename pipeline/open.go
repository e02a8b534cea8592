package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
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
	// From is a run directory whose released model the new run continues
	// (W_0 is its W_T); DisjointRows declares that the new records share
	// none with it. A resumed run uses the run it was started from.
	From         string
	DisjointRows bool
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
		s := &State{Dir: d, Config: stored, File: f}
		if s.From, err = released(f.From); err != nil {
			return nil, err
		}
		return s, nil
	}
	if o.DisjointRows && o.From == "" {
		return nil, fmt.Errorf("%w: --disjoint-rows needs --from", ErrFlags)
	}
	var from *From
	if o.From != "" {
		abs, err := filepath.Abs(o.From)
		if err != nil {
			return nil, fmt.Errorf("pipeline: --from %s: %w", o.From, err)
		}
		from = &From{Dir: abs, SharesRows: !o.DisjointRows}
	}
	rel, err := released(from) // before touching Dir: a bad --from changes nothing
	if err != nil {
		return nil, err
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
	f := &File{Version: StateVersion, Config: o.ConfigName, From: from}
	if err := WriteState(statePath, f); err != nil {
		return nil, err
	}
	return &State{Dir: d, Config: cfg, File: f, From: rel}, nil
}

// released reads and checks the released model that f names (nil: none).
func released(f *From) (*run.Released, error) {
	if f == nil {
		return nil, nil
	}
	rel, err := stepproof.ReadReleased(f.Dir)
	if err != nil {
		return nil, fmt.Errorf("pipeline: continuing %s: %w", f.Dir, err)
	}
	rel.Parent.SharesRows = f.SharesRows
	return rel, nil
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
