// Package configs ships the ready configs, embedded so that the CLI runs
// anywhere with `--config quickstart` (or no --config at all).
package configs

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Names lists the shipped configs, without the .yaml extension.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return out
}

// Read returns a shipped config's YAML.
func Read(name string) ([]byte, error) {
	b, err := files.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("configs: no shipped config %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return b, nil
}
