package run

import (
	"errors"
	"testing"

	"github.com/zkdp/zkdp/commit"
)

// A verifier accepts a run's beacon only when it equals the one it expects,
// or when told that the prover may have chosen it (and then says so).
func TestBeaconCheck(t *testing.T) {
	beacon, other := commit.FromInt64(7), commit.FromInt64(8)
	given := Transcript{Beacon: commit.Hex(beacon), BeaconSource: BeaconRegistry}
	selfDrawn := Transcript{Beacon: commit.Hex(beacon), BeaconSource: BeaconSelfDrawn}
	for name, tc := range map[string]struct {
		check        BeaconCheck
		tr           Transcript
		err          error
		proverChosen bool
	}{
		"expected":                         {BeaconCheck{Expected: &beacon}, given, nil, false},
		"wrong beacon":                     {BeaconCheck{Expected: &other}, given, ErrBeaconMismatch, false},
		"wrong beacon, self-drawn allowed": {BeaconCheck{Expected: &other, AllowSelfDrawn: true}, given, ErrBeaconMismatch, false},
		"self-drawn":                       {BeaconCheck{}, selfDrawn, ErrSelfDrawnBeacon, false},
		"self-drawn, expected":             {BeaconCheck{Expected: &beacon}, selfDrawn, ErrSelfDrawnBeacon, false},
		"self-drawn allowed":               {BeaconCheck{AllowSelfDrawn: true}, selfDrawn, nil, true},
		"self-drawn allowed, expected":     {BeaconCheck{Expected: &beacon, AllowSelfDrawn: true}, selfDrawn, nil, true},
		"given, nothing to check against":  {BeaconCheck{}, given, ErrBeaconUnchecked, false},
		"given, unchecked but allowed":     {BeaconCheck{AllowSelfDrawn: true}, given, nil, true},
		"malformed":                        {BeaconCheck{Expected: &beacon}, Transcript{Beacon: "0xzz", BeaconSource: BeaconGiven}, ErrMalformed, false},
	} {
		proverChosen, err := tc.check.Check(tc.tr)
		if (tc.err == nil) != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) || proverChosen != tc.proverChosen {
			t.Errorf("%s: got (%v, %v), want (%v, %v)", name, proverChosen, err, tc.proverChosen, tc.err)
		}
	}
}
