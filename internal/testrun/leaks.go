package testrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/trainer"
)

// Secrets are a run's private values, in the forms a file could carry them.
type Secrets struct {
	// Strings: the seed and every row salt (hex, with and without 0x, and
	// decimal), each private batch loss as the code formats floats.
	Strings map[string]string // text -> what it is
	// Sequences: each batch's indices, the batch sizes, the first noise
	// values of each step; found as consecutive integer tokens in any format.
	Sequences map[string][]int64
}

// minSequence is the shortest run of integers looked for: shorter ones
// (a batch of two rows) are too likely to occur by chance.
const minSequence = 3

// minBinarySequence is the shortest sequence searched in a binary file.
const minBinarySequence = 6

// PrivateValues reads a run's private files and recomputes what they imply
// (row salts from the seed, the noise of every step from the seed, the
// beacon and the public params).
func PrivateValues(t testing.TB, dir string) Secrets {
	t.Helper()
	d := &run.Dir{Root: dir}
	var secret run.Secret
	var batches []run.StepBatch
	var ref trainer.PrivateReport
	var tr run.Transcript
	for path, v := range map[string]any{d.Private(run.SecretFile): &secret, d.Private(run.BatchesFile): &batches,
		d.Private(run.ReferenceFile): &ref, d.Public(run.TranscriptFile): &tr} {
		if err := run.ReadJSON(path, v); err != nil {
			t.Fatal(err)
		}
	}
	p, err := d.ReadParams()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := commit.ParseHex(secret.Seed)
	if err != nil {
		t.Fatal(err)
	}
	beacon, err := commit.ParseHex(tr.Beacon)
	if err != nil {
		t.Fatal(err)
	}
	s := Secrets{Strings: map[string]string{}, Sequences: map[string][]int64{}}
	element := func(what, hex, dec string) {
		s.Strings[hex] = what
		s.Strings[hex[2:]] = what
		s.Strings[dec] = what
	}
	element("the seed", commit.Hex(seed), seed.String())
	for i, salt := range dp.RowSalts(seed, p.Rows) {
		element(fmt.Sprintf("row %d's salt", i), commit.Hex(salt), salt.String())
	}
	salt := dp.DatasetSalt(seed)
	element("the dataset salt", commit.Hex(salt), salt.String())
	// The salts of hashed inference inputs (inferproof.InputSalts; read
	// without importing inferproof, whose tests use this package).
	claims, _ := filepath.Glob(d.Private(filepath.Join("inference", "*.salts.json")))
	for _, path := range claims {
		var rec struct {
			Salts []string `json:"salts"`
		}
		b, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(b, &rec)
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range rec.Salts {
			salt, err := commit.ParseHex(h)
			if err != nil {
				t.Fatal(err)
			}
			element(fmt.Sprintf("%s's salt %d", filepath.Base(path), i), commit.Hex(salt), salt.String())
		}
	}
	for i, loss := range ref.Curve.BatchLoss {
		if ref.Curve.Steps[i] == 0 || loss == 0 || math.Abs(loss-math.Log(float64(p.Classes))) < 1e-9 {
			// Before any batch, an empty batch's (its "0" or "-0" is in
			// every file, so searching for it finds nothing), or the loss
			// of uniform logits (a zero head, as W_0's) on any batch:
			// log(classes), public.
			continue
		}
		what := fmt.Sprintf("the loss on batch %d", ref.Curve.Steps[i]-1)
		for _, text := range []string{strconv.FormatFloat(loss, 'g', -1, 64), strconv.FormatFloat(loss, 'f', -1, 64),
			fmt.Sprintf("%.6g", loss), fmt.Sprintf("%.5g", loss)} {
			s.Strings[text] = what
		}
	}
	var sizes []int64
	for _, b := range batches {
		sizes = append(sizes, int64(len(b.Indices)))
		if len(b.Indices) >= minSequence {
			idx := make([]int64, len(b.Indices))
			for i, v := range b.Indices {
				idx[i] = int64(v)
			}
			s.Sequences[fmt.Sprintf("batch %d's indices", b.Step)] = idx
		}
	}
	if len(sizes) >= minSequence {
		s.Sequences["the batch sizes"] = sizes
	}
	_, noise, err := p.Mechanism().Samplers()
	if err != nil {
		t.Fatal(err)
	}
	n := fixedpoint.NumParams(p.Widths)
	for step := range p.Steps {
		z, err := noise.Noise(dp.StepKey(seed, beacon, step), n)
		if err != nil {
			t.Fatal(err)
		}
		s.Sequences[fmt.Sprintf("step %d's noise", step)] = z[:min(len(z), 4)]
	}
	return s
}

// Find returns what of s the bytes b carry.
func (s Secrets) Find(b []byte) []string {
	var found []string
	for text, what := range s.Strings {
		if bytes.Contains(b, []byte(text)) {
			found = append(found, fmt.Sprintf("%s (%q)", what, text))
		}
	}
	tokens := integerTokens(b)
	// In a binary file (a plot) runs of a few small integers turn up in the
	// compressed bytes by chance; a short sequence is searched in text only.
	binary := bytes.IndexByte(b, 0) >= 0
	for what, seq := range s.Sequences {
		if binary && len(seq) < minBinarySequence {
			continue
		}
		for i := 0; i+len(seq) <= len(tokens); i++ {
			if slices.Equal(tokens[i:i+len(seq)], seq) {
				found = append(found, fmt.Sprintf("%s %v", what, seq))
				break
			}
		}
	}
	slices.Sort(found)
	return found
}

// integerTokens are the integers of b, in order: maximal runs of characters
// other than separators that parse as a decimal integer (so the digits
// inside a hex string or a float are not tokens).
func integerTokens(b []byte) []int64 {
	var out []int64
	for _, field := range bytes.FieldsFunc(b, func(r rune) bool {
		return !(r == '-' || r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		if v, err := strconv.ParseInt(string(field), 10, 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// AssertNothingPrivate scans every file of the run outside private/
// (recursively, text and binary) for the run's private values, and checks
// that the scan finds them in private/ (so that it can find anything).
func AssertNothingPrivate(t testing.TB, dir string) {
	t.Helper()
	secrets := PrivateValues(t, dir)
	var inPrivate []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		found := secrets.Find(b)
		if rel == run.PrivateDir || strings.HasPrefix(rel, run.PrivateDir+string(filepath.Separator)) {
			inPrivate = append(inPrivate, found...)
			return nil
		}
		for _, f := range found {
			t.Errorf("%s carries %s", rel, f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every kind of value stored in private/ is found there.
	kinds := map[string]bool{"the seed": true}
	for what := range secrets.Sequences {
		if strings.HasSuffix(what, "indices") {
			kinds["indices"] = true
		}
	}
	for _, what := range secrets.Strings {
		if strings.HasPrefix(what, "the loss on batch") {
			kinds["the loss on batch"] = true
		}
	}
	for kind := range kinds {
		if !slices.ContainsFunc(inPrivate, func(f string) bool { return strings.Contains(f, kind) }) {
			t.Errorf("the scan did not find %s in private/ (found %v): it cannot be trusted", kind, inPrivate)
		}
	}
}
