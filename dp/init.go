package dp

import (
	"errors"
	"fmt"
	"math"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkdp/zkdp/commit"
	"github.com/zkdp/zkdp/fixedpoint"
)

// The initial model W_0 is public and independent of the data: a private W_0
// could carry bits of the rows into the released model, which no step proof
// would notice. It derives from public items only, through the same PRF
// words as the steps but under a public key, so anyone (the verifier, the
// step circuit at t = 0) recomputes it:
//
//   - biases and the head (the last layer) are zero;
//   - a hidden layer's weights are uniform on [-2^(k-1), 2^(k-1)) raw units,
//     w = c - 2^(k-1) for the next k-bit chunk c of StreamInit's words (a
//     word gives InitChunks(k) chunks, its low bits first; a layer starts
//     at a new word), where 2^(k-1) is the largest power of two of raw
//     units not above the He-uniform bound scale*sqrt(6/fan_in). A power of
//     two makes the circuit's check one bit split per word.

// ErrInit is returned for an initialization that cannot be built.
var ErrInit = errors.New("dp: invalid initial model parameters")

// InitKey is W_0's public PRF key Hash(TagInit, params hash, beacon). The
// beacon comes after the seed commitment, so the prover cannot choose W_0.
func InitKey(paramsHash, beacon fr.Element) fr.Element {
	return commit.Hash(commit.TagInit, paramsHash, beacon)
}

// InitBits returns, for each layer (widths[1:]), the width k of its initial
// weights' uniform range [-2^(k-1), 2^(k-1)): 0 for the head, and for a
// hidden layer whose He-uniform bound scale*sqrt(6/fan_in) is below one raw
// unit (those layers start at zero too). It fails on a scale that is not
// finite and non-negative, or whose range does not fit the weight bound.
func InitBits(widths []int, f fixedpoint.Format, scale float64) ([]uint, error) {
	if math.IsNaN(scale) || math.IsInf(scale, 0) || scale < 0 {
		return nil, fmt.Errorf("%w: init scale %v, want finite and non-negative", ErrInit, scale)
	}
	if len(widths) < 2 {
		return nil, fmt.Errorf("%w: widths %v", ErrInit, widths)
	}
	bits := make([]uint, len(widths)-1)
	for l := 1; l < len(widths)-1; l++ {
		bound := math.Ldexp(scale*math.Sqrt(6/float64(widths[l-1])), int(f.FracBits))
		if !(bound >= 1) {
			continue
		}
		// bound = frac * 2^e with frac in [0.5, 1): floor(log2 bound) = e-1,
		// so 2^(k-1) = 2^(e-1) is the largest power of two not above it.
		_, e := math.Frexp(bound)
		if e > int(f.WeightBits) {
			return nil, fmt.Errorf("%w: init scale %v gives layer %d initial weights of 2^%d raw units, beyond the weight bound 2^%d",
				ErrInit, scale, l, e-1, f.WeightBits)
		}
		bits[l-1] = uint(e)
	}
	return bits, nil
}

// InitChunks is how many k-bit weights one 64-bit PRF word gives: a circuit
// pays a PRF word (tens of constraints) per word and a range check per
// chunk, so packing them cuts W_0's check about fourfold for 13-bit weights.
func InitChunks(k uint) int { return int(64 / k) }

// InitWords is how many PRF words W_0 takes: its layers' weights with
// non-zero bits, InitChunks to a word, each layer from a new word.
func InitWords(widths []int, bits []uint) int {
	n := 0
	for l := 1; l < len(widths); l++ {
		if k := bits[l-1]; k > 0 {
			c := InitChunks(k)
			n += (widths[l]*widths[l-1] + c - 1) / c
		}
	}
	return n
}

// InitialWeights is W_0 flattened like fixedpoint.Model.Flatten: layer l's
// weights are uniform on [-2^(k-1), 2^(k-1)) with k = bits[l-1] (zero where
// k is 0), from the words of StreamInit under key, in order; biases are zero.
func InitialWeights(widths []int, bits []uint, key fr.Element) ([]int64, error) {
	words, err := Words(key, StreamInit, InitWords(widths, bits))
	if err != nil {
		return nil, fmt.Errorf("dp: the initial model: %w", err)
	}
	flat := make([]int64, 0, fixedpoint.NumParams(widths))
	for l := 1; l < len(widths); l++ {
		k := bits[l-1]
		var word uint64
		left := 0 // chunks left in word
		for range widths[l] * widths[l-1] {
			var w int64
			if k > 0 {
				if left == 0 {
					word, words, left = words[0], words[1:], InitChunks(k)
				}
				w = int64(word&(1<<k-1)) - 1<<(k-1)
				word >>= k
				left--
			}
			flat = append(flat, w)
		}
		flat = append(flat, make([]int64, widths[l])...)
	}
	return flat, nil
}
