package ceremony

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/prover"
)

// chainCircuit is a tiny circuit with a commitment (the step circuit's range
// checks use one, so phase 2's σ part is exercised): Y = X^(2^Rounds) + X.
type chainCircuit struct {
	Rounds int `gnark:"-"`
	X      frontend.Variable
	Y      frontend.Variable `gnark:",public"`
}

func (c *chainCircuit) Define(api frontend.API) error {
	v := c.X
	for range c.Rounds {
		v = api.Mul(v, v)
	}
	cm, err := api.(frontend.Committer).Commit(c.X, v)
	if err != nil {
		return err
	}
	api.AssertIsDifferent(cm, 0)
	api.AssertIsEqual(api.Add(v, c.X), c.Y)
	return nil
}

func compileChain(t testing.TB, rounds int) constraint.ConstraintSystem {
	t.Helper()
	ccs, err := prover.Compile(&chainCircuit{Rounds: rounds})
	if err != nil {
		t.Fatal(err)
	}
	return ccs
}

// witnessFor is the assignment of chainCircuit{rounds} for X = 3.
func witnessFor(t testing.TB, rounds int) frontend.Circuit {
	v := new(big.Int).Exp(big.NewInt(3), new(big.Int).Lsh(big.NewInt(1), uint(rounds)), ecc.BN254.ScalarField())
	return &chainCircuit{Rounds: rounds, X: 3, Y: v.Add(v, big.NewInt(3))}
}

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

