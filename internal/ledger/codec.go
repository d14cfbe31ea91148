package ledger

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// The compact format. A ledger is a sequence of frames, each written with
// one write(2): a uvarint length, then that many bytes. The first byte of a
// frame's body says what it holds, in its high nibble, and which event type
// (an index into types) in its low one:
//
//   - start (0): "offsetlab-ledger-2". Every writer begins with one, and
//     the reader forgets everything the frames before it were relative to,
//     so writers can take turns appending to one file.
//   - json (1): the event as one JSON object, exactly as a JSON-lines
//     ledger holds it. Events that fit neither frame below go this way
//     (started, assigned, committed, errors, ...): rare, and readable with
//     grep.
//   - record (2): an event with a record and nothing else (acked,
//     consumed, processed): the time as varint nanoseconds since the
//     previous frame's, the topic and run as references to the strings the
//     file named so far (0: a new string follows, as uvarint length and
//     bytes), the partition, and the offset and sequence as varints
//     relative to the previous record frame's on that partition plus one.
//     A consumer reading a partition in order writes about 9 bytes.
//   - offset (3): an event with one partition's offset and nothing else
//     (stored, fetching): time, topic, partition, and the offset relative
//     to the previous offset frame's on that partition plus one.
//
// A SIGKILL can tear the last frame: its length promises more bytes than
// the file holds, and the reader drops it. Everything before it was whole.
const magic = "offsetlab-ledger-2"

const (
	frameStart = iota
	frameJSON
	frameRecord
	frameOffset
)

// types are the event types a frame names by index; others go as json.
var types = []string{"", Acked, Started, Assigned, Revoked, Fetching, Consumed, Processed, Stored, Committed, Snapshot, BadRecord, Error, Stopped}

var typeIndex = func() map[string]byte {
	m := map[string]byte{}
	for i, t := range types[1:] {
		m[t] = byte(i + 1)
	}
	return m
}()

type partitionKey struct {
	topic     string
	partition int32
}

// last is what a partition's next frames are relative to.
type last struct {
	offset, seq int64 // the previous record frame's
	position    int64 // the previous offset frame's
}

// state is what frames are relative to: the same on both sides.
type state struct {
	ts       int64
	parts    map[partitionKey]*last
	lastKey  partitionKey // the partition looked up last: the next event is likely on it
	lastPart *last
}

func (s *state) reset() { *s = state{parts: map[partitionKey]*last{}} }

func (s *state) part(topic string, partition int32) *last {
	k := partitionKey{topic, partition}
	if s.lastPart != nil && s.lastKey == k {
		return s.lastPart
	}
	l := s.parts[k]
	if l == nil {
		l = &last{offset: -1, seq: -1, position: -1}
		s.parts[k] = l
	}
	s.lastKey, s.lastPart = k, l
	return l
}

// encoder turns events into frames, or JSON lines.
type encoder struct {
	json    bool
	state   state
	strings map[string]uint64 // reference of each string named so far; nil before the start frame
	body    []byte
}

func frame(b, body []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(body))), body...)
}

// append appends e, as a frame or a JSON line.
func (en *encoder) append(b []byte, e *Event) ([]byte, error) {
	if en.json {
		if out, ok := appendRecordEvent(b, e); ok {
			return append(out, '\n'), nil
		}
		j, err := marshal(*e)
		return append(append(b, j...), '\n'), err
	}
	if en.strings == nil {
		// A writer's first event comes after a start frame, in the same
		// write: the reader forgets what earlier writers' frames were
		// relative to.
		en.state.reset()
		en.strings = map[string]uint64{}
		b = frame(b, append([]byte{frameStart << 4}, magic...))
	}
	t, known := typeIndex[e.Type]
	bare := known && e.Source == "" && !e.Lost && e.Error == "" && e.Code == 0 && e.Detail == nil
	body := en.body[:0]
	ts := e.TS.UnixNano()
	switch {
	case bare && e.Record != nil && e.Partitions == nil:
		r, l := e.Record, en.state.part(e.Record.Topic, e.Record.Partition)
		body = append(body, frameRecord<<4|t)
		body = binary.AppendVarint(body, ts-en.state.ts)
		body = en.appendString(body, r.Topic)
		body = binary.AppendUvarint(body, uint64(uint32(r.Partition)))
		body = binary.AppendVarint(body, r.Offset-(l.offset+1))
		body = en.appendString(body, r.Run)
		body = binary.AppendVarint(body, r.Seq-(l.seq+1))
		l.offset, l.seq = r.Offset, r.Seq
	case bare && e.Record == nil && len(e.Partitions) == 1 && e.Partitions[0].Committed == nil && e.Partitions[0].Error == "":
		o := e.Partitions[0]
		l := en.state.part(o.Topic, o.Partition)
		body = append(body, frameOffset<<4|t)
		body = binary.AppendVarint(body, ts-en.state.ts)
		body = en.appendString(body, o.Topic)
		body = binary.AppendUvarint(body, uint64(uint32(o.Partition)))
		body = binary.AppendVarint(body, o.Offset-(l.position+1))
		l.position = o.Offset
	default:
		j, err := marshal(*e)
		if err != nil {
			return b, err
		}
		body = append(append(body, frameJSON<<4), j...)
	}
	en.state.ts = ts
	en.body = body
	return frame(b, body), nil
}

