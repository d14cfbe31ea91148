package ledger

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWriteRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.jsonl")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{Type: Assigned, Partitions: []Offset{{Topic: "t", Partition: 0, Offset: -1001}}},
		{Type: Consumed, Record: &Record{Topic: "t", Partition: 0, Offset: 7, Run: "r1", Seq: 3}},
		{Type: Committed, Source: "sync", Partitions: []Offset{{Topic: "t", Partition: 0, Offset: 8}}},
	}
	for _, e := range want {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d events, want %d", len(got), len(want))
	}
	if got[1].Record.ID() != "r1/3" || got[2].Partitions[0].Offset != 8 || got[0].TS.IsZero() {
		t.Errorf("read back %+v", got)
	}
}

// A consumer killed with SIGKILL mid-write leaves a torn last line.
func TestTornLastLine(t *testing.T) {
	in := `{"ts":"2026-01-01T00:00:00Z","type":"consumed","record":{"topic":"t","partition":0,"offset":1,"seq":1}}
{"ts":"2026-01-01T00:00:00Z","type":"proc`
	got, err := Decode(strings.NewReader(in))
	if err != nil || len(got) != 1 {
		t.Fatalf("got %d events, err %v; want 1, nil", len(got), err)
	}
	// A bad line in the middle is not a tear: it is an error.
	if _, err := Decode(strings.NewReader("garbage\n" + in)); err == nil {
		t.Error("a corrupt first line was accepted")
	}
}

func TestNilWriterDiscards(t *testing.T) {
	var w *Writer
	if err := w.Write(Event{Type: Error}); err != nil {
		t.Error(err)
	}
	if err := w.Close(); err != nil {
		t.Error(err)
	}
}

func TestUnwritablePath(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "missing-dir", "l.jsonl")); err == nil {
		t.Error("a ledger in a missing directory was opened")
	}
	if os.Geteuid() != 0 {
		dir := t.TempDir()
		_ = os.Chmod(dir, 0o500)
		if _, err := Create(filepath.Join(dir, "l.jsonl")); err == nil {
			t.Error("a ledger in a read-only directory was opened")
		}
	}
}

func TestWriteErrorSticks(t *testing.T) {
	w, err := Create("/dev/full")
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	if err := w.Write(Event{Type: Error}); err == nil {
		t.Fatal("a write to a full disk succeeded")
	}
	if err := w.Write(Event{Type: Error}); err == nil {
		t.Error("the first write error did not stick")
	}
}

// The reflection-free encoding of record events is byte for byte what
// encoding/json writes, and declines what it cannot write plainly.
func TestRecordEventEncoding(t *testing.T) {
	ts := time.Date(2026, 11, 23, 12, 0, 0, 123456789, time.UTC)
	for _, e := range []Event{
		{TS: ts, Type: Consumed, Record: &Record{Topic: "orders", Partition: 2, Offset: 41, Run: "a1b2", Seq: 7}},
		{TS: ts.Truncate(time.Second), Type: Processed, Record: &Record{Topic: "t.x-y_z", Partition: 0, Offset: 0, Seq: -1}},
		{TS: ts.In(time.FixedZone("x", 3600)), Type: Acked, Record: &Record{Topic: "t", Partition: 1 << 30, Offset: 1 << 62, Run: "r", Seq: 1 << 40}},
	} {
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendRecordEvent(nil, &e)
		if !ok || string(got) != string(want) {
			t.Errorf("fast encoding of %+v:\n got %s\nwant %s", e, got, want)
		}
	}
	for _, e := range []Event{
		{Type: Consumed, Record: &Record{Topic: "t", Run: "quote\"d"}},
		{Type: Consumed, Record: &Record{Topic: "t", Run: "é"}},
		{Type: Committed, Partitions: []Offset{{Topic: "t"}}},
		{Type: BadRecord, Record: &Record{Topic: "t"}, Error: "x"},
	} {
		if _, ok := appendRecordEvent(nil, &e); ok {
			t.Errorf("fast encoding accepted %+v", e)
		}
	}
}

// Opening a named pipe for writing blocked until a reader came, and SIGTERM
// could not stop it; with or without a reader, a pipe is refused at once.
func TestNamedPipeRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no named pipes:", err)
	}
	want := "unable to open the ledger: " + path + " is a named pipe, not a file (a ledger is read back)"
	if _, err := Create(path); err == nil || err.Error() != want {
		t.Errorf("no reader: err = %v, want %s", err, want)
	}
	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := Create(path); err == nil || err.Error() != want {
		t.Errorf("with a reader: err = %v, want %s", err, want)
	}
}
