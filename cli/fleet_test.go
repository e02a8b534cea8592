package cli

import (
	"strings"
	"testing"
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
