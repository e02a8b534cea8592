package benchmarks

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/zkdp/zkdp/run"
	"github.com/zkdp/zkdp/stepproof"
)

// Published figures the inference section compares with (MNIST MLP of the
// zkML comparison): circomlib-ml's constraint count and proving time, and
// EZKL's proving time in its resources and accuracy modes.
const (
	publishedCircomConstraints = 73416
	publishedCircomSeconds     = 2.35
	publishedEZKLResources     = 2.66
	publishedEZKLAccuracy      = 38.0
)

// Report is RESULTS.md and its plots, rendered from saved sections.
type Report struct {
	Markdown []byte
	Plots    map[string][]byte // file name in PlotsDir -> PNG
}

// PlotsDir is the plots' folder, next to RESULTS.md.
const PlotsDir = "plots"

// HandRunDir holds earlier hand-run measurements, one Markdown file per
// section, shown with a label until the harness regenerates what they say.
const HandRunDir = "handrun"

type sectionRenderer struct {
	title string
	intro string
	// render appends the section's body; it may add plots.
	render func(s Saved, md *strings.Builder, plots map[string][]byte) error
}

var renderers = map[string]sectionRenderer{
	SectionAccuracy: {"DP training accuracy",
		"Mean test accuracy over the seeds. A seed fixes the split, the initialization, the secret PRF seed and the beacon. " +
			"**quantized** is the released fixed-point model (the one the proofs are about); **float** the Gorgonia float64 reference with " +
			"the same batches and noise; **σ=0** the same clipped SGD without noise, so the gap to it is the cost of the noise alone. " +
			"delta is the claimed delta (accountant plus the samplers' terms), never above the configured 1e-5.",
		renderAccuracy},
	SectionTraining: {"Training speed",
		"One run quantizes and commits the data (Poseidon2 Merkle root), plans the privacy (calibrating sigma) and runs the quantized steps with their float reference; loading is outside the timer.",
		renderTraining},
	SectionAccountant: {"Accountant speed", "Epsilon after many steps of the Poisson subsampled Gaussian mechanism.", renderAccountant},
	SectionCircuits: {"Step circuit sizes",
		"R1CS constraints on BN254 of the whole step circuit (seed, PRF words, Poisson slots, every slot's membership under D in the params' format (a Merkle opening, a flat dataset or the leaves rehashed with a lookup), products checked by random evaluation, clipped gradients, discrete-Gaussian noise by table lookup, the update, W_0's check and both model commitments). Issue #17's targets: digits at most 4 per example-parameter, breast cancer at most 400k, the MNIST MLP at an expected batch of 256 at most 5M.",
		renderCircuits},
	SectionProving: {"Step proving throughput",
		"Every step of a run, against gnark's plain Groth16 on a squaring chain of the same size, one plain proof after each step proof in the same process (target ratio: at least 0.9). Key setup is done first and timed apart.",
		renderProving},
	SectionScaling: {"Proving time against batch size and parameters",
		"One step proof of variants of the config: the sampling rate sets the public batch padding, hidden layers set the parameters. Each variant has its own single-party setup, timed apart.",
		renderScaling},
	SectionRuns: {"Whole-run proving cost per config",
		"One step proof of each config (its own single-party setup, timed apart), and the whole run of T steps projected from it: every step of a run is the same circuit, proven one at a time on this machine. The measured step is that of a one-step run of the config, whose public max batch (a tail bound over T steps) is a few slots below the whole run's, so its circuit is slightly smaller than the whole run's in the step-circuit table above. Peak memory is the process's so far, so a row includes the rows above it. On 8 or 64 hosts (a prover fleet: zkdp prove --queue and one zkdp worker per host, each host like this machine), the steps are independent jobs and the run takes ceil(T/hosts) step proofs in a row; the key setup is done once, before, and the queue's own cost per step (sealing, transfer, opening: milliseconds, fleet's BenchmarkQueueRoundTrip) is left out.",
		renderRuns},
	SectionInference: {"Inference proofs",
		"Groth16 proofs of inferences of the trained MNIST MLP 784-56-10 on held-out images, hashed inputs, the model fixed in the circuit or committed (M_T public), against the published figures for the same MLP.",
		renderInference},
	SectionGas: {"Gas per transaction", "Gas of each registry transaction on the simulated chain.", renderGas},
	SectionCSV: {"Any CSV: streaming a large file",
		"A generated CSV (label and numeric columns) loaded through data.path with public bounds, one line at a time, then quantized and committed (a Poseidon2 leaf per row slot). Peak memory is the process's: the scaled and quantized rows and the tree, never the file's text.",
		renderCSV},
}

