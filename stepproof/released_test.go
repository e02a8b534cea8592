package stepproof

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkdp/zkdp/circuits/step"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/internal/testrun"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/trainer"
)

// continuedRun trains a small run, then a second one that continues its
// released model (on the same records, so their guarantees compose), and
// returns both directories.
func continuedRun(t *testing.T) (parent, child string) {
	t.Helper()
	parent = smallRun(t)
	rel, err := ReadReleased(parent)
	if err != nil {
		t.Fatal(err)
	}
	rel.Parent.SharesRows = true
	cfg, format := testrun.SmallSteps()
	cfg.Steps = 3
	s := testrun.Setup(t, cfg, format, 12, 34)
	s.From = rel
	return parent, testrun.Write(t, s)
}

// A continued run starts from its parent's released model: its M_0 is the
// parent's M_T, its params name the parent (run commitment, params, M_T),
// its run commitment binds M_0, and its report composes both runs'
// guarantees for the records they share, as dp.Compose does.
func TestContinuedRunStartsFromTheParentsModel(t *testing.T) {
	parentDir, childDir := continuedRun(t)
	parent, err := ReadPublic(parentDir)
	if err != nil {
		t.Fatal(err)
	}
	child, err := ReadPublic(childDir)
	if err != nil {
		t.Fatalf("the continued run's public files: %v", err)
	}
	mT := parent.Models[parent.Params.Steps]
	if child.Models[0] != mT {
		t.Fatalf("M_0 %s, the parent's M_T %s", commit.Hex(child.Models[0]), commit.Hex(mT))
	}
	par := child.Params.Parent
	if par == nil || par.Model != commit.Hex(mT) || par.RunCommitment != commit.Hex(parent.RunCommitment()) || !par.SharesRows {
		t.Fatalf("params.parent %+v does not name the parent run", par)
	}
	if h, _ := par.Params.Hash(); h != parent.ParamsHash {
		t.Fatal("params.parent.params are not the parent's params")
	}
	want := step.ContinuedRunCommitment(child.ParamsHash, child.DatasetRoot, child.SeedCommitment, child.Beacon, child.Params.Steps, mT)
	if child.RunCommitment() != want {
		t.Fatal("the continued run's commitment does not bind M_0")
	}
	spec, err := Spec(child.Params)
	if err != nil || !spec.Continued {
		t.Fatalf("the continued run's circuit is not a continued one: %+v, %v", spec.Continued, err)
	}

	var rep trainer.Report
	if err := run.ReadJSON(filepath.Join(childDir, run.ReportFile), &rep); err != nil {
		t.Fatal(err)
	}
	composed, err := dp.Compose([]dp.Mechanism{child.Params.Mechanism(), parent.Params.Mechanism()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Lineage == nil || rep.Lineage.Runs != 2 || rep.Lineage.Privacy != composed || rep.ParentRun != par.RunCommitment {
		t.Fatalf("report lineage %+v, want 2 runs at %+v", rep.Lineage, composed)
	}
	own, _ := child.Params.Mechanism().Guarantee()
	if !(composed.Epsilon > own.Epsilon) || rep.Epsilon != own.Epsilon {
		t.Fatalf("composed epsilon %v, the run's own %v (report %v)", composed.Epsilon, own.Epsilon, rep.Epsilon)
	}
}

// Records new to the lineage are not composed: the report states the run's
// own guarantee only.
func TestContinuedRunOnNewRecords(t *testing.T) {
	rel, err := ReadReleased(smallRun(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg, format := testrun.SmallSteps()
	s := testrun.Setup(t, cfg, format, 12, 34)
	s.From = rel // SharesRows false
	res, err := trainer.Train(t.Context(), s, trainer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Lineage != nil || res.Params.Parent == nil {
		t.Fatalf("lineage %+v, parent %v", res.Lineage, res.Params.Parent)
	}
}

// A released model that is not the run's M_T is refused, by ReadReleased
// and by the trainer; a continued run whose transcript starts elsewhere, or
// whose params name another model, fails ReadPublic.
func TestContinuedRunRefusesTamperedModels(t *testing.T) {
	parentDir, childDir := continuedRun(t)
	pd, cd := &run.Dir{Root: parentDir}, &run.Dir{Root: childDir}

	var m run.Model
	if err := run.ReadJSON(pd.Public(run.ModelFile), &m); err != nil {
		t.Fatal(err)
	}
	m.Weights[0]++
	rewrite(t, pd.Public(run.ModelFile), m, func() {
		if _, err := ReadReleased(parentDir); !errors.Is(err, ErrReleasedModel) {
			t.Fatalf("a tampered released model: got %v, want ErrReleasedModel", err)
		}
	})
	rel, err := ReadReleased(parentDir)
	if err != nil {
		t.Fatal(err)
	}
	rel.Weights[0]++
	cfg, format := testrun.SmallSteps()
	s := testrun.Setup(t, cfg, format, 12, 34)
	s.From = rel
	if _, err := trainer.Train(t.Context(), s, trainer.Options{}); !errors.Is(err, trainer.ErrContinued) {
		t.Fatalf("the trainer continued weights that are not M_T: %v", err)
	}
	cfg.Hidden = []int{3}
	s = testrun.Setup(t, cfg, format, 12, 34)
	rel.Weights[0]--
	s.From = rel
	if _, err := trainer.Train(t.Context(), s, trainer.Options{}); !errors.Is(err, trainer.ErrContinued) {
		t.Fatalf("the trainer continued a model of another shape: %v", err)
	}

	var tr run.Transcript
	if err := run.ReadJSON(cd.Public(run.TranscriptFile), &tr); err != nil {
		t.Fatal(err)
	}
	tr.ModelCommitments[0] = tr.ModelCommitments[1]
	rewrite(t, cd.Public(run.TranscriptFile), tr, func() {
		if _, err := ReadPublic(childDir); !errors.Is(err, ErrInitialModel) {
			t.Fatalf("a continued run starting from another model: got %v, want ErrInitialModel", err)
		}
	})
	var p run.Params
	if err := run.ReadJSON(cd.Public(run.ParamsFile), &p); err != nil {
		t.Fatal(err)
	}
	p.Parent.Model = tr.ModelCommitments[1]
	rewrite(t, cd.Public(run.ParamsFile), p, func() {
		if _, err := ReadPublic(childDir); !errors.Is(err, ErrChain) {
			t.Fatalf("params naming another parent model: got %v, want ErrChain", err)
		}
	})
}

// rewrite writes v to path, runs check, and restores the file.
func rewrite(t *testing.T, path string, v any, check func()) {
	t.Helper()
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.WriteJSON(path, v, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	check()
	if err := os.WriteFile(path, orig, run.PublicMode); err != nil {
		t.Fatal(err)
	}
}

// CheckParent accepts the run a continued run's params name, and no other
// (here a run of the same config with another seed and beacon, whose
// params hash alike but whose run commitment and M_T differ).
func TestCheckParent(t *testing.T) {
	parentDir, childDir := continuedRun(t)
	read := func(dir string) *Public {
		pub, err := ReadPublic(dir)
		if err != nil {
			t.Fatal(err)
		}
		return pub
	}
	child, parent := read(childDir), read(parentDir)
	if err := CheckParent(child, parent); err != nil {
		t.Fatalf("the named parent: %v", err)
	}
	cfg, format := testrun.SmallSteps()
	other := read(testrun.Write(t, testrun.Setup(t, cfg, format, 5, 6)))
	if err := CheckParent(child, other); !errors.Is(err, ErrLineage) {
		t.Fatalf("another run as the parent: got %v, want ErrLineage", err)
	}
	if err := CheckParent(parent, child); !errors.Is(err, ErrLineage) {
		t.Fatalf("a fresh run's parent: got %v, want ErrLineage", err)
	}
}
