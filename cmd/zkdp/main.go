// Command zkdp is the CLI of zkdp; see `zkdp --help`.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/zkdp/zkdp/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Execute(ctx, os.Args[1:], cli.StdIO())
	stop()
	os.Exit(code)
}