// Render builds RESULTS.md and its plots from the saved sections and the
// hand-run blocks (section -> Markdown).
func Render(saved map[string]Saved, handRun map[string]string) (Report, error) {
	rep := Report{Plots: map[string][]byte{}}
	var md strings.Builder
	md.WriteString("# zkdp benchmark results\n\n")
	md.WriteString("Generated by `zkdp bench report` from the sections saved in `benchmarks/results/` (one JSON file each, " +
		"with the machine, the date and the command that measured it). Do not edit by hand: rerun a section with " +
		"`zkdp bench <section> --save` and regenerate this file with `zkdp bench report`.\n")
	for _, name := range Sections {
		r := renderers[name]
		fmt.Fprintf(&md, "\n## %s\n\n%s\n\n", r.title, r.intro)
		s, ok := saved[name]
		if !ok {
			md.WriteString("Not measured yet.\n")
		} else {
			fmt.Fprintf(&md, "Measured on %s, %s, with:\n\n```\n%s\n```\n\n", s.Machine, s.Date.Format("2006-01-02 15:04 MST"), s.Command)
			if err := r.render(s, &md, rep.Plots); err != nil {
				return rep, err
			}
		}
		if h := strings.TrimSpace(handRun[name]); h != "" {
			md.WriteString("\n### Earlier hand-run measurements (not regenerated by the harness)\n\n" +
				"Measured by the command written next to each table, before the harness existed; kept until a saved section replaces them.\n\n")
			md.WriteString(h + "\n")
		}
	}
	rep.Markdown = []byte(md.String())
	return rep, nil
}

// WriteReport renders the sections saved in resultsDir (and the hand-run
// blocks in dir/handrun) into dir/RESULTS.md and dir/plots.
func WriteReport(resultsDir, dir string) error {
	saved, err := LoadAll(resultsDir)
	if err != nil {
		return err
	}
	handRun := map[string]string{}
	for _, name := range Sections {
		b, err := os.ReadFile(filepath.Join(dir, HandRunDir, name+".md"))
		if err == nil {
			handRun[name] = string(b)
		} else if !os.IsNotExist(err) {
			return fmt.Errorf("benchmarks: %w", err)
		}
	}
	rep, err := Render(saved, handRun)
	if err != nil {
		return err
	}
	if len(rep.Plots) > 0 {
		if err := os.MkdirAll(filepath.Join(dir, PlotsDir), 0o755); err != nil {
			return fmt.Errorf("benchmarks: %w", err)
		}
	}
	for name, png := range rep.Plots {
		if err := run.WriteFile(filepath.Join(dir, PlotsDir, name), png, run.PublicMode); err != nil {
			return err
		}
	}
	return run.WriteFile(filepath.Join(dir, "RESULTS.md"), rep.Markdown, run.PublicMode)
}

func renderAccuracy(s Saved, md *strings.Builder, plots map[string][]byte) error {
	var rows []AccuracyRow
	if err := s.decode(&rows); err != nil {
		return err
	}
	md.WriteString("| config | model | epsilon | delta | sigma | quantized % | float % | gap | σ=0 % | seeds | time |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	byConfig := map[string]plotter.XYs{}
	for _, r := range rows {
		fmt.Fprintf(md, "| %s | %s | %.4g | %.3g | %.4g | %.2f | %.2f | %+.2f | %.2f | %v | %.1f s |\n", r.Config, r.Model, r.Epsilon, r.Delta,
			r.NoiseMultiplier, 100*r.Quantized, 100*r.Float, 100*(r.Quantized-r.Float), 100*r.NoNoise, r.Seeds, r.Seconds)
		byConfig[r.Config] = append(byConfig[r.Config], plotter.XY{X: r.Epsilon, Y: 100 * r.Quantized})
	}
	png, err := linePlot("Test accuracy of the released model against epsilon", "epsilon (delta = 1e-5)", "test accuracy %", byConfig)
	if err != nil {
		return err
	}
	plots["accuracy_epsilon.png"] = png
	md.WriteString("\n![accuracy against epsilon](plots/accuracy_epsilon.png)\n")
	return nil
}

func renderTraining(s Saved, md *strings.Builder, _ map[string][]byte) error {
	var rows []TrainingRow
	if err := s.decode(&rows); err != nil {
		return err
	}
	md.WriteString("| config | training rows | parameters | steps | time per run | runs |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(md, "| %s | %s | %d | %d | %s | %d |\n", r.Config, thousands(r.Rows), r.Params, r.Steps, seconds(r.SecondsPerRun), r.Runs)
	}
	return nil
}

func renderAccountant(s Saved, md *strings.Builder, _ map[string][]byte) error {
	var rows []AccountantRow
	if err := s.decode(&rows); err != nil {
		return err
	}
	md.WriteString("| accountant | steps | q | sigma | epsilon at delta | time per call | calls |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(md, "| %s | %s | %g | %g | %.4g at %g | %s | %d |\n", r.Accountant, thousands(r.Steps), r.SamplingRate, r.NoiseMultiplier,
			r.Epsilon, r.Delta, seconds(r.SecondsPerCall), r.Calls)
	}
	return nil
}