// marshal is json.Marshal for the rare events no frame holds. It takes a
// copy, so that the events the frames hold never reach the heap.
func marshal(e Event) ([]byte, error) { return json.Marshal(&e) }

// appendString appends a reference to s, naming it if it is new.
func (en *encoder) appendString(b []byte, s string) []byte {
	if ref, ok := en.strings[s]; ok {
		return binary.AppendUvarint(b, ref)
	}
	en.strings[s] = uint64(len(en.strings) + 1)
	b = binary.AppendUvarint(b, 0)
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendRecordEvent encodes the events a consumer writes for every record
// (type, time and record, nothing else) as JSON without reflection: the
// same JSON json.Marshal writes, at a fraction of the cost. It declines any
// other event, and any string that would need escaping.
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

// Decoder reads a ledger's events one at a time, in either format: JSON
// lines (a file starting with '{', as FormatEnv=json and offsetlab before
// the compact format wrote) or compact frames. Records of one file share
// their topic and run strings and are allocated in blocks, so a reader
// that keeps events keeps little beside them.
type Decoder struct {
	br      *bufio.Reader
	n       int  // events or lines read, for errors
	lines   bool // JSON lines
	sniffed bool
	state   state
	strings []string
	body    []byte
	block   []Record
	offsets []Offset
	// transient: block and offsets hold one element each, reused
	transient bool
}

// NewDecoder reads from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{br: bufio.NewReaderSize(r, 1<<16)}
}

// Next returns the next event, or io.EOF after the last. A torn last event
// ends the ledger as io.EOF does; a bad one before it is an error.
func (d *Decoder) Next() (Event, error) {
	if !d.sniffed {
		first, err := d.br.Peek(1)
		if err != nil {
			return Event{}, io.EOF
		}
		d.sniffed, d.lines = true, first[0] == '{' || first[0] == ' ' || first[0] == '\n'
	}
	if d.lines {
		return d.nextLine()
	}
	for {
		e, ok, err := d.nextFrame()
		if err != nil || ok {
			return e, err
		}
	}
}

func (d *Decoder) nextLine() (Event, error) {
	for {
		d.n++
		line, err := d.br.ReadBytes('\n')
		torn := err == io.EOF && len(bytes.TrimSpace(line)) > 0
		if len(bytes.TrimSpace(line)) > 0 {
			var e Event
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				if torn {
					return Event{}, io.EOF
				}
				return Event{}, fmt.Errorf("ledger line %d: %w", d.n, jerr)
			}
			return e, nil
		}
		if err != nil {
			return Event{}, err
		}
	}
}

