package serde

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzSplitHeader: any bytes either split into a schema id and a payload
// that put back together are the input, or fail as ErrNotWireFormat.
func FuzzSplitHeader(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 1, 2, 0xAA})
	f.Add([]byte{0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte("plain text"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, payload, err := SplitHeader(b)
		if err != nil {
			if !errors.Is(err, ErrNotWireFormat) {
				t.Fatalf("error %v is not ErrNotWireFormat", err)
			}
			return
		}
		if got := append(AppendHeader(nil, id), payload...); !bytes.Equal(got, b) {
			t.Fatalf("header of id %d + payload = % x, want % x", id, got, b)
		}
	})
}

// fuzzSchema exercises most of Avro's binary encodings: varints, strings,
// unions, arrays and maps (block counts), enums, fixed, floats.
const fuzzSchema = `{"type":"record","name":"F","fields":[
 {"name":"id","type":"long"},
 {"name":"n","type":"int"},
 {"name":"s","type":"string"},
 {"name":"b","type":"bytes"},
 {"name":"u","type":["null","string","double"]},
 {"name":"a","type":{"type":"array","items":"float"}},
 {"name":"m","type":{"type":"map","values":"boolean"}},
 {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}},
 {"name":"x","type":{"type":"fixed","name":"X","size":4}},
 {"name":"r","type":["null",{"type":"record","name":"Inner","fields":[{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}}]}]}
]}`

// FuzzDecode: the deserializer, fed any bytes against a registry that holds
// one schema, decodes them or says why not; it never panics or hangs, and
// what it decodes encodes again.
func FuzzDecode(f *testing.F) {
	rc := registry(f)
	s, err := NewSerializer(rc, Subject("fuzz"), fuzzSchema)
	if err != nil {
		f.Fatal(err)
	}
	good, err := s.Encode(map[string]any{
		"id": int64(42), "n": int32(-7), "s": "hello", "b": []byte{1, 2, 3},
		"u": map[string]any{"double": 1.5}, "a": []any{float32(1), float32(2.5)},
		"m": map[string]any{"k": true}, "e": "B", "x": []byte{9, 9, 9, 9},
		"r": nil,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-3])                                                                                  // truncated Avro
	f.Add(append(good, 7))                                                                                     // trailing bytes
	f.Add(AppendHeader(nil, 999))                                                                              // an id the registry does not have
	f.Add([]byte("plain text, not avro"))                                                                      // not wire format
	f.Add(append(AppendHeader(nil, s.ID()), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)) // an overlong varint
	d := NewDeserializer(rc)
	codec, err := d.codec(s.ID())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Only the one registered id is worth the fuzzer's time: any other
		// is a registry round trip ending in UnknownSchemaError.
		if len(b) >= headerLen && b[0] == MagicByte && (b[1] != 0 || b[2] != 0 || b[3] != 0 || int(b[4]) != s.ID()) {
			b = append(AppendHeader(nil, s.ID()), b[headerLen:]...)
		}
		native, id, err := d.Decode(b)
		if err != nil {
			if native != nil {
				t.Fatalf("an error (%v) with a value", err)
			}
			return
		}
		if id != s.ID() {
			t.Fatalf("decoded with schema id %d, want %d", id, s.ID())
		}
		if _, err := codec.BinaryFromNative(nil, native); err != nil {
			t.Fatalf("decoded %v does not encode again: %v", native, err)
		}
	})
}
