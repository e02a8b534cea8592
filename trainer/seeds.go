package trainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/run"
)

// ErrOtherSeeds is returned when a run directory already holds seeds fixed
// for another dataset or another config seed.
var ErrOtherSeeds = errors.New("trainer: the run directory already holds seeds fixed for another dataset or seed")

// FixSeeds returns the run's secret seed and data source. When d's private
// folder already holds them (written by the pipeline's commit stage or by
// zkdp chain register, before the beacon existed), they are reused: the
// commitments already published were made with them. Otherwise they are drawn
// by DrawSeeds(fixed) and written there (0600) before anything is published.
// reused says which.
func FixSeeds(d *run.Dir, source data.Config, fixed *uint64) (seed dp.Seed, src run.DataSource, reused bool, err error) {
	secretPath, sourcePath := d.Private(run.SecretFile), d.Private(run.DataSourceFile)
	if _, err := os.Stat(secretPath); err == nil {
		var secret run.Secret
		if err := run.ReadJSON(secretPath, &secret); err != nil {
			return seed, src, false, err
		}
		if err := run.ReadJSON(sourcePath, &src); err != nil {
			return seed, src, false, err
		}
		if seed, err = commit.ParseHex(secret.Seed); err != nil {
			return seed, src, false, fmt.Errorf("%s: field \"seed\": %w", secretPath, err)
		}
		if !sameJSON(src.Data, source) {
			return seed, src, false, fmt.Errorf("%w: %s names dataset %q with other settings than the config's %q", ErrOtherSeeds, sourcePath, src.Data.Name, source.Name)
		}
		if fixed != nil && seed != dp.SeedFromUint64(*fixed) {
			return seed, src, false, fmt.Errorf("%w: %s does not hold the config's seed %d", ErrOtherSeeds, secretPath, *fixed)
		}
		return seed, src, true, nil
	}
	seed, split, err := DrawSeeds(fixed)
	if err != nil {
		return seed, src, false, err
	}
	src = run.DataSource{Data: source, SplitSeed: split}
	// The data source first: the seed file's presence means both exist.
	if err := run.WriteJSON(sourcePath, src, run.PrivateMode); err != nil {
		return seed, src, false, err
	}
	if err := run.WriteJSON(secretPath, run.Secret{Seed: commit.Hex(seed)}, run.PrivateMode); err != nil {
		return seed, src, false, err
	}
	return seed, src, false, nil
}

// sameJSON compares two values as the run files store them, so that a
// config read back from JSON equals the one that was written.
func sameJSON(a, b any) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}
