package config

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// A signal during the registry check is an interruption (exit 130), not an
// unreachable registry (69, which it used to be, with no message).
func TestCheckRegistryInterrupted(t *testing.T) {
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done() // a registry that does not answer
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-arrived; cancel() }()
	c := Connection{Registry: srv.URL, Timeout: DefaultTimeout}
	err := c.CheckRegistry(ctx)
	if !errors.Is(err, context.Canceled) || cli.Code(err) != cli.ExitInterrupted {
		t.Fatalf("err = %v (exit %d), want context.Canceled (exit %d)", err, cli.Code(err), cli.ExitInterrupted)
	}
}

// PrintLogs writes each log event as one line, the way librdkafka prints
// its own log (level, time, facility, message), and ends when the channel
// closes.
func TestPrintLogs(t *testing.T) {
	logs := make(chan kafka.LogEvent, 2)
	at := time.Date(2026, 12, 1, 3, 9, 10, 415_000_000, time.UTC)
	logs <- kafka.LogEvent{Level: 7, Tag: "COORD", Message: "[thrd:main]: marking the coordinator (0) dead", Timestamp: at}
	logs <- kafka.LogEvent{Level: 4, Tag: "COMMITFAIL", Message: "[thrd:main]: Offset commit failed", Timestamp: at}
	close(logs)
	var b strings.Builder
	PrintLogs(logs, &b)
	want := "%7|03:09:10.415|COORD| [thrd:main]: marking the coordinator (0) dead\n%4|03:09:10.415|COMMITFAIL| [thrd:main]: Offset commit failed\n"
	if b.String() != want {
		t.Fatalf("PrintLogs wrote\n%s\nwant\n%s", b.String(), want)
	}
}
