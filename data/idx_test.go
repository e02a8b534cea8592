package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadMNIST(t *testing.T) {
	cfg, err := DefaultConfig("mnist")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Load(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len() != 8000 || ds.Test.Len() != 2000 {
		t.Fatalf("split %d / %d, want 8000 / 2000", ds.Train.Len(), ds.Test.Len())
	}
	if len(ds.Features) != 784 || ds.Features[29] != "pixel_1_1" {
		t.Fatalf("features: %d, [29] = %q", len(ds.Features), ds.Features[29])
	}
	// SOURCE.txt's class counts, over both splits.
	want := []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	got := make([]int, 10)
	lit := 0
	for _, s := range []Split{ds.Train, ds.Test} {
		for i, y := range s.Y {
			got[y]++
			for _, v := range s.X[i] {
				if v < 0 || v > 1 {
					t.Fatalf("pixel %v outside [0,1]", v)
				}
				if v > 0 {
					lit++
				}
			}
		}
	}
	for c := range want {
		if got[c] != want[c] {
			t.Errorf("class %d: %d images, SOURCE.txt says %d", c, got[c], want[c])
		}
	}
	if lit == 0 {
		t.Fatal("every pixel is 0")
	}
}

// writeIDX writes a gzipped idx file with the given header words and payload.
func writeIDX(t *testing.T, path string, header []uint32, payload []byte) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	if err := binary.Write(gz, binary.BigEndian, header); err != nil {
		t.Fatal(err)
	}
	gz.Write(payload)
	gz.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadIDXErrors(t *testing.T) {
	const images, labels = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
	good := func(n int) ([]uint32, []byte, []uint32, []byte) {
		lb := make([]byte, n)
		for i := range lb {
			lb[i] = byte(i % 10)
		}
		return []uint32{idxImagesMagic, uint32(n), 28, 28}, make([]byte, n*784), []uint32{idxLabelsMagic, uint32(n)}, lb
	}
	for _, tc := range []struct {
		name   string
		mutate func(ih *[]uint32, ip *[]byte, lh *[]uint32, lp *[]byte)
		want   error
		msg    string
	}{
		{"bad magic", func(ih *[]uint32, _ *[]byte, _ *[]uint32, _ *[]byte) { (*ih)[0] = 0x0802 }, ErrBadIDX, images + ": bad idx file: magic"},
		{"wrong shape", func(ih *[]uint32, _ *[]byte, _ *[]uint32, _ *[]byte) { (*ih)[2] = 27 }, ErrBadIDX, "want 784 values"},
		{"truncated", func(_ *[]uint32, ip *[]byte, _ *[]uint32, _ *[]byte) { *ip = (*ip)[:100] }, ErrBadIDX, "declares 20 records"},
		{"trailing data", func(_ *[]uint32, ip *[]byte, _ *[]uint32, _ *[]byte) { *ip = append(*ip, 1) }, ErrBadIDX, "data after"},
		{"count mismatch", func(_ *[]uint32, _ *[]byte, lh *[]uint32, lp *[]byte) { (*lh)[1] = 19; *lp = (*lp)[:19] }, ErrBadIDX, "20 images"},
		{"bad label", func(_ *[]uint32, _ *[]byte, _ *[]uint32, lp *[]byte) { (*lp)[6] = 10 }, ErrUnknownLabel, labels + ":7: field \"label\""},
		{"huge count", func(ih *[]uint32, _ *[]byte, _ *[]uint32, _ *[]byte) { (*ih)[1] = 1 << 30 }, ErrBadIDX, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ih, ip, lh, lp := good(20)
			tc.mutate(&ih, &ip, &lh, &lp)
			writeIDX(t, filepath.Join(dir, images), ih, ip)
			writeIDX(t, filepath.Join(dir, labels), lh, lp)
			cfg, _ := DefaultConfig("mnist")
			cfg.Dir = dir
			_, err := Load(cfg, 1)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
	t.Run("not gzip", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, images), []byte("plain"), 0o644)
		cfg, _ := DefaultConfig("mnist")
		cfg.Dir = dir
		if _, err := Load(cfg, 1); !errors.Is(err, ErrBadIDX) {
			t.Fatalf("got %v, want ErrBadIDX", err)
		}
	})
}

func TestFeaturePatterns(t *testing.T) {
	base, _ := DefaultConfig("mnist")
	for _, tc := range []struct {
		name     string
		features []FeatureSpec
		errKey   string // "" = valid
	}{
		{"one pattern", base.Features, ""},
		{"explicit entry wins", append([]FeatureSpec{{Column: "pixel_0_0", Kind: KindDrop}}, base.Features...), ""},
		{"bad pattern", []FeatureSpec{{Column: "pixel_[", Kind: KindMinMax, Min: 0, Max: 255}}, "data.features[0].column"},
		{"pattern matching nothing", append(base.Features, FeatureSpec{Column: "voxel_*", Kind: KindDrop}), "data.features[1].column"},
		{"pattern fully shadowed", append(base.Features, FeatureSpec{Column: "pixel_1*", Kind: KindDrop}), "data.features[1].column"},
		{"columns left over", []FeatureSpec{{Column: "pixel_1*", Kind: KindMinMax, Min: 0, Max: 255}}, "data.features"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.Features = tc.features
			errs := cfg.Validate()
			if tc.errKey == "" {
				if len(errs) > 0 {
					t.Fatal(errors.Join(errs...))
				}
				return
			}
			if len(errs) == 0 || !strings.HasPrefix(errs[0].Error(), tc.errKey+":") {
				t.Fatalf("got %v, want an error at %s first", errs, tc.errKey)
			}
		})
	}
	cfg := base
	cfg.Features = append([]FeatureSpec{{Column: "pixel_0_0", Kind: KindDrop}}, base.Features...)
	ds, err := Load(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Features) != 783 || ds.Features[0] != "pixel_0_1" {
		t.Fatalf("an explicit drop should remove pixel_0_0: %d features, first %q", len(ds.Features), ds.Features[0])
	}
}

// TestLoadMNISTFull reads all of MNIST and checks SOURCE.txt's class counts.
func TestLoadMNISTFull(t *testing.T) {
	cfg, err := DefaultConfig("mnist_full")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Load(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Len() != 60000 || ds.Test.Len() != 10000 || len(ds.Features) != 784 {
		t.Fatalf("%d train, %d test rows of %d features, want 60000, 10000, 784", ds.Train.Len(), ds.Test.Len(), len(ds.Features))
	}
	for _, c := range []struct {
		s    Split
		want []int
	}{
		{ds.Train, []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}},
		{ds.Test, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}},
	} {
		got := make([]int, 10)
		for _, y := range c.s.Y {
			got[y]++
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("class counts %v, SOURCE.txt says %v", got, c.want)
		}
	}
}
