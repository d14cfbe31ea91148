package consumer

import (
	"strings"
	"testing"
	"time"
)

// An assigned consumer that reads nothing for a while says it is waiting,
// once per quiet spell, and why when --reset latest is the reason.
func TestSayWaiting(t *testing.T) {
	for _, tc := range []struct {
		reset    string
		consumed int64
		want     string
	}{
		{"latest", 0, "waiting for new records: with --reset latest a group with nothing committed starts at the log end"},
		{"end", 0, "with --reset latest"},
		{"earliest", 0, "waiting for new records: nothing to read past the committed offsets"},
		{"latest", 5, "caught up: waiting for new records"},
	} {
		var out strings.Builder
		c := &consumer{o: &options{reset: tc.reset}, stderr: &out, assigned: map[partitionKey]bool{{"orders", 0}: true},
			lastWork: time.Now().Add(-quietFor - time.Second)}
		c.stats.Consumed = tc.consumed
		c.sayWaiting()
		c.sayWaiting()
		if got := out.String(); !strings.Contains(got, tc.want) || strings.Count(got, "\n") != 1 {
			t.Errorf("--reset %s, %d consumed: said %q, want once %q", tc.reset, tc.consumed, got, tc.want)
		}
	}

	// Not yet quiet long enough, nothing assigned, or --quiet: nothing said.
	var out strings.Builder
	c := &consumer{o: &options{reset: "latest"}, stderr: &out, assigned: map[partitionKey]bool{{"orders", 0}: true}, lastWork: time.Now()}
	c.sayWaiting()
	c = &consumer{o: &options{reset: "latest"}, stderr: &out, assigned: map[partitionKey]bool{}, lastWork: time.Now().Add(-time.Hour)}
	c.sayWaiting()
	c = &consumer{o: &options{reset: "latest", quiet: true}, stderr: &out, assigned: map[partitionKey]bool{{"orders", 0}: true}, lastWork: time.Now().Add(-time.Hour)}
	c.sayWaiting()
	if out.Len() != 0 {
		t.Errorf("said %q too early, with nothing assigned or under --quiet", out.String())
	}
}
