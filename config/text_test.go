package config

import (
	"strings"
	"testing"
)

// A corpus config needs a valid text section and no hidden layer; a row
// config must not carry one; each problem names its key.
func TestTextSectionValidation(t *testing.T) {
	training := `
training:
  steps: 10
  sampling_rate: 0.1
  clip_norm: 1
  learning_rate: 1
  epsilon: 3
`
	for name, c := range map[string]struct{ body, want string }{
		"corpus without text": {"data:\n  name: btc\n  max_rows: 6400\n" + training, "text.max_tokens"},
		"corpus with hidden":  {"data:\n  name: btc\n  max_rows: 6400\ntext:\n  max_tokens: 32\n  window: 2\n  vocab_size: 100\n" + strings.Replace(training, "training:\n", "training:\n  hidden: [4]\n", 1), "training.hidden"},
		"corpus with split":   {"data:\n  name: btc\n  max_rows: 6400\n  test_fraction: 0.2\ntext:\n  max_tokens: 32\n  window: 2\n  vocab_size: 100\n" + training, "data.test_fraction"},
		"rows with text":      {"data:\n  name: digits\n  max_rows: 1472\n  test_fraction: 0.2\ntext:\n  max_tokens: 32\n" + training, "text: only applies"},
	} {
		_, err := loadBytes(t, []byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error naming %q", name, err, c.want)
		}
	}
	good := "data:\n  name: btc\n  max_rows: 6400\ntext:\n  max_tokens: 32\n  window: 2\n  vocab_size: 100\n" + training
	if _, err := loadBytes(t, []byte(good)); err != nil {
		t.Errorf("a valid corpus config: %v", err)
	}
}
