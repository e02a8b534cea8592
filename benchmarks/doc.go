// Package benchmarks measures the figures zkdp's issues name on the machine
// it runs on and renders benchmarks/RESULTS.md from them.
//
// Each section (accuracy, training, accountant, circuits, proving, scaling,
// inference, gas) is measured by a function returning a typed result; `zkdp
// bench <section> --save` stores it as results/<section>.json with the
// machine, the date and the command, so a slow section can be rerun alone.
// `zkdp bench report` renders RESULTS.md and the plots from every saved
// section, saying "not measured yet" for a missing one. The go test -bench
// functions here run the same measurements.
package benchmarks
