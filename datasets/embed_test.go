package datasets

import (
	"bufio"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestChecksumsMatchSource recomputes the sha256 of every file each SOURCE.txt
// lists, so a changed or truncated copy (or a line-ending rewrite) fails.
func TestChecksumsMatchSource(t *testing.T) {
	folders := map[string]fs.FS{
		// Read through data.path by configs/german_credit.yaml, not embedded.
		"german_credit": os.DirFS("german_credit"),
	}
	for _, name := range append(slices.Clone(Names), Corpora...) {
		dir, err := Open(name)
		if err != nil {
			t.Fatal(err)
		}
		folders[name] = dir
	}
	for name, dir := range folders {
		source, err := fs.ReadFile(dir, "SOURCE.txt")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		listed := 0
		sc := bufio.NewScanner(strings.NewReader(string(source)))
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 || !strings.HasPrefix(fields[1], "bytes=") {
				continue
			}
			file, want, wantMD5 := fields[0], "", ""
			for _, f := range fields[1:] {
				if v, ok := strings.CutPrefix(f, "sha256="); ok {
					want = v
				}
				if v, ok := strings.CutPrefix(f, "md5="); ok {
					wantMD5 = v
				}
			}
			if want == "" {
				t.Errorf("%s/SOURCE.txt: line %q has no sha256", name, sc.Text())
				continue
			}
			body, err := fs.ReadFile(dir, file)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			sum := sha256.Sum256(body)
			if got := hex.EncodeToString(sum[:]); got != want {
				t.Errorf("%s/%s: sha256 %s, SOURCE.txt says %s", name, file, got, want)
			}
			// md5 is what the dataset's origin publishes (torchvision checks
			// MNIST's .gz files by it), so it is checked too where listed.
			if sum := md5.Sum(body); wantMD5 != "" && hex.EncodeToString(sum[:]) != wantMD5 {
				t.Errorf("%s/%s: md5 %x, SOURCE.txt says %s", name, file, sum, wantMD5)
			}
			if size := "bytes=" + strconv.Itoa(len(body)); fields[1] != size {
				t.Errorf("%s/%s: %s, SOURCE.txt says %s", name, file, size, fields[1])
			}
			listed++
		}
		if listed == 0 {
			t.Errorf("%s/SOURCE.txt lists no files", name)
		}
	}
}

func TestOpenUnknown(t *testing.T) {
	if _, err := Open("iris"); !errors.Is(err, ErrUnknownDataset) {
		t.Fatalf("Open(iris): got %v, want ErrUnknownDataset", err)
	}
}
