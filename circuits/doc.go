// Package circuits holds zkdp's gnark circuits (Groth16 on BN254). Its
// subpackages are gadgets in the style of gnark's std library:
//
//   - arith: the fixed-point arithmetic of package fixedpoint over
//     frontend.API, so the quantized step and forward pass that the trainer
//     runs natively are the code the circuits constrain;
//   - commitment: in-circuit HashPacked, Merkle openings and dataset leaves,
//     replaying package commit;
//   - sampling: the PRF words, the Poisson slots and the discrete-Gaussian
//     noise of package dp, by the same public tables;
//
// The step circuit (step) and the inference circuit (inference) are built
// from them.
package circuits
