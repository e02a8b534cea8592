package metrics

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestClassification(t *testing.T) {
	// 3 classes; hand-computed as scikit-learn's classification_report would.
	labels := []int{0, 0, 0, 1, 1, 2}
	preds := []int{0, 0, 1, 1, 2, 2}
	r, err := Classification([]string{"a", "b", "c"}, labels, preds)
	if err != nil {
		t.Fatal(err)
	}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-12 }
	if !near(r.Accuracy, 4.0/6) {
		t.Fatalf("accuracy %v", r.Accuracy)
	}
	a := r.Classes[0]
	if !near(a.Precision, 1) || !near(a.Recall, 2.0/3) || !near(a.F1, 0.8) || a.Support != 3 {
		t.Fatalf("class a: %+v", a)
	}
	b := r.Classes[1]
	if !near(b.Precision, 0.5) || !near(b.Recall, 0.5) || b.Support != 2 {
		t.Fatalf("class b: %+v", b)
	}
	if !near(r.Micro.F1, r.Accuracy) {
		t.Fatalf("micro F1 %v must equal accuracy %v for single-label data", r.Micro.F1, r.Accuracy)
	}
	wantMacroP := (1 + 0.5 + 0.5) / 3
	if !near(r.Macro.Precision, wantMacroP) {
		t.Fatalf("macro precision %v want %v", r.Macro.Precision, wantMacroP)
	}
	wantWeightedR := (3*(2.0/3) + 2*0.5 + 1*1) / 6
	if !near(r.Weighted.Recall, wantWeightedR) {
		t.Fatalf("weighted recall %v want %v", r.Weighted.Recall, wantWeightedR)
	}
	if txt := r.Text(); !strings.Contains(txt, "weighted avg") || !strings.Contains(txt, "precision") {
		t.Fatalf("text table:\n%s", txt)
	}
	if _, err := Classification([]string{"a"}, []int{0}, nil); !errors.Is(err, ErrLength) {
		t.Fatalf("length mismatch: %v", err)
	}
	if _, err := Classification([]string{"a"}, []int{0}, []int{3}); err == nil {
		t.Fatal("out-of-range prediction accepted")
	}
}
