package golden

import (
	"errors"
	"strings"
	"testing"
)

func TestSplitSection(t *testing.T) {
	file := []byte("# Title\n<!-- begin -->\nold\ntable\n<!-- end -->\ntail\n")
	pre, cur, post, err := splitSection(file, "<!-- begin -->", "<!-- end -->")
	if err != nil {
		t.Fatal(err)
	}
	if string(pre) != "# Title\n<!-- begin -->\n" || string(cur) != "old\ntable\n" || string(post) != "<!-- end -->\ntail\n" {
		t.Errorf("split into %q | %q | %q", pre, cur, post)
	}
	for _, bad := range []string{"no markers\n", "<!-- end -->\n<!-- begin -->\n", "<!-- begin -->\nno end\n"} {
		if _, _, _, err := splitSection([]byte(bad), "<!-- begin -->", "<!-- end -->"); !errors.Is(err, ErrMarkers) {
			t.Errorf("%q: got %v, want ErrMarkers", bad, err)
		}
	}
}

func TestFirstDiff(t *testing.T) {
	for _, c := range []struct{ want, got, says string }{
		{"a\nb\n", "a\nc\n", `line 2: committed "b", generated "c"`},
		{"a\n", "a\nb\n", `line 2: committed "", generated "b"`},
		{"a", "a\nb", `line 2 is new: "b"`},
		{"a\nb", "a", `line 2 is gone: "b"`},
	} {
		if d := firstDiff([]byte(c.want), []byte(c.got)); !strings.Contains(d, c.says) {
			t.Errorf("firstDiff(%q, %q) = %q, want it to say %q", c.want, c.got, d, c.says)
		}
	}
}
