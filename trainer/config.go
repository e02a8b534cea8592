// Package trainer runs DP-SGD: the quantized step of package fixedpoint
// advances the released model, a Gorgonia float64 run with the same batches
// and noise gives the reference, and package dp supplies the sampling, the
// noise and the accountant. It writes a run directory (package run).
package trainer

import (
	"errors"
	"fmt"
	"math"

	"github.com/zkdp/zkdp/dp"
)

// ErrInvalidConfig matches every error Config.Validate returns.
var ErrInvalidConfig = errors.New("trainer: invalid config")

// Config is the `training:` section of a zkdp config file.
type Config struct {
	Hidden          []int   `mapstructure:"hidden"`           // hidden ReLU layer widths; empty = multinomial logistic regression
	Steps           int     `mapstructure:"steps"`            // T, the number of DP-SGD steps
	SamplingRate    float64 `mapstructure:"sampling_rate"`    // q: each training row joins a step's batch independently with probability q (Poisson sampling)
	ClipNorm        float64 `mapstructure:"clip_norm"`        // C: each example's gradient is clipped to L2 norm at most C
	LearningRate    float64 `mapstructure:"learning_rate"`    // lr; the update is lr/(q N_pub) * (sum of clipped gradients + noise), N_pub = data.max_rows
	NoiseMultiplier float64 `mapstructure:"noise_multiplier"` // sigma: the noise's standard deviation is sigma*C; 0 means calibrate it to epsilon
	Epsilon         float64 `mapstructure:"epsilon"`          // target epsilon, used when noise_multiplier is 0; give one of the two
	Delta           float64 `mapstructure:"delta"`            // target delta; the claimed delta (the accountant's plus the samplers' terms) never exceeds it
	Accountant      string  `mapstructure:"accountant"`       // rdp (Renyi DP) or prv (privacy random variables, tighter)
	MaxBatch        int     `mapstructure:"max_batch"`        // public batch padding; 0 picks the smallest whose overflow probability over all steps is at most delta/10^4
	EvalEvery       int     `mapstructure:"eval_every"`       // steps between test evaluations for the curves
	InitScale       float64 `mapstructure:"init_scale"`       // hidden-layer initial weights are uniform on a power of two of raw units not above init_scale*sqrt(6/fan-in) (public, from the beacon); the head starts at 0
}

// DefaultConfig holds the defaults viper starts from.
func DefaultConfig() Config {
	return Config{Delta: 1e-5, Accountant: string(dp.AccountantRDP), EvalEvery: 50, InitScale: 1}
}

// Validate lists every problem, each naming its key.
func (c Config) Validate() []error {
	var errs []error
	add := func(key, msg string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: training.%s: %s", ErrInvalidConfig, key, fmt.Sprintf(msg, args...)))
	}
	for i, h := range c.Hidden {
		if h < 1 || h > 4096 {
			add(fmt.Sprintf("hidden[%d]", i), "must be in [1, 4096], got %d", h)
		}
	}
	if c.Steps < 1 {
		add("steps", "must be at least 1, got %d", c.Steps)
	}
	if !(c.SamplingRate > 0 && c.SamplingRate <= 1) {
		add("sampling_rate", "must be in (0, 1], got %v", c.SamplingRate)
	}
	if !positive(c.ClipNorm) {
		add("clip_norm", "must be positive and finite, got %v", c.ClipNorm)
	}
	if !positive(c.LearningRate) {
		add("learning_rate", "must be positive and finite, got %v", c.LearningRate)
	}
	// The comparisons are written so that NaN and infinities fail them.
	switch {
	case !(c.NoiseMultiplier == 0 || positive(c.NoiseMultiplier)):
		add("noise_multiplier", "must be positive and finite (or 0 to calibrate it), got %v", c.NoiseMultiplier)
	case c.NoiseMultiplier == 0 && !positive(c.Epsilon):
		add("epsilon", "set a positive target epsilon or a noise_multiplier (got epsilon %v)", c.Epsilon)
	case c.NoiseMultiplier > 0 && c.Epsilon != 0:
		add("epsilon", "give either epsilon (to calibrate sigma) or noise_multiplier, not both")
	}
	if !(c.Delta > 0 && c.Delta < 1) {
		add("delta", "must be in (0, 1), got %v", c.Delta)
	}
	if c.Accountant != string(dp.AccountantRDP) && c.Accountant != string(dp.AccountantPRV) {
		add("accountant", "must be rdp or prv, got %q", c.Accountant)
	}
	if c.MaxBatch < 0 {
		add("max_batch", "must not be negative, got %d", c.MaxBatch)
	}
	if c.EvalEvery < 1 {
		add("eval_every", "must be at least 1, got %d", c.EvalEvery)
	}
	if !(c.InitScale == 0 || positive(c.InitScale)) {
		add("init_scale", "must be non-negative and finite, got %v", c.InitScale)
	}
	return errs
}

// positive is x > 0 and finite; false for NaN.
func positive(x float64) bool { return x > 0 && !math.IsInf(x, 1) }

// ModelName describes the architecture, e.g. "logistic_regression" or "mlp[32]".
func (c Config) ModelName() string {
	if len(c.Hidden) == 0 {
		return "logistic_regression"
	}
	return fmt.Sprintf("mlp%v", c.Hidden)
}
