// Package sampling holds the gnark gadgets that replay zkdp's PRF and table
// samplers (package dp) inside a circuit, bit for bit:
//
//   - [Words]: the PRF words of a stream, the 64-bit limbs of Poseidon2 blocks,
//     with a canonical (no wrap-around) decomposition;
//   - [Poisson]: the Poisson-subsample positions and padding flags of a step's
//     batch slots, checked against the public threshold table;
//   - [DiscreteGaussian]: discrete-Gaussian noise by inverse CDF, checked
//     against the public CDF table;
//   - [SeedCommitment], [StepKey] and [Hash]: the commitments of package commit.
//
// Every search (a gap, a CDF index, a comparison) is done by a hint and then
// checked with table lookups (std/lookup/logderivlookup) and range checks
// (the circuit's one lookup.Ranges, or a checker of the caller's:
// [WithRangechecker]), so no
// hint output is trusted.
//
// The samplers take their table once per call as hint input, so a caller with
// many samples should pass them in one [Poisson.Sample] or
// [DiscreteGaussian.SampleVector] call rather than one call per sample.
package sampling
