package data

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zkdp/zkdp/datasets"
)

// ErrUnknownDataset is returned for a dataset name zkdp does not ship.
var ErrUnknownDataset = datasets.ErrUnknownDataset

// headerKind says what precedes the rows of a file.
type headerKind int

const (
	headerNone    headerKind = iota
	headerSklearn            // line 1: "rows,features,class0,class1,..." (scikit-learn's CSV metadata)
	headerNames              // line 1 names the columns, the label's among them (data.path)
)

// fileFormat says how a dataset's rows are stored.
type fileFormat int

const (
	formatCSV fileFormat = iota // one comma-separated row per line, label last
	formatIDX                   // LeCun's gzipped idx files: images in trainFile, labels in labelFile
)

// schema is the fixed layout of one shipped dataset.
type schema struct {
	format    fileFormat
	trainFile string
	labelFile string // formatIDX: the labels of trainFile's images
	testFile  string // "" when the dataset has no published test split
	// testLabelFile is formatIDX's labels of testFile's images.
	testLabelFile string
	header        headerKind
	// commentPrefix marks lines to skip (UCI's adult.test starts with "|1x3 Cross validator").
	commentPrefix string
	columns       []string // feature columns, in file order
	label         string   // the label column's name
	// names is a headerNames file's header: the columns with the label at
	// labelAt. Shipped datasets write the label last.
	names   []string
	labelAt int
	classes []string // class names, index = label
	// labelTokens[i] is how class i is written in the file.
	labelTokens []string
	// labelSuffix may follow a label token (adult.test writes "<=50K.").
	labelSuffix string
}

// Column names follow scikit-learn's feature_names for the sklearn datasets
// and adult.names for adult.
var schemas = map[string]*schema{
	"breast_cancer": {
		trainFile:   "breast_cancer.csv",
		header:      headerSklearn,
		columns:     wdbcColumns(),
		label:       "target",
		classes:     []string{"malignant", "benign"},
		labelTokens: []string{"0", "1"},
	},
	"digits": {
		trainFile:   "digits.csv",
		columns:     digitPixels(),
		label:       "target",
		classes:     []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
		labelTokens: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
	},
	"adult": {
		trainFile:     "adult.data",
		testFile:      "adult.test",
		commentPrefix: "|",
		columns: []string{"age", "workclass", "fnlwgt", "education", "education-num",
			"marital-status", "occupation", "relationship", "race", "sex",
			"capital-gain", "capital-loss", "hours-per-week", "native-country"},
		label:       "income",
		classes:     []string{"<=50K", ">50K"},
		labelTokens: []string{"<=50K", ">50K"},
		labelSuffix: ".",
	},
	// MNIST's test set (the only part shipped: see datasets/mnist/SOURCE.txt),
	// split 8,000 / 2,000 by data.test_fraction.
	"mnist": {
		format:      formatIDX,
		trainFile:   "t10k-images-idx3-ubyte.gz",
		labelFile:   "t10k-labels-idx1-ubyte.gz",
		columns:     pixels(mnistSide),
		label:       "label",
		classes:     []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
		labelTokens: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
	},
	// All of MNIST: its 60,000 training and 10,000 test images (see
	// datasets/mnist_full/SOURCE.txt).
	"mnist_full": {
		format:        formatIDX,
		trainFile:     "train-images-idx3-ubyte.gz",
		labelFile:     "train-labels-idx1-ubyte.gz",
		testFile:      "t10k-images-idx3-ubyte.gz",
		testLabelFile: "t10k-labels-idx1-ubyte.gz",
		columns:       pixels(mnistSide),
		label:         "label",
		classes:       []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
		labelTokens:   []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
	},
}

// labelIndex is the label's field on a line.
func (s *schema) labelIndex() int {
	if s.header == headerNames {
		return s.labelAt
	}
	return len(s.columns)
}

// mnistSide is the side of an MNIST image in pixels.
const mnistSide = 28

// wdbcMeasures are the ten nucleus measurements of the WDBC data.
var wdbcMeasures = []string{"radius", "texture", "perimeter", "area", "smoothness",
	"compactness", "concavity", "concave points", "symmetry", "fractal dimension"}

// wdbcColumns names the 30 WDBC columns as scikit-learn does: the mean,
// standard error ("X error") and worst value of each measurement.
func wdbcColumns() []string {
	cols := make([]string, 0, 30)
	for _, m := range wdbcMeasures {
		cols = append(cols, "mean "+m)
	}
	for _, m := range wdbcMeasures {
		cols = append(cols, m+" error")
	}
	for _, m := range wdbcMeasures {
		cols = append(cols, "worst "+m)
	}
	return cols
}

// digitPixels names the 8x8 pixels pixel_<row>_<col>, as scikit-learn does.
func digitPixels() []string { return pixels(8) }

// pixels names the pixels of a side x side image pixel_<row>_<col>, row-major.
func pixels(side int) []string {
	cols := make([]string, 0, side*side)
	for r := range side {
		for c := range side {
			cols = append(cols, fmt.Sprintf("pixel_%d_%d", r, c))
		}
	}
	return cols
}

// Names lists the datasets Load accepts.
func Names() []string { return slices.Clone(datasets.Names) }

// Columns returns the named dataset's source feature columns, in file order,
// and the name of its label column.
func Columns(name string) (features []string, label string, err error) {
	sch, ok := schemas[name]
	if !ok {
		return nil, "", fmt.Errorf("%w: %q (one of %s)", ErrUnknownDataset, name, strings.Join(Names(), ", "))
	}
	return slices.Clone(sch.columns), sch.label, nil
}

// Classes returns the named dataset's class names; label i is Classes[i].
func Classes(name string) ([]string, error) {
	sch, ok := schemas[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q (one of %s)", ErrUnknownDataset, name, strings.Join(Names(), ", "))
	}
	return slices.Clone(sch.classes), nil
}