const (
	testRounds  = 200 // about 200 constraints: domain 256
	beacon1Text = "phase 1 beacon: block 123456's hash"
	beacon2Text = "phase 2 beacon: block 123999's hash"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// sealedCeremony runs one full small ceremony (3 phase-1 and 2 phase-2
// contributions) once per test binary and returns its folder; tests that
// alter it work on a copy.
func sealedCeremony(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "ceremony-fixture-")
		if fixtureErr != nil {
			return
		}
		fixtureErr = runCeremony(fixtureDir, compileChain(t, testRounds), 3, 2)
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

func runCeremony(dir string, ccs constraint.ConstraintSystem, k1, k2 int) error {
	c := &Ceremony{Dir: dir, Logger: quiet()}
	if err := c.InitPhase1(DomainSize(ccs)); err != nil {
		return err
	}
	for range k1 {
		if _, _, err := c.Contribute(Phase1); err != nil {
			return err
		}
	}
	if _, err := c.SealPhase1([]byte(beacon1Text)); err != nil {
		return err
	}
	if err := c.InitPhase2(ccs, "chain"); err != nil {
		return err
	}
	for range k2 {
		if _, _, err := c.Contribute(Phase2); err != nil {
			return err
		}
	}
	_, err := c.SealPhase2(ccs, []byte(beacon2Text))
	return err
}

// copyCeremony copies the sealed fixture so a test can alter it.
func copyCeremony(t *testing.T) string {
	t.Helper()
	src, dst := sealedCeremony(t), t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestCeremonyKeysProveAndVerify(t *testing.T) {
	dir := sealedCeremony(t)
	ccs := compileChain(t, testRounds)
	c := &Ceremony{Dir: dir, Logger: quiet()}

	vk, rep, err := c.Verify(ccs, Beacons{Phase1: []byte(beacon1Text), Phase2: []byte(beacon2Text)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Phase1Contributions != 3 || rep.Phase2Contributions != 2 || rep.DomainSize != 256 {
		t.Errorf("report %+v, want 3 and 2 contributions over domain 256", rep)
	}
	// The derived key is the sealed one, byte for byte.
	var derived bytes.Buffer
	if _, err := vk.WriteTo(&derived); err != nil {
		t.Fatal(err)
	}
	sealed, err := os.ReadFile(filepath.Join(dir, Phase2Dir, VKFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(derived.Bytes(), sealed) {
		t.Fatal("the verifying key derived from the transcript is not keys.vk")
	}

	keys := c.KeySource()
	pk, pvk, err := keys.Setup(ccs, "chain")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(keys.Kind(), "3 phase-1 and 2 phase-2 contributions") {
		t.Errorf("kind %q", keys.Kind())
	}
	w, err := frontend.NewWitness(witnessFor(t, testRounds), ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	proof, err := groth16.Prove(ccs, pk, w)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := w.Public()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []groth16.VerifyingKey{vk, pvk} {
		if err := groth16.Verify(proof, key, pub); err != nil {
			t.Fatalf("a proof with the ceremony's keys does not verify: %v", err)
		}
	}
	// A wrong statement does not verify.
	bad, _ := frontend.NewWitness(&chainCircuit{Rounds: testRounds, X: 0, Y: 7}, ecc.BN254.ScalarField(), frontend.PublicOnly())
	if err := groth16.Verify(proof, vk, bad); err == nil {
		t.Fatal("a proof verified against another public input")
	}
}

// flipLast changes the last byte of a file: the contribution's challenge,
// the hash of the file it claims to build on.
func flipLast(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewriteHeader gives a file the header of another place in the chain.
func rewriteHeader(t *testing.T, path string, p Phase, index int, domain uint64, circuit string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, _, payload, err := parseHeader(path, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append([]byte(header(p, index, domain, circuit)), payload...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCeremonyRejectsTampering(t *testing.T) {
	ccs := compileChain(t, testRounds)
	hash, err := prover.CircuitHash(ccs)
	if err != nil {
		t.Fatal(err)
	}
	p1 := func(dir string, i int) string { return (&Ceremony{Dir: dir}).ContributionPath(Phase1, i) }
	p2 := func(dir string, i int) string { return (&Ceremony{Dir: dir}).ContributionPath(Phase2, i) }
	cases := []struct {
		name   string
		alter  func(t *testing.T, dir string)
		want   error
		inFile string // the error must name this file (relative to dir)
	}{
		{"modified phase-1 contribution", func(t *testing.T, dir string) { flipLast(t, p1(dir, 2)) }, ErrInvalidContribution, "phase1/0002.ph1"},
		{"modified phase-2 contribution", func(t *testing.T, dir string) { flipLast(t, p2(dir, 1)) }, ErrInvalidContribution, "phase2/0001.ph2"},
		{"phase-1 file removed", func(t *testing.T, dir string) { os.Remove(p1(dir, 2)) }, ErrChain, "phase1/0003.ph1"},
		{"phase-1 files swapped", func(t *testing.T, dir string) {
			os.Rename(p1(dir, 1), p1(dir, 9))
			os.Rename(p1(dir, 2), p1(dir, 1))
			os.Rename(p1(dir, 9), p1(dir, 2))
		}, ErrChain, "phase1/0001.ph1"},
		{"phase-1 files swapped, headers rewritten", func(t *testing.T, dir string) {
			os.Rename(p1(dir, 1), p1(dir, 9))
			os.Rename(p1(dir, 2), p1(dir, 1))
			os.Rename(p1(dir, 9), p1(dir, 2))
			rewriteHeader(t, p1(dir, 1), Phase1, 1, 256, "")
			rewriteHeader(t, p1(dir, 2), Phase1, 2, 256, "")
		}, ErrInvalidContribution, "phase1/0001.ph1"},
		{"phase-1 file removed, the rest renumbered", func(t *testing.T, dir string) {
			os.Remove(p1(dir, 2))
			os.Rename(p1(dir, 3), p1(dir, 2))
			rewriteHeader(t, p1(dir, 2), Phase1, 2, 256, "")
		}, ErrInvalidContribution, "phase1/0002.ph1"},
		{"phase-2 file claims another circuit", func(t *testing.T, dir string) {
			rewriteHeader(t, p2(dir, 2), Phase2, 2, 256, strings.Repeat("ab", 32))
		}, ErrChain, "phase2/0002.ph2"},
		{"hostile domain size", func(t *testing.T, dir string) { rewriteHeader(t, p1(dir, 0), Phase1, 0, 1<<40, "") }, ErrMalformed, "phase1/0000.ph1"},
		{"truncated phase-2 file", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(p2(dir, 2))
			os.WriteFile(p2(dir, 2), b[:len(b)-100], 0o644)
		}, ErrMalformed, "phase2/0002.ph2"},
		{"phase-1 seal names another beacon", func(t *testing.T, dir string) {
			path := filepath.Join(dir, Phase1Dir, SealFile)
			b, _ := os.ReadFile(path)
			os.WriteFile(path, bytes.Replace(b, []byte(`"beacon": "70`), []byte(`"beacon": "71`), 1), 0o644)
		}, ErrSealMismatch, "phase1/seal.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyCeremony(t)
			tc.alter(t, dir)
			_, _, err := (&Ceremony{Dir: dir, Logger: quiet()}).Verify(ccs, Beacons{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), filepath.Join(dir, tc.inFile)) {
				t.Errorf("the error does not name %s: %v", tc.inFile, err)
			}
		})
	}

	t.Run("corrupted point bytes", func(t *testing.T) {
		dir := copyCeremony(t)
		path := p1(dir, 1)
		b, _ := os.ReadFile(path)
		b[len(b)/2] ^= 0x10
		os.WriteFile(path, b, 0o644)
		_, _, err := (&Ceremony{Dir: dir, Logger: quiet()}).Verify(ccs, Beacons{})
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalidContribution) {
			t.Fatalf("got %v, want ErrMalformed or ErrInvalidContribution", err)
		}
	})

	t.Run("wrong beacon", func(t *testing.T) {
		c := &Ceremony{Dir: sealedCeremony(t), Logger: quiet()}
		for _, b := range []Beacons{{Phase1: []byte("another beacon")}, {Phase2: []byte("another beacon")}} {
			if _, _, err := c.Verify(ccs, b); !errors.Is(err, ErrBeacon) {
				t.Errorf("beacons %q: got %v, want ErrBeacon", b, err)
			}
		}
	})

	t.Run("phase 2 of another circuit", func(t *testing.T) {
		other := compileChain(t, testRounds+1) // same domain, another circuit
		c := &Ceremony{Dir: sealedCeremony(t), Logger: quiet()}
		_, _, err := c.Verify(other, Beacons{})
		if !errors.Is(err, ErrCircuitMismatch) || !strings.Contains(err.Error(), hash) {
			t.Errorf("Verify: got %v, want ErrCircuitMismatch naming %s", err, hash)
		}
		if _, _, err := c.KeySource().Setup(other, "other"); !errors.Is(err, ErrCircuitMismatch) {
			t.Errorf("KeySource: got %v, want ErrCircuitMismatch", err)
		}
		big := compileChain(t, 300) // needs domain 512
		dir := copyCeremony(t)
		os.RemoveAll(filepath.Join(dir, Phase2Dir))
		if err := (&Ceremony{Dir: dir, Logger: quiet()}).InitPhase2(big, "big"); !errors.Is(err, ErrCircuitMismatch) {
			t.Errorf("InitPhase2 with a circuit too large: got %v, want ErrCircuitMismatch", err)
		}
	})

	t.Run("altered keys", func(t *testing.T) {
		dir := copyCeremony(t)
		flipLast(t, filepath.Join(dir, Phase2Dir, VKFile))
		if _, _, err := (&Ceremony{Dir: dir, Logger: quiet()}).KeySource().Setup(ccs, "chain"); !errors.Is(err, ErrSealMismatch) {
			t.Errorf("got %v, want ErrSealMismatch", err)
		}
	})

	t.Run("sealed phases take no contribution", func(t *testing.T) {
		dir := copyCeremony(t)
		c := &Ceremony{Dir: dir, Logger: quiet()}
		for _, p := range []Phase{Phase1, Phase2} {
			if _, _, err := c.Contribute(p); !errors.Is(err, ErrSealed) {
				t.Errorf("phase %d: got %v, want ErrSealed", p, err)
			}
		}
		if _, err := c.SealPhase1([]byte("again")); !errors.Is(err, ErrSealed) {
			t.Errorf("second seal: got %v, want ErrSealed", err)
		}
		if err := c.InitPhase1(256); !errors.Is(err, ErrExists) {
			t.Errorf("second start: got %v, want ErrExists", err)
		}
	})
}

func TestCeremonyNeedsContributions(t *testing.T) {
	c := &Ceremony{Dir: t.TempDir(), Logger: quiet()}
	if err := c.InitPhase1(8); err != nil {
		t.Fatal(err)
	}
	// With no contribution the SRS would follow from the public beacon alone.
	if _, err := c.SealPhase1([]byte("beacon")); !errors.Is(err, ErrChain) {
		t.Fatalf("got %v, want ErrChain", err)
	}
	if err := c.InitPhase2(compileChain(t, 3), "chain"); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("phase 2 before phase 1's seal: got %v, want ErrNotSealed", err)
	}
	if err := c.InitPhase1(12); err == nil || !errors.Is(err, ErrMalformed) {
		t.Fatalf("domain 12: got %v", err)
	}
	// Writing never replaces a contribution.
	path, _, err := c.Contribute(Phase1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeNew(path, func(w io.Writer) error { return nil }); !errors.Is(err, ErrExists) {
		t.Fatalf("got %v, want ErrExists", err)
	}
}

func TestPhase1SizeMatchesGnark(t *testing.T) {
	for _, n := range []uint64{2, 8, 64} {
		var b bytes.Buffer
		c := &Ceremony{Dir: t.TempDir(), Logger: quiet()}
		if err := c.InitPhase1(n); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(c.ContributionPath(Phase1, 0))
		_, _, _, _, payload, _ := parseHeader("", raw)
		b.Write(payload)
		if got := uint64(b.Len()); got != phase1Size(n, 0) {
			t.Errorf("n=%d: %d bytes, phase1Size says %d", n, got, phase1Size(n, 0))
		}
	}
}

// A verifier trusts the key it derives from the transcript (prover.KeyTrust's
// Derive, what `zkdp verify --ceremony` uses): the sealed keys.vk is accepted
// as derived; a single-party key of the same circuit is refused, even by a
// verifier that would accept development keys.
func TestDerivedKeyTrust(t *testing.T) {
	dir := sealedCeremony(t)
	ccs := compileChain(t, testRounds)
	hash, err := prover.CircuitHash(ccs)
	if err != nil {
		t.Fatal(err)
	}
	trust := prover.KeyTrust{Dev: true, Derive: func(ccs constraint.ConstraintSystem, _ string) (groth16.VerifyingKey, error) {
		vk, _, err := (&Ceremony{Dir: dir, Logger: quiet()}).Verify(ccs, Beacons{})
		return vk, err
	}}
	c := &Ceremony{Dir: dir}
	if _, level, err := trust.Check(c.path(Phase2, VKFile), ccs, hash); err != nil || level != prover.TrustDerived {
		t.Fatalf("the ceremony's key: %v, %v", level, err)
	}
	_, vk, err := groth16.Setup(ccs)
	if err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(t.TempDir(), "step.vk")
	if err := prover.WriteVerifyingKey(own, vk); err != nil {
		t.Fatal(err)
	}
	if _, _, err := trust.Check(own, ccs, hash); !errors.Is(err, prover.ErrUntrustedKey) {
		t.Fatalf("a single-party key: got %v, want ErrUntrustedKey", err)
	}
}
