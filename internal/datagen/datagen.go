// Package datagen generates random Avro records from schemas annotated the way
// Confluent's kafka-connect-datagen (avro-random-generator) annotates them, and
// does it deterministically from a seed.
//
// Annotations live in an "arg.properties" object inside the type object, not
// on the field:
//
//	{"name": "orderunits", "type": {"type": "double",
//	    "arg.properties": {"range": {"min": 0.5, "max": 20}}}}
//
// The supported annotations, and the types they apply to, are:
//
//	options    any type       pick one of a list of JSON values
//	range      int, long,     a number in [min, max): max is exclusive
//	           float, double
//	iteration  int, long,     a sequence: start, start+step, ... wrapping at restart
//	           float, double,
//	           string, boolean
//	regex      string         a string the regular expression matches
//	length     string, bytes, exact (5) or {"min": 2, "max": 6} (max exclusive)
//	           array, map
//	prefix,    string         text put before / after the generated string
//	suffix
//	keys       map            string annotations for the map's keys
//	odds       boolean        probability of true, 0.0 to 1.0
//	position   union          (on the field, not the type) always pick branch N
//
// Each annotation's doc comment in annotations.go says exactly what it does,
// with examples. Unannotated types get random values as upstream does (see
// compile.go), except strings, which are letters and digits, and logical
// types: timestamps and dates fall in 2025, times of day anywhere in the day,
// uuid strings are random version 4 UUIDs.
//
// Values come out in goavro's native form, ready for Codec.BinaryFromNative:
// records are map[string]any, unions are goavro.Union(branch, value) (nil for
// the null branch), timestamp-millis/micros and date are time.Time,
// time-millis/micros are time.Duration, decimal is *big.Rat.
//
// The same schema and seed always give the same sequence of records: all
// randomness comes from one PCG source seeded by New, fields are generated in
// schema order, and no value depends on the clock (timestamps are offsets from
// 2025-01-01T00:00:00Z, or come from range or iteration annotations). The
// encoded bytes are identical too, except for schemas with maps: goavro writes
// map entries in Go's map order.
package datagen

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/linkedin/goavro/v2"
)

// epoch is the instant that unannotated timestamp and date fields count from:
// they fall in the year that starts here. A fixed instant, not time.Now(), so
// that a seed reproduces the same records tomorrow.
var epoch = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

// Generator produces records for one schema, deterministically from a seed.
// A Generator is not safe for concurrent use: give each goroutine its own
// (with its own seed, or the same seed for the same sequence).
type Generator struct {
	schema string
	codec  *goavro.Codec
	rng    *rand.Rand
	top    *avroType
	gen    genFunc
}

// New parses an Avro schema JSON carrying datagen arg.properties and prepares
// a generator for it. The top-level type must be a record. All annotations are
// checked here, so Next does not fail on a bad schema later. Errors are one
// line and name what is wrong, e.g.
//
//	schema is not JSON: invalid character '}' looking for beginning of object key string
//	not a valid Avro schema: ...
//	field "price": range.min 10 >= range.max 5 (max is exclusive)
//
// A leading UTF-8 byte order mark (Windows editors write one) is dropped:
// JSON forbids it, and it used to end in "invalid character 'ï'".
func New(schema string, seed int64) (*Generator, error) {
	schema = strings.TrimPrefix(schema, "\ufeff")
	dec := json.NewDecoder(strings.NewReader(schema))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("schema is not JSON: %s", oneLine(err.Error()))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("schema is not JSON: unexpected data after the top-level value")
	}
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		return nil, fmt.Errorf("not a valid Avro schema: %s", oneLine(err.Error()))
	}
	p := newParser()
	top, err := p.parse(doc, "", "")
	if err != nil {
		return nil, err
	}
	if top.kind != "record" {
		return nil, fmt.Errorf("top-level type must be a record, not %s", top.kind)
	}
	if err := checkRecursion(top); err != nil {
		return nil, err
	}
	c := &compiler{}
	gen, err := c.compile(top, "")
	if err != nil {
		return nil, err
	}
	if err := checkSize(top); err != nil {
		return nil, err
	}
	s := uint64(seed)
	return &Generator{
		schema: schema,
		codec:  codec,
		rng:    rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15)),
		top:    top,
		gen:    gen,
	}, nil
}

// Next returns the next record, in goavro native form.
func (g *Generator) Next() (map[string]any, error) {
	rec, ok := g.gen(g.rng).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("record %s generated a %T, not a map", g.top.fullName, rec)
	}
	return rec, nil
}

// Schema returns the schema text as given to New. The arg.properties are kept:
// Schema Registry accepts extra properties and stores them with the schema.
func (g *Generator) Schema() string { return g.schema }

// Codec returns the goavro codec for the schema.
func (g *Generator) Codec() *goavro.Codec { return g.codec }

// KeyOf returns the string form of a top-level field of a generated record,
// for use as the Kafka message key (--key-field). A union value is unwrapped
// to its branch value; the null branch gives "". Timestamps are RFC 3339 in
// UTC, bytes are taken as text, records, arrays and maps are JSON.
func (g *Generator) KeyOf(rec map[string]any, field string) (string, error) {
	f, err := g.keyField(field)
	if err != nil {
		return "", err
	}
	v, ok := rec[field]
	if !ok {
		return "", fmt.Errorf("record has no value for key field %q", field)
	}
	if f.typ.kind == "union" {
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			for _, inner := range m {
				v = inner
			}
		}
	}
	return keyString(v), nil
}

// ValidateKeyField checks up front that field is a top-level field of the
// schema, with the same error as KeyOf.
func (g *Generator) ValidateKeyField(field string) error {
	_, err := g.keyField(field)
	return err
}

func (g *Generator) keyField(field string) (*avroField, error) {
	for _, f := range g.top.fields {
		if f.name == field {
			return f, nil
		}
	}
	names := make([]string, len(g.top.fields))
	for i, f := range g.top.fields {
		names[i] = f.name
	}
	return nil, fmt.Errorf("key field %q is not a field of record %s (fields: %s)",
		field, g.top.fullName, strings.Join(names, ", "))
}

func keyString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	case *big.Rat:
		return x.RatString()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
