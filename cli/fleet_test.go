package cli

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// The fleet commands name what is missing or wrong before connecting.
func TestFleetCommandsRejectBadSettings(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"worker"}, "--run-key"},
		{[]string{"worker", "--queue", "http://h:4222", "--run-key", "k"}, "queue.url"},
		{[]string{"prove", "--run", "nowhere", "--queue", "nats://h:4222", "--max-deliver", "-1"}, "queue.max_deliver"},
		{[]string{"queue", "serve", "--user", "u"}, "password-file"},
	} {
		_, errs, code := execute(t, tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q; want an error naming %s", tc.args, code, errs, tc.want)
		}
	}
}

// The proving bar's ETA is the one the prover computed from the proofs'
// own times: an hour of key setup before the first proof does not count.
func TestProgressETAFromProofs(t *testing.T) {
	var logs bytes.Buffer
	log, err := NewLogger(&logs, "info", "text")
	if err != nil {
		t.Fatal(err)
	}
	bar := newProgress("proving", io.Discard, log)
	bar.start = time.Now().Add(-time.Hour) // the setup took an hour
	bar.updateETA(1, 10, 3*time.Minute)
	if !strings.Contains(logs.String(), "eta=3m0s") {
		t.Fatalf("got %q, want eta=3m0s", logs.String())
	}
	logs.Reset()
	bar.updateETA(2, 10, 0)
	if !strings.Contains(logs.String(), "eta=--") {
		t.Fatalf("nothing timed yet: got %q, want eta=--", logs.String())
	}
}
