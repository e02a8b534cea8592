package glove

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/zkdp/zkdp/backbone"
)

// Casing flags of one window position, in feature order.
var Flags = []string{"outside", "unknown", "init_cap", "all_caps", "has_digit", "mention", "hashtag", "url", "punct"}

// Window is the token feature map of the NER example: for token i, the
// GloVe vectors of tokens i-W..i+W (zeros outside the sentence and for
// words outside the vocabulary), each divided by the vocabulary's largest
// component magnitude (public) so every feature lies in [-1, 1], followed
// by the casing flags of each position (0 or 1).
type Window struct {
	Vectors *Vectors
	Width   int // W: the window holds 2W+1 tokens
	scale   float64
}

// NewWindow is the window map of half-width w over v.
func NewWindow(v *Vectors, w int) *Window {
	return &Window{Vectors: v, Width: w, scale: 1 / v.MaxAbs()}
}

// Features is the number of features per token.
func (w *Window) Features() int { return (2*w.Width + 1) * (w.Vectors.Dims + len(Flags)) }

// Names lists the features, e.g. "glove[-2][17]" and "flag[0].init_cap".
func (w *Window) Names() []string {
	var out []string
	for o := -w.Width; o <= w.Width; o++ {
		for d := range w.Vectors.Dims {
			out = append(out, "glove["+strconv.Itoa(o)+"]["+strconv.Itoa(d)+"]")
		}
	}
	for o := -w.Width; o <= w.Width; o++ {
		for _, f := range Flags {
			out = append(out, "flag["+strconv.Itoa(o)+"]."+f)
		}
	}
	return out
}

// Identity is the feature stage's entry for a run's params.
func (w *Window) Identity() backbone.Identity {
	id := w.Vectors.Identity()
	id.Config += fmt.Sprintf(" window=%d flags=%s scale=1/max|v|-over-the-vocabulary", w.Width, strings.Join(Flags, ","))
	id.Features = w.Features()
	return id
}

// Rows returns the vocabulary row of each token (-1 when unknown): the
// lower-cased token, else without a leading @ or #.
func (w *Window) Rows(tokens []string) []int {
	out := make([]int, len(tokens))
	for i, t := range tokens {
		key := Lower(t)
		out[i] = w.Vectors.Lookup(key)
		if out[i] < 0 && len(key) > 1 && (key[0] == '@' || key[0] == '#') {
			out[i] = w.Vectors.Lookup(key[1:])
		}
	}
	return out
}

// Sentence returns every token's features.
func (w *Window) Sentence(tokens []string) [][]float64 {
	rows := w.Rows(tokens)
	out := make([][]float64, len(tokens))
	dims, nf := w.Vectors.Dims, len(Flags)
	flagAt := (2*w.Width + 1) * dims
	for i := range tokens {
		x := make([]float64, w.Features())
		for p, o := 0, -w.Width; o <= w.Width; p, o = p+1, o+1 {
			flags := x[flagAt+p*nf : flagAt+(p+1)*nf]
			j := i + o
			if j < 0 || j >= len(tokens) {
				flags[0] = 1
				continue
			}
			casing(tokens[j], flags)
			if rows[j] < 0 {
				flags[1] = 1
				continue
			}
			for d, c := range w.Vectors.Data[rows[j]*dims : (rows[j]+1)*dims] {
				x[p*dims+d] = float64(c) * w.scale / float64(int(1)<<w.Vectors.FracBits)
			}
		}
		out[i] = x
	}
	return out
}

// casing sets the flags after "outside" and "unknown" for token t.
func casing(t string, flags []float64) {
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	var upper, letters, digits, punct int
	for _, r := range t {
		switch {
		case unicode.IsUpper(r):
			upper++
			letters++
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r):
			digits++
		case unicode.IsPunct(r) || unicode.IsSymbol(r):
			punct++
		}
	}
	first := []rune(t + " ")[0]
	flags[2] = b(unicode.IsUpper(first))
	flags[3] = b(letters > 1 && upper == letters)
	flags[4] = b(digits > 0)
	flags[5] = b(strings.HasPrefix(t, "@"))
	flags[6] = b(strings.HasPrefix(t, "#"))
	lt := strings.ToLower(t)
	flags[7] = b(strings.HasPrefix(lt, "http") || strings.HasPrefix(lt, "www."))
	flags[8] = b(t != "" && punct == len([]rune(t)))
}