// nextFrame reads one frame: an event (ok), or a start frame.
func (d *Decoder) nextFrame() (e Event, ok bool, err error) {
	head, err := d.br.Peek(binary.MaxVarintLen64) // fewer bytes at the end of the file
	if err != nil && !errors.Is(err, io.EOF) {
		return Event{}, false, err
	}
	if len(head) == 0 {
		return Event{}, false, io.EOF
	}
	n, k := binary.Uvarint(head)
	if k == 0 {
		return Event{}, false, io.EOF // a length torn
	}
	if k < 0 || n > 1<<26 {
		return Event{}, false, fmt.Errorf("ledger frame %d: its length is not a ledger's", d.n+1)
	}
	_, _ = d.br.Discard(k)
	// The body is read where bufio holds it when it fits, copied otherwise;
	// either way it is used up before the next frame is read.
	var body []byte
	if int(n) <= d.br.Size() {
		body, err = d.br.Peek(int(n))
		if err != nil && !errors.Is(err, io.EOF) {
			return Event{}, false, err
		}
		if len(body) < int(n) {
			return Event{}, false, io.EOF // a torn last frame
		}
		_, _ = d.br.Discard(int(n)) // the bytes stay where they are until the next read
	} else {
		if uint64(cap(d.body)) < n {
			d.body = make([]byte, n)
		}
		body = d.body[:n]
		if _, err := io.ReadFull(d.br, body); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return Event{}, false, io.EOF // a torn last frame
			}
			return Event{}, false, err
		}
	}
	d.n++
	if len(body) == 0 {
		return Event{}, false, fmt.Errorf("ledger frame %d is empty", d.n)
	}
	if d.n == 1 && body[0]>>4 != frameStart {
		return Event{}, false, fmt.Errorf("not an offsetlab ledger: neither JSON lines nor frames starting with %q", magic)
	}
	kind, t := body[0]>>4, int(body[0]&0x0f)
	fr := frameReader{b: body[1:]}
	switch kind {
	case frameStart:
		if string(body[1:]) != magic {
			return Event{}, false, fmt.Errorf("ledger frame %d: a start frame of another format (%q)", d.n, body[1:])
		}
		d.state.reset()
		d.strings = d.strings[:0]
		return Event{}, false, nil
	case frameJSON:
		e, err := d.json(body[1:])
		return e, err == nil, err
	case frameRecord, frameOffset:
		if t == 0 || t >= len(types) {
			return Event{}, false, fmt.Errorf("ledger frame %d: unknown event type %d", d.n, t)
		}
		e.Type = types[t]
		d.state.ts += fr.varint()
		e.TS = time.Unix(0, d.state.ts).UTC()
		topic := d.string(&fr)
		partition := int32(uint32(fr.uvarint()))
		l := d.state.part(topic, partition)
		if kind == frameRecord {
			r := d.record()
			r.Topic, r.Partition = topic, partition
			r.Offset = l.offset + 1 + fr.varint()
			r.Run = d.string(&fr)
			r.Seq = l.seq + 1 + fr.varint()
			l.offset, l.seq = r.Offset, r.Seq
			e.Record = r
		} else {
			l.position += 1 + fr.varint()
			e.Partitions = d.offset()
			e.Partitions[0] = Offset{Topic: topic, Partition: partition, Offset: l.position}
		}
		if fr.err != nil || len(fr.b) != 0 {
			return Event{}, false, fmt.Errorf("ledger frame %d: a %s frame of %d bytes does not decode", d.n, e.Type, n)
		}
		return e, true, nil
	}
	return Event{}, false, fmt.Errorf("ledger frame %d: unknown kind %d", d.n, kind)
}

// json decodes a json frame's event. Apart from nextFrame, so that only
// these rare events are allocated on the heap.
func (d *Decoder) json(body []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return Event{}, fmt.Errorf("ledger frame %d: %w", d.n, err)
	}
	d.state.ts = e.TS.UnixNano()
	return e, nil
}

// Transient makes Next return every event's Record and Partitions in the
// same memory, overwritten by the next call: for a reader that keeps
// nothing of an event, millions of them cost no garbage.
func (d *Decoder) Transient() {
	d.transient = true
	d.block, d.offsets = make([]Record, 1), make([]Offset, 1)
}

// record returns a new Record from the current block.
func (d *Decoder) record() *Record {
	if d.transient {
		d.block[0] = Record{}
		return &d.block[0]
	}
	if len(d.block) == 0 {
		d.block = make([]Record, 1024)
	}
	r := &d.block[0]
	d.block = d.block[1:]
	return r
}

// offset returns a new one-partition slice from the current block.
func (d *Decoder) offset() []Offset {
	if d.transient {
		return d.offsets[:1:1]
	}
	if len(d.offsets) == 0 {
		d.offsets = make([]Offset, 1024)
	}
	o := d.offsets[:1:1]
	d.offsets = d.offsets[1:]
	return o
}

// string reads a string reference, or a new string.
func (d *Decoder) string(fr *frameReader) string {
	ref := fr.uvarint()
	if ref == 0 {
		n := fr.uvarint()
		if n > uint64(len(fr.b)) {
			fr.err = io.ErrUnexpectedEOF
			return ""
		}
		s := string(fr.b[:n])
		fr.b = fr.b[n:]
		d.strings = append(d.strings, s)
		return s
	}
	if ref > uint64(len(d.strings)) {
		fr.err = fmt.Errorf("string %d not named", ref)
		return ""
	}
	return d.strings[ref-1]
}

// frameReader reads varints from a frame's body; the first error sticks.
type frameReader struct {
	b   []byte
	err error
}

func (fr *frameReader) uvarint() uint64 { return next(fr, binary.Uvarint) }

func (fr *frameReader) varint() int64 { return next(fr, binary.Varint) }

// next reads one varint with read, or sets the error.
func next[T any](fr *frameReader, read func([]byte) (T, int)) T {
	v, n := read(fr.b)
	if n <= 0 {
		fr.err = io.ErrUnexpectedEOF
		return v
	}
	fr.b = fr.b[n:]
	return v
}
