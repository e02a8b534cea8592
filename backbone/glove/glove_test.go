package glove

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinySHA256 is the converted tiny fixture's sha256 (first 3 words, 12
// fractional bits): a change in the file format or the rounding shows here.
const tinySHA256 = "abf1ee9720d381f2ee3d45570d4c192033e90edacb66783b7cf122830fcdd007"

func convertTiny(t *testing.T, opt Options) ([]byte, Stats) {
	t.Helper()
	in, err := os.Open("testdata/tiny.json")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	st, err := Convert(in, &out, opt)
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), st
}

func TestConvertFixtureChecksum(t *testing.T) {
	out, st := convertTiny(t, Options{VocabSize: 3, FracBits: 12})
	sum := sha256.Sum256(out)
	if got := hex.EncodeToString(sum[:]); got != tinySHA256 {
		t.Errorf("converted fixture sha256 %s, want %s", got, tinySHA256)
	}
	raw, _ := os.ReadFile("testdata/tiny.json")
	src := sha256.Sum256(raw)
	if st.SourceSHA256 != hex.EncodeToString(src[:]) || st.SourceWords != 4 || st.Kept != 3 {
		t.Errorf("stats %+v, want the fixture's sha256, 4 source words, 3 kept", st)
	}
	v, err := Read(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if v.SHA256 != tinySHA256 || strings.Join(v.Words, " ") != "the , paris" || v.Dims != 3 {
		t.Fatalf("read back %v dims %d sha %s", v.Words, v.Dims, v.SHA256)
	}
	// Frequency order, not the JSON's key order; rounding to 2^-12.
	if got := v.Vector(v.Lookup("the")); got[0] != 1.5 || got[1] != -2 || got[2] != 0 {
		t.Errorf("the = %v, want [1.5 -2 0] (1e-4 rounds to 0 at 12 bits)", got)
	}
	if got := v.Vector(v.Lookup("paris")); got[0] != -1364.0/4096 {
		t.Errorf("paris[0] = %v, want round(-0.333*4096)/4096", got[0])
	}
	if v.Lookup("zkdp") != -1 {
		t.Error("a word past vocab_size is in the vocabulary")
	}
	if v.MaxAbs() != 2 {
		t.Errorf("max abs %v, want 2", v.MaxAbs())
	}
}

func TestLoadRejectsWrongChecksum(t *testing.T) {
	out, _ := convertTiny(t, Options{VocabSize: 3, FracBits: 12})
	path := filepath.Join(t.TempDir(), "v.bin")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, tinySHA256); err != nil {
		t.Fatal(err)
	}
	out[len(out)-1] ^= 1
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, tinySHA256); !errors.Is(err, ErrChecksum) {
		t.Errorf("a flipped bit: got %v, want ErrChecksum", err)
	}
}

func TestConvertRejectsBadSource(t *testing.T) {
	for name, src := range map[string]string{
		"index mismatch": `{"dimensions":1,"words":["a","b"],"vectors":{"a":[1,1,1]}}`,
		"short vector":   `{"dimensions":2,"words":["a"],"vectors":{"a":[1,0]}}`,
		"too large":      `{"dimensions":1,"words":["a"],"vectors":{"a":[9,9,0]}}`,
		"missing vector": `{"dimensions":1,"words":["a","b"],"vectors":{"b":[1,1,1]}}`,
	} {
		var out bytes.Buffer
		if _, err := Convert(strings.NewReader(src), &out, Options{VocabSize: 2, FracBits: 12}); !errors.Is(err, ErrSource) {
			t.Errorf("%s: got %v, want ErrSource", name, err)
		}
	}
}

// TestShippedConversion converts the real npm JSON (307 MB) and checks both
// pinned checksums. It needs `npm ci` (make deps).
func TestShippedConversion(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 307 MB GloVe conversion")
	}
	src := SourcePath(filepath.Join("..", "..", "node_modules"))
	if os.Getenv("ZKDP_NODE_MODULES") != "" {
		src = SourcePath("")
	}
	if _, err := os.Stat(src); err != nil {
		t.Skipf("%s absent (run `npm ci`, see Makefile deps): the shipped GloVe conversion is not checked", src)
	}
	v, err := Ensure(src, t.TempDir(), DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Words) != DefaultOptions.VocabSize || v.Dims != 100 || v.Words[0] != "the" {
		t.Errorf("%d words of %d dims, first %q", len(v.Words), v.Dims, v.Words[0])
	}
}
