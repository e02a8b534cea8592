// Package benchmarks is zkdp's benchmark harness: `go test -bench` here
// measures the figures the issues name (accuracy per dataset and epsilon,
// accountant speed) on the machine it runs on. RESULTS.md records measured
// figures with the command that produced them.
package benchmarks
