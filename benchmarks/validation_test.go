package benchmarks

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/trainer"
)

// holdout moves a fifth of the training rows, chosen by seed, to a
// validation split; the test split is dropped so it cannot steer tuning.
func holdout(ds *data.Dataset, seed uint64) {
	n := ds.Train.Len()
	perm := rand.New(rand.NewPCG(seed, 0x76616c)).Perm(n)
	var train, val data.Split
	for k, i := range perm {
		dst := &train
		if k < n/5 {
			dst = &val
		}
		dst.X, dst.Y = append(dst.X, ds.Train.X[i]), append(dst.Y, ds.Train.Y[i])
	}
	ds.Train, ds.Test = train, val
}

// BenchmarkValidation is the tuning harness: the mean validation accuracy of
// each shipped config over the benchmark seeds, on a split carved from the
// training rows. Candidate hyper-parameters come in through ZKDP_* variables,
// exactly as for `zkdp train`, e.g.
//
//	ZKDP_TRAINING_STEPS=800 ZKDP_TRAINING_LEARNING_RATE=0.5 \
//	  go test -run '^$' -bench 'Validation/digits' -benchtime 1x ./benchmarks/
func BenchmarkValidation(b *testing.B) {
	for _, name := range RowConfigs() {
		b.Run(name, func(b *testing.B) {
			cfg := loadShipped(b, name)
			seeds := benchSeeds(b)
			for range b.N {
				sum := 0.0
				for _, seed := range seeds {
					res, err := trainer.Train(context.Background(), seededSetup(b, cfg, seed, holdout), trainer.Options{})
					if err != nil {
						b.Fatal(err)
					}
					sum += res.TestAccuracy
				}
				b.ReportMetric(100*sum/float64(len(seeds)), "validation_acc_%")
			}
		})
	}
}
