// Package prover compiles gnark circuits to R1CS on BN254, caches Groth16 keys
// by circuit hash, and proves many jobs (one per training step) in parallel,
// resumably: every finished proof is written atomically next to its public
// witness, and a rerun skips the proofs that already verify.
//
// The package is generic over any [frontend.Circuit]; it knows nothing of the
// step circuit. It never prints: progress goes through callbacks and
// diagnostics through log/slog.
package prover

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/constraint"
	cs_bn254 "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
)

// Sentinel errors. Errors returned by this package wrap one of them (and the
// underlying cause), so callers can test with errors.Is.
var (
	// ErrCompile: the circuit did not compile.
	ErrCompile = errors.New("compile circuit")
	// ErrUnsupported: the constraint system, key or proof is not Groth16 R1CS on BN254.
	ErrUnsupported = errors.New("unsupported constraint system (want R1CS on BN254)")
	// ErrSetup: the Groth16 setup failed.
	ErrSetup = errors.New("groth16 setup")
	// ErrCorruptKey: a cached key file does not match the checksum recorded at setup.
	ErrCorruptKey = errors.New("corrupt cached key")
	// ErrWitness: a job's witness builder failed.
	ErrWitness = errors.New("build witness")
	// ErrProve: groth16.Prove failed (typically an unsatisfied witness).
	ErrProve = errors.New("prove")
	// ErrInvalidProof: a proof does not verify against the verifying key and public witness.
	ErrInvalidProof = errors.New("invalid proof")
	// ErrMalformed: a proof, public witness or key file cannot be decoded.
	ErrMalformed = errors.New("malformed file")
	// ErrIO: reading or writing a file failed.
	ErrIO = errors.New("file i/o")
)

// Compile compiles circuit to an R1CS over the BN254 scalar field.
func Compile(circuit frontend.Circuit) (constraint.ConstraintSystem, error) {
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, circuit)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCompile, err)
	}
	return ccs, nil
}

// CircuitHash returns the hex sha256 of the serialized constraint system. It
// addresses the key cache: any change to the circuit (or to gnark's
// serialization, which includes its version) yields new keys.
func CircuitHash(ccs constraint.ConstraintSystem) (string, error) {
	if err := checkBN254(ccs); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := ccs.WriteTo(h); err != nil {
		return "", fmt.Errorf("serialize constraint system: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func checkBN254(ccs constraint.ConstraintSystem) error {
	if ccs == nil {
		return fmt.Errorf("%w: nil constraint system", ErrUnsupported)
	}
	// groth16.Setup/Prove panic on other types; catching it here keeps the
	// library panic-free.
	if _, ok := ccs.(*cs_bn254.R1CS); !ok {
		return fmt.Errorf("%w: got %T", ErrUnsupported, ccs)
	}
	return nil
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
