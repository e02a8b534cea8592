package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/spf13/cobra"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/inferproof"
	"github.com/zkdp/zkdp/run"
)

// InferOptions are `zkdp infer`'s inputs.
type InferOptions struct {
	*Global
	RunDir      string
	Rows        []int
	InputFile   string
	Prove       bool
	Visibility  string
	Binding     string
	Logits      bool
	KeysDir     string
	CeremonyDir string
	JSON        bool
	Salts       []string // hex, one per input: the hashed inputs' salts
}

// NewInferCmd builds `zkdp infer`.
func NewInferCmd(o *InferOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "infer",
		Short: "Classify inputs with a run's released model, and optionally prove it",
		Long: `Run the quantized model of a run (DIR/public/model.json, checked against the
transcript's last commitment M_T) on rows of the run's held-out test split
(--row, repeatable or comma-separated) or on the inputs of a CSV file
(--input: one input per line, the model's features as the trainer scaled
them). With --prove, one Groth16 proof covers all the inputs; it goes with
its claim and verifying key into DIR/public/inference/, and
` + "`zkdp verify --run DIR`" + ` checks it.

--model-binding committed: the weights are private and the proof shows they
hash to M_T (one circuit for every model of that shape); fixed: the weights
are constants of the circuit, so its verifying key commits to the model
(far smaller; a new key setup per model).
--input-visibility public: the inputs are public; private: nothing about
them is; hashed: their salted Poseidon2 commitments H(x, salt) are public.
Each salt (--salt, one per input, or drawn at random) is kept in
DIR/private/inference/: whoever holds it can test guesses of its input, so
only the input's owner should.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&o.RunDir, "run", "", "run directory written by zkdp train (required)")
	f.IntSliceVar(&o.Rows, "row", nil, "rows of the held-out test split (reads DIR/private)")
	f.StringVar(&o.InputFile, "input", "", "CSV file of inputs, one per line")
	f.BoolVar(&o.Prove, "prove", false, "prove the predictions (one proof for all inputs)")
	f.StringVar(&o.Visibility, "input-visibility", "hashed", "public, private or hashed")
	f.StringVar(&o.Binding, "model-binding", "fixed", "committed or fixed")
	f.BoolVar(&o.Logits, "logits", false, "make the logits public too")
	f.StringVar(&o.KeysDir, "keys", "", "key cache folder of the single-party setup (default $XDG_CACHE_HOME/zkdp/keys)")
	f.StringVar(&o.CeremonyDir, "ceremony", "", "prove with the sealed keys of this ceremony folder, set up for this inference circuit (zkdp ceremony --inference)")
	f.BoolVar(&o.JSON, "json", false, "print the result as JSON")
	f.StringSliceVar(&o.Salts, "salt", nil, "with --prove and hashed inputs: each input's salt, hex, in input order (default: drawn at random)")
	_ = cmd.MarkFlagRequired("run")
	cmd.MarkFlagsOneRequired("row", "input")
	cmd.MarkFlagsMutuallyExclusive("row", "input")
	cmd.MarkFlagsMutuallyExclusive("keys", "ceremony")
	return cmd
}

// inferResult is what `zkdp infer --json` prints.
type inferResult struct {
	Predictions []inferPrediction `json:"predictions"`
	Claim       *inferproof.Claim `json:"claim,omitempty"`
	ProveTime   string            `json:"prove_time,omitempty"`
}

type inferPrediction struct {
	Source string  `json:"source"`
	Class  int     `json:"class"`
	Name   string  `json:"class_name,omitempty"`
	Label  *int    `json:"label,omitempty"` // the held-out row's true label
	Logits []int64 `json:"logits,omitempty"`
}

// Run classifies, and proves with --prove.
func (o *InferOptions) Run(cmd *cobra.Command) error {
	log, err := NewLogger(o.Err, orDefault(o.LogLevel, "info"), orDefault(o.LogFormat, "text"))
	if err != nil {
		return err
	}
	if _, ok := inferproof.Bindings[o.Binding]; !ok {
		return fmt.Errorf("--model-binding %q: must be committed or fixed", o.Binding)
	}
	if _, ok := inferproof.Visibilities[o.Visibility]; !ok {
		return fmt.Errorf("--input-visibility %q: must be public, private or hashed", o.Visibility)
	}
	m, err := inferproof.Model(o.RunDir)
	if err != nil {
		return err
	}
	var (
		inputs  [][]int64
		sources []string
		labels  []int
		classes []string
	)
	held, heldErr := inferproof.HeldOut(o.RunDir, m)
	if heldErr == nil {
		classes = held.Classes
	}
	if len(o.Rows) > 0 {
		if heldErr != nil {
			return fmt.Errorf("--row needs the run's private dataset source: %w", heldErr)
		}
		for _, r := range o.Rows {
			if r < 0 || r >= len(held.Rows) {
				return fmt.Errorf("--row %d: the held-out split has rows 0..%d", r, len(held.Rows)-1)
			}
			inputs = append(inputs, held.Rows[r])
			labels = append(labels, held.Labels[r])
			sources = append(sources, fmt.Sprintf("row %d", r))
		}
	} else {
		var names []string
		if held != nil {
			names = held.Features
		}
		if inputs, err = inferproof.ReadInputs(o.InputFile, m, names); err != nil {
			return err
		}
		for i := range inputs {
			sources = append(sources, fmt.Sprintf("%s input %d", o.InputFile, i+1))
		}
	}
	preds, err := inferproof.Predict(m, inputs)
	if err != nil {
		return err
	}
	res := inferResult{}
	for i, p := range preds {
		ip := inferPrediction{Source: sources[i], Class: p.Class, Logits: p.Logits}
		if p.Class < len(classes) {
			ip.Name = classes[p.Class]
		}
		if i < len(labels) {
			ip.Label = &labels[i]
		}
		res.Predictions = append(res.Predictions, ip)
	}
	var salts []fr.Element
	for i, h := range o.Salts {
		s, err := commit.ParseHex(h)
		if err != nil {
			return fmt.Errorf("--salt %d: %w", i+1, err)
		}
		salts = append(salts, s)
	}
	if len(salts) > 0 && (!o.Prove || o.Visibility != "hashed" || len(salts) != len(inputs)) {
		return fmt.Errorf("--salt: give one salt per input (%d), with --prove and --input-visibility hashed", len(inputs))
	}
	if o.Prove {
		keys, err := keySource(o.KeysDir, o.CeremonyDir, log)
		if err != nil {
			return err
		}
		start := time.Now()
		claim, err := inferproof.Prove(cmd.Context(), o.RunDir, inputs, inferproof.ProveOptions{
			Options: inferproof.Options{Binding: o.Binding, Visibility: o.Visibility, Logits: o.Logits}, Salts: salts, KeySource: keys, Logger: log})
		if err != nil {
			return err
		}
		res.Claim, res.ProveTime = &claim, time.Since(start).Round(time.Millisecond).String()
	}
	if o.JSON {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	for _, p := range res.Predictions {
		line := fmt.Sprintf("%s: class %d", p.Source, p.Class)
		if p.Name != "" && p.Name != fmt.Sprint(p.Class) {
			line += fmt.Sprintf(" (%s)", p.Name)
		}
		if p.Label != nil {
			line += fmt.Sprintf(", label %d", *p.Label)
		}
		if o.Logits {
			line += fmt.Sprintf(", logits %v", p.Logits)
		}
		fmt.Fprintln(o.Out, line)
	}
	if c := res.Claim; c != nil {
		fmt.Fprintf(o.Out, "proved %d inference(s) with circuit %s (%d constraints) in %s: %s/public/%s/%s (keys: %s)\n",
			c.Batch, c.Circuit, c.Constraints, res.ProveTime, strings.TrimSuffix(o.RunDir, "/"), inferproof.Dir, c.Proof, c.Setup)
		if len(c.InputHashes) > 0 {
			fmt.Fprintf(o.Out, "  the inputs' salts (private: keep them, publish only the hashes): %s\n",
				inferproof.SaltsPath(&run.Dir{Root: o.RunDir}, strings.TrimSuffix(c.Proof, ".proof")))
		}
	}
	return nil
}
