// Package dp holds zkdp's differential-privacy mechanisms: the PRF that all
// randomness of a run comes from, the Poisson subsampler, the discrete
// Gaussian sampler, and the privacy accountant.
//
// All randomness of step t comes from PRF(s, b, t, ...) for the secret seed s
// and the public beacon b, with Poseidon2 over BN254 so that step circuits can
// re-derive it. Samplers turn 64-bit PRF words into samples through public
// integer tables (inverse CDFs); a circuit checks a sample with two table
// lookups. The tables' distance from the ideal distributions is computed and
// added to delta.
package dp
