package run

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/commit"
)

// Beacon sources a transcript records in beacon_source. The label is the
// prover's word: a verifier trusts a beacon only by comparing it with the
// one it knows the run had to use (BeaconCheck.Expected).
const (
	BeaconGiven     = "given"      // fixed outside the trainer after S was published
	BeaconSelfDrawn = "self-drawn" // drawn by the trainer: the prover could have chosen it
	BeaconRegistry  = "registry"   // fixed by the registry contract after the run was registered
)

// Sentinel errors of CheckBeacon.
var (
	// ErrBeaconMismatch: the transcript's beacon is not the one the verifier expects.
	ErrBeaconMismatch = errors.New("run: the transcript's beacon is not the expected beacon")
	// ErrSelfDrawnBeacon: the transcript says the prover drew its own beacon.
	ErrSelfDrawnBeacon = errors.New("run: the beacon was drawn by the prover")
	// ErrBeaconUnchecked: the verifier gave no beacon to check the transcript's against.
	ErrBeaconUnchecked = errors.New("run: the beacon is not checked against an expected one")
)

// BeaconCheck is what a verifier knows of a run's beacon. A prover who
// picks its beacon can train under many and publish the run whose model
// encodes what it wants (bits of private data) while every proof verifies,
// so a verifier accepts a beacon only when it knows the run had to use it,
// or when told that the beacon may be the prover's choice.
type BeaconCheck struct {
	// Expected is the beacon the run had to use: one the verifier drew or
	// read from the registry. Nil: none is known.
	Expected *fr.Element
	// AllowSelfDrawn accepts a beacon the prover may have chosen: a
	// self-drawn one, or any one when Expected is nil.
	AllowSelfDrawn bool
}

// ProverChosenCaveat is what a verifier adds to every success line when it
// accepted a beacon the prover may have chosen.
const ProverChosenCaveat = "the beacon was chosen by the prover, not checked against one it could not choose: the model may encode private data"

// Check checks the transcript's beacon. It returns true when the beacon was
// accepted without being compared with an expected one (AllowSelfDrawn):
// every success the caller reports must then carry ProverChosenCaveat.
func (c BeaconCheck) Check(tr Transcript) (proverChosen bool, err error) {
	if tr.BeaconSource == BeaconSelfDrawn && !c.AllowSelfDrawn {
		return false, fmt.Errorf("%w (beacon_source %q): it could have trained under many beacons and published the run it liked", ErrSelfDrawnBeacon, tr.BeaconSource)
	}
	if c.Expected == nil {
		if !c.AllowSelfDrawn {
			return false, fmt.Errorf("%w: give the beacon the run had to use (from the registry, or drawn by you after the seed commitment was published)", ErrBeaconUnchecked)
		}
		return true, nil
	}
	got, err := commit.ParseHex(tr.Beacon)
	if err != nil {
		return false, fmt.Errorf("%w: %s: beacon: %w", ErrMalformed, TranscriptFile, err)
	}
	if !got.Equal(c.Expected) {
		return false, fmt.Errorf("%w: the transcript has %s, expected %s", ErrBeaconMismatch, tr.Beacon, commit.Hex(*c.Expected))
	}
	return tr.BeaconSource == BeaconSelfDrawn, nil
}
