package offsets

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/poll"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

func TestWatchRefreshes(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("orders", 1)
	e.Produce("orders", 0, 10, time.Time{})
	e.Commit("app", map[string]map[int32]int64{"orders": {0: 4}})

	text := e.must("watch", "--group", "app", "--interval", "10ms", "--count", "3")
	if got := strings.Count(text, "group app: state Empty, 0 members, total lag 6"); got != 3 {
		t.Fatalf("%d summaries in 3 refreshes:\n%s", got, text)
	}
	if strings.Contains(text, "\x1b[") {
		t.Fatalf("redrew in place on a non-terminal:\n%q", text)
	}

	lines := strings.Split(strings.TrimSpace(e.must("watch", "--group", "app", "--interval", "10ms", "--count", "2", "--format", "json")), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		var d describeJSON
		if err := json.Unmarshal([]byte(l), &d); err != nil || d.Groups[0].TotalLag != 6 {
			t.Fatalf("line %q: %v %+v", l, err, d)
		}
	}
}

func TestWatchStopsWhenCancelled(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"watch", "--group", "app", "--interval", "20ms", "--bootstrap", e.s.BrokerAddr()}, &stdout, &stderr)
	}()
	// Cancel once it has drawn at least once.
	poll.Until(t, 10*time.Second, "a first refresh", func() bool { return strings.Contains(stdout.String(), "group app") },
		func() string { return fmt.Sprintf("stdout %q, stderr %q", stdout.String(), stderr.String()) })
	cancel()
	var err error
	poll.Until(t, 10*time.Second, "watch to stop after cancel", poll.Received(done, &err))
	if err != nil {
		t.Fatalf("watch stopped by its context: %v, want nil", err)
	}
}

// lockedBuffer is a buffer a command writes to while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// An outage longer than --timeout used to abort watch: librdkafka asserted
// 'eonce->refcnt > 0' (rdkafka_queue.h) once the broker came back and
// answered, or timed out, the group requests of the client that had failed.
// Watch now closes a client that failed and waits for the broker with a new
// one; it keeps drawing after the broker's restart.
func TestWatchRidesOutAnOutage(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t, func(o *stack.Options) { o.DataDir = t.TempDir() })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"watch", "--group", "gw", "--interval", "100ms", "--timeout", "1s", "--bootstrap", s.BrokerAddr()}, &stdout, &stderr)
	}()
	state := func() string { return fmt.Sprintf("stdout %q, stderr %q", stdout.String(), stderr.String()) }
	frames := func() int { return strings.Count(stdout.String(), "group gw") }
	poll.Until(t, 10*time.Second, "a first refresh", func() bool { return frames() > 0 }, state)

	addr := s.BrokerAddr()
	s.StopBroker()
	stopped := time.Now()
	// The group request in flight times out (--timeout 1s: the request
	// librdkafka used to abort on when it was answered later); the new
	// clients are refused. Each failure is reported once.
	failed := "refresh failed (retrying every 100ms with a new client, once the broker at " + addr + " answers a metadata request): "
	poll.Until(t, 30*time.Second, "an outage longer than --timeout, with the refresh in flight timed out",
		func() bool {
			return time.Since(stopped) > 1500*time.Millisecond && strings.Contains(stderr.String(), failed)
		}, state)
	if n := strings.Count(stderr.String(), failed); n > 3 {
		t.Errorf("%d failure lines for one outage, want each failure once: %s", n, state())
	}
	if err := s.RestartBroker(); err != nil {
		t.Fatal(err)
	}
	before := frames()
	poll.Until(t, 30*time.Second, "three refreshes after the restart", func() bool { return frames() >= before+3 }, state)
	if !strings.Contains(stderr.String(), "the broker at "+addr+" answers again") {
		t.Errorf("no word that the broker answers again: %s", state())
	}
	cancel()
	var err error
	poll.Until(t, 10*time.Second, "watch to stop after cancel", poll.Received(done, &err))
	if err != nil {
		t.Fatalf("watch stopped by its context: %v, want nil", err)
	}
}
