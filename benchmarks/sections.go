package benchmarks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/solidity"
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/commitment"
	"github.com/zkdp/zkdp/circuits/inference"
	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/configs"
	"github.com/zkdp/zkdp/data"
	"github.com/zkdp/zkdp/dp"
	"github.com/zkdp/zkdp/fixedpoint"
	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/prover"
	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
	"github.com/zkdp/zkdp/trainer"
)

// LoadConfig loads a shipped config (or a config file) with its defaults.
func LoadConfig(name string) (config.Config, error) {
	l := config.NewLoader()
	if err := l.ReadFile(name); err != nil {
		return config.Config{}, err
	}
	return l.Load()
}

// RowConfigs lists the shipped configs that train on rows: the benchmark
// sections' defaults. Token-level corpora (configs/ner_btc.yaml) train with
// trainer.TrainText and are measured by their own commands.
func RowConfigs() []string {
	var out []string
	for _, name := range configs.Names() {
		if cfg, err := LoadConfig(name); err == nil && !data.IsCorpus(cfg.Data.Name) {
			out = append(out, name)
		}
	}
	return out
}

// SeededSetup is the run a benchmark seed stands for: the seed fixes the
// split, the initialization, the PRF seed and the beacon (reproducible, so
// NOT private: for measurements only). adjust, if not nil, may change the
// loaded dataset first.
func SeededSetup(cfg config.Config, seed uint64, adjust func(*data.Dataset, uint64)) (trainer.Setup, error) {
	ds, err := data.Load(cfg.Data, seed)
	if err != nil {
		return trainer.Setup{}, err
	}
	if adjust != nil {
		adjust(ds, seed)
	}
	var beacon fr.Element
	beacon.SetUint64(seed + 1000)
	return trainer.Setup{Dataset: ds, Training: cfg.Training, Format: cfg.FixedPoint,
		Seed: dp.SeedFromUint64(seed), Beacon: beacon, BeaconGiven: true}, nil
}

// AccuracyRow is one config at one privacy level, averaged over seeds.
type AccuracyRow struct {
	Config          string   `json:"config"`
	Model           string   `json:"model"`
	TargetEpsilon   float64  `json:"target_epsilon"` // 0 when the config fixes sigma
	Epsilon         float64  `json:"epsilon"`        // claimed, at Delta
	Delta           float64  `json:"delta"`
	NoiseMultiplier float64  `json:"noise_multiplier"`
	Quantized       float64  `json:"quantized_accuracy"` // the released fixed-point model
	Float           float64  `json:"float_accuracy"`     // the float64 reference, same batches and noise
	NoNoise         float64  `json:"no_noise_accuracy"`  // the same clipped SGD with sigma = 0
	Seeds           []uint64 `json:"seeds"`
	Seconds         float64  `json:"seconds"` // every seed's DP run and sigma = 0 run
}

// AccuracyOptions choose the accuracy grid.
type AccuracyOptions struct {
	Configs  []string
	Seeds    []uint64
	Epsilons []float64 // empty: each config's own epsilon
	Logger   *slog.Logger
}