func renderCircuits(s Saved, md *strings.Builder, _ map[string][]byte) error {
	var rows []stepproof.Size
	if err := s.decode(&rows); err != nil {
		return err
	}
	md.WriteString("| circuit | R1CS constraints | max batch | params | noise table entries | per example-parameter |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		if r.MaxBatch == 0 { // an inference circuit: one hashed input, no batch or noise
			fmt.Fprintf(md, "| %s | %s | | %d | | |\n", r.Name, thousands(r.Constraints), r.Params)
			continue
		}
		fmt.Fprintf(md, "| %s | %s | %d | %d | %s | %.2f |\n", r.Name, thousands(r.Constraints), r.MaxBatch, r.Params, thousands(r.NoiseTable), r.ConstraintsPerExampleParam)
	}
	return nil
}

func renderProving(s Saved, md *strings.Builder, _ map[string][]byte) error {
	var r ProvingResult
	if err := s.decode(&r); err != nil {
		return err
	}
	md.WriteString("| what | time | constraints per second |\n|---|---|---|\n")
	fmt.Fprintf(md, "| %d %s step proofs of %s constraints (compile, key load, witnesses from private/, prove, verify, write) | %.1f s | %s |\n",
		r.Steps, r.Config, thousands(r.Constraints), r.StepSeconds, thousands(int(r.StepRate)))
	fmt.Fprintf(md, "| %d plain %s-constraint Groth16 proofs | %.1f s | %s |\n", r.Steps, thousands(r.PlainCircuit), r.PlainSeconds, thousands(int(r.PlainRate)))
	first := "keys from the cache"
	if r.SetupIncluded {
		first = "single-party setup included"
	}
	fmt.Fprintf(md, "\nRatio %.2f. One step proof takes %.2f s; peak memory %.0f MiB. The first proving run (%s) took %.1f s.\n",
		r.Ratio, r.SecondsPerProof, r.PeakMemoryMiB, first, r.FirstRunSeconds)
	return nil
}

func renderScaling(s Saved, md *strings.Builder, plots map[string][]byte) error {
	var pts []ScalingPoint
	if err := s.decode(&pts); err != nil {
		return err
	}
	md.WriteString("| variant | max batch | params | R1CS constraints | one proof | setup |\n|---|---|---|---|---|---|\n")
	byParams, byRate := map[string]plotter.XYs{}, map[string]plotter.XYs{}
	for _, p := range pts {
		fmt.Fprintf(md, "| %s | %d | %d | %s | %.2f s | %.1f s |\n", p.Label, p.MaxBatch, p.Params, thousands(p.Constraints), p.ProofSeconds, p.SetupSeconds)
		kp := fmt.Sprintf("%d params", p.Params)
		byParams[kp] = append(byParams[kp], plotter.XY{X: float64(p.MaxBatch), Y: p.ProofSeconds})
		kr := fmt.Sprintf("max batch %d", p.MaxBatch)
		byRate[kr] = append(byRate[kr], plotter.XY{X: float64(p.Params), Y: p.ProofSeconds})
	}
	for _, pl := range []struct {
		file, title, x string
		series         map[string]plotter.XYs
	}{
		{"proving_batch.png", "Step proof time against batch size", "public max batch", byParams},
		{"proving_params.png", "Step proof time against parameters", "parameters", byRate},
	} {
		png, err := linePlot(pl.title, pl.x, "seconds per step proof", pl.series)
		if err != nil {
			return err
		}
		plots[pl.file] = png
		fmt.Fprintf(md, "\n![%s](plots/%s)\n", strings.ToLower(pl.title), pl.file)
	}
	return nil
}

