package data

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// ErrBadTag is wrapped by a CoNLL line whose tag is not one of the corpus's
// public tags.
var ErrBadTag = errors.New("is not a known tag")

// Sentence is one record of a token-level corpus: its tokens and their tags.
type Sentence struct {
	Tokens []string
	Tags   []string
}

// ReadCoNLL reads a two-column CoNLL file (TOKEN<TAB>TAG per line, records
// separated by truly empty lines). Tokens may hold spaces and may be empty;
// a line without a TAB (btc.test holds one: a token " \n" split over two
// lines) is joined, with its newline, to the next line's token. Every tag
// must be in tags.
func ReadCoNLL(fsys fs.FS, file string, tags []string) ([]Sentence, error) {
	f, err := fsys.Open(file)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	var (
		out     []Sentence
		cur     Sentence
		pending string // a TAB-less line waiting for the rest of its token
		line    int
	)
	flush := func() {
		if len(cur.Tokens) > 0 {
			out = append(out, cur)
			cur = Sentence{}
		}
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" && pending == "" {
			flush()
			continue
		}
		tok, tag, ok := strings.Cut(text, "\t")
		if !ok {
			pending += text + "\n"
			continue
		}
		tok, pending = pending+tok, ""
		if !slices.Contains(tags, tag) {
			return nil, &RowError{File: file, Line: line, Field: "tag", Err: fmt.Errorf("%q %w (want one of %v)", tag, ErrBadTag, tags)}
		}
		cur.Tokens = append(cur.Tokens, tok)
		cur.Tags = append(cur.Tags, tag)
	}
	if err := sc.Err(); err != nil {
		return nil, &RowError{File: file, Line: line + 1, Err: fmt.Errorf("%w: %w", ErrLineTooLong, err)}
	}
	if pending != "" {
		return nil, &RowError{File: file, Line: line, Err: fmt.Errorf("%w: a line without a TAB at the end of the file", ErrColumnCount)}
	}
	flush()
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s holds no sentence", ErrNoRows, file)
	}
	return out, nil
}
