// Package serde reads and writes Avro records in the Confluent wire format:
//
//	byte 0      magic byte, always 0
//	bytes 1..4  schema id, big-endian, as the schema registry assigned it
//	bytes 5..   the record in Avro binary encoding
//
// goavro's SingleFromNative writes a different framing (Avro's single-object
// encoding, 0xC3 0x01 and a fingerprint), which Confluent clients cannot read;
// this package writes the five-byte header itself.
package serde

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/linkedin/goavro/v2"
	"github.com/riferrei/srclient"

	"github.com/offsetlab/offsetlab/internal/datagen"
)

// MagicByte opens every Confluent wire-format record.
const MagicByte = 0

// headerLen is the magic byte and the schema id.
const headerLen = 5

// ErrNotWireFormat marks a record that is not in the Confluent wire format.
var ErrNotWireFormat = errors.New("not Confluent wire format")

// ErrRegistry marks a schema the registry could not be asked for (it did not
// answer, or answered with an error other than "not found"): the record may
// be fine, and decodes once the registry is back.
var ErrRegistry = errors.New("schema registry unavailable")

// AppendHeader appends the wire-format header for schemaID to b.
func AppendHeader(b []byte, schemaID int) []byte {
	return binary.BigEndian.AppendUint32(append(b, MagicByte), uint32(schemaID))
}

// SplitHeader returns the schema id and the Avro payload of a wire-format record.
func SplitHeader(b []byte) (schemaID int, payload []byte, err error) {
	if len(b) < headerLen {
		return 0, nil, fmt.Errorf("%w: %d bytes, the header alone is %d", ErrNotWireFormat, len(b), headerLen)
	}
	if b[0] != MagicByte {
		return 0, nil, fmt.Errorf("%w: magic byte is 0x%02x, want 0x00", ErrNotWireFormat, b[0])
	}
	return int(binary.BigEndian.Uint32(b[1:headerLen])), b[headerLen:], nil
}

// maxBlockCount bounds the number of items an Avro array or map block may
// claim. goavro makes room for a block's count before it reads an item, and
// its default bound is math.MaxInt32: an 11-byte poison record claiming 2^30
// items made the consumer allocate 16 GiB, and die where memory is limited
// (found by FuzzDecode). A Kafka record (1 MiB by default) holds at most
// about a million items of one byte or more; goavro's encoder writes an
// array as one block, so this is also the largest array offsetlab writes.
const maxBlockCount = 1 << 20

func init() { goavro.MaxBlockCount = maxBlockCount }

// Subject is the registry subject for a topic's values under the
// TopicNameStrategy, the Confluent serializers' default.
func Subject(topic string) string { return topic + "-value" }

// Serializer encodes records with one registered schema.
type Serializer struct {
	id    int
	codec *goavro.Codec
	size  int // the last record's size, to size the next buffer
}

// NewSerializer registers schema under subject (an identical schema
// returns its existing id) and returns a serializer for it.
func NewSerializer(rc *srclient.SchemaRegistryClient, subject, schema string) (*Serializer, error) {
	s, err := rc.CreateSchema(subject, schema, srclient.Avro)
	if err != nil {
		return nil, fmt.Errorf("unable to register the schema under %q: %w", subject, err)
	}
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		return nil, fmt.Errorf("schema registered as id %d does not compile: %w", s.ID(), err)
	}
	return &Serializer{id: s.ID(), codec: codec}, nil
}

// ID is the registry's id for the schema.
func (s *Serializer) ID() int { return s.id }

// Encode returns the wire-format bytes of a record in goavro's native form.
// The slice is fresh for each call, as the producer keeps it until delivery.
func (s *Serializer) Encode(native any) ([]byte, error) {
	b, err := s.codec.BinaryFromNative(AppendHeader(make([]byte, 0, s.size), s.id), native)
	if err != nil {
		return nil, fmt.Errorf("record does not match the schema: %w", err)
	}
	s.size = len(b)
	return b, nil
}

// Deserializer decodes wire-format records with the schema whose id each
// record names, fetching and caching schemas from the registry. goavro cannot
// resolve a writer schema against a reader schema, so the writer's schema is
// the only one that decodes a record correctly.
type Deserializer struct {
	rc *srclient.SchemaRegistryClient

	mu       sync.Mutex
	codecs   map[int]*goavro.Codec
	printers map[int]func(any) any // per schema id: decimals as strings
}

// NewDeserializer returns a deserializer backed by rc.
func NewDeserializer(rc *srclient.SchemaRegistryClient) *Deserializer {
	return &Deserializer{rc: rc, codecs: make(map[int]*goavro.Codec), printers: make(map[int]func(any) any)}
}

// Printable returns a value Decode gave for schema id ready for JSON: its
// decimals become strings at their scale ("52746010.51"), where
// encoding/json wrote the *big.Rat as a fraction ("5274601051/100").
func (d *Deserializer) Printable(native any, id int) any {
	d.mu.Lock()
	p, ok := d.printers[id]
	c := d.codecs[id]
	d.mu.Unlock()
	if !ok {
		p = func(v any) any { return v }
		if c != nil {
			if f, err := datagen.DecimalStrings(c.Schema()); err == nil {
				p = f
			}
		}
		d.mu.Lock()
		d.printers[id] = p
		d.mu.Unlock()
	}
	return p(native)
}

// UnknownSchemaError says a record names a schema id the registry does not have.
type UnknownSchemaError struct {
	ID  int
	Err error
}

func (e *UnknownSchemaError) Error() string {
	return "schema id " + strconv.Itoa(e.ID) + " is unknown to the registry: " + oneLine(e.Err)
}

// oneLine is an error's message with its line breaks folded: the registry
// client quotes response bodies, which end in a newline, and offsetlab's
// errors are one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func (e *UnknownSchemaError) Unwrap() error { return e.Err }

// Decode returns the native value of a wire-format record and its schema id.
func (d *Deserializer) Decode(b []byte) (native any, schemaID int, err error) {
	id, payload, err := SplitHeader(b)
	if err != nil {
		return nil, 0, err
	}
	codec, err := d.codec(id)
	if err != nil {
		return nil, id, err
	}
	native, rest, err := codec.NativeFromBinary(payload)
	if err != nil {
		return nil, id, fmt.Errorf("payload does not decode with schema id %d: %w", id, err)
	}
	if len(rest) > 0 {
		return nil, id, fmt.Errorf("payload has %d bytes left over after decoding with schema id %d", len(rest), id)
	}
	return native, id, nil
}

func (d *Deserializer) codec(id int) (*goavro.Codec, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.codecs[id]; ok {
		return c, nil
	}
	s, err := d.rc.GetSchema(id)
	if err != nil {
		var serr srclient.Error
		if errors.As(err, &serr) && serr.Code == 40403 {
			return nil, &UnknownSchemaError{ID: id, Err: err}
		}
		return nil, fmt.Errorf("unable to fetch schema id %d: %w: %s", id, ErrRegistry, oneLine(err))
	}
	c := s.Codec()
	if c == nil {
		return nil, fmt.Errorf("schema id %d does not compile as Avro", id)
	}
	d.codecs[id] = c
	return c, nil
}
