package metrics

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func tags(s string) []string { return strings.Fields(s) }

// Hand-worked decodings, conlleval semantics.
func TestSpans(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Span
	}{
		{"B-PER I-PER O B-LOC", []Span{{"PER", 0, 2}, {"LOC", 3, 4}}},
		{"O I-PER I-PER O", []Span{{"PER", 1, 3}}},                  // I- without B- opens an entity
		{"B-PER I-ORG I-ORG", []Span{{"PER", 0, 1}, {"ORG", 1, 3}}}, // type change mid-span
		{"B-PER B-PER I-PER", []Span{{"PER", 0, 1}, {"PER", 1, 3}}}, // B- closes the open one
		{"I-LOC B-LOC I-PER O", []Span{{"LOC", 0, 1}, {"LOC", 1, 2}, {"PER", 2, 3}}},
		{"O O", nil},
		{"B-ORG I-ORG", []Span{{"ORG", 0, 2}}}, // an entity at the end
	} {
		got, err := Spans(tags(c.in))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Spans(%s) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	if _, err := Spans(tags("O X-PER")); err == nil {
		t.Error("a malformed tag decoded without error")
	}
}

// TestEntities works one small corpus by hand.
//
//	sentence 1 gold: PER[0,2) LOC[3,4)        pred: PER[0,2) LOC[3,4)       -> PER tp, LOC tp
//	sentence 2 gold: ORG[0,2) PER[3,4)        pred: ORG[0,1) PER[3,4)       -> ORG fn+fp (boundary), PER tp
//	sentence 3 gold: PER[1,3)                 pred: (I-PER I-ORG) PER[1,2) ORG[2,3) -> PER fn+fp, ORG fp
//
// PER: tp 2, fp 1, fn 1 -> P 2/3, R 2/3, F1 2/3, support 3
// ORG: tp 0, fp 2, fn 1 -> 0, 0, 0, support 1
// LOC: tp 1, fp 0, fn 0 -> 1, 1, 1, support 1
// micro: tp 3, fp 3, fn 2 -> P 1/2, R 3/5, F1 6/11
func TestEntities(t *testing.T) {
	gold := [][]string{tags("B-PER I-PER O B-LOC"), tags("B-ORG I-ORG O B-PER"), tags("O B-PER I-PER")}
	pred := [][]string{tags("B-PER I-PER O B-LOC"), tags("B-ORG O O B-PER"), tags("O I-PER I-ORG")}
	r, err := Entities([]string{"PER", "ORG", "LOC"}, gold, pred)
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	per, org, loc := r.Classes[0], r.Classes[1], r.Classes[2]
	near("PER precision", per.Precision, 2.0/3)
	near("PER recall", per.Recall, 2.0/3)
	near("PER F1", per.F1, 2.0/3)
	near("ORG F1", org.F1, 0)
	near("LOC F1", loc.F1, 1)
	if per.Support != 3 || org.Support != 1 || loc.Support != 1 || r.Micro.Support != 5 {
		t.Errorf("supports %d %d %d micro %d, want 3 1 1 5", per.Support, org.Support, loc.Support, r.Micro.Support)
	}
	near("micro precision", r.Micro.Precision, 0.5)
	near("micro recall", r.Micro.Recall, 0.6)
	near("micro F1", r.Micro.F1, 6.0/11)
	near("macro F1", r.Macro.F1, (2.0/3+0+1)/3)
	near("token accuracy", r.Accuracy, 8.0/11) // 4/4 + 3/4 + 1/3 tags
	if _, err := Entities([]string{"PER"}, gold, pred); err == nil {
		t.Error("an entity type outside the list was scored")
	}
}
