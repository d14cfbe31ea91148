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
	"bufio"
	"bytes"
	"encoding/json"
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
	buf []byte
	err error
}

// Create opens path for appending (creating it), and fails now, before any
// work, if it cannot be written. A named pipe or a socket is refused: a
// ledger is read back, and opening a pipe for writing blocked until a
// reader came, deaf to SIGTERM (so it is opened non-blocking). Devices are
// accepted: /dev/full is how the tests fill a disk.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NONBLOCK, 0o644)
	if errors.Is(err, syscall.ENXIO) { // a named pipe nobody reads
		return nil, fmt.Errorf("unable to open the ledger: %s is a named pipe, not a file (a ledger is read back)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("unable to open the ledger: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().Type()&(os.ModeNamedPipe|os.ModeSocket) != 0 {
		f.Close()
		kind := "named pipe"
		if fi.Mode().Type()&os.ModeSocket != 0 {
			kind = "socket"
		}
		return nil, fmt.Errorf("unable to open the ledger: %s is a %s, not a file (a ledger is read back)", path, kind)
	}
	return &Writer{f: f}, nil
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
	if b, ok := appendRecordEvent(w.buf[:0], &e); ok {
		w.buf = b
	} else {
		b, err := json.Marshal(e)
		if err != nil {
			w.err = fmt.Errorf("ledger: %w", err)
			return w.err
		}
		w.buf = append(w.buf[:0], b...)
	}
	w.buf = append(w.buf, '\n')
	if _, err := w.f.Write(w.buf); err != nil {
		w.err = fmt.Errorf("ledger write failed: %w", err)
	}
	return w.err
}

// appendRecordEvent encodes the events a consumer writes for every record
// (type, time and record, nothing else) without reflection: the same JSON
// json.Marshal writes, at a fraction of the cost. It declines any other
// event, and any string that would need escaping.
func appendRecordEvent(b []byte, e *Event) ([]byte, bool) {
	if e.Record == nil || e.Partitions != nil || e.Source != "" || e.Lost || e.Error != "" || e.Code != 0 || e.Detail != nil ||
		!plain(e.Type) || !plain(e.Record.Topic) || !plain(e.Record.Run) {
		return b, false
	}
	r := e.Record
	b = append(b, `{"ts":"`...)
	b = e.TS.AppendFormat(b, time.RFC3339Nano)
	b = append(append(append(b, `","type":"`...), e.Type...), `","record":{"topic":"`...)
	b = append(append(b, r.Topic...), `","partition":`...)
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	b = strconv.AppendInt(append(b, `,"offset":`...), r.Offset, 10)
	if r.Run != "" {
		b = append(append(append(b, `,"run":"`...), r.Run...), '"')
	}
	b = strconv.AppendInt(append(b, `,"seq":`...), r.Seq, 10)
	return append(b, "}}"...), true
}

// plain reports whether s can stand in JSON quotes as it is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
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

// Read returns every event of a ledger file. A torn last line (a writer
// killed mid-write) is dropped; a bad line anywhere else is an error.
func Read(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f)
}

// Decode reads events from r, as Read does.
func Decode(r io.Reader) ([]Event, error) {
	var events []Event
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		torn := err == io.EOF && len(bytes.TrimSpace(line)) > 0
		if len(bytes.TrimSpace(line)) > 0 {
			var e Event
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				if torn {
					return events, nil
				}
				return events, fmt.Errorf("ledger line %d: %w", n, jerr)
			}
			events = append(events, e)
		}
		if err == io.EOF {
			return events, nil
		}
		if err != nil {
			return events, err
		}
	}
}
