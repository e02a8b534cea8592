package data

import (
	"testing"

	"github.com/zkdp/zkdp/dp"
)

func BenchmarkCommitAdult(b *testing.B) {
	cfg, _ := DefaultConfig("adult")
	ds, err := Load(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	q, err := QuantizeSplit(ds.Train, 16)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := q.Commit(dp.RowSalts(testSeed, q.Len())); err != nil {
			b.Fatal(err)
		}
	}
}
