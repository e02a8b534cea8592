package ceremony_test

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/consensys/gnark/frontend"

	"github.com/zkdp/zkdp/ceremony"
	"github.com/zkdp/zkdp/prover"
)

// square proves knowledge of X with X*X = Y.
type square struct {
	X frontend.Variable
	Y frontend.Variable `gnark:",public"`
}

func (c *square) Define(api frontend.API) error {
	api.AssertIsEqual(api.Mul(c.X, c.X), c.Y)
	return nil
}

// A whole ceremony in one process; in practice each Contribute runs on
// another participant's machine, on the folder passed along.
func Example() {
	dir, _ := os.MkdirTemp("", "ceremony-example-")
	defer os.RemoveAll(dir)
	ccs, err := prover.Compile(&square{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := &ceremony.Ceremony{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	// Phase 1: powers of tau, for every circuit of this size.
	check(c.InitPhase1(ceremony.DomainSize(ccs)))
	for range 2 {
		_, _, err := c.Contribute(ceremony.Phase1)
		check(err)
	}
	_, err = c.SealPhase1([]byte("a public beacon drawn after the last phase-1 contribution"))
	check(err)

	// Phase 2: this circuit.
	check(c.InitPhase2(ccs, "square"))
	for range 2 {
		_, _, err := c.Contribute(ceremony.Phase2)
		check(err)
	}
	_, err = c.SealPhase2(ccs, []byte("a public beacon drawn after the last phase-2 contribution"))
	check(err)

	// A verifier re-derives the verifying key from the transcript alone.
	_, rep, err := c.Verify(ccs, ceremony.Beacons{})
	check(err)
	fmt.Printf("domain %d, %d + %d contributions\n", rep.DomainSize, rep.Phase1Contributions, rep.Phase2Contributions)
	// Output: domain 2, 2 + 2 contributions
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
