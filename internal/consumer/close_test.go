package consumer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/poll"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// TestCloseOverCommit: in the auto mode, a consumer stopped (its context
// ended, as SIGTERM ends it) after about 30 records, with the rest of the
// topic fetched and queued, commits on the broker exactly what it processed
// when it pauses before Close() (--close pause-first), and can commit more
// when it calls Close() alone (--close plain), as a plain confluent-kafka-go
// application does: Close() polls queued records away, which stores their
// offsets, and the revocation commits them (see close.go).
//
// How many records a plain close polls away is a race between the Go poll
// loop and librdkafka's main thread, and the poll loop loses it now and then
// (none in about one close of five, measured), so the plain case tries up
// to eight closes and fails when none of them committed past what it
// processed. Every close has a group of its own on the same records.
func TestCloseOverCommit(t *testing.T) {
	s := stacktest.Start(t)
	const topic = "close"
	fill(t, s.BrokerAddr(), s.RegistryURL(), topic, 3000)
	t.Run(closePauseFirst, func(t *testing.T) {
		for i := range 3 {
			processed, committed := closeAfter30(t, s, topic, closePauseFirst, i)
			if committed != processed {
				t.Errorf("close %d: committed %d records' worth of offsets for %d processed; want exactly what was processed", i, committed, processed)
			}
		}
	})
	t.Run(closePlain, func(t *testing.T) {
		const tries = 8
		for i := range tries {
			processed, committed := closeAfter30(t, s, topic, closePlain, i)
			switch {
			case committed < processed:
				t.Fatalf("close %d: committed %d records' worth of offsets for %d processed; a close commits at least what was processed", i, committed, processed)
			case committed > processed:
				return
			}
		}
		t.Errorf("none of %d plain closes committed past what it processed; Close() commits the records it polls away", tries)
	})
}

// closeAfter30 runs a consumer in the auto mode in a group of its own
// (named after how it closes and try), ends its context after 30 records
// and returns what it processed and what its group has committed on the
// broker, in records summed over the partitions. No auto-commit runs before
// the stop (1m): what the broker holds is the close's alone. 20 ms a
// record keeps librdkafka's queue full.
func closeAfter30(t *testing.T, s *stack.Stack, topic, how string, try int) (processed, committed int64) {
	t.Helper()
	group := fmt.Sprintf("close-%s-%d", how, try)
	path := filepath.Join(t.TempDir(), group+".jsonl")
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"--group", group, "--topic", topic, "--reset", "earliest",
			"--commit", "auto", "--auto-commit-interval", "1m", "--process-delay", "20ms",
			"--close", how, "--quiet", "--ledger", path,
			"--bootstrap", s.BrokerAddr(), "--registry", s.RegistryURL()}, io.Discard, &stderr)
	}()
	waitLedger(t, path, "30 records processed", func(events []ledger.Event) bool { return count(events, ledger.Processed) >= 30 })
	stop()
	var err error
	poll.Until(t, 30*time.Second, "the consumer to close", poll.Received(done, &err))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	processed = int64(count(readLedger(t, path), ledger.Processed))
	committed = committedTotal(t, s, group, topic)
	t.Logf("--close %s: processed %d, committed %d", how, processed, committed)
	return processed, committed
}

// TestCloseWithinBound: a Close() that never returns (as one did after a
// failed subscription, issue 15 item 4) ends the wait at the bound, with an
// error that says what it waited for; one that returns passes its error on.
func TestCloseWithinBound(t *testing.T) {
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	err := closeWithin(50*time.Millisecond, " ", func() error { <-stuck; return nil })
	var cerr *CloseTimeoutError
	if !errors.As(err, &cerr) {
		t.Fatalf("a Close() that never returns gave %v, want a CloseTimeoutError", err)
	}
	want := `the consumer did not close within 50ms: librdkafka had not finished with group " " (Close waits for the final commit, the revocation and LeaveGroup at the group coordinator); exiting without waiting further`
	if err.Error() != want {
		t.Errorf("error\n got %s\nwant %s", err, want)
	}
	closed := errors.New("closed with an error")
	if err := closeWithin(time.Hour, "g", func() error { return closed }); err != closed {
		t.Errorf("a Close() that returns gave %v, want its own error", err)
	}
}

// TestCloseAfterFailedSubscribeIsBounded: the reproduction of issue 15
// item 4 on a real consumer. With group.id " " (flags refuse it now, but a
// properties file or -X can still fail a subscription) SubscribeTopics
// fails with "Unknown group" and Close() never returns; closeWithin ends
// the wait.
func TestCloseAfterFailedSubscribeIsBounded(t *testing.T) {
	s := stacktest.Start(t)
	kc, err := kafka.NewConsumer(&kafka.ConfigMap{"bootstrap.servers": s.BrokerAddr(), "group.id": " "})
	if err != nil {
		t.Fatal(err)
	}
	go config.DiscardLogs(kc.Logs())
	if err := kc.SubscribeTopics([]string{"t"}, nil); err == nil {
		t.Skip("SubscribeTopics took a blank group.id: nothing to bound")
	}
	var cerr *CloseTimeoutError
	if err := closeWithin(time.Second, " ", kc.Close); !errors.As(err, &cerr) {
		t.Logf("Close() returned within the bound (%v): librdkafka no longer hangs here", err)
	}
}

// TestCloseBound: --timeout plus the session timeout the member has, the
// classic one from --session-timeout or librdkafka's 45s default.
func TestCloseBound(t *testing.T) {
	t.Setenv("OFFSETLAB_CONFIG", "") // no properties file: --timeout is the flag's
	cases := []struct {
		args []string
		want time.Duration
	}{
		{nil, 55 * time.Second},
		{[]string{"--timeout", "2s", "--session-timeout", "6s", "--heartbeat-interval", "1s"}, 8 * time.Second},
		{[]string{"--protocol", "consumer", "--timeout", "1s"}, 46 * time.Second},
	}
	for _, c := range cases {
		o, err := parse(append([]string{"--group", "g", "--topic", "t"}, c.args...), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.closeBound(); got != c.want {
			t.Errorf("%v: closeBound() = %s, want %s", c.args, got, c.want)
		}
	}
}
