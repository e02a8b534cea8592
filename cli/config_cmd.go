package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/configs"
)

// ConfigOptions are `zkdp config dump`'s inputs.
type ConfigOptions struct {
	*Global
	ConfigPath string
}

// NewConfigCmd builds `zkdp config` and its `dump` subcommand.
func NewConfigCmd(o *ConfigOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect configuration"}
	dump := &cobra.Command{
		Use:   "dump",
		Short: "Print the effective configuration (defaults < file < ZKDP_* environment)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l := config.NewLoader()
			if err := l.ReadFile(o.ConfigPath); err != nil {
				return err
			}
			if _, err := l.Load(); err != nil {
				return err
			}
			b, err := yaml.Marshal(l.AllSettings())
			if err != nil {
				return fmt.Errorf("encoding the configuration: %w", err)
			}
			_, err = o.Out.Write(b)
			return err
		},
	}
	dump.Flags().StringVarP(&o.ConfigPath, "config", "c", "quickstart", "config file, or the name of a shipped config ("+shippedConfigs()+")")
	cmd.AddCommand(dump)
	return cmd
}

func shippedConfigs() string { return strings.Join(configs.Names(), ", ") }
