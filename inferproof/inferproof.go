// Package inferproof proves and verifies inference claims about a run's
// released model with the inference circuit (package circuits/inference):
// "for the model committed as M_T (or baked into the verifying key), these
// inputs are classified so". It reads the run's public model, writes each
// proof with its claim under DIR/public/inference/, and verifies them from
// public files only.
package inferproof

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/witness"
	"github.com/consensys/gnark/constraint"
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/inference"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
)

// Dir is the public folder of inference proofs, claims and verifying keys.
const Dir = "inference"

// Sentinel errors.
var (
	// ErrModel: model.json does not match its commitment or the transcript's M_T.
	ErrModel = errors.New("inferproof: model does not match its commitment")
	// ErrInput: an input has the wrong length or a value outside the quantization range.
	ErrInput = errors.New("inferproof: bad input")
	// ErrClaim: a claim file disagrees with its proof, its circuit or the model.
	ErrClaim = errors.New("inferproof: claim does not match")
	// ErrOption: an unknown binding or visibility name.
	ErrOption = errors.New("inferproof: unknown option")
)

// Bindings and Visibilities name the circuit options on the command line and in claims.
var (
	Bindings     = map[string]inference.Binding{"committed": inference.Committed, "fixed": inference.Fixed}
	Visibilities = map[string]inference.Visibility{"public": inference.Public, "private": inference.Private, "hashed": inference.Hashed}
)

// Claim is what one inference proof states, in public/inference/<name>.json.
type Claim struct {
	Circuit         string    `json:"circuit"` // e.g. committed-hashed-b1
	CircuitHash     string    `json:"circuit_hash"`
	Constraints     int       `json:"constraints"`
	Binding         string    `json:"model_binding"`
	Visibility      string    `json:"input_visibility"`
	Batch           int       `json:"batch"`
	ModelCommitment string    `json:"model_commitment"` // M_T; for fixed binding the verifying key commits to the same weights
	Classes         []int     `json:"classes"`
	Logits          [][]int64 `json:"logits,omitempty"`       // when proven public
	InputHashes     []string  `json:"input_hashes,omitempty"` // hashed visibility: H(TagInput, x, salt), the salt private
	Inputs          [][]int64 `json:"inputs,omitempty"`       // public visibility
	Proof           string    `json:"proof"`                  // file name in public/inference/
	VerifyingKey    string    `json:"verifying_key"`          // file name in public/inference/
	Setup           string    `json:"setup"`
}

// Options choose the circuit.
type Options struct {
	Binding    string // committed or fixed
	Visibility string // public, private or hashed
	Logits     bool   // make the logits public too
}

// MaxBatch bounds the inputs of one claim: a verifier compiles the claim's
// circuit, whose size grows with its batch, from a file anyone may write.
const MaxBatch = 1024

func (o Options) spec(m run.Model, batch int) (inference.Spec, error) {
	if batch < 1 || batch > MaxBatch {
		return inference.Spec{}, fmt.Errorf("%w: a batch of %d inputs, want [1, %d]", ErrInput, batch, MaxBatch)
	}
	b, ok := Bindings[o.Binding]
	if !ok {
		return inference.Spec{}, fmt.Errorf("%w: model binding %q (committed or fixed)", ErrOption, o.Binding)
	}
	v, ok := Visibilities[o.Visibility]
	if !ok {
		return inference.Spec{}, fmt.Errorf("%w: input visibility %q (public, private or hashed)", ErrOption, o.Visibility)
	}
	s := inference.Spec{Widths: m.Widths, Format: m.Format, Batch: batch, Binding: b, Visibility: v, Logits: o.Logits}
	if b == inference.Fixed {
		s.Weights = m.Weights
	}
	return s, nil
}

// KeyName names an inference circuit for key sources and ceremonies.
func KeyName(circuit string) string { return "inference/" + circuit }

