package config

import (
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

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
