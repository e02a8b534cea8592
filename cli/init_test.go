package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkdp/zkdp/config"
	"github.com/zkdp/zkdp/data"
)

// zkdp init writes a skeleton that holds nothing read from the rows but the
// column names, and that zkdp refuses until its placeholders are filled;
// --from-data fills them and marks the config.
func TestInitSkeleton(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "patients.csv")
	body := "id,age,ward,diagnosis\nrow-a7,41.25,north-wing,sick\nrow-b3,77.5,south-wing,healthy\nrow-c9,12.75,north-wing,healthy\n"
	if err := os.WriteFile(csv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "patients.yaml")
	stdout, stderr, code := execute(t, "init", "--csv", csv, "--label", "diagnosis", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	skeleton, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, private := range []string{"41.25", "77.5", "12.75", "north-wing", "south-wing", "row-a7", "sick", "healthy"} {
		if strings.Contains(string(skeleton)+stdout+stderr, private) {
			t.Errorf("zkdp init shows %q, a value of the private rows:\n%s%s", private, stdout, skeleton)
		}
	}
	l := config.NewLoader()
	err = l.ReadFile(out)
	if err == nil || !strings.Contains(err.Error(), out+":") || !strings.Contains(err.Error(), "data.features[1].min: placeholder left") {
		t.Fatalf("the skeleton loaded or its error does not name the placeholders: %v", err)
	}

	// The second run refuses to overwrite; --force and --from-data.
	if _, _, code := execute(t, "init", "--csv", csv, "--label", "diagnosis", "--out", out); code == 0 {
		t.Fatal("zkdp init overwrote an existing config without --force")
	}
	if _, stderr, code := execute(t, "init", "--csv", csv, "--label", "diagnosis", "--out", out, "--from-data", "--force"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	l = config.NewLoader()
	if err := l.ReadFile(out); err != nil {
		t.Fatal(err)
	}
	c, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !c.Data.ScalingFromPrivateData || c.Data.Features[0].Kind != data.KindOneHot || c.Data.Features[1].Kind != data.KindMinMax || c.Data.Features[2].Kind != data.KindOneHot {
		t.Fatalf("--from-data config: %+v", c.Data)
	}
	ds, err := data.Load(c.Data, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !ds.ScalingFromPrivateData || ds.Train.Len()+ds.Test.Len() != 3 {
		t.Fatalf("loaded %d rows, marked %v", ds.Train.Len()+ds.Test.Len(), ds.ScalingFromPrivateData)
	}
}