// Accuracy trains each config once per seed (and per target epsilon) and
// reports the mean test accuracy of the released model, of the float
// reference and of the same run without noise.
func Accuracy(ctx context.Context, o AccuracyOptions) ([]AccuracyRow, error) {
	log := logger(o.Logger)
	if len(o.Seeds) == 0 {
		return nil, fmt.Errorf("benchmarks: accuracy needs at least one seed")
	}
	var rows []AccuracyRow
	for _, name := range o.Configs {
		cfg, err := LoadConfig(name)
		if err != nil {
			return nil, err
		}
		targets := o.Epsilons
		if len(targets) == 0 {
			targets = []float64{cfg.Training.Epsilon}
		}
		for _, eps := range targets {
			c := cfg
			if eps > 0 {
				c.Training.Epsilon, c.Training.NoiseMultiplier = eps, 0
			}
			row := AccuracyRow{Config: name, Model: c.Training.ModelName(), TargetEpsilon: c.Training.Epsilon, Seeds: o.Seeds}
			start := time.Now()
			for _, seed := range o.Seeds {
				s, err := SeededSetup(c, seed, nil)
				if err != nil {
					return nil, err
				}
				res, err := trainer.Train(ctx, s, trainer.Options{})
				if err != nil {
					return nil, fmt.Errorf("benchmarks: %s at epsilon %g, seed %d: %w", name, eps, seed, err)
				}
				noNoise, err := trainer.Baseline(ctx, s)
				if err != nil {
					return nil, fmt.Errorf("benchmarks: %s sigma = 0, seed %d: %w", name, seed, err)
				}
				row.Quantized += res.TestAccuracy / float64(len(o.Seeds))
				row.Float += res.FloatTestAccuracy / float64(len(o.Seeds))
				row.NoNoise += noNoise / float64(len(o.Seeds))
				row.Epsilon, row.Delta, row.NoiseMultiplier = res.Privacy.Epsilon, res.Privacy.Delta, res.Params.NoiseMultiplier
			}
			row.Seconds = time.Since(start).Seconds()
			log.Info("accuracy", "config", name, "epsilon", row.Epsilon, "quantized", row.Quantized, "seconds", row.Seconds)
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// TrainingRow is the time of one short run of a config.
type TrainingRow struct {
	Config        string  `json:"config"`
	Rows          int     `json:"rows"`
	Params        int     `json:"params"`
	Steps         int     `json:"steps"`
	SecondsPerRun float64 `json:"seconds_per_run"`
	Runs          int     `json:"runs"`
}

// TrainingSpeed times runs of steps steps per config: quantizing and
// committing the data, planning the privacy (calibrating sigma) and the
// quantized steps with their float reference; loading is outside the timer.
func TrainingSpeed(ctx context.Context, configs []string, steps, runs int) ([]TrainingRow, error) {
	var out []TrainingRow
	for _, name := range configs {
		cfg, err := LoadConfig(name)
		if err != nil {
			return nil, err
		}
		cfg.Training.Steps, cfg.Training.EvalEvery = steps, steps
		s, err := SeededSetup(cfg, 1, nil)
		if err != nil {
			return nil, err
		}
		var res *trainer.Result
		start := time.Now()
		for range runs {
			if res, err = trainer.Train(ctx, s, trainer.Options{}); err != nil {
				return nil, fmt.Errorf("benchmarks: %s: %w", name, err)
			}
		}
		out = append(out, TrainingRow{Config: name, Rows: res.Params.Rows, Params: fixedpoint.NumParams(res.Params.Widths), Steps: steps,
			SecondsPerRun: time.Since(start).Seconds() / float64(runs), Runs: runs})
	}
	return out, nil
}

// AccountantRow is the time of one epsilon computation.
type AccountantRow struct {
	Accountant      string  `json:"accountant"`
	Steps           int     `json:"steps"`
	SamplingRate    float64 `json:"sampling_rate"`
	NoiseMultiplier float64 `json:"noise_multiplier"`
	Delta           float64 `json:"delta"`
	Epsilon         float64 `json:"epsilon"`
	SecondsPerCall  float64 `json:"seconds_per_call"`
	Calls           int     `json:"calls"`
}

// AccountantSpeed times epsilon after steps steps with each accountant.
func AccountantSpeed(steps, calls int) ([]AccountantRow, error) {
	var out []AccountantRow
	for _, acc := range []dp.Accountant{dp.AccountantRDP, dp.AccountantPRV} {
		row := AccountantRow{Accountant: string(acc), Steps: steps, SamplingRate: 0.001, NoiseMultiplier: 1, Delta: 1e-5, Calls: calls}
		seg := []dp.Segment{{SamplingRate: row.SamplingRate, NoiseMultiplier: row.NoiseMultiplier, Steps: steps}}
		start := time.Now()
		for range calls {
			g, err := dp.Epsilon(acc, seg, row.Delta)
			if err != nil {
				return nil, fmt.Errorf("benchmarks: %s: %w", acc, err)
			}
			row.Epsilon = g.Epsilon
		}
		row.SecondsPerCall = time.Since(start).Seconds() / float64(calls)
		out = append(out, row)
	}
	return out, nil
}

// Circuits compiles the step circuit of each config and reports its size.
// A config whose step circuit stepproof refuses as too large to prove (the
// MNIST MLP's) is skipped, with a log line.
func Circuits(configs []string, log *slog.Logger) ([]stepproof.Size, error) {
	sizes := []stepproof.Size{}
	for _, name := range configs {
		cfg, err := LoadConfig(name)
		if err != nil {
			return nil, err
		}
		ds, err := data.Load(cfg.Data, 1)
		if err != nil {
			return nil, err
		}
		params, err := trainer.Plan(trainer.Setup{Dataset: ds, Training: cfg.Training, Format: cfg.FixedPoint, Seed: dp.SeedFromUint64(1)})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		size, err := stepproof.Measure(StepCircuitName(name, params.Widths), params)
		if errors.Is(err, stepproof.ErrTooLarge) {
			logger(log).Warn("skipping a step circuit too large to prove", "config", name, "reason", err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		sizes = append(sizes, size)
	}
	return sizes, nil
}

// StepCircuitName names a config's step circuit in the constraint tables:
// "<config>/step", with the widths for a model with hidden layers
// ("mnist-784-56-10/step"), as the zkML comparisons name an MLP.
func StepCircuitName(config string, widths []int) string {
	if len(widths) <= 2 {
		return config + "/step"
	}
	parts := make([]string, len(widths))
	for i, w := range widths {
		parts[i] = strconv.Itoa(w)
	}
	return config + "-" + strings.Join(parts, "-") + "/step"
}

// MNISTWidths is the MLP of the zkML comparison (circomlib-ml, EZKL).
var MNISTWidths = []int{784, 56, 10}

// InferenceCircuits measures the MNIST MLP's inference circuits (one hashed
// input) under both bindings, named as the committed constraint CSV names
// them: mnist-784-56-10/infer-fixed and mnist-784-56-10/infer-committed.
func InferenceCircuits() ([]stepproof.Size, error) {
	var out []stepproof.Size
	for _, binding := range []string{"fixed", "committed"} {
		n, err := inferproof.Measure(MNISTWidths, fixedpoint.DefaultFormat(), binding)
		if err != nil {
			return nil, err
		}
		out = append(out, stepproof.Size{Name: "mnist-784-56-10/infer-" + binding, Constraints: n, Params: fixedpoint.NumParams(MNISTWidths)})
	}
	return out, nil
}

// writeRun trains cfg with a benchmark seed into a fresh run directory.
func writeRun(ctx context.Context, cfg config.Config, dir string) (*trainer.Result, error) {
	s, err := SeededSetup(cfg, 1, nil)
	if err != nil {
		return nil, err
	}
	s.Source = &run.DataSource{Data: cfg.Data, SplitSeed: 1}
	res, err := trainer.Train(ctx, s, trainer.Options{})
	if err != nil {
		return nil, err
	}
	d, err := run.Create(dir)
	if err != nil {
		return nil, err
	}
	return res, res.Write(d, cfg.Training.ModelName())
}

// ProvingResult compares step proving with gnark's plain Groth16.
type ProvingResult struct {
	Config          string  `json:"config"`
	Steps           int     `json:"steps"`
	Constraints     int     `json:"constraints"`
	StepSeconds     float64 `json:"step_seconds"`  // every step: compile, key load, witnesses from private/, prove, verify, write
	PlainSeconds    float64 `json:"plain_seconds"` // as many plain proofs of the same size
	PlainCircuit    int     `json:"plain_constraints"`
	StepRate        float64 `json:"step_constraints_per_second"`
	PlainRate       float64 `json:"plain_constraints_per_second"`
	Ratio           float64 `json:"ratio"`
	FirstRunSeconds float64 `json:"first_run_seconds"` // the first proving run, which sets up the keys unless cached
	SetupIncluded   bool    `json:"setup_included"`    // the keys were not cached before
	PeakMemoryMiB   float64 `json:"peak_memory_mib"`
	SecondsPerProof float64 `json:"seconds_per_step_proof"`
}

// squaringChain is gnark's plain baseline: n constraints x_{i+1} = x_i^2 + i.
type squaringChain struct {
	X, Y frontend.Variable
	n    int
}

func (c *squaringChain) Define(api frontend.API) error {
	x := c.X
	for i := range c.n {
		x = api.Add(api.Mul(x, x), i)
	}
	api.AssertIsEqual(x, c.Y)
	return nil
}

// chainValue is the squaring chain's output mod the BN254 scalar field.
func chainValue(x int64, n int) frontend.Variable {
	v, c := big.NewInt(x), new(big.Int)
	mod := ecc.BN254.ScalarField()
	for i := range n {
		v.Mul(v, v)
		c.SetInt64(int64(i))
		v.Add(v, c)
		v.Mod(v, mod)
	}
	return v
}

// Proving proves every step of a run of the config (keys from keys, set up
// first if missing: that run is timed apart) and, interleaved with them,
// as many proofs of gnark's plain Groth16 on a squaring chain of the same size.
func Proving(ctx context.Context, configName string, keys *prover.KeyCache, log *slog.Logger) (ProvingResult, error) {
	log = logger(log)
	cfg, err := LoadConfig(configName)
	if err != nil {
		return ProvingResult{}, err
	}
	tmp, err := os.MkdirTemp("", "zkdp-bench-")
	if err != nil {
		return ProvingResult{}, fmt.Errorf("benchmarks: %w", err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "run")
	res, err := writeRun(ctx, cfg, dir)
	if err != nil {
		return ProvingResult{}, err
	}
	out := ProvingResult{Config: configName, Steps: res.Params.Steps}
	start := time.Now()
	if _, err := stepproof.Prove(ctx, dir, stepproof.Options{Workers: 1, Keys: keys, Logger: log}); err != nil {
		return out, err
	}
	out.FirstRunSeconds = time.Since(start).Seconds()
	var info stepproof.CircuitInfo
	if err := run.ReadJSON(filepath.Join(dir, run.PublicDir, stepproof.CircuitFile), &info); err != nil {
		return out, err
	}
	if keys != nil {
		_, _, meta := keys.Paths(info.Hash)
		if st, err := os.Stat(meta); err == nil && !st.ModTime().Before(start) {
			out.SetupIncluded = true
		}
	}
	size, err := stepproof.Measure(StepCircuitName(configName, res.Params.Widths), res.Params)
	if err != nil {
		return out, err
	}
	out.Constraints = size.Constraints
	plain := &squaringChain{n: size.Constraints - 1}
	ccs, err := prover.Compile(plain)
	if err != nil {
		return out, err
	}
	pk, _, err := groth16.Setup(ccs)
	if err != nil {
		return out, fmt.Errorf("benchmarks: plain setup: %w", err)
	}
	assignment := &squaringChain{X: 3, Y: chainValue(3, plain.n)}
	var plainTime time.Duration
	var plainErr error
	// One plain proof after each step proof, from the progress callback
	// (which blocks the single worker): on a shared machine a change of load
	// then affects both series alike, and the ratio stays meaningful.
	interleave := func(int, int, time.Duration) {
		t0 := time.Now()
		w, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
		if err == nil {
			_, err = groth16.Prove(ccs, pk, w)
		}
		if err != nil && plainErr == nil {
			plainErr = fmt.Errorf("benchmarks: plain proof: %w", err)
		}
		plainTime += time.Since(t0)
	}
	if err := os.RemoveAll(filepath.Join(dir, run.PublicDir, run.ProofsDir)); err != nil {
		return out, fmt.Errorf("benchmarks: %w", err)
	}
	start = time.Now()
	sum, err := stepproof.Prove(ctx, dir, stepproof.Options{Workers: 1, Keys: keys, Logger: log, Progress: interleave})
	if err != nil {
		return out, err
	}
	if plainErr != nil {
		return out, plainErr
	}
	if sum.Proven != out.Steps {
		return out, fmt.Errorf("benchmarks: proved %d of %d steps", sum.Proven, out.Steps)
	}
	out.StepSeconds = (time.Since(start) - plainTime).Seconds()
	out.PlainSeconds = plainTime.Seconds()
	var proofs time.Duration
	for _, d := range sum.Durations {
		proofs += d
	}
	out.SecondsPerProof = proofs.Seconds() / float64(sum.Proven)
	out.PlainCircuit = ccs.GetNbConstraints()
	out.StepRate = float64(out.Constraints*out.Steps) / out.StepSeconds
	out.PlainRate = float64(out.PlainCircuit*out.Steps) / out.PlainSeconds
	out.Ratio = out.StepRate / out.PlainRate
	out.PeakMemoryMiB = peakMiB()
	return out, nil
}

// peakMiB is this process's peak resident memory (Linux reports KiB).
func peakMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// ScalingPoint is one step circuit and the time of one of its proofs.
type ScalingPoint struct {
	Label        string  `json:"label"`
	SamplingRate float64 `json:"sampling_rate"`
	Hidden       []int   `json:"hidden"`
	MaxBatch     int     `json:"max_batch"`
	Params       int     `json:"params"`
	Constraints  int     `json:"constraints"`
	ProofSeconds float64 `json:"proof_seconds"` // one step proof, witness included
	SetupSeconds float64 `json:"setup_seconds"` // compile + single-party setup (uncached)
}

// ScalingVariant changes a config's batch size (through the sampling rate)
// or its parameters (through hidden layers).
type ScalingVariant struct {
	SamplingRate float64
	Hidden       []int
}

// Scaling proves one step of variants of a config, each with its own keys
// (set up in a temporary cache and timed apart).
func Scaling(ctx context.Context, configName string, variants []ScalingVariant, log *slog.Logger) ([]ScalingPoint, error) {
	log = logger(log)
	base, err := LoadConfig(configName)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "zkdp-scaling-")
	if err != nil {
		return nil, fmt.Errorf("benchmarks: %w", err)
	}
	defer os.RemoveAll(tmp)
	var out []ScalingPoint
	for i, v := range variants {
		cfg := base
		if v.SamplingRate > 0 {
			cfg.Training.SamplingRate = v.SamplingRate
		}
		cfg.Training.Hidden = v.Hidden
		p, _, err := proveOneStep(ctx, cfg, filepath.Join(tmp, fmt.Sprintf("run-%d", i)), log)
		if err != nil {
			return nil, err
		}
		p.Label = fmt.Sprintf("q=%g hidden=%v", cfg.Training.SamplingRate, v.Hidden)
		log.Info("scaling", "point", p.Label, "constraints", p.Constraints, "proof_seconds", p.ProofSeconds)
		out = append(out, p)
	}
	return out, nil
}

// proveOneStep trains the config for one step in dir, sets up its step
// circuit's keys in dir's own cache (timed apart) and proves the step. The
// circuit differs from the whole run's in the constant T and in the max
// batch, a tail bound over T steps, a few slots smaller for one step. It
// returns the point and the proving key's size in bytes.
func proveOneStep(ctx context.Context, cfg config.Config, dir string, log *slog.Logger) (ScalingPoint, int64, error) {
	cfg.Training.Steps, cfg.Training.EvalEvery = 1, 1
	runDir := filepath.Join(dir, "run")
	res, err := writeRun(ctx, cfg, runDir)
	if err != nil {
		return ScalingPoint{}, 0, err
	}
	keys := &prover.KeyCache{Dir: filepath.Join(dir, "keys"), Logger: log}
	start := time.Now()
	if _, err := stepproof.Prove(ctx, runDir, stepproof.Options{Workers: 1, Keys: keys, Logger: log}); err != nil {
		return ScalingPoint{}, 0, err
	}
	setup := time.Since(start)
	if err := os.RemoveAll(filepath.Join(runDir, run.PublicDir, run.ProofsDir)); err != nil {
		return ScalingPoint{}, 0, fmt.Errorf("benchmarks: %w", err)
	}
	sum, err := stepproof.Prove(ctx, runDir, stepproof.Options{Workers: 1, Keys: keys, Logger: log})
	if err != nil {
		return ScalingPoint{}, 0, err
	}
	var info stepproof.CircuitInfo
	if err := run.ReadJSON(filepath.Join(runDir, run.PublicDir, stepproof.CircuitFile), &info); err != nil {
		return ScalingPoint{}, 0, err
	}
	p := ScalingPoint{SamplingRate: cfg.Training.SamplingRate, Hidden: cfg.Training.Hidden, MaxBatch: res.Params.MaxBatch,
		Params: fixedpoint.NumParams(res.Params.Widths), Constraints: info.Constraints, ProofSeconds: sum.Durations["step-00000"].Seconds()}
	p.SetupSeconds = setup.Seconds() - p.ProofSeconds
	pk, _, _ := keys.Paths(info.Hash)
	st, err := os.Stat(pk)
	if err != nil {
		return p, 0, fmt.Errorf("benchmarks: proving key: %w", err)
	}
	return p, st.Size(), nil
}

// RunCost is one config's whole-run proving cost, projected from one
// measured step proof: every step circuit of a run is the same circuit.
type RunCost struct {
	Config          string  `json:"config"`
	Steps           int     `json:"steps"` // T of the config
	MaxBatch        int     `json:"max_batch"`
	Params          int     `json:"params"`
	Constraints     int     `json:"constraints"`
	PerExampleParam float64 `json:"constraints_per_example_parameter"`
	SetupSeconds    float64 `json:"setup_seconds"` // compile + single-party setup
	ProofSeconds    float64 `json:"proof_seconds"` // one step proof, witness included
	ProvingKeyMiB   float64 `json:"proving_key_mib"`
	PeakMemoryMiB   float64 `json:"peak_memory_mib"` // of the process so far: later rows include earlier ones
	RunSeconds      float64 `json:"run_seconds"`     // Steps x ProofSeconds, projected
}

// RunCosts measures one step proof of each config and projects its whole
// run: T proofs on one machine, one at a time.
func RunCosts(ctx context.Context, configs []string, log *slog.Logger) ([]RunCost, error) {
	log = logger(log)
	tmp, err := os.MkdirTemp("", "zkdp-runcost-")
	if err != nil {
		return nil, fmt.Errorf("benchmarks: %w", err)
	}
	defer os.RemoveAll(tmp)
	var out []RunCost
	for _, name := range configs {
		cfg, err := LoadConfig(name)
		if err != nil {
			return nil, err
		}
		p, pkBytes, err := proveOneStep(ctx, cfg, filepath.Join(tmp, name), log)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r := RunCost{Config: name, Steps: cfg.Training.Steps, MaxBatch: p.MaxBatch, Params: p.Params, Constraints: p.Constraints,
			PerExampleParam: float64(p.Constraints) / float64(p.MaxBatch*p.Params), SetupSeconds: p.SetupSeconds,
			ProofSeconds: p.ProofSeconds, ProvingKeyMiB: float64(pkBytes) / (1 << 20), PeakMemoryMiB: peakMiB(),
			RunSeconds: float64(cfg.Training.Steps) * p.ProofSeconds}
		log.Info("run cost", "config", name, "constraints", r.Constraints, "proof_seconds", r.ProofSeconds, "run_seconds", r.RunSeconds)
		out = append(out, r)
		if err := os.RemoveAll(filepath.Join(tmp, name)); err != nil { // keys are large
			return nil, fmt.Errorf("benchmarks: %w", err)
		}
	}
	return out, nil
}

// InferenceResult is the inference section: proofs of the trained MNIST MLP
// of the zkML comparison (784-56-10) on held-out images, and the model's
// accuracies.
type InferenceResult struct {
	Model string `json:"model"`
	// Accuracies on the 2,000 held-out images: the released model (quantized
	// DP-SGD), the float reference run, and the float reference rounded to
	// fixed point and run in the circuit's semantics.
	ReleasedAccuracy     float64          `json:"released_accuracy"`
	FloatAccuracy        float64          `json:"float_accuracy"`
	FloatRoundedAccuracy float64          `json:"float_rounded_accuracy"`
	Proofs               []InferenceProof `json:"proofs"`
}

// InferenceProof is one inference circuit and the mean time of its proofs.
type InferenceProof struct {
	Binding      string  `json:"binding"`
	Input        string  `json:"input"`
	Batch        int     `json:"batch"`
	Constraints  int     `json:"constraints"`
	SetupSeconds float64 `json:"setup_seconds"` // 0 when the key came from the cache
	ProveSeconds float64 `json:"prove_seconds"` // per proof: witness and Groth16 proof, Solidity mode
	Proofs       int     `json:"proofs"`
	PeakMemMiB   float64 `json:"peak_memory_mib"` // of the process so far
}

// InferenceMNIST proves inferences of the MNIST MLP trained by
// configs/mnist.yaml (seed 1) in runDir, training it first when runDir has
// no model: one hashed input under each binding, and a batch of 8 under the
// committed binding, whose model hash is then paid once for eight
// inferences. Compilation and key setup are excluded from the proving time,
// as zkML tools report it.
func InferenceMNIST(ctx context.Context, runDir string, proofs int, keys *prover.KeyCache, log *slog.Logger) (InferenceResult, error) {
	log = logger(log)
	out := InferenceResult{Model: "mlp 784-56-10 (configs/mnist.yaml, seed 1)"}
	if _, err := os.Stat(filepath.Join(runDir, run.PublicDir, run.ModelFile)); err != nil {
		cfg, err := LoadConfig("mnist")
		if err != nil {
			return out, err
		}
		log.Info("training the MNIST model", "dir", runDir)
		if _, err := writeRun(ctx, cfg, runDir); err != nil {
			return out, err
		}
	}
	var report struct {
		Released     float64 `json:"test_accuracy"`
		Float        float64 `json:"float_test_accuracy"`
		FloatRounded float64 `json:"quantized_float_accuracy"`
	}
	raw, err := os.ReadFile(filepath.Join(runDir, run.ReportFile))
	if err != nil {
		return out, fmt.Errorf("benchmarks: %w", err)
	}
	if err := json.Unmarshal(raw, &report); err != nil { // report.json holds much more
		return out, fmt.Errorf("benchmarks: %s: %w", filepath.Join(runDir, run.ReportFile), err)
	}
	out.ReleasedAccuracy, out.FloatAccuracy, out.FloatRoundedAccuracy = report.Released, report.Float, report.FloatRounded
	m, err := inferproof.Model(runDir)
	if err != nil {
		return out, err
	}
	held, err := inferproof.HeldOut(runDir, m)
	if err != nil {
		return out, err
	}
	for _, tc := range []struct {
		binding inference.Binding
		name    string
		batch   int
	}{{inference.Fixed, "fixed", 1}, {inference.Committed, "committed", 1}, {inference.Committed, "committed", 8}} {
		spec := inference.Spec{Widths: m.Widths, Format: m.Format, Batch: tc.batch, Binding: tc.binding, Visibility: inference.Hashed}
		if tc.binding == inference.Fixed {
			spec.Weights = m.Weights
		}
		c, err := inference.New(spec)
		if err != nil {
			return out, err
		}
		assign := func() (frontend.Circuit, error) {
			salts := make([]fr.Element, tc.batch)
			for i := range salts {
				if salts[i], err = inference.NewSalt(); err != nil {
					return nil, err
				}
			}
			a, _, err := inference.Assign(spec, m.Weights, held.Rows[:tc.batch], salts)
			return a, err
		}
		r := InferenceProof{Binding: tc.name, Input: "hashed", Batch: tc.batch, Proofs: proofs}
		if err := measureProofs(&r, c, assign, fmt.Sprintf("inference/mnist-%s-hashed-b%d", tc.name, tc.batch), keys); err != nil {
			return out, err
		}
		log.Info("inference", "binding", r.Binding, "batch", r.Batch, "constraints", r.Constraints, "prove_seconds", r.ProveSeconds)
		out.Proofs = append(out.Proofs, r)
	}
	// The floor of any committed binding: the sponge over the packed model
	// alone, with no range checks and no inference.
	packed, err := commit.Pack(m.Weights, m.Format.WeightBits)
	if err != nil {
		return out, fmt.Errorf("benchmarks: %w", err)
	}
	mc, err := commit.HashPacked(commit.TagModel, m.Weights, m.Format.WeightBits)
	if err != nil {
		return out, fmt.Errorf("benchmarks: %w", err)
	}
	floor := &modelHashCircuit{Packed: make([]frontend.Variable, len(packed)), iv: commit.PackedIV(commit.TagModel, len(m.Weights), m.Format.WeightBits)}
	assign := func() (frontend.Circuit, error) {
		a := &modelHashCircuit{Commitment: mc}
		for _, e := range packed {
			a.Packed = append(a.Packed, e)
		}
		return a, nil
	}
	r := InferenceProof{Binding: "model hash only (floor)", Input: "none", Batch: 1, Proofs: proofs}
	if err := measureProofs(&r, floor, assign, "inference/mnist-model-hash-floor", keys); err != nil {
		return out, err
	}
	log.Info("inference", "binding", r.Binding, "constraints", r.Constraints, "prove_seconds", r.ProveSeconds)
	out.Proofs = append(out.Proofs, r)
	return out, nil
}

// modelHashCircuit proves H(W) = M from W's packed elements, as a committed
// inference circuit must at least: a lower bound on its size and time.
type modelHashCircuit struct {
	Commitment frontend.Variable `gnark:",public"`
	Packed     []frontend.Variable
	iv         fr.Element
}

func (c *modelHashCircuit) Define(api frontend.API) error {
	api.AssertIsEqual(commitment.Sponge(api, c.iv, c.Packed), c.Commitment)
	return nil
}

// measureProofs sets up circuit's key (cached under name) and fills r with
// its size and the mean time of r.Proofs proofs, each verified: witness and
// Groth16 proof in Solidity mode, as the CLI makes them.
func measureProofs(r *InferenceProof, circuit frontend.Circuit, assign func() (frontend.Circuit, error), name string, keys *prover.KeyCache) error {
	ccs, err := prover.Compile(circuit)
	if err != nil {
		return err
	}
	start := time.Now()
	pk, vk, err := keys.Setup(ccs, name)
	if err != nil {
		return err
	}
	r.Constraints, r.SetupSeconds = ccs.GetNbConstraints(), time.Since(start).Seconds()
	var total time.Duration
	for range r.Proofs {
		start := time.Now()
		a, err := assign()
		if err != nil {
			return err
		}
		wit, err := frontend.NewWitness(a, ecc.BN254.ScalarField())
		if err != nil {
			return err
		}
		proof, err := groth16.Prove(ccs, pk, wit, solidity.WithProverTargetSolidityVerifier(backend.GROTH16))
		if err != nil {
			return fmt.Errorf("benchmarks: %s proof: %w", name, err)
		}
		total += time.Since(start)
		pub, err := wit.Public()
		if err != nil {
			return err
		}
		if err := groth16.Verify(proof, vk, pub, solidity.WithVerifierTargetSolidityVerifier(backend.GROTH16)); err != nil {
			return fmt.Errorf("benchmarks: %s proof does not verify: %w", name, err)
		}
	}
	r.ProveSeconds, r.PeakMemMiB = total.Seconds()/float64(r.Proofs), peakMiB()
	return nil
}

// GasRow is the gas of one transaction kind; the chain package measures it.
type GasRow struct {
	Transaction string `json:"transaction"`
	Gas         uint64 `json:"gas"`
	Note        string `json:"note,omitempty"`
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
