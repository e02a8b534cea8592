package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/internal/testrun"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
)

// --from: the state file records the released run (absolute path, shared
// rows), the state carries its checked model for the commit and train
// stages, and a resumed run reads it again; a released model that is not
// its run's M_T, --disjoint-rows alone, or a folder that is no run are
// refused before the output folder is touched.
func TestOpenFrom(t *testing.T) {
	cfg, format := testrun.SmallSteps()
	parent := testrun.Write(t, testrun.Setup(t, cfg, format, 3, 5))
	qs := quickstart(t)
	dir := filepath.Join(t.TempDir(), "child")
	s, err := Open(OpenOptions{Dir: dir, From: parent}, qs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := stepproof.ReadReleased(parent)
	if err != nil {
		t.Fatal(err)
	}
	if s.From == nil || s.From.Parent.RunCommitment != want.Parent.RunCommitment || !s.From.Parent.SharesRows {
		t.Fatalf("state's released model %+v", s.From)
	}
	f, err := ReadState(filepath.Join(dir, StateFile))
	if err != nil || f.From == nil || f.From.Dir != parent || !f.From.SharesRows || !filepath.IsAbs(f.From.Dir) {
		t.Fatalf("state file's from %+v, %v", f.From, err)
	}
	setup, err := setupOf(s, run.Secret{Seed: commit.Hex(dp.SeedFromUint64(1))}, run.DataSource{Data: qs.Data, SplitSeed: 1})
	if err != nil || setup.From != s.From {
		t.Fatalf("setupOf does not pass the released model on: %v", err)
	}
	resumed, err := Open(OpenOptions{Dir: dir, Resume: true}, qs)
	if err != nil || resumed.From == nil || resumed.From.Parent.Model != want.Parent.Model {
		t.Fatalf("resumed: %+v, %v", resumed, err)
	}
	disjoint, err := Open(OpenOptions{Dir: filepath.Join(t.TempDir(), "d"), From: parent, DisjointRows: true}, qs)
	if err != nil || disjoint.From.Parent.SharesRows || disjoint.File.From.SharesRows {
		t.Fatalf("--disjoint-rows: %+v, %v", disjoint.File.From, err)
	}

	for _, tc := range []struct {
		name string
		o    OpenOptions
		want string
	}{
		{"--disjoint-rows without --from", OpenOptions{DisjointRows: true}, "--disjoint-rows needs --from"},
		{"not a run", OpenOptions{From: t.TempDir()}, "not a run directory"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		tc.o.Dir = out
		if _, err := Open(tc.o, qs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: the output folder was created", tc.name)
		}
	}
	modelPath := (&run.Dir{Root: parent}).Public(run.ModelFile)
	var m run.Model
	if err := run.ReadJSON(modelPath, &m); err != nil {
		t.Fatal(err)
	}
	m.Weights[0]++
	if err := run.WriteJSON(modelPath, m, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(OpenOptions{Dir: filepath.Join(t.TempDir(), "x"), From: parent}, qs); !errors.Is(err, stepproof.ErrReleasedModel) {
		t.Fatalf("a tampered released model: %v", err)
	}
}

// On the simulated chain a continued run's lineage is taken on-chain from
// its directories: the parent is --from, and a grandparent is the --from
// that the parent's own pipeline run recorded. A parent that continues a
// run but records no directory of it is refused, naming what to do.
func TestLineageDirs(t *testing.T) {
	cfg, format := testrun.SmallSteps()
	grand := testrun.Write(t, testrun.Setup(t, cfg, format, 3, 5))
	rel, err := stepproof.ReadReleased(grand)
	if err != nil {
		t.Fatal(err)
	}
	child := testrun.Setup(t, cfg, format, 4, 6)
	child.From = rel
	parent := testrun.Write(t, child)
	p, err := (&run.Dir{Root: parent}).ReadParams()
	if err != nil || p.Parent == nil {
		t.Fatalf("the parent's params: %v", err)
	}
	// The run being piped continues parent; its params' parent is parent.
	var q run.Params
	q.Parent = &run.Parent{RunCommitment: "0x1"}

	if _, err := lineageDirs(nil, q); !errors.Is(err, ErrLineageDir) || !strings.Contains(err.Error(), "--from") {
		t.Fatalf("no --from: %v", err)
	}
	if dirs, err := lineageDirs(&From{Dir: grand}, q); err != nil || len(dirs) != 1 || dirs[0] != grand {
		t.Fatalf("a fresh parent: %v, %v", dirs, err)
	}
	_, err = lineageDirs(&From{Dir: parent}, q)
	if !errors.Is(err, ErrLineageDir) || !strings.Contains(err.Error(), p.Parent.RunCommitment) || !strings.Contains(err.Error(), "chain.rpc") {
		t.Fatalf("a parent that records no directory of its own parent: %v", err)
	}
	if err := WriteState(filepath.Join(parent, StateFile), &File{Version: StateVersion, From: &From{Dir: grand, SharesRows: true}}); err != nil {
		t.Fatal(err)
	}
	dirs, err := lineageDirs(&From{Dir: parent}, q)
	if err != nil || len(dirs) != 2 || dirs[0] != parent || dirs[1] != grand {
		t.Fatalf("the lineage: %v, %v", dirs, err)
	}
}