var circuitPattern = regexp.MustCompile(`^([a-z]+)-([a-z]+)(-logits)?-b([1-9][0-9]{0,3})$`)

// ParseCircuit parses a circuit name (Claim.Circuit, e.g.
// committed-hashed-b2) into its options and batch size.
func ParseCircuit(name string) (Options, int, error) {
	m := circuitPattern.FindStringSubmatch(name)
	if m == nil {
		return Options{}, 0, fmt.Errorf("%w: circuit %q: want <binding>-<visibility>[-logits]-b<batch>, e.g. committed-hashed-b2", ErrOption, name)
	}
	o := Options{Binding: m[1], Visibility: m[2], Logits: m[3] != ""}
	if _, ok := Bindings[o.Binding]; !ok {
		return o, 0, fmt.Errorf("%w: circuit %q: model binding %q (committed or fixed)", ErrOption, name, o.Binding)
	}
	if _, ok := Visibilities[o.Visibility]; !ok {
		return o, 0, fmt.Errorf("%w: circuit %q: input visibility %q (public, private or hashed)", ErrOption, name, o.Visibility)
	}
	batch, _ := strconv.Atoi(m[4])
	return o, batch, nil
}

// Circuit compiles the inference circuit that name (see ParseCircuit)
// defines for the run's released model: what a ceremony sets up keys for.
func Circuit(dir, name string) (constraint.ConstraintSystem, error) {
	o, batch, err := ParseCircuit(name)
	if err != nil {
		return nil, err
	}
	m, err := Model(dir)
	if err != nil {
		return nil, err
	}
	spec, err := o.spec(m, batch)
	if err != nil {
		return nil, err
	}
	ccs, _, err := compile(spec)
	return ccs, err
}

// circuitName names a circuit's options, e.g. committed-hashed-logits-b4.
func (o Options) circuitName(batch int) string {
	name := o.Binding + "-" + o.Visibility
	if o.Logits {
		name += "-logits"
	}
	return fmt.Sprintf("%s-b%d", name, batch)
}

// Model reads the run's released model and checks it against its own
// commitment and the transcript's last model commitment M_T.
func Model(dir string) (run.Model, error) {
	d, err := run.Open(dir)
	if err != nil {
		return run.Model{}, err
	}
	var m run.Model
	if err := run.ReadJSON(d.Public(run.ModelFile), &m); err != nil {
		return m, err
	}
	var tr run.Transcript
	if err := run.ReadJSON(d.Public(run.TranscriptFile), &tr); err != nil {
		return m, err
	}
	if err := m.Validate(); err != nil {
		return m, fmt.Errorf("%w: %s: %w", ErrModel, d.Public(run.ModelFile), err)
	}
	h, err := commit.HashPacked(commit.TagModel, m.Weights, m.Format.WeightBits)
	if err != nil {
		return m, fmt.Errorf("%w: %s: %w", ErrModel, d.Public(run.ModelFile), err)
	}
	if commit.Hex(h) != m.Commitment {
		return m, fmt.Errorf("%w: %s: the weights hash to %s, the file says %s", ErrModel, d.Public(run.ModelFile), commit.Hex(h), m.Commitment)
	}
	if len(tr.ModelCommitments) == 0 || tr.ModelCommitments[len(tr.ModelCommitments)-1] != m.Commitment {
		return m, fmt.Errorf("%w: %s is not the transcript's last model commitment", ErrModel, d.Public(run.ModelFile))
	}
	return m, nil
}

// InputError locates a bad input value.
type InputError struct {
	Source  string // file name or "row N"
	Line    int    // 1-based line of Source; 0 when not from a file
	Feature int    // 0-based feature index; -1 for the whole input
	Name    string // the feature's name, when known
	Err     error
}

