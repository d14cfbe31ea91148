package scenario

import (
	"testing"
	"time"
)

// The runner derives its timings from the cluster: a second where the
// cluster allows it, Kafka's 6 s floor where it does not.
func TestLimits(t *testing.T) {
	fast := Limits{ClassicMin: 100 * time.Millisecond, ClassicMax: 5 * time.Minute, ConsumerSession: 2 * time.Second}
	kafka := Limits{ClassicMin: 6 * time.Second, ClassicMax: 30 * time.Minute, ConsumerSession: 45 * time.Second}
	for _, tc := range []struct {
		l                  Limits
		session, heartbeat time.Duration
		bound              string
		want               time.Duration
	}{
		{fast, time.Second, 100 * time.Millisecond, "$SESSION+10s", 11 * time.Second},
		{kafka, 6 * time.Second, 600 * time.Millisecond, "$CONSUMER_SESSION+20s", 65 * time.Second},
		{kafka, 6 * time.Second, 600 * time.Millisecond, "30s", 30 * time.Second},
	} {
		if got := tc.l.Session(); got != tc.session {
			t.Errorf("%v: session %s, want %s", tc.l, got, tc.session)
		}
		if got := tc.l.Heartbeat(); got != tc.heartbeat {
			t.Errorf("%v: heartbeat %s, want %s", tc.l, got, tc.heartbeat)
		}
		tm, err := parseTiming(tc.bound)
		if err != nil || tm.on(tc.l) != tc.want {
			t.Errorf("%s on %v = %s (%v), want %s", tc.bound, tc.l, tm.on(tc.l), err, tc.want)
		}
	}
	for _, bad := range []string{"$SESSION+", "soon", "-1s", "$TOPIC"} {
		if _, err := parseTiming(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	// A kill -9 of a dynamic member costs a session timeout; a static one
	// restarted in time costs nothing.
	sc, err := Parse("k.txtar", []byte("# c\n\nproduce 10\nstart c1\nstart c2 --protocol consumer\nstart c3 --static-id s3\nkill c1\nkill c2\nkill c3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.SessionWaits(kafka); got != 51*time.Second {
		t.Errorf("session waits on Kafka's defaults = %s, want 51s", got)
	}
}
