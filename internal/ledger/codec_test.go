package ledger

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// events is a consumer's and a producer's day in one ledger: every frame
// kind, partitions read out of order, a replay, a string that needs
// escaping, records without a run.
func events() []Event {
	ts := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return ts.Add(time.Duration(i) * 3217 * time.Nanosecond) }
	c := int64(7)
	evs := []Event{
		{TS: at(0), Type: Started, Detail: map[string]string{"group.id": "g1"}},
		{TS: at(1), Type: Assigned, Partitions: []Offset{{Topic: "orders", Partition: 0, Offset: -1001}, {Topic: "orders", Partition: 1, Offset: -1001}}},
		{TS: at(2), Type: Fetching, Partitions: []Offset{{Topic: "orders", Partition: 1, Offset: 0}}},
	}
	for i := range 40 {
		p := int32(i % 3)
		r := &Record{Topic: "orders", Partition: p, Offset: int64(i / 3), Run: "r1", Seq: int64(i)}
		evs = append(evs,
			Event{TS: at(3 + 3*i), Type: Consumed, Record: r},
			Event{TS: at(4 + 3*i), Type: Processed, Record: r},
			Event{TS: at(5 + 3*i), Type: Stored, Partitions: []Offset{{Topic: "orders", Partition: p, Offset: r.Offset + 1}}})
	}
	return append(evs,
		Event{TS: at(200), Type: Processed, Record: &Record{Topic: "orders", Partition: 0, Offset: 2, Run: "r1", Seq: 6}}, // a replay
		Event{TS: at(199), Type: Acked, Record: &Record{Topic: "o\"x", Partition: 1 << 30, Offset: 1 << 62, Seq: -1}},     // time going back
		Event{TS: at(201), Type: Committed, Source: "sync", Partitions: []Offset{{Topic: "orders", Partition: 0, Offset: 3}}},
		Event{TS: at(202), Type: Snapshot, Partitions: []Offset{{Topic: "orders", Partition: 0, Offset: 3, Committed: &c}}},
		Event{TS: at(203), Type: BadRecord, Record: &Record{Topic: "orders", Offset: 5, Seq: -1}, Error: "bad", Detail: map[string]string{"reason": "undecodable"}},
		Event{TS: at(204), Type: Revoked, Lost: true, Partitions: []Offset{{Topic: "orders", Partition: 1, Offset: 9}}},
		Event{TS: at(205), Type: Stopped},
	)
}

// jsonOf is an event as JSON, times compared as instants.
func jsonOf(t *testing.T, e Event) string {
	t.Helper()
	e.TS = e.TS.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func write(t *testing.T, path, format string, evs []Event) {
	t.Helper()
	t.Setenv(FormatEnv, format)
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// Both formats read back the events written, the compact one in a
// fraction of the bytes.
func TestFormatsReadBackTheSameEvents(t *testing.T) {
	dir := t.TempDir()
	want := events()
	sizes := map[string]int64{}
	for _, format := range []string{"json", "compact"} {
		path := filepath.Join(dir, format)
		write(t, path, format, want)
		got, err := Read(path)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: read %d events, want %d", format, len(got), len(want))
		}
		for i := range want {
			if g, w := jsonOf(t, got[i]), jsonOf(t, want[i]); g != w {
				t.Errorf("%s event %d:\n got %s\nwant %s", format, i, g, w)
			}
		}
		fi, _ := os.Stat(path)
		sizes[format] = fi.Size()
	}
	if sizes["compact"]*8 > sizes["json"] {
		t.Errorf("compact ledger %d bytes, JSON lines %d: want at most an eighth", sizes["compact"], sizes["json"])
	}
}

// A transient decoder reads the same events, each valid until the next.
func TestTransientDecoder(t *testing.T) {
	want := events()
	for _, format := range []string{"json", "compact"} {
		path := filepath.Join(t.TempDir(), format)
		write(t, path, format, want)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		d := NewDecoder(f)
		d.Transient()
		var prev *Record
		for i := range want {
			e, err := d.Next()
			if err != nil {
				t.Fatalf("%s event %d: %v", format, i, err)
			}
			if g, w := jsonOf(t, e), jsonOf(t, want[i]); g != w {
				t.Errorf("%s event %d:\n got %s\nwant %s", format, i, g, w)
			}
			framed := e.Record != nil && e.Error == "" && e.Detail == nil // a record frame, not a JSON one
			if format == "compact" && framed && prev != nil && e.Record != prev {
				t.Errorf("event %d: a new Record, want the same memory again", i)
			}
			if framed {
				prev = e.Record
			}
		}
		f.Close()
	}
}

// A SIGKILL can tear the last frame anywhere: whatever the cut, the reader
// returns every whole event before it and no error.
func TestTornLastFrame(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	want := events()
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var ends []int // file size after each event
	for _, e := range want {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(path)
		ends = append(ends, int(fi.Size()))
	}
	w.Close()
	full, _ := os.ReadFile(path)
	whole := 0
	for cut := range len(full) + 1 {
		for whole < len(ends) && ends[whole] <= cut {
			whole++
		}
		got, err := Decode(bytes.NewReader(full[:cut]))
		if err != nil || len(got) != whole {
			t.Fatalf("cut at byte %d: read %d events, err %v; want %d, nil", cut, len(got), err, whole)
		}
	}
}

// Writers can take turns on one file (a consumer restarted with the same
// --ledger): each starts afresh, and the reader follows.
func TestWritersAppendInTurn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	evs := events()
	write(t, path, "", evs[:20])
	write(t, path, "", evs[20:])
	got, err := Read(path)
	if err != nil || len(got) != len(evs) {
		t.Fatalf("read %d events, err %v; want %d", len(got), err, len(evs))
	}
	for i := range evs {
		if g, w := jsonOf(t, got[i]), jsonOf(t, evs[i]); g != w {
			t.Errorf("event %d:\n got %s\nwant %s", i, g, w)
		}
	}
}

func TestFormatsDoNotMix(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "j"), "json", events()[:2])
	write(t, filepath.Join(dir, "c"), "compact", events()[:2])
	for _, c := range []struct{ file, format string }{{"j", "compact"}, {"c", "json"}} {
		t.Setenv(FormatEnv, c.format)
		_, err := Create(filepath.Join(dir, c.file))
		if err == nil || !strings.Contains(err.Error(), "holds a ledger in the other format") {
			t.Errorf("%s ledger appended as %s: err = %v", c.file, c.format, err)
		}
	}
	t.Setenv(FormatEnv, "yaml")
	want := `unable to open the ledger: OFFSETLAB_LEDGER_FORMAT="yaml", want json or compact`
	if _, err := Create(filepath.Join(dir, "y")); err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// A frame that does not decode, before the last, is an error, not a tear;
// and a file that is neither format says so.
func TestCorruptFrame(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	write(t, path, "", events())
	full, _ := os.ReadFile(path)
	bad := bytes.Clone(full)
	start := int(bad[0]) + 1 // the first event's frame
	bad[start+1] = 0xf0      // its kind
	if _, err := Decode(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("corrupt frame: err = %v", err)
	}
	if _, err := Decode(strings.NewReader("\x03abc")); err == nil || !strings.Contains(err.Error(), "not an offsetlab ledger") {
		t.Errorf("foreign file: err = %v", err)
	}
}