func (e *InputError) Error() string {
	at := e.Source
	if e.Line > 0 {
		at += ":" + strconv.Itoa(e.Line)
	}
	if e.Feature < 0 {
		return fmt.Sprintf("%s: %v", at, e.Err)
	}
	name := "#" + strconv.Itoa(e.Feature)
	if e.Name != "" {
		name = fmt.Sprintf("%q (#%d)", e.Name, e.Feature)
	}
	return fmt.Sprintf("%s: feature %s: %v", at, name, e.Err)
}

func (e *InputError) Unwrap() error        { return e.Err }
func (e *InputError) Is(target error) bool { return target == ErrInput }

// Quantize turns one input in the model's feature space (the scaled values
// the trainer saw) into the circuit's fixed point, checking its length and
// the format's input bound, -2^InputBits <= x < 2^InputBits in lattice units.
func Quantize(m run.Model, x []float64, source string, line int, names []string) ([]int64, error) {
	if len(x) != m.Widths[0] {
		return nil, &InputError{Source: source, Line: line, Feature: -1, Err: fmt.Errorf("%d features, the model takes %d", len(x), m.Widths[0])}
	}
	f := m.Format
	lim := int64(1) << f.InputBits
	lo, hi := -math.Ldexp(1, int(f.InputBits)-int(f.FracBits)), math.Ldexp(1, int(f.InputBits)-int(f.FracBits))
	out := make([]int64, len(x))
	for i, v := range x {
		q, err := fixedpoint.Quantize(v, f.FracBits)
		if err == nil && (q < -lim || q >= lim) {
			err = fmt.Errorf("%v is outside the quantization range [%g, %g)", v, lo, hi)
		}
		if err != nil {
			name := ""
			if i < len(names) {
				name = names[i]
			}
			return nil, &InputError{Source: source, Line: line, Feature: i, Name: name, Err: err}
		}
		out[i] = q
	}
	return out, nil
}

// ReadInputs parses a CSV file of inputs, one per line, each a comma-separated
// list of the model's features (already scaled as the trainer scales them);
// blank lines and lines starting with # are skipped.
func ReadInputs(path string, m run.Model, names []string) ([][]int64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	var out [][]int64
	for i, text := range strings.Split(string(raw), "\n") {
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, ",")
		x := make([]float64, len(fields))
		for j, s := range fields {
			if x[j], err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
				name := ""
				if j < len(names) {
					name = names[j]
				}
				return nil, &InputError{Source: path, Line: i + 1, Feature: j, Name: name, Err: fmt.Errorf("%q is not a number", s)}
			}
		}
		q, err := Quantize(m, x, path, i+1, names)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s holds no input", ErrInput, path)
	}
	return out, nil
}

// Prediction is one input's native result.
type Prediction struct {
	Class  int
	Logits []int64
}

// Predict runs the quantized forward pass natively: exactly what the circuit proves.
func Predict(m run.Model, inputs [][]int64) ([]Prediction, error) {
	out := make([]Prediction, len(inputs))
	for i, x := range inputs {
		r, err := inference.Infer(m.Format, m.Widths, m.Weights, x)
		if err != nil {
			return nil, fmt.Errorf("inferproof: input %d: %w", i, err)
		}
		out[i] = Prediction{Class: r.Class, Logits: r.Logits}
	}
	return out, nil
}

// ProveOptions tune Prove.
type ProveOptions struct {
	Options
	// Salts are the hashed inputs' salts, one per input, chosen by the
	// inputs' owner; nil draws fresh ones from crypto/rand. Either way they
	// go to private/inference/, never to public/.
	Salts []fr.Element
	Keys  *prover.KeyCache
	// KeySource, when set, supplies the keys instead of Keys: the sealed
	// keys of a multi-party ceremony for this circuit (package ceremony).
	KeySource prover.KeySource
	Logger    *slog.Logger
}

// InputSalts is private/inference/infer-NNNNN.salts.json: the salts of a
// hashed claim's inputs. Only the inputs' owner may hold them: with an
// input's salt, anyone can test guesses of the input against its public hash.
type InputSalts struct {
	Claim       string   `json:"claim"`
	InputHashes []string `json:"input_hashes"`
	Salts       []string `json:"salts"`
}

