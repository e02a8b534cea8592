package data

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/backbone/scatternet"
	"github.com/zkdp/zkdp/datasets"
)

// TestLoadScatterNet loads the shipped MNIST test set through a first-order
// ScatterNet: every row is exactly the backbone applied to the scaled
// pixels a plain load gives, the features are named, bounded and counted
// in the identity, and a second load (served by the cache) is the same.
func TestLoadScatterNet(t *testing.T) {
	plain, err := DefaultConfig("mnist")
	if err != nil {
		t.Fatal(err)
	}
	plain.Dir, plain.MaxRows = smallMNIST(t, 40), 64
	raw, err := Load(plain, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := plain
	cfg.Backbone = BackboneConfig{Name: BackboneScatterNet, J: 2, L: 8, Order: 1, Group: 8, Clip: 3}
	ds, err := Load(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Backbone == nil || ds.Backbone.Name != scatternet.Name || ds.Backbone.Config != "J=2 L=8 order=1 size=28 group=8 clip=3" || ds.Backbone.Features != 833 {
		t.Fatalf("identity %+v", ds.Backbone)
	}
	if len(ds.Features) != 833 || ds.Features[49] != "scatter_1_0_0" || ds.Train.Len() != raw.Train.Len() || !slices.Equal(ds.Test.Y, raw.Test.Y) {
		t.Fatalf("%d features (%q...), %d/%d rows", len(ds.Features), ds.Features[:2], ds.Train.Len(), ds.Test.Len())
	}
	net, err := scatternet.New(scatternet.Config{Size: 28, J: 2, L: 8, Order: 1, Group: 8, Clip: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 833)
	for _, i := range []int{0, 17, ds.Train.Len() - 1} {
		net.Apply(want, raw.Train.X[i])
		if !slices.Equal(ds.Train.X[i], want) {
			t.Fatalf("train row %d differs from the backbone of its pixels", i)
		}
	}
	net.Apply(want, raw.Test.X[5])
	if !slices.Equal(ds.Test.X[5], want) {
		t.Fatal("test row 5 differs from the backbone of its pixels")
	}
	for _, row := range ds.Train.X {
		for _, v := range row {
			if v < -1 || v > 1 {
				t.Fatalf("feature %v outside [-1, 1]", v)
			}
		}
	}
	again, err := Load(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(again.Train.X, ds.Train.X, slices.Equal) {
		t.Fatal("a second load differs")
	}
	// Another split seed moves rows between the splits: the cache is keyed
	// by the rows, so it recomputes rather than serve the old order.
	rawOther, err := Load(plain, 2)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Load(cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(rawOther.Train.Y, raw.Train.Y) {
		t.Fatal("split seeds 1 and 2 give the same split")
	}
	for i := range other.Train.X {
		net.Apply(want, rawOther.Train.X[i])
		if !slices.Equal(other.Train.X[i], want) {
			t.Fatalf("split seed 2: train row %d differs from the backbone of its pixels", i)
		}
	}
}

// smallMNIST writes the first n images of the shipped MNIST test set, in
// its idx format, to a temporary folder (data.dir): a dataset the backbone
// transforms in milliseconds.
func smallMNIST(t *testing.T, n int) string {
	t.Helper()
	fsys, err := datasets.Open("mnist")
	if err != nil {
		t.Fatal(err)
	}
	images, _, err := readIDXFile(fsys, "t10k-images-idx3-ubyte.gz", idxImagesMagic, 784)
	if err != nil {
		t.Fatal(err)
	}
	labels, _, err := readIDXFile(fsys, "t10k-labels-idx1-ubyte.gz", idxLabelsMagic, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeIDX(t, filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), []uint32{idxImagesMagic, uint32(n), 28, 28}, images[:n*784])
	writeIDX(t, filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), []uint32{idxLabelsMagic, uint32(n)}, labels[:n])
	return dir
}

// TestBackboneConfigErrors: each bad backbone setting is named.
func TestBackboneConfigErrors(t *testing.T) {
	base, _ := DefaultConfig("mnist")
	for field, b := range map[string]BackboneConfig{
		"data.backbone.name":       {Name: "resnet"},
		"data.backbone.name ":      {J: 2},
		"data.backbone.scatternet": {Name: BackboneScatterNet, J: 2, L: 7, Order: 1},
	} {
		c := base
		c.Backbone = b
		errs := c.Validate()
		if len(errs) == 0 || !errors.Is(errs[0], ErrInvalidConfig) || !strings.Contains(errors.Join(errs...).Error(), strings.TrimSpace(field)+":") {
			t.Errorf("%+v: got %v, want an error naming %s", b, errs, field)
		}
	}
	c := base
	c.Features = []FeatureSpec{{Column: "pixel_*", Kind: KindDrop}, {Column: "pixel_0_0", Kind: KindMinMax, Min: 0, Max: 255},
		{Column: "pixel_0_1", Kind: KindMinMax, Min: 0, Max: 255}}
	c.Backbone = BackboneConfig{Name: BackboneScatterNet, J: 2, L: 8, Order: 1}
	if _, err := Load(c, 1); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "square") {
		t.Errorf("2 features into scatternet: got %v, want an error about square images", err)
	}
}
