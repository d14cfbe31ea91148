// Package ledger writes and reads offsetlab's JSON-lines ledgers: one event
// a line, for everything a producer or consumer did. Scenarios count
// duplicates and losses from them.
//
// Each event is written with a single write(2) on a file opened O_APPEND,
// with no user-space buffer: a process killed with SIGKILL loses nothing it
// had written, because the kernel already holds it. A kill can still tear
// the line being written; Read tolerates a torn last line.
package ledger

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// Headers the producer stamps on every record: which run sent it and its
// sequence number in that run. Together they identify a record however
// often it is read, and whatever its schema holds.
const (
	HeaderRun = "offsetlab.run"
	HeaderSeq = "offsetlab.seq"
)

// Event types.
const (
	// Producer.
	Acked = "acked" // a delivery report said the record is on the broker

	// Consumer.
	Started   = "started"   // the consumer's effective settings
	Assigned  = "assigned"  // partitions added to this member
	Revoked   = "revoked"   // partitions taken from this member (Lost: without a clean handover)
	Fetching  = "fetching"  // librdkafka resolved where it fetches a partition from (Partitions[0].Offset)
	Consumed  = "consumed"  // Poll handed a record to the application
	Processed = "processed" // the application finished with a record
	Stored    = "stored"    // the offset after a record went to librdkafka's offset store
	Committed = "committed" // a commit finished (Error set if it failed)
	Snapshot  = "snapshot"  // Position() and Committed() per assigned partition
	BadRecord = "bad-record"
	Error     = "error"
	Stopped   = "stopped"
)

// Event is one ledger line.
type Event struct {
	TS   time.Time `json:"ts"`
	Type string    `json:"type"`
	// Record is set for acked, consumed, processed, stored and bad-record.
	Record *Record `json:"record,omitempty"`
	// Partitions is set for assigned, revoked, fetching, committed and snapshot.
	Partitions []Offset `json:"partitions,omitempty"`
	// Source says who committed: auto, sync, async, before-process, revoke,
	// close or transaction.
	Source string `json:"source,omitempty"`
	Lost   bool   `json:"lost,omitempty"`
	Error  string `json:"error,omitempty"`
	Code   int    `json:"code,omitempty"`
	// Detail carries free-form settings (started) or context (error).
	Detail map[string]string `json:"detail,omitempty"`
}

// Record identifies one record: where it is, and which producer run and
// sequence number stamped it (the offsetlab.run and offsetlab.seq headers).
type Record struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Run       string `json:"run,omitempty"`
	Seq       int64  `json:"seq"`
}

// RecordOf identifies a record read from the broker by where it is and by
// the offsetlab.run and offsetlab.seq headers the producer stamped (Seq is
// -1 when it has none).
func RecordOf(m *kafka.Message) Record {
	r := Record{Topic: *m.TopicPartition.Topic, Partition: m.TopicPartition.Partition,
		Offset: int64(m.TopicPartition.Offset), Seq: -1}
	for _, h := range m.Headers {
		switch h.Key {
		case HeaderRun:
			r.Run = string(h.Value)
		case HeaderSeq:
			if n, err := strconv.ParseInt(string(h.Value), 10, 64); err == nil {
				r.Seq = n
			}
		}
	}
	return r
}

// ID is the record's identity across re-reads: run and sequence.
func (r Record) ID() string { return fmt.Sprintf("%s/%d", r.Run, r.Seq) }

