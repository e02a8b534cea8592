package data

import (
	"fmt"
	"strings"
)

// DefaultConfig returns the shipped `data:` section for a dataset; the files
// configs/<name>.yaml hold the same values (a test checks they agree).
// Every scaling constant is public and fixed before looking at the data.
func DefaultConfig(name string) (Config, error) {
	switch name {
	case "breast_cancer":
		return breastCancerDefaults(), nil
	case "digits":
		return digitsDefaults(), nil
	case "adult":
		return adultDefaults(), nil
	case "mnist":
		return mnistDefaults(), nil
	case "mnist_full":
		return mnistFullDefaults(), nil
	}
	return Config{}, fmt.Errorf("%w: %q (one of %s)", ErrUnknownDataset, name, strings.Join(Names(), ", "))
}

// wdbcRanges are the per-feature Min and Max published in the dataset's
// documentation: scikit-learn's load_breast_cancer description
// (sklearn/datasets/descr/breast_cancer.rst, "Summary Statistics"), which
// reproduces the UCI WDBC documentation. They are rounded to 3 decimals, so
// a few rows fall just outside and are clamped to 0 or 1.
var wdbcRanges = [30][2]float64{
	{6.981, 28.11},  // mean radius
	{9.71, 39.28},   // mean texture
	{43.79, 188.5},  // mean perimeter
	{143.5, 2501.0}, // mean area
	{0.053, 0.163},  // mean smoothness
	{0.019, 0.345},  // mean compactness
	{0.0, 0.427},    // mean concavity
	{0.0, 0.201},    // mean concave points
	{0.106, 0.304},  // mean symmetry
	{0.05, 0.097},   // mean fractal dimension
	{0.112, 2.873},  // radius error
	{0.36, 4.885},   // texture error
	{0.757, 21.98},  // perimeter error
	{6.802, 542.2},  // area error
	{0.002, 0.031},  // smoothness error
	{0.002, 0.135},  // compactness error
	{0.0, 0.396},    // concavity error
	{0.0, 0.053},    // concave points error
	{0.008, 0.079},  // symmetry error
	{0.001, 0.03},   // fractal dimension error
	{7.93, 36.04},   // worst radius
	{12.02, 49.54},  // worst texture
	{50.41, 251.2},  // worst perimeter
	{185.2, 4254.0}, // worst area
	{0.071, 0.223},  // worst smoothness
	{0.027, 1.058},  // worst compactness
	{0.0, 1.252},    // worst concavity
	{0.0, 0.291},    // worst concave points
	{0.156, 0.664},  // worst symmetry
	{0.055, 0.208},  // worst fractal dimension
}

func breastCancerDefaults() Config {
	// WDBC documents 569 rows; the 80% training split holds 455 of them.
	// 512, the next multiple of 64, keeps the Merkle depth at 9.
	cfg := Config{Name: "breast_cancer", TestFraction: 0.2, Missing: MissingError, Center: true, MaxRows: 512}
	for i, col := range wdbcColumns() {
		cfg.Features = append(cfg.Features, FeatureSpec{Column: col, Kind: KindMinMax, Min: wdbcRanges[i][0], Max: wdbcRanges[i][1]})
	}
	return cfg
}

// digitsDefaults scales every pixel by 0..16: UCI optdigits counts the on
// pixels of each 4x4 block of a 32x32 bitmap, so a pixel is an integer in
// 0..16 by construction (sklearn descr/digits.rst, UCI optdigits.names).
func digitsDefaults() Config {
	// optdigits as sklearn ships it documents 1797 rows; the 80% training
	// split holds 1438. 1472 is the next multiple of 64.
	cfg := Config{Name: "digits", TestFraction: 0.2, Missing: MissingError, MaxRows: 1472}
	for _, col := range digitPixels() {
		cfg.Features = append(cfg.Features, FeatureSpec{Column: col, Kind: KindMinMax, Min: 0, Max: 16})
	}
	return cfg
}

