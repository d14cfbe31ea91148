package producer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/poll"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// A record librdkafka refuses as too large counts as failed: the summary
// said "failed 0" beside the error.
func TestRecordOverSizeLimit(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t)
	schema := filepath.Join(t.TempDir(), "big.avsc")
	if err := os.WriteFile(schema, []byte(`{"type":"record","name":"Big","fields":[{"name":"s","type":{"type":"string","arg.properties":{"length":1048575}}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	err := Run(t.Context(), []string{"--bootstrap", s.BrokerAddr(), "--registry", s.RegistryURL(), "--topic", "big",
		"--schema", schema, "--count", "3", "--progress=false", "--format", "json"}, &stdout, io.Discard)
	want := "unable to produce record 0: its 1048583-byte value is over the producer's message.max.bytes"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want %s...", err, want)
	}
	var sum summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 0 || sum.Failed != 1 || sum.FirstError == "" {
		t.Fatalf("summary: sent %d, failed %d, first error %q; want sent 0, failed 1 and its error", sum.Sent, sum.Failed, sum.FirstError)
	}
}

// SIGTERM while records are being made stops the producer: a record of
// eight nested arrays once grew for 745 s, deaf to two SIGTERMs. Records are
// bounded now (64 MiB) and the sending loop listens for the signal while it
// waits for the next one. Each record here is about 60 MiB.
func TestInterruptWhileGenerating(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t)
	schema := filepath.Join(t.TempDir(), "wide.avsc")
	if err := os.WriteFile(schema, []byte(`{"type":"record","name":"Wide","fields":[{"name":"s","type":{"type":"array","arg.properties":{"length":60},`+
		`"items":{"type":"string","arg.properties":{"length":1000000}}}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"--bootstrap", s.BrokerAddr(), "--registry", s.RegistryURL(), "--topic", "wide",
			"--schema", schema, "--count", "1000", "--progress=false", "-X", "message.max.bytes=100000000"}, io.Discard, io.Discard)
	}()
	// Interrupt once the schema is registered: the producer is making records.
	poll.Until(t, 30*time.Second, "the producer to register its schema", func() bool {
		resp, err := http.Get(s.RegistryURL() + "/subjects")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "wide-value")
	})
	cancel()
	var err error
	poll.Until(t, 30*time.Second, "the producer to stop after the interrupt", poll.Received(done, &err))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled (exit 130)", err)
	}
}
