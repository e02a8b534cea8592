//go:build prover_checks

package stepproof

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/internal/testrun"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
)

// Prove a small run end to end, resume, verify from public files, and reject
// every tampering of the public material.
func TestProveVerifyTamper(t *testing.T) {
	dir := smallRun(t)
	keys := &prover.KeyCache{Dir: t.TempDir()}
	sum, err := Prove(context.Background(), dir, Options{Workers: 1, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Proven != 2 {
		t.Fatalf("proved %d steps, want 2", sum.Proven)
	}
	rep, err := Verify(dir, devKeys)
	if err != nil {
		t.Fatalf("honest run rejected: %v", err)
	}
	t.Logf("verified %d steps, circuit %d constraints", rep.Steps, rep.Constraints)

	// Resume: a deleted proof is proven again, the other is kept.
	d := &run.Dir{Root: dir}
	if err := os.Remove(ProofPath(d, 1)); err != nil {
		t.Fatal(err)
	}
	sum, err = Prove(context.Background(), dir, Options{Workers: 1, Keys: keys})
	if err != nil || sum.Proven != 1 || sum.Skipped != 1 {
		t.Fatalf("resume: %+v, %v", sum, err)
	}

	// Nothing private reached a file outside private/, proofs included.
	testrun.AssertNothingPrivate(t, dir)

	tamper := func(name string, path string, change func([]byte) []byte, want error) {
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, change(bytes.Clone(orig)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = Verify(dir, devKeys)
		if err == nil || (want != nil && !errors.Is(err, want)) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
		os.WriteFile(path, orig, 0o644)
	}
	tamper("flipped bit in a proof", ProofPath(d, 0), func(b []byte) []byte { b[len(b)/2] ^= 1; return b }, ErrProof)
	tamper("public input changed", prover.PublicPath(ProofPath(d, 1)), func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, ErrChain)
	step0, _ := os.ReadFile(ProofPath(d, 0))
	pub0, _ := os.ReadFile(prover.PublicPath(ProofPath(d, 0)))
	tamper("step 0's proof replayed for step 1", ProofPath(d, 1), func([]byte) []byte { return step0 }, ErrProof)
	tamper("step 0's statement for step 1", prover.PublicPath(ProofPath(d, 1)), func([]byte) []byte { return pub0 }, ErrChain)
	tamper("model chain altered", d.Public(run.TranscriptFile), func(b []byte) []byte {
		i := bytes.Index(b, []byte(`"model_commitments"`))
		j := bytes.IndexByte(b[i:], 'x') + i + 5 // a hex digit of M_0
		if b[j] == '1' {
			b[j] = '2'
		} else {
			b[j] = '1'
		}
		return b
	}, nil)
	if _, err := Verify(dir, devKeys); err != nil {
		t.Fatalf("restored run rejected: %v", err)
	}
}

// A run whose dataset is committed flat (a larger sampling rate makes the
// flat lookup cheaper than the tree's paths and the leaves' per-slot
// hashes) is proven and verified, and its dataset salt stays in private/.
func TestProveVerifyFlatMembership(t *testing.T) {
	cfg, format := testrun.SmallSteps()
	cfg.Steps, cfg.SamplingRate = 1, 0.2
	dir := testrun.Write(t, testrun.Setup(t, cfg, format, 8, 99))
	var p run.Params
	if err := run.ReadJSON((&run.Dir{Root: dir}).Public(run.ParamsFile), &p); err != nil {
		t.Fatal(err)
	}
	if p.Membership() != data.MembershipFlat {
		t.Fatalf("the run's dataset is committed %v, want flat", p.Membership())
	}
	if _, err := Prove(context.Background(), dir, Options{Workers: 1, Keys: &prover.KeyCache{Dir: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(dir, devKeys)
	if err != nil {
		t.Fatalf("honest flat run rejected: %v", err)
	}
	t.Logf("verified %d steps, circuit %d constraints", rep.Steps, rep.Constraints)
	testrun.AssertNothingPrivate(t, dir)
}

// A continued run is proven and verified from public files with its
// lineage: its step 0 proof starts from the parent's released model under
// the continued circuit (M_0 in the run commitment), the parent is verified
// too, and the lineage must be complete and the one the params name.
func TestProveVerifyContinuedRun(t *testing.T) {
	parent, dir := continuedRun(t)
	keys := &prover.KeyCache{Dir: t.TempDir()}
	for _, d := range []string{parent, dir} {
		if _, err := Prove(context.Background(), d, Options{Workers: 1, Keys: keys}); err != nil {
			t.Fatal(err)
		}
	}
	reps, err := VerifyLineage([]string{dir, parent}, devKeys)
	if err != nil {
		t.Fatalf("the continued run and its parent are rejected: %v", err)
	}
	if len(reps) != 2 || reps[0].Parent == nil || reps[1].Parent != nil {
		t.Fatalf("reports %+v", reps)
	}
	t.Logf("verified %d + %d steps, continued circuit %d constraints, fresh %d", reps[0].Steps, reps[1].Steps, reps[0].Constraints, reps[1].Constraints)
	testrun.AssertNothingPrivate(t, dir)
	if _, err := VerifyLineage([]string{dir}, devKeys); !errors.Is(err, ErrLineage) {
		t.Fatalf("a continued run without its parent: got %v, want ErrLineage", err)
	}
	if _, err := VerifyLineage([]string{dir, dir}, devKeys); !errors.Is(err, ErrLineage) {
		t.Fatalf("a continued run with another run as its parent: got %v, want ErrLineage", err)
	}
	if _, err := VerifyLineage([]string{parent, dir}, devKeys); !errors.Is(err, ErrLineage) {
		t.Fatalf("a fresh run given a parent: got %v, want ErrLineage", err)
	}
}
