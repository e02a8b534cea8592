// Package cli builds zkdp's cobra commands. Each command is made by a
// constructor over an options struct, so tests can run it without a process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	gnarklogger "github.com/consensys/gnark/logger"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

// IO is where commands read and write.
type IO struct {
	Out io.Writer
	Err io.Writer
}

// StdIO is the process's standard streams.
func StdIO() IO { return IO{Out: os.Stdout, Err: os.Stderr} }

// Global holds the flags every command shares.
type Global struct {
	IO
	LogLevel  string
	LogFormat string
}

// NewRootCmd builds the zkdp command tree.
func NewRootCmd(streams IO) *cobra.Command {
	g := &Global{IO: streams}
	root := &cobra.Command{
		Use:           "zkdp",
		Short:         "Provably private training: DP-SGD with zero-knowledge proofs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	// Every command routes gnark's logger through slog with the same switches;
	// train refines the level and format from its config.
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		_, err := NewLogger(streams.Err, orDefault(g.LogLevel, "info"), orDefault(g.LogFormat, "text"))
		return err
	}
	root.PersistentFlags().StringVar(&g.LogLevel, "log-level", "", "log level: debug, info, warn, error (default from config, else info)")
	root.PersistentFlags().StringVar(&g.LogFormat, "log-format", "", "log format: text or json (default from config, else text)")
	root.AddCommand(
		NewTrainCmd(&TrainOptions{Global: g}),
		NewPrivacyCmd(&PrivacyOptions{Global: g}),
		NewProveCmd(&ProveOptions{Global: g}),
		NewVerifyCmd(&VerifyOptions{Global: g}),
		NewInferCmd(&InferOptions{Global: g}),
		NewPipelineCmd(&PipelineOptions{Global: g}),
		NewBenchCmd(&BenchOptions{Global: g}),
		NewVersionCmd(g),
		NewConfigCmd(&ConfigOptions{Global: g}),
		NewInitCmd(&InitOptions{Global: g}),
		NewExportVerifierCmd(&ExportVerifierOptions{Global: g}),
		NewChainCmd(g),
		NewCeremonyCmd(g),
		NewWorkerCmd(&WorkerOptions{Global: g}),
		NewQueueCmd(g),
	)
	return root
}

// Execute runs the CLI and returns the process exit code.
func Execute(ctx context.Context, args []string, streams IO) int {
	root := NewRootCmd(streams)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(streams.Err, "zkdp: %v\n", err)
		var exit *ExitError
		if errors.As(err, &exit) {
			return exit.Code
		}
		return 1
	}
	return 0
}

// ExitError carries a specific exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// NewLogger builds the slog logger and routes gnark's zerolog output through
// the same level and format.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch format {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format %q: must be text or json", format)
	}
	log := slog.New(h)
	zl := zerolog.New(zerologBridge{log: log}).Level(zerologLevel(lv))
	gnarklogger.Set(zl)
	return log, nil
}

func zerologLevel(l slog.Level) zerolog.Level {
	switch {
	case l <= slog.LevelDebug:
		return zerolog.DebugLevel
	case l <= slog.LevelInfo:
		return zerolog.InfoLevel
	case l <= slog.LevelWarn:
		return zerolog.WarnLevel
	default:
		return zerolog.ErrorLevel
	}
}

// zerologBridge re-emits zerolog's JSON lines as slog records.
type zerologBridge struct{ log *slog.Logger }

func (b zerologBridge) Write(p []byte) (int, error) {
	b.log.Debug("gnark", "event", strings.TrimSpace(string(p)))
	return len(p), nil
}

// NewVersionCmd prints the module version and the pinned proof-system versions.
func NewVersionCmd(g *Global) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print zkdp's version and its key dependencies",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, ok := debug.ReadBuildInfo()
			if !ok {
				fmt.Fprintln(g.Out, "zkdp (no build info)")
				return nil
			}
			fmt.Fprintf(g.Out, "zkdp %s (%s)\n", info.Main.Version, info.GoVersion)
			for _, d := range info.Deps {
				switch d.Path {
				case "github.com/consensys/gnark", "github.com/consensys/gnark-crypto", "gorgonia.org/gorgonia", "github.com/ethereum/go-ethereum":
					fmt.Fprintf(g.Out, "  %s %s\n", d.Path, d.Version)
				}
			}
			return nil
		},
	}
}
