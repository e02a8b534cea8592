package cli

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/spf13/pflag"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/run"
)

// BeaconFlags are what `zkdp verify` is told of a run's beacon.
type BeaconFlags struct {
	Beacon         string // hex; the beacon the run had to use
	AllowSelfDrawn bool
}

func (b *BeaconFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&b.Beacon, "beacon", "", "the beacon the run had to use, hex (the registry's, or one you drew after the seed commitment was published); the transcript's must be it")
	fs.BoolVar(&b.AllowSelfDrawn, "allow-self-drawn-beacon", false, "accept a beacon the prover drew or could have chosen (development only: every success line then says so)")
}

// check checks the run's beacon against the flags. It returns the caveat to
// append to every success line ("" when the beacon was checked).
func (b *BeaconFlags) check(runDir string) (string, error) {
	c := run.BeaconCheck{AllowSelfDrawn: b.AllowSelfDrawn}
	if b.Beacon != "" {
		e, err := commit.ParseHex(b.Beacon)
		if err != nil {
			return "", fmt.Errorf("--beacon: %w", err)
		}
		c.Expected = new(fr.Element)
		*c.Expected = e
	}
	d, err := run.Open(runDir)
	if err != nil {
		return "", err
	}
	var tr run.Transcript
	if err := run.ReadJSON(d.Public(run.TranscriptFile), &tr); err != nil {
		return "", err
	}
	proverChosen, err := c.Check(tr)
	if err != nil {
		hint := "pass --beacon HEX"
		if tr.BeaconSource == run.BeaconSelfDrawn || b.Beacon == "" {
			hint = "pass --beacon HEX, or --allow-self-drawn-beacon to accept a beacon the prover may have chosen"
		}
		return "", fmt.Errorf("%s: %w (%s)", d.Public(run.TranscriptFile), err, hint)
	}
	if proverChosen {
		return "; WARNING: " + run.ProverChosenCaveat, nil
	}
	return "", nil
}