// SaltsPath is where a run keeps the salts of claim proofName's inputs.
func SaltsPath(d *run.Dir, proofName string) string {
	return d.Private(filepath.Join(Dir, proofName+".salts.json"))
}

// inputSalts are the salts of a hashed claim's inputs: the given ones, or
// fresh ones.
func inputSalts(spec inference.Spec, given []fr.Element, n int) ([]fr.Element, error) {
	if spec.Visibility != inference.Hashed {
		if given != nil {
			return nil, fmt.Errorf("%w: salts are for hashed inputs only", ErrInput)
		}
		return nil, nil
	}
	if given != nil {
		if len(given) != n {
			return nil, fmt.Errorf("%w: %d salts for %d inputs", ErrInput, len(given), n)
		}
		return given, nil
	}
	salts := make([]fr.Element, n)
	for i := range salts {
		var err error
		if salts[i], err = inference.NewSalt(); err != nil {
			return nil, err
		}
	}
	return salts, nil
}

// Prove proves one claim about inputs (one proof for the whole batch) and
// writes the proof, its public inputs, the verifying key and the claim under
// DIR/public/inference/. Proofs use gnark's Solidity target, so that the same
// files verify on-chain. It returns the claim.
func Prove(ctx context.Context, dir string, inputs [][]int64, opts ProveOptions) (Claim, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	m, err := Model(dir)
	if err != nil {
		return Claim{}, err
	}
	d, _ := run.Open(dir)
	spec, err := opts.spec(m, len(inputs))
	if err != nil {
		return Claim{}, err
	}
	salts, err := inputSalts(spec, opts.Salts, len(inputs))
	if err != nil {
		return Claim{}, err
	}
	assignment, results, err := inference.Assign(spec, m.Weights, inputs, salts)
	if err != nil {
		return Claim{}, err
	}
	ccs, hash, err := compile(spec)
	if err != nil {
		return Claim{}, err
	}
	keys, err := prover.ChooseKeySource(opts.KeySource, opts.Keys, log)
	if err != nil {
		return Claim{}, err
	}
	name := opts.circuitName(len(inputs))
	log.Info("inference circuit", "circuit", name, "constraints", ccs.GetNbConstraints(), "hash", hash)
	pk, vk, err := keys.Setup(ccs, KeyName(name))
	if err != nil {
		return Claim{}, err
	}
	folder := d.Public(Dir)
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return Claim{}, fmt.Errorf("%w: %w", prover.ErrIO, err)
	}
	vkFile := name + ".vk"
	if spec.Binding == inference.Fixed {
		// A fixed circuit's key is this model's alone.
		vkFile = name + "-" + hash[:16] + ".vk"
	}
	if err := prover.WriteVerifyingKey(filepath.Join(folder, vkFile), vk); err != nil {
		return Claim{}, err
	}
	index, err := nextIndex(folder)
	if err != nil {
		return Claim{}, err
	}
	proofName := fmt.Sprintf("infer-%05d", index)
	job := prover.Job{Name: proofName, Path: filepath.Join(folder, proofName+".proof"),
		Witness: func() (witness.Witness, error) { return frontend.NewWitness(assignment, ecc.BN254.ScalarField()) }}
	if _, err := prover.ProveAll(ctx, ccs, pk, vk, []prover.Job{job}, prover.Options{Workers: 1, Logger: log, SolidityCompatible: true}); err != nil {
		return Claim{}, err
	}
	claim := Claim{Circuit: name, CircuitHash: hash, Constraints: ccs.GetNbConstraints(), Binding: opts.Binding,
		Visibility: opts.Visibility, Batch: len(inputs), ModelCommitment: m.Commitment, Proof: proofName + ".proof",
		VerifyingKey: vkFile, Setup: keys.Kind()}
	for i, r := range results {
		claim.Classes = append(claim.Classes, r.Class)
		if opts.Logits {
			claim.Logits = append(claim.Logits, r.Logits)
		}
		switch spec.Visibility {
		case inference.Public:
			claim.Inputs = append(claim.Inputs, inputs[i])
		case inference.Hashed:
			h, err := inference.InputHash(m.Format, inputs[i], salts[i])
			if err != nil {
				return Claim{}, err
			}
			claim.InputHashes = append(claim.InputHashes, commit.Hex(h))
		}
	}
	if salts != nil {
		// The salts are kept before the claim is published.
		path := SaltsPath(d, proofName)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return Claim{}, fmt.Errorf("%w: %w", prover.ErrIO, err)
		}
		rec := InputSalts{Claim: proofName, InputHashes: claim.InputHashes}
		for _, s := range salts {
			rec.Salts = append(rec.Salts, commit.Hex(s))
		}
		if err := run.WriteJSON(path, rec, run.PrivateMode); err != nil {
			return Claim{}, err
		}
	}
	if err := run.WriteJSON(filepath.Join(folder, proofName+".json"), claim, run.PublicMode); err != nil {
		return Claim{}, err
	}
	return claim, nil
}

