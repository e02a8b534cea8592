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
			c, err := l.Load()
			if err != nil {
				return err
			}
			// The decoded Config, not viper's raw layers: a ZKDP_* variable
			// prints as the number it became, and every default appears.
			enc := yaml.NewEncoder(o.Out)
			enc.SetIndent(2) // as in the shipped configs
			if err := enc.Encode(config.Settings(c)); err != nil {
				return fmt.Errorf("encoding the configuration: %w", err)
			}
			return enc.Close()
		},
	}
	dump.Flags().StringVarP(&o.ConfigPath, "config", "c", "quickstart", "config file, or the name of a shipped config ("+shippedConfigs()+")")
	cmd.AddCommand(dump)
	return cmd
}

func shippedConfigs() string { return strings.Join(configs.Names(), ", ") }
