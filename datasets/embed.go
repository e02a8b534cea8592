// Package datasets ships the public datasets zkdp trains on, embedded in the
// binary so the CLI works from any directory.
//
// Each dataset lives in its own folder with the SOURCE.txt that records its
// origin, license and checksums (CC BY 4.0, attribution required, for the
// UCI sets; CC BY-SA 3.0, attribution and share-alike, for MNIST):
//
//	breast_cancer/  breast_cancer.csv             (UCI Breast Cancer Wisconsin (Diagnostic), via scikit-learn)
//	digits/         digits.csv                    (UCI Optical Recognition of Handwritten Digits, via scikit-learn)
//	adult/          adult.data, adult.test, adult.names (UCI Adult)
//	mnist/          t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (MNIST test set, idx format)
//	btc/            btc.train, btc.dev, btc.test (Broad Twitter Corpus, CoNLL BIO tags, CC BY 4.0)
//	mnist_full/     train-*-idx?-ubyte.gz, t10k-*-idx?-ubyte.gz (all of MNIST, 60,000 / 10,000, from the GoMNIST Go module)
//
// The files are byte-for-byte copies; the tests recompute their sha256 sums
// against SOURCE.txt.
package datasets

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
)

// FS holds every shipped dataset folder (breast_cancer, digits, adult, mnist, mnist_full).
//
//go:embed breast_cancer/breast_cancer.csv breast_cancer/SOURCE.txt
//go:embed digits/digits.csv digits/SOURCE.txt
//go:embed adult/adult.data adult/adult.test adult/adult.names adult/SOURCE.txt
//go:embed mnist/t10k-images-idx3-ubyte.gz mnist/t10k-labels-idx1-ubyte.gz mnist/SOURCE.txt
//go:embed btc/btc.train btc/btc.dev btc/btc.test btc/LICENSE btc/README.md btc/SOURCE.txt
//go:embed mnist_full/train-images-idx3-ubyte.gz mnist_full/train-labels-idx1-ubyte.gz
//go:embed mnist_full/t10k-images-idx3-ubyte.gz mnist_full/t10k-labels-idx1-ubyte.gz mnist_full/SOURCE.txt
var FS embed.FS

// Names lists the shipped datasets of rows, in a fixed order.
var Names = []string{"breast_cancer", "digits", "adult", "mnist", "mnist_full"}

// Corpora lists the shipped token-level text corpora (records are
// sentences, read by data.ReadCoNLL, not rows of a schema).
var Corpora = []string{"btc"}

// ErrUnknownDataset is returned by Open for a name that is not shipped.
var ErrUnknownDataset = errors.New("datasets: unknown dataset")

// Open returns the folder of the named dataset, with its files at the top level.
func Open(name string) (fs.FS, error) {
	for _, n := range append(slices.Clone(Names), Corpora...) {
		if n == name {
			sub, err := fs.Sub(FS, name)
			if err != nil {
				return nil, fmt.Errorf("datasets: open %q: %w", name, err)
			}
			return sub, nil
		}
	}
	return nil, fmt.Errorf("%w: %q (shipped: %v, corpora %v)", ErrUnknownDataset, name, Names, Corpora)
}
