// Package metrics computes classification reports: per-class precision,
// recall, F1 and support with micro, macro and weighted averages.
package metrics

import (
	"errors"
	"fmt"
	"strings"
)

// ErrLength is returned when predictions and labels differ in length.
var ErrLength = errors.New("metrics: predictions and labels differ in length")

// ClassScores are one class's (or one average's) scores.
type ClassScores struct {
	Class     string  `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Report is a classification report.
type Report struct {
	Classes  []ClassScores `json:"classes"`
	Accuracy float64       `json:"accuracy"`
	Micro    ClassScores   `json:"micro_avg"`
	Macro    ClassScores   `json:"macro_avg"`
	Weighted ClassScores   `json:"weighted_avg"`
	// Tokens is set by Entities: Accuracy is then the token-level tag
	// accuracy over this many tokens, and the supports count entities.
	Tokens int `json:"tokens,omitempty"`
}

// Classification builds the report; a class never predicted has precision 0
// (as scikit-learn's zero_division=0).
func Classification(classes []string, labels, predictions []int) (Report, error) {
	if len(labels) != len(predictions) {
		return Report{}, fmt.Errorf("%w: %d predictions, %d labels", ErrLength, len(predictions), len(labels))
	}
	k := len(classes)
	tp, fp, fn := make([]int, k), make([]int, k), make([]int, k)
	correct := 0
	for i, y := range labels {
		p := predictions[i]
		if y < 0 || y >= k || p < 0 || p >= k {
			return Report{}, fmt.Errorf("metrics: row %d: label %d or prediction %d outside %d classes", i, y, p, k)
		}
		if y == p {
			tp[y]++
			correct++
		} else {
			fp[p]++
			fn[y]++
		}
	}
	var r Report
	n := len(labels)
	if n > 0 {
		r.Accuracy = float64(correct) / float64(n)
	}
	r.average(classes, tp, fp, fn)
	return r, nil
}

// average fills the per-class scores and the macro, weighted (by support,
// the class's true count) and micro averages from per-class counts.
func (r *Report) average(names []string, tp, fp, fn []int) {
	k := len(names)
	var sumTP, sumFP, sumFN int
	for c := range k {
		sumTP, sumFP, sumFN = sumTP+tp[c], sumFP+fp[c], sumFN+fn[c]
	}
	support := sumTP + sumFN
	r.Macro = ClassScores{Class: "macro avg", Support: support}
	r.Weighted = ClassScores{Class: "weighted avg", Support: support}
	for c := range k {
		s := scores(names[c], tp[c], fp[c], fn[c])
		r.Classes = append(r.Classes, s)
		r.Macro.Precision += s.Precision / float64(k)
		r.Macro.Recall += s.Recall / float64(k)
		r.Macro.F1 += s.F1 / float64(k)
		if support > 0 {
			w := float64(s.Support) / float64(support)
			r.Weighted.Precision += w * s.Precision
			r.Weighted.Recall += w * s.Recall
			r.Weighted.F1 += w * s.F1
		}
	}
	r.Micro = scores("micro avg", sumTP, sumFP, sumFN)
}

func scores(name string, tp, fp, fn int) ClassScores {
	s := ClassScores{Class: name, Support: tp + fn}
	if tp+fp > 0 {
		s.Precision = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		s.Recall = float64(tp) / float64(tp+fn)
	}
	if s.Precision+s.Recall > 0 {
		s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
	}
	return s
}

// Text renders the report as a table in the style of scikit-learn.
func (r Report) Text() string {
	width := len("weighted avg")
	for _, c := range r.Classes {
		width = max(width, len(c.Class))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%*s %9s %9s %9s %9s\n\n", width, "", "precision", "recall", "f1-score", "support")
	row := func(s ClassScores) {
		fmt.Fprintf(&b, "%*s %9.4f %9.4f %9.4f %9d\n", width, s.Class, s.Precision, s.Recall, s.F1, s.Support)
	}
	for _, c := range r.Classes {
		row(c)
	}
	b.WriteString("\n")
	if r.Tokens > 0 {
		fmt.Fprintf(&b, "%*s %9s %9s %9.4f %9d\n", width, "tag acc", "", "", r.Accuracy, r.Tokens)
	} else {
		fmt.Fprintf(&b, "%*s %9s %9s %9.4f %9d\n", width, "accuracy", "", "", r.Accuracy, r.Macro.Support)
	}
	row(r.Micro)
	row(r.Macro)
	row(r.Weighted)
	return b.String()
}