// adultDefaults scales Adult with constants from adult.names and the 1994
// Current Population Survey (CPS) coding it was extracted from.
func adultDefaults() Config {
	onehot := func(col string, cats ...string) FeatureSpec {
		return FeatureSpec{Column: col, Kind: KindOneHot, Categories: cats}
	}
	return Config{
		Name:    "adult",
		Missing: MissingCategory,
		Center:  true,
		// adult.names documents 32561 training rows (48842 in all, minus
		// adult.test's 16281); 32576 is the next multiple of 64.
		MaxRows: 32576,
		Features: []FeatureSpec{
			// adult.names: rows were extracted with AAGE>16; the CPS
			// public-use files top-code age at 90.
			{Column: "age", Kind: KindMinMax, Min: 17, Max: 90},
			// adult.names lists the values in this order.
			onehot("workclass", "Private", "Self-emp-not-inc", "Self-emp-inc", "Federal-gov",
				"Local-gov", "State-gov", "Without-pay", "Never-worked"),
			// fnlwgt is the CPS sampling weight (how many people a record
			// stands for, raked to state population controls; adult.names
			// warns it is only comparable within a state), not a property of
			// the person, and no public bound exists: drop it.
			{Column: "fnlwgt", Kind: KindDrop},
			onehot("education", "Bachelors", "Some-college", "11th", "HS-grad", "Prof-school",
				"Assoc-acdm", "Assoc-voc", "9th", "7th-8th", "12th", "Masters", "1st-4th",
				"10th", "Doctorate", "5th-6th", "Preschool"),
			// education-num codes the 16 education levels adult.names lists
			// (1 = Preschool ... 16 = Doctorate).
			{Column: "education-num", Kind: KindMinMax, Min: 1, Max: 16},
			onehot("marital-status", "Married-civ-spouse", "Divorced", "Never-married",
				"Separated", "Widowed", "Married-spouse-absent", "Married-AF-spouse"),
			onehot("occupation", "Tech-support", "Craft-repair", "Other-service", "Sales",
				"Exec-managerial", "Prof-specialty", "Handlers-cleaners", "Machine-op-inspct",
				"Adm-clerical", "Farming-fishing", "Transport-moving", "Priv-house-serv",
				"Protective-serv", "Armed-Forces"),
			onehot("relationship", "Wife", "Own-child", "Husband", "Not-in-family",
				"Other-relative", "Unmarried"),
			onehot("race", "White", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Black"),
			onehot("sex", "Female", "Male"),
			// Capital gain and loss are 5-digit dollar fields; the CPS
			// top-codes capital gains at 99999. Both are mostly 0 with a long
			// tail, hence log scaling. Capital loss uses the same field bound
			// rather than 4356, the largest loss in the release, because that
			// is a statistic of the data itself.
			{Column: "capital-gain", Kind: KindLogMinMax, Min: 0, Max: 99999},
			{Column: "capital-loss", Kind: KindLogMinMax, Min: 0, Max: 99999},
			// adult.names: extracted with HRSWK>0; the CPS codes hours
			// worked in two digits, top-coded at 99.
			{Column: "hours-per-week", Kind: KindMinMax, Min: 1, Max: 99},
			onehot("native-country", "United-States", "Cambodia", "England", "Puerto-Rico",
				"Canada", "Germany", "Outlying-US(Guam-USVI-etc)", "India", "Japan", "Greece",
				"South", "China", "Cuba", "Iran", "Honduras", "Philippines", "Italy", "Poland",
				"Jamaica", "Vietnam", "Mexico", "Portugal", "Ireland", "France",
				"Dominican-Republic", "Laos", "Ecuador", "Taiwan", "Haiti", "Columbia", "Hungary",
				"Guatemala", "Nicaragua", "Scotland", "Thailand", "Yugoslavia", "El-Salvador",
				"Trinadad&Tobago", "Peru", "Hong", "Holand-Netherlands"),
		},
	}
}

// mnistDefaults scales every pixel by 0..255, the range of idx's unsigned
// bytes (LeCun's MNIST page), and holds out 2,000 of the 10,000 images.
func mnistDefaults() Config {
	// 10,000 images, of which 8,000 train: a multiple of 64 already.
	return Config{Name: "mnist", TestFraction: 0.2, Missing: MissingError, MaxRows: 8000,
		Features: []FeatureSpec{{Column: "pixel_*", Kind: KindMinMax, Min: 0, Max: 255}}}
}

// mnistFullDefaults reads all of MNIST: its 60,000 training images (the
// public bound, a multiple of 64, pads nothing) and its 10,000 test images.
func mnistFullDefaults() Config {
	return Config{Name: "mnist_full", Missing: MissingError, MaxRows: 60000,
		Features: []FeatureSpec{{Column: "pixel_*", Kind: KindMinMax, Min: 0, Max: 255}}}
}
