package poll_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/poll"
)

// fakeTB stands in for the test a helper fails: Fatalf records the message
// and ends the goroutine, as testing's does.
type fakeTB struct {
	testing.TB
	ctx     context.Context
	failure string
}

func (f *fakeTB) Context() context.Context { return f.ctx }

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// until runs poll.Until against a fakeTB on a goroutine of its own, so that
// a failure ends only that goroutine, and returns the failure message: ""
// when Until returned.
func until(t *testing.T, ctx context.Context, limit time.Duration, what string, cond func() bool, seen ...func() string) string {
	t.Helper()
	f := &fakeTB{TB: t, ctx: ctx}
	done := make(chan struct{})
	go func() {
		defer close(done)
		poll.Until(f, limit, what, cond, seen...)
	}()
	<-done // bounded by limit, which each test keeps short
	return f.failure
}

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	calls, seenCalled := 0, false
	failure := until(t, t.Context(), time.Minute, "the third check", func() bool {
		calls++
		return calls == 3
	}, func() string { seenCalled = true; return "" })
	if failure != "" {
		t.Fatalf("failed although the condition turned true: %s", failure)
	}
	if calls != 3 {
		t.Fatalf("checked %d times, want 3: once true, the condition is not checked again", calls)
	}
	if seenCalled {
		t.Fatal("described what it saw although the wait succeeded")
	}
}

func TestUntilFailsAtTheLimit(t *testing.T) {
	const limit = 200 * time.Millisecond
	for _, tc := range []struct {
		name string
		seen []func() string
		want string
	}{
		{"what it waited for", nil, "waited 200ms for the group to commit offset 42"},
		{"and what it last saw", []func() string{func() string { return "offset 41" }},
			"waited 200ms for the group to commit offset 42; last saw offset 41"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			start := time.Now()
			failure := until(t, t.Context(), limit, "the group to commit offset 42", func() bool {
				calls++
				return false
			}, tc.seen...)
			if failure != tc.want {
				t.Fatalf("failure %q, want %q", failure, tc.want)
			}
			if took := time.Since(start); took < limit {
				t.Fatalf("gave up after %s, before its limit of %s", took, limit)
			}
			if calls < 2 {
				t.Fatalf("checked the condition %d time(s) in %s; it should poll", calls, limit)
			}
		})
	}
}

func TestUntilStopsWhenTheTestsContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	ended := errors.New("the test ended")
	calls := 0
	failure := until(t, ctx, 10*time.Second, "a record", func() bool {
		if calls++; calls == 3 {
			cancel(ended)
		}
		return false
	}, func() string { return "none" })
	if !strings.HasPrefix(failure, "stopped waiting for a record after ") || !strings.HasSuffix(failure, ": the test ended; last saw none") {
		t.Fatalf("failure %q, want it to stop at the context's end and say why", failure)
	}
	if calls < 3 {
		t.Fatalf("checked %d times, want at least the 3 before the context ended", calls)
	}
}

func TestReceived(t *testing.T) {
	ch := make(chan error, 1)
	var got error
	received := poll.Received(ch, &got)
	if received() {
		t.Fatal("received from an empty channel")
	}
	want := errors.New("exit 3")
	ch <- want
	if !received() || got != want {
		t.Fatalf("received %v, want %v", got, want)
	}
	ch <- want
	if !poll.Received(ch, nil)() {
		t.Fatal("a nil destination: did not receive")
	}
	if len(ch) != 0 {
		t.Fatal("a nil destination: the value is still queued")
	}
	// The condition inside Until: the wait ends when the value arrives.
	go func() { ch <- nil }()
	got = want
	if failure := until(t, t.Context(), time.Minute, "a value", poll.Received(ch, &got)); failure != "" || got != nil {
		t.Fatalf("until received: failure %q, value %v", failure, got)
	}
}
