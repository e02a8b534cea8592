package inferproof

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/circuits/inference"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/internal/testrun"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/trainer"
)

// trainedRun trains a 3-step logistic regression on the breast-cancer rows:
// its inference circuits have a few thousand constraints, so their key setup
// takes about a second.
func trainedRun(t *testing.T) string {
	t.Helper()
	cfg := trainer.DefaultConfig()
	cfg.Steps, cfg.SamplingRate, cfg.ClipNorm, cfg.LearningRate, cfg.NoiseMultiplier = 3, 0.05, 1, 2, 1
	return testrun.Write(t, testrun.Setup(t, cfg, fixedpoint.DefaultFormat(), 2, 5))
}

// modelAndHeldOut reads the run's released model and its held-out rows.
func modelAndHeldOut(t *testing.T, dir string) (run.Model, *Held) {
	t.Helper()
	m, err := Model(dir)
	if err != nil {
		t.Fatal(err)
	}
	held, err := HeldOut(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	return m, held
}

func TestInputErrors(t *testing.T) {
	dir := trainedRun(t)
	m, held := modelAndHeldOut(t, dir)
	row := strings.TrimSuffix(strings.Repeat("0.5,", 30), ",")
	for name, tc := range map[string]struct {
		content string
		want    string
	}{
		"too few features": {"0.1,0.2\n", "in.csv:1: 2 features, the model takes 30"},
		"out of range":     {"# header\n" + row + "\n" + strings.Replace(row, "0.5", "2.5", 1) + "\n", `in.csv:3: feature "mean radius" (#0): 2.5 is outside the quantization range [-2, 2)`},
		"not a number":     {strings.Replace(row, "0.5", "x", 1) + "\n", `in.csv:1: feature "mean radius" (#0): "x" is not a number`},
		"empty":            {"\n# nothing\n", "holds no input"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.csv")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadInputs(path, m, held.Features)
			if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInput containing %q", err, tc.want)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(path, []byte(row+"\n"+row+"\n"), 0o644)
	inputs, err := ReadInputs(path, m, held.Features)
	if err != nil || len(inputs) != 2 || inputs[1][29] != 1<<15 {
		t.Fatalf("got %v, %v", inputs, err)
	}
}

func TestModelMustMatchCommitment(t *testing.T) {
	dir := trainedRun(t)
	d := &run.Dir{Root: dir}
	var m run.Model
	if err := run.ReadJSON(d.Public(run.ModelFile), &m); err != nil {
		t.Fatal(err)
	}
	m.Weights[3]++
	if err := run.WriteJSON(d.Public(run.ModelFile), m, run.PublicMode); err != nil {
		t.Fatal(err)
	}
	if _, err := Model(dir); !errors.Is(err, ErrModel) {
		t.Fatalf("a changed weight: got %v, want ErrModel", err)
	}
	// A consistent model that is not the trained one.
	h, _ := commit.HashPacked(commit.TagModel, m.Weights, m.Format.WeightBits)
	m.Commitment = commit.Hex(h)
	run.WriteJSON(d.Public(run.ModelFile), m, run.PublicMode)
	if _, err := Model(dir); !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), "transcript") {
		t.Fatalf("a model other than M_T: got %v", err)
	}
}

// devKeys accepts the prover's own keys, as the tests' single-party setups make.
var devKeys = prover.KeyTrust{Dev: true}

// TestProveVerifyAndTamper proves a batch for each binding, verifies the run's
// claims from public files, then tampers with each part a verifier relies on.
func TestProveVerifyAndTamper(t *testing.T) {
	dir := trainedRun(t)
	m, held := modelAndHeldOut(t, dir)
	keys := &prover.KeyCache{Dir: t.TempDir()}
	inputs := held.Rows[:2]
	preds, err := Predict(m, inputs)
	if err != nil {
		t.Fatal(err)
	}
	var claims []Claim
	for _, o := range []Options{{Binding: "fixed", Visibility: "hashed"}, {Binding: "committed", Visibility: "public", Logits: true}, {Binding: "committed", Visibility: "private"}} {
		c, err := Prove(context.Background(), dir, inputs, ProveOptions{Options: o, Keys: keys})
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		for i, p := range preds {
			if c.Classes[i] != p.Class {
				t.Fatalf("%s: claim class %d, native %d", c.Circuit, c.Classes[i], p.Class)
			}
		}
		claims = append(claims, c)
	}
	if rep, err := Verify(dir, devKeys); err != nil || rep.Claims != 3 || rep.Trust != prover.TrustDev {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	folder := filepath.Join(dir, run.PublicDir, Dir)
	claimPath := func(c Claim) string { return filepath.Join(folder, strings.TrimSuffix(c.Proof, ".proof")+".json") }

	tamper := func(name string, c Claim, edit func(*Claim), want error) {
		t.Run(name, func(t *testing.T) {
			path := claimPath(c)
			orig, _ := os.ReadFile(path)
			defer os.WriteFile(path, orig, 0o644)
			changed := c
			changed.Classes = append([]int(nil), c.Classes...)
			changed.Logits = append([][]int64(nil), c.Logits...)
			changed.InputHashes = append([]string(nil), c.InputHashes...)
			edit(&changed)
			if err := run.WriteJSON(path, changed, run.PublicMode); err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(dir, devKeys); !errors.Is(err, want) {
				t.Fatalf("got %v, want %v", err, want)
			}
		})
	}
	fixed, public := claims[0], claims[1]
	tamper("changed class", fixed, func(c *Claim) { c.Classes[0] = 1 - c.Classes[0] }, ErrClaim)
	tamper("changed input hash", fixed, func(c *Claim) {
		h, _ := commit.HashPacked(commit.TagInput, held.Rows[5], m.Format.InputBits)
		c.InputHashes[0] = commit.Hex(h)
	}, ErrClaim)
	tamper("changed public input", public, func(c *Claim) {
		c.Inputs = [][]int64{append([]int64(nil), c.Inputs[0]...), c.Inputs[1]}
		c.Inputs[0][0]++
	}, ErrClaim)
	tamper("changed logit", public, func(c *Claim) { c.Logits[0] = []int64{c.Logits[0][0] + 1, c.Logits[0][1]} }, ErrClaim)
	tamper("changed model commitment", public, func(c *Claim) { c.ModelCommitment = "0x" + strings.Repeat("0", 63) + "1" }, ErrClaim)
	tamper("changed binding", fixed, func(c *Claim) { c.Binding = "committed"; c.Circuit = "committed-hashed-b2" }, ErrClaim)
	tamper("verifying key outside the folder", fixed, func(c *Claim) { c.VerifyingKey = "../params.json" }, ErrClaim)
	tamper("huge batch", fixed, func(c *Claim) {
		c.Batch, c.Circuit, c.Classes = MaxBatch+1, fmt.Sprintf("fixed-hashed-b%d", MaxBatch+1), make([]int, MaxBatch+1)
	}, ErrClaim)

	// A proof and public witness consistent with each other but for other
	// inputs: the stored public inputs no longer match the claim.
	t.Run("public witness of another proof", func(t *testing.T) {
		other, err := Prove(context.Background(), dir, held.Rows[2:4], ProveOptions{Options: Options{Binding: "fixed", Visibility: "hashed"}, Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		src, dst := prover.PublicPath(filepath.Join(folder, other.Proof)), prover.PublicPath(filepath.Join(folder, fixed.Proof))
		orig, _ := os.ReadFile(dst)
		defer os.WriteFile(dst, orig, 0o644)
		raw, _ := os.ReadFile(src)
		os.WriteFile(dst, raw, 0o644)
		if _, err := Verify(dir, devKeys); !errors.Is(err, ErrClaim) {
			t.Fatalf("got %v, want ErrClaim", err)
		}
	})
	t.Run("flipped proof byte", func(t *testing.T) {
		path := filepath.Join(folder, public.Proof)
		orig, _ := os.ReadFile(path)
		defer os.WriteFile(path, orig, 0o644)
		bad := append([]byte(nil), orig...)
		bad[40] ^= 1
		os.WriteFile(path, bad, 0o644)
		if _, err := Verify(dir, devKeys); !errors.Is(err, prover.ErrInvalidProof) {
			t.Fatalf("got %v, want ErrInvalidProof", err)
		}
	})
	if rep, err := Verify(dir, devKeys); err != nil || rep.Claims != 4 {
		t.Fatalf("after the tamper cases were undone: %+v, %v", rep, err)
	}
}

// Hashed inputs are published as H(x, salt) with the salt kept in
// private/inference/: a guess of the input, hashed without the salt, does
// not match the claim; the same input proven twice gets two hashes; given
// salts are used as given; the claim verifies from public files.
func TestHashedInputsAreSalted(t *testing.T) {
	dir := trainedRun(t)
	m, held := modelAndHeldOut(t, dir)
	keys := &prover.KeyCache{Dir: t.TempDir()}
	hashed := Options{Binding: "fixed", Visibility: "hashed"}
	x := held.Rows[0]
	first, err := Prove(context.Background(), dir, [][]int64{x}, ProveOptions{Options: hashed, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	guess, _ := commit.HashPacked(commit.TagInput, x, m.Format.InputBits)
	if first.InputHashes[0] == commit.Hex(guess) {
		t.Fatal("the input's unsalted hash reproduces the published one: a guess of the input can be tested")
	}
	d := &run.Dir{Root: dir}
	var rec InputSalts
	path := SaltsPath(d, strings.TrimSuffix(first.Proof, ".proof"))
	if err := run.ReadJSON(path, &rec); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 || !strings.HasPrefix(path, d.Private("")) {
		t.Fatalf("salts file %s: %v", path, err)
	}
	salt, err := commit.ParseHex(rec.Salts[0])
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := inference.InputHash(m.Format, x, salt); commit.Hex(h) != first.InputHashes[0] || rec.InputHashes[0] != first.InputHashes[0] {
		t.Fatal("the kept salt does not open the published hash")
	}
	second, err := Prove(context.Background(), dir, [][]int64{x}, ProveOptions{Options: hashed, Keys: keys})
	if err != nil || second.InputHashes[0] == first.InputHashes[0] {
		t.Fatalf("the same input proven twice: %v, hashes %v and %v", err, first.InputHashes, second.InputHashes)
	}
	given, err := inference.NewSalt() // the owner's choice
	if err != nil {
		t.Fatal(err)
	}
	third, err := Prove(context.Background(), dir, [][]int64{x}, ProveOptions{Options: hashed, Salts: []fr.Element{given}, Keys: keys})
	if want, _ := inference.InputHash(m.Format, x, given); err != nil || third.InputHashes[0] != commit.Hex(want) {
		t.Fatalf("a given salt: %v, hash %v", err, third.InputHashes)
	}
	if _, err := Prove(context.Background(), dir, [][]int64{x}, ProveOptions{Options: hashed, Salts: []fr.Element{given, given}, Keys: keys}); !errors.Is(err, ErrInput) {
		t.Fatalf("two salts for one input: %v", err)
	}
	if rep, err := Verify(dir, devKeys); err != nil || rep.Claims != 3 {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	testrun.AssertNothingPrivate(t, dir)
}
