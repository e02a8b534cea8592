package data

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/zkdp/zkdp/datasets"
)

var bioTags = []string{"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"}

// TestReadCoNLLBTC checks the shipped corpus against the counts its
// SOURCE.txt documents (strict empty-line separation).
func TestReadCoNLLBTC(t *testing.T) {
	fsys, err := datasets.Open("btc")
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string][2]int{"btc.train": {6338, 99933}, "btc.dev": {1001, 15027}, "btc.test": {2000, 35428}} {
		ss, err := ReadCoNLL(fsys, file, bioTags)
		if err != nil {
			t.Fatal(err)
		}
		tokens := 0
		for _, s := range ss {
			tokens += len(s.Tokens)
		}
		if len(ss) != want[0] || tokens != want[1] {
			t.Errorf("%s: %d sentences, %d tokens; want %d, %d", file, len(ss), tokens, want[0], want[1])
		}
	}
}

func TestReadCoNLLQuirks(t *testing.T) {
	fsys := fstest.MapFS{
		"a": {Data: []byte("Hi\tO\n \n\tO\nke s\tB-PER\n\nParis\tB-LOC\n")},
		"b": {Data: []byte("Hi\tX\n")},
	}
	ss, err := ReadCoNLL(fsys, "a", bioTags)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 || len(ss[0].Tokens) != 3 || ss[0].Tokens[1] != " \n" || ss[0].Tokens[2] != "ke s" || ss[1].Tags[0] != "B-LOC" {
		t.Errorf("got %q", ss)
	}
	var re *RowError
	if _, err := ReadCoNLL(fsys, "b", bioTags); !errors.Is(err, ErrBadTag) || !errors.As(err, &re) || re.Line != 1 {
		t.Errorf("unknown tag: got %v, want a RowError at line 1 wrapping ErrBadTag", err)
	}
}
