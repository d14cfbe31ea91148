package scenarios

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// scenarios ledger prints a compact ledger as the JSON lines the same
// events make written with OFFSETLAB_LEDGER_FORMAT=json.
func TestLedgerPrintsJSONLines(t *testing.T) {
	dir := t.TempDir()
	ts := time.Date(2026, 12, 1, 4, 0, 0, 5, time.UTC)
	events := []ledger.Event{
		{TS: ts, Type: ledger.Started, Detail: map[string]string{"group.id": "g1"}},
		{TS: ts.Add(time.Microsecond), Type: ledger.Processed, Record: &ledger.Record{Topic: "orders", Partition: 1, Offset: 4, Run: "r", Seq: 9}},
		{TS: ts.Add(2 * time.Microsecond), Type: ledger.Stored, Partitions: []ledger.Offset{{Topic: "orders", Partition: 1, Offset: 5}}},
	}
	for _, format := range []string{"json", "compact"} {
		t.Setenv(ledger.FormatEnv, format)
		w, err := ledger.Create(filepath.Join(dir, format))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
	}
	var got bytes.Buffer
	if err := printLedgers([]string{filepath.Join(dir, "compact")}, &got); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("scenarios ledger printed\n%s\nwant\n%s", got.String(), want)
	}
}
