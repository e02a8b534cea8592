package sampling

import (
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/rangecheck"
)

// Option configures a gadget of this package.
type Option func(*options)

type options struct {
	rc frontend.Rangechecker
}

// WithRangechecker sends the gadget's range checks to rc, the circuit's
// shared range checker, so that the circuit pays for one range-check
// argument instead of one per kind of checker. Without it a gadget uses
// gnark's std/rangecheck.
func WithRangechecker(rc frontend.Rangechecker) Option {
	return func(o *options) { o.rc = rc }
}

func newOptions(api frontend.API, opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.rc == nil {
		o.rc = rangecheck.New(api)
	}
	return o
}
