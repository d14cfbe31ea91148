package producer

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
