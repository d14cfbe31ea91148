// Package poll is how offsetlab's tests wait: check a condition every
// Interval until it holds, and fail the test at a bound, saying what it
// waited for, how long, and what it saw last.
//
// A wait in a test is a question asked again until the answer is yes, never
// a time.Sleep followed by an assertion: a sleep long enough on a loaded
// machine is a waste everywhere else, and one short enough is a flaky test.
package poll

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Interval is how long Until waits between two checks.
const Interval = 20 * time.Millisecond

// Until calls cond at once and then every Interval until it returns true.
// When it still returns false at limit (the last check falls on the bound),
// Until fails tb:
//
//	waited 30s for the zombie to exit
//	waited 15s for two members with one partition each; last saw {State:PreparingRebalance ...}
//
// what completes "waited LIMIT for ...". seen, when given, describes what
// the last check found; Until calls it once, on failure, so it may read
// what cond left behind.
//
// Until also stops, failing tb, when tb.Context() ends: in a Cleanup
// function, where the context has already ended, it checks cond once.
// Like tb.Fatalf, it must be called from the test's goroutine; cond runs
// there too, so it may share variables with the test unguarded.
func Until(tb testing.TB, limit time.Duration, what string, cond func() bool, seen ...func() string) {
	tb.Helper()
	ctx := tb.Context()
	start := time.Now()
	timer := time.NewTimer(Interval)
	defer timer.Stop()
	for !cond() {
		left := limit - time.Since(start)
		if left <= 0 {
			tb.Fatalf("waited %s for %s%s", limit, what, lastSaw(seen))
		}
		timer.Reset(min(Interval, left))
		select {
		case <-timer.C:
		case <-ctx.Done():
			tb.Fatalf("stopped waiting for %s after %s: %v%s", what, time.Since(start).Round(time.Millisecond), context.Cause(ctx), lastSaw(seen))
		}
	}
}

// lastSaw renders the optional descriptions of the last check.
func lastSaw(seen []func() string) string {
	var parts []string
	for _, s := range seen {
		parts = append(parts, s())
	}
	if len(parts) == 0 {
		return ""
	}
	return "; last saw " + strings.Join(parts, ", ")
}

// Received is a condition for Until: whether a value has arrived on ch,
// stored in *v unless v is nil. It never blocks, so Until keeps the bound.
//
//	var err error
//	poll.Until(t, 30*time.Second, "the consumer to stop", poll.Received(done, &err))
func Received[T any](ch <-chan T, v *T) func() bool {
	return func() bool {
		select {
		case got := <-ch:
			if v != nil {
				*v = got
			}
			return true
		default:
			return false
		}
	}
}