// Offset is a partition with an offset. offset.Invalid (-1001,
// librdkafka's OffsetInvalid) means none: nothing consumed or committed yet.
type Offset struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	// Committed is set in snapshots, beside Offset (the position).
	Committed *int64 `json:"committed,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Writer appends events to a ledger file. It is safe for concurrent use.
// A nil *Writer discards events, so callers need not check for --ledger.
type Writer struct {
	mu  sync.Mutex
	f   *os.File
	enc encoder
	buf []byte
	err error
}

// FormatEnv names the environment variable that, set to "json", makes
// Create write JSON lines instead of the compact format: a ledger to follow
// with tail -f, at about fifteen times the size. Child processes inherit it,
// so a story's consumers and producers all write JSON lines.
const FormatEnv = "OFFSETLAB_LEDGER_FORMAT"

// Create opens path for appending (creating it), and fails now, before any
// work, if it cannot be written. A named pipe or a socket is refused: a
// ledger is read back, and opening a pipe for writing blocked until a
// reader came, deaf to SIGTERM (so it is opened non-blocking). Devices are
// accepted: /dev/full is how the tests fill a disk.
//
// The ledger is written in the compact format (see Decoder) unless
// FormatEnv says json. Appending to a ledger in the other format is
// refused: a reader could not tell where one ends.
func Create(path string) (*Writer, error) {
	format := os.Getenv(FormatEnv)
	if format != "" && format != "json" && format != "compact" {
		return nil, fmt.Errorf("unable to open the ledger: %s=%q, want json or compact", FormatEnv, format)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NONBLOCK, 0o644)
	if errors.Is(err, syscall.ENXIO) { // a named pipe nobody reads
		return nil, fmt.Errorf("unable to open the ledger: %s is a named pipe, not a file (a ledger is read back)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("unable to open the ledger: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode().Type()&(os.ModeNamedPipe|os.ModeSocket) != 0 {
		f.Close()
		kind := "named pipe"
		if fi.Mode().Type()&os.ModeSocket != 0 {
			kind = "socket"
		}
		return nil, fmt.Errorf("unable to open the ledger: %s is a %s, not a file (a ledger is read back)", path, kind)
	}
	w := &Writer{f: f, enc: encoder{json: format == "json"}}
	if err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && firstByteIs(path, '{') != w.enc.json {
		f.Close()
		return nil, fmt.Errorf("unable to open the ledger: %s holds a ledger in the other format (%s=json writes JSON lines); name a new file", path, FormatEnv)
	}
	return w, nil
}

// firstByteIs reports whether the file at path starts with b.
func firstByteIs(path string, b byte) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	first := make([]byte, 1)
	_, err = io.ReadFull(f, first)
	return err == nil && first[0] == b
}

// Write appends one event, stamping its time if unset. The first write
// error sticks and is returned by every later call and by Close.
func (w *Writer) Write(e Event) error {
	if w == nil {
		return nil
	}
	if e.TS.IsZero() {
		e.TS = time.Now()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	b, err := w.enc.append(w.buf[:0], &e)
	if err != nil {
		w.err = fmt.Errorf("ledger: %w", err)
		return w.err
	}
	w.buf = b
	if _, err := w.f.Write(w.buf); err != nil {
		w.err = fmt.Errorf("ledger write failed: %w", err)
	}
	return w.err
}

// Close closes the file and reports the first write error, if any.
func (w *Writer) Close() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.f.Close(); err != nil && w.err == nil {
		w.err = err
	}
	return w.err
}

// Read returns every event of a ledger file, in either format. A torn
// last event (a writer killed mid-write) is dropped; a bad event anywhere
// else is an error.
func Read(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f)
}

// Scan calls fn with each event of a ledger file and its number (from 0),
// keeping none: what a check of millions of records reads with. An event's
// Record and Partitions are valid during fn only (the decoder is
// Transient): fn copies what it keeps. It stops at fn's first error and
// returns it; a torn last event is dropped, as Read drops it.
func Scan(path string, fn func(n int, e Event) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	d := NewDecoder(f)
	d.Transient()
	for n := 0; ; n++ {
		e, err := d.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(n, e); err != nil {
			return err
		}
	}
}

// Decode reads events from r, as Read does.
func Decode(r io.Reader) ([]Event, error) {
	var events []Event
	d := NewDecoder(r)
	for {
		e, err := d.Next()
		if err == io.EOF {
			return events, nil
		}
		if err != nil {
			return events, err
		}
		events = append(events, e)
	}
}
