package sampling

import (
	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/circuits/lookup"
)

// Option configures a gadget of this package.
type Option func(*options)

type options struct {
	rc frontend.Rangechecker
}

// WithRangechecker sends the gadget's range checks to rc, the circuit's
// shared range checker, so that the circuit pays for one range-check
// argument instead of one per kind of checker. Without it a gadget uses the
// circuit's shared lookup.Ranges.
func WithRangechecker(rc frontend.Rangechecker) Option {
	return func(o *options) { o.rc = rc }
}

func newOptions(api frontend.API, opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.rc == nil {
		o.rc = lookup.New(api)
	}
	return o
}