func renderRuns(s Saved, md *strings.Builder, _ map[string][]byte) error {
	var rows []RunCost
	if err := s.decode(&rows); err != nil {
		return err
	}
	md.WriteString("| config | R1CS constraints per step | per example-parameter | setup | one step proof | proving key | peak memory | steps T | whole run on 1 host (projected) | on 8 hosts | on 64 hosts |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(md, "| %s | %s | %.2f | %.0f s | %.1f s | %.0f MiB | %.0f MiB | %d | %s | %s | %s |\n", r.Config, thousands(r.Constraints), r.PerExampleParam,
			r.SetupSeconds, r.ProofSeconds, r.ProvingKeyMiB, r.PeakMemoryMiB, r.Steps, (time.Duration(r.RunSeconds) * time.Second).String(),
			onHosts(r, 8), onHosts(r, 64))
	}
	return nil
}

// onHosts projects a whole run's proving on a fleet of hosts like the
// measuring machine, each proving one step at a time: ceil(T/hosts) step
// proofs in a row (the queue's own cost per step is milliseconds, left out).
func onHosts(r RunCost, hosts int) string {
	rounds := (r.Steps + hosts - 1) / hosts
	return (time.Duration(float64(rounds)*r.ProofSeconds) * time.Second).String()
}

func renderInference(s Saved, md *strings.Builder, _ map[string][]byte) error {
	var r InferenceResult
	if err := s.decode(&r); err != nil {
		return err
	}
	fmt.Fprintf(md, "Model: %s. Accuracy on the 2,000 held-out images: released (quantized DP-SGD) %.2f%%, float reference %.2f%%, float reference rounded to fixed point %.2f%% (quantization loss %.2f points).\n\n",
		r.Model, 100*r.ReleasedAccuracy, 100*r.FloatAccuracy, 100*r.FloatRoundedAccuracy, 100*(r.FloatAccuracy-r.FloatRoundedAccuracy))
	md.WriteString("| system | model binding | input | batch | R1CS constraints | proving time per proof | per inference | peak memory |\n|---|---|---|---|---|---|---|---|\n")
	for _, p := range r.Proofs {
		fmt.Fprintf(md, "| zkdp (mean of %d proofs) | %s | %s | %d | %s | %s | %s | %.0f MiB |\n", p.Proofs, p.Binding, p.Input, p.Batch,
			thousands(p.Constraints), seconds(p.ProveSeconds), seconds(p.ProveSeconds/float64(max(p.Batch, 1))), p.PeakMemMiB)
	}
	fmt.Fprintf(md, "| circomlib-ml (published) | | | 1 | %s | %.2f s | | |\n", thousands(publishedCircomConstraints), publishedCircomSeconds)
	fmt.Fprintf(md, "| EZKL, resources mode (published) | | | 1 | | %.2f s | | |\n", publishedEZKLResources)
	fmt.Fprintf(md, "| EZKL, accuracy mode (published) | | | 1 | | %.0f s | | |\n", publishedEZKLAccuracy)
	md.WriteString("\nThe published figures were measured on other machines; compare orders of magnitude, not ratios. Proving time is the witness and the Groth16 proof (compilation and the cached key setup excluded). Peak memory is the process's peak so far, so a row includes the rows above it. The model-hash row is the floor of any committed binding: the Poseidon2 sponge over the model's packed elements alone, with no range checks and no inference.\n")
	return nil
}

func renderGas(s Saved, md *strings.Builder, _ map[string][]byte) error {
	var rows []GasRow
	if err := s.decode(&rows); err != nil {
		return err
	}
	md.WriteString("| transaction | gas | note |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(md, "| %s | %s | %s |\n", r.Transaction, thousands(int(r.Gas)), r.Note)
	}
	return nil
}

// anyLine reports whether some series has two points or more.
func anyLine(series map[string]plotter.XYs) bool {
	for _, pts := range series {
		if len(pts) > 1 {
			return true
		}
	}
	return false
}

// seconds formats a duration in seconds, in ms below one second.
func seconds(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.3g ms", 1e3*s)
	}
	return fmt.Sprintf("%.3g s", s)
}

// linePlot draws one line per series (sorted by name), points sorted by x.
func linePlot(title, xlabel, ylabel string, series map[string]plotter.XYs) ([]byte, error) {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xlabel, ylabel
	names := make([]string, 0, len(series))
	for n := range series {
		names = append(names, n)
	}
	sort.Strings(names)
	var args []any
	for _, n := range names {
		pts := append(plotter.XYs(nil), series[n]...)
		sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
		args = append(args, n, pts)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, fmt.Errorf("benchmarks: plotting %q: %w", title, err)
	}
	w, err := p.WriterTo(6*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return nil, fmt.Errorf("benchmarks: rendering %q: %w", title, err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("benchmarks: rendering %q: %w", title, err)
	}
	return buf.Bytes(), nil
}

// thousands writes n with comma separators, as RESULTS.md always did.
func thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