func compile(spec inference.Spec) (constraint.ConstraintSystem, string, error) {
	c, err := inference.New(spec)
	if err != nil {
		return nil, "", err
	}
	ccs, err := prover.Compile(c)
	if err != nil {
		return nil, "", err
	}
	hash, err := prover.CircuitHash(ccs)
	return ccs, hash, err
}

var claimName = regexp.MustCompile(`^infer-(\d{5,})\.(json|proof)$`)

// nextIndex is one past the highest claim or proof number in folder, so a
// proof left without its claim by a crash is never overwritten.
func nextIndex(folder string) (int, error) {
	entries, err := os.ReadDir(folder)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", prover.ErrIO, err)
	}
	next := 0
	for _, e := range entries {
		if m := claimName.FindStringSubmatch(e.Name()); m != nil {
			n, _ := strconv.Atoi(m[1])
			next = max(next, n+1)
		}
	}
	return next, nil
}

// Claims lists the claim files of a run, in order.
func Claims(dir string) ([]string, error) {
	d, err := run.Open(dir)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(d.Public(Dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", prover.ErrIO, err)
	}
	var out []string
	for _, e := range entries {
		if m := claimName.FindStringSubmatch(e.Name()); m != nil && m[2] == "json" {
			out = append(out, filepath.Join(d.Public(Dir), e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}

// Report says what Verify checked.
type Report struct {
	Claims int
	// Trust is the weakest source of trust of the claims' verifying keys:
	// under prover.TrustDev the result proves nothing to a third party.
	Trust prover.Trust
}

// Verify checks every inference claim of a run from public files only: the
// model against M_T, each claim's circuit (recompiled from the claim's
// options and the public model), its verifying key against trust (a derived
// or pinned key of the recompiled circuit; the prover's own only under
// trust.Dev, else prover.ErrUntrustedKey), and its proof against the public
// inputs the claim states.
func Verify(dir string, trust prover.KeyTrust) (Report, error) {
	claims, err := Claims(dir)
	if err != nil || len(claims) == 0 {
		return Report{}, err
	}
	m, err := Model(dir)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Claims: len(claims), Trust: prover.TrustDerived}
	compiled := map[string]circuit{}
	for _, path := range claims {
		level, err := verifyClaim(path, m, compiled, trust)
		if err != nil {
			return Report{}, fmt.Errorf("%s: %w", path, err)
		}
		rep.Trust = min(rep.Trust, level)
	}
	return rep, nil
}

// circuit is a compiled inference circuit and its hash.
type circuit struct {
	ccs  constraint.ConstraintSystem
	hash string
}

func verifyClaim(path string, m run.Model, compiled map[string]circuit, trust prover.KeyTrust) (prover.Trust, error) {
	c, vk, level, err := checkClaim(path, m, compiled, trust)
	if err != nil {
		return 0, err
	}
	return level, prover.VerifyProofFile(vk, filepath.Join(filepath.Dir(path), c.Proof))
}

// TrustedKey returns the verifying key of the claim at claimPath (in run
// dir's public/inference/) if trust accepts it for the circuit that the
// claim's options and the released model define, having checked the claim
// as Verify does (its proof aside).
func TrustedKey(dir, claimPath string, trust prover.KeyTrust) (groth16.VerifyingKey, prover.Trust, error) {
	m, err := Model(dir)
	if err != nil {
		return nil, 0, err
	}
	_, vk, level, err := checkClaim(claimPath, m, map[string]circuit{}, trust)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", claimPath, err)
	}
	return vk, level, nil
}

// checkClaim checks a claim against its recompiled circuit, its proof's
// stored public inputs and trust, and returns its trusted verifying key.
func checkClaim(path string, m run.Model, compiled map[string]circuit, trust prover.KeyTrust) (Claim, groth16.VerifyingKey, prover.Trust, error) {
	var c Claim
	if err := run.ReadJSON(path, &c); err != nil {
		return c, nil, 0, err
	}
	opts := Options{Binding: c.Binding, Visibility: c.Visibility, Logits: len(c.Logits) > 0}
	if c.Batch < 1 || c.Batch > MaxBatch || len(c.Classes) != c.Batch {
		return c, nil, 0, fmt.Errorf("%w: batch %d with %d classes (at most %d inputs)", ErrClaim, c.Batch, len(c.Classes), MaxBatch)
	}
	if name := opts.circuitName(c.Batch); name != c.Circuit {
		return c, nil, 0, fmt.Errorf("%w: circuit %q, the options say %q", ErrClaim, c.Circuit, name)
	}
	if c.ModelCommitment != m.Commitment {
		return c, nil, 0, fmt.Errorf("%w: model %s, the run released %s", ErrClaim, c.ModelCommitment, m.Commitment)
	}
	spec, err := opts.spec(m, c.Batch)
	if err != nil {
		return c, nil, 0, err
	}
	cc, ok := compiled[c.Circuit]
	if !ok {
		if cc.ccs, cc.hash, err = compile(spec); err != nil {
			return c, nil, 0, err
		}
		compiled[c.Circuit] = cc
	}
	if cc.hash != c.CircuitHash {
		return c, nil, 0, fmt.Errorf("%w: the options and the model define circuit %s, the claim says %s", ErrClaim, cc.hash, c.CircuitHash)
	}
	expected, err := publicWitness(spec, c, m)
	if err != nil {
		return c, nil, 0, err
	}
	folder := filepath.Dir(path)
	for _, f := range []string{c.Proof, c.VerifyingKey} {
		if filepath.Base(f) != f {
			return c, nil, 0, fmt.Errorf("%w: %q is not a file name in %s", ErrClaim, f, folder)
		}
	}
	raw, err := os.ReadFile(prover.PublicPath(filepath.Join(folder, c.Proof)))
	if err != nil {
		return c, nil, 0, fmt.Errorf("%w: %w", ErrClaim, err)
	}
	want, err := expected.MarshalBinary()
	if err != nil {
		return c, nil, 0, err
	}
	if !slices.Equal(raw, want) {
		return c, nil, 0, fmt.Errorf("%w: the proof's public inputs are not the claim's (model, inputs, classes, logits)", ErrClaim)
	}
	vk, level, err := trust.Check(filepath.Join(folder, c.VerifyingKey), cc.ccs, cc.hash)
	return c, vk, level, err
}

// publicWitness is the public part of the circuit's witness that a claim states.
func publicWitness(spec inference.Spec, c Claim, m run.Model) (witness.Witness, error) {
	a := &inference.Circuit{}
	if spec.Binding == inference.Committed {
		mc, err := commit.ParseHex(c.ModelCommitment)
		if err != nil {
			return nil, fmt.Errorf("%w: model_commitment: %w", ErrClaim, err)
		}
		a.ModelCommitment = []frontend.Variable{mc}
	}
	d, k := m.Widths[0], m.Widths[len(m.Widths)-1]
	for j := range c.Batch {
		if c.Classes[j] < 0 || c.Classes[j] >= k {
			return nil, fmt.Errorf("%w: classes[%d] = %d for %d classes", ErrClaim, j, c.Classes[j], k)
		}
		a.Classes = append(a.Classes, c.Classes[j])
		if spec.Logits {
			if len(c.Logits) != c.Batch || len(c.Logits[j]) != k {
				return nil, fmt.Errorf("%w: logits[%d] has the wrong shape", ErrClaim, j)
			}
			a.Logits = append(a.Logits, inference.Vars(c.Logits[j]))
		}
		switch spec.Visibility {
		case inference.Public:
			if len(c.Inputs) != c.Batch || len(c.Inputs[j]) != d {
				return nil, fmt.Errorf("%w: inputs[%d] has the wrong shape", ErrClaim, j)
			}
			a.Inputs = append(a.Inputs, inference.Vars(c.Inputs[j]))
		case inference.Hashed:
			if len(c.InputHashes) != c.Batch {
				return nil, fmt.Errorf("%w: %d input hashes for a batch of %d", ErrClaim, len(c.InputHashes), c.Batch)
			}
			h, err := commit.ParseHex(c.InputHashes[j])
			if err != nil {
				return nil, fmt.Errorf("%w: input_hashes[%d]: %w", ErrClaim, j, err)
			}
			a.InputHashes = append(a.InputHashes, h)
		}
	}
	return frontend.NewWitness(a, ecc.BN254.ScalarField(), frontend.PublicOnly())
}

// Held is the run's held-out test split, quantized: what `--row N` picks
// from. It reads private/dataset.json, so only the data holder can use it.
type Held struct {
	Features []string // feature names, for error messages
	Classes  []string // class names
	Rows     [][]int64
	Labels   []int
}

// HeldOut loads the test split of the run's dataset at the model's format.
func HeldOut(dir string, m run.Model) (*Held, error) {
	d, err := run.Open(dir)
	if err != nil {
		return nil, err
	}
	var source run.DataSource
	if err := run.ReadJSON(d.Private(run.DataSourceFile), &source); err != nil {
		return nil, err
	}
	ds, err := data.Load(source.Data, source.SplitSeed)
	if err != nil {
		return nil, err
	}
	q, err := data.QuantizeSplit(ds.Test, m.Format.DataBits())
	if err != nil {
		return nil, err
	}
	q = q.Scaled(m.Format.DataShift())
	return &Held{Features: ds.Features, Classes: ds.Classes, Rows: q.X, Labels: q.Y}, nil
}

// Measure compiles the inference circuit of one hashed input for a model of
// the given widths and binding and returns its constraint count. A fixed
// circuit's size depends on its weights (zero weights cost nothing), so the
// fixed binding is measured with inference.SampleWeights, as the committed
// constraint CSV is.
func Measure(widths []int, f fixedpoint.Format, binding string) (int, error) {
	b, ok := Bindings[binding]
	if !ok {
		return 0, fmt.Errorf("%w: model binding %q", ErrOption, binding)
	}
	spec := inference.Spec{Widths: widths, Format: f, Batch: 1, Binding: b, Visibility: inference.Hashed}
	if b == inference.Fixed {
		spec.Weights = inference.SampleWeights(widths, f)
	}
	ccs, _, err := compile(spec)
	if err != nil {
		return 0, err
	}
	return ccs.GetNbConstraints(), nil
}
