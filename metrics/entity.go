package metrics

import (
	"fmt"
	"slices"
	"strings"
)

// Span is one entity: tokens [Start, End) of a sentence, of type Type.
type Span struct {
	Type       string
	Start, End int
}

// Spans decodes BIO (IOB2) tags into entities with conlleval's (and
// seqeval's default) semantics: B-X opens an entity; I-X continues an open
// X and otherwise opens one (an I- without a B-, or after another type); O,
// B- and a change of type close the open entity. A tag that is not O, B-X
// or I-X is an error.
func Spans(tags []string) ([]Span, error) {
	var (
		out  []Span
		open = -1 // start of the open entity, or -1
		typ  string
	)
	closeAt := func(i int) {
		if open >= 0 {
			out = append(out, Span{Type: typ, Start: open, End: i})
			open = -1
		}
	}
	for i, tag := range tags {
		prefix, t, _ := strings.Cut(tag, "-")
		switch {
		case tag == "O":
			closeAt(i)
		case prefix == "B" && t != "":
			closeAt(i)
			open, typ = i, t
		case prefix == "I" && t != "":
			if open >= 0 && t == typ {
				continue
			}
			closeAt(i)
			open, typ = i, t
		default:
			return nil, fmt.Errorf("metrics: tag %d %q is not O, B-X or I-X", i, tag)
		}
	}
	closeAt(len(tags))
	return out, nil
}

// Entities is the entity-level report (conlleval, seqeval): a predicted
// entity counts as correct only when its type and both boundaries match a
// gold one. Per type: precision, recall, F1 and support (gold entities);
// micro, macro and support-weighted averages; Accuracy is the token-level
// tag accuracy. types fixes the rows' order; a type outside it is an error.
func Entities(types []string, gold, pred [][]string) (Report, error) {
	if len(gold) != len(pred) {
		return Report{}, fmt.Errorf("%w: %d predicted sentences, %d gold", ErrLength, len(pred), len(gold))
	}
	k := len(types)
	tp, fp, fn := make([]int, k), make([]int, k), make([]int, k)
	tokens, correct := 0, 0
	for s := range gold {
		if len(gold[s]) != len(pred[s]) {
			return Report{}, fmt.Errorf("%w: sentence %d: %d predicted tags, %d gold", ErrLength, s, len(pred[s]), len(gold[s]))
		}
		for i := range gold[s] {
			tokens++
			if gold[s][i] == pred[s][i] {
				correct++
			}
		}
		gs, err := Spans(gold[s])
		if err != nil {
			return Report{}, fmt.Errorf("sentence %d (gold): %w", s, err)
		}
		ps, err := Spans(pred[s])
		if err != nil {
			return Report{}, fmt.Errorf("sentence %d (predicted): %w", s, err)
		}
		idx := func(sp Span) (int, error) {
			c := slices.Index(types, sp.Type)
			if c < 0 {
				return 0, fmt.Errorf("metrics: sentence %d: entity type %q is not one of %v", s, sp.Type, types)
			}
			return c, nil
		}
		for _, g := range gs {
			c, err := idx(g)
			if err != nil {
				return Report{}, err
			}
			if slices.Contains(ps, g) {
				tp[c]++
			} else {
				fn[c]++
			}
		}
		for _, p := range ps {
			c, err := idx(p)
			if err != nil {
				return Report{}, err
			}
			if !slices.Contains(gs, p) {
				fp[c]++
			}
		}
	}
	r := Report{Tokens: tokens}
	if tokens > 0 {
		r.Accuracy = float64(correct) / float64(tokens)
	}
	r.average(types, tp, fp, fn)
	return r, nil
}
