package serde

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/big"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

const schema = `{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"]}]}`

func TestHeader(t *testing.T) {
	b := AppendHeader(nil, 258)
	if !bytes.Equal(b, []byte{0, 0, 0, 1, 2}) {
		t.Fatalf("header for id 258 = % x, want 00 00 00 01 02", b)
	}
	id, payload, err := SplitHeader(append(b, 0xAA))
	if err != nil || id != 258 || !bytes.Equal(payload, []byte{0xAA}) {
		t.Fatalf("SplitHeader = %d, % x, %v", id, payload, err)
	}
	for name, bad := range map[string][]byte{
		"empty":       nil,
		"short":       {0, 0, 1},
		"magic byte":  {1, 0, 0, 0, 1, 2},
		"avro single": {0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8},
	} {
		if _, _, err := SplitHeader(bad); !errors.Is(err, ErrNotWireFormat) {
			t.Errorf("%s: err = %v, want ErrNotWireFormat", name, err)
		}
	}
}

func registry(t testing.TB) *srclient.SchemaRegistryClient {
	t.Helper()
	reg := srfake.New()
	t.Cleanup(reg.Close)
	rc := srclient.NewSchemaRegistryClient(reg.URL())
	rc.CodecCreationEnabled(true)
	return rc
}

func TestRoundTrip(t *testing.T) {
	rc := registry(t)
	s, err := NewSerializer(rc, Subject("orders"), schema)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Encode(map[string]any{"id": int64(42), "note": map[string]any{"string": "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != MagicByte || int(b[1])<<24|int(b[2])<<16|int(b[3])<<8|int(b[4]) != s.ID() {
		t.Fatalf("header % x does not carry schema id %d", b[:5], s.ID())
	}
	// A fresh client, as a consumer elsewhere would have.
	d := NewDeserializer(srclient.NewSchemaRegistryClient(rc.GetSchemaRegistryURL()))
	v, id, err := d.Decode(b)
	if err != nil || id != s.ID() {
		t.Fatalf("Decode: id %d, %v", id, err)
	}
	rec := v.(map[string]any)
	if rec["id"] != int64(42) || rec["note"].(map[string]any)["string"] != "hi" {
		t.Errorf("decoded %v", rec)
	}
	// The same schema registered again keeps its id.
	s2, err := NewSerializer(rc, Subject("orders"), schema)
	if err != nil || s2.ID() != s.ID() {
		t.Errorf("re-registering: id %d (err %v), want %d", s2.ID(), err, s.ID())
	}
}

func TestEncodeMismatch(t *testing.T) {
	s, err := NewSerializer(registry(t), Subject("t"), schema)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Encode(map[string]any{"id": "not a long", "note": nil}); err == nil {
		t.Fatal("a record that does not match its schema was encoded")
	}
}

func TestDecodeErrors(t *testing.T) {
	rc := registry(t)
	s, err := NewSerializer(rc, Subject("t"), schema)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := s.Encode(map[string]any{"id": int64(1), "note": nil})
	d := NewDeserializer(rc)
	var unknown *UnknownSchemaError
	if _, _, err := d.Decode(AppendHeader(nil, 999)); !errors.As(err, &unknown) || unknown.ID != 999 {
		t.Errorf("unknown schema id: err = %v, want UnknownSchemaError{999}", err)
	}
	if _, _, err := d.Decode([]byte("plain text")); !errors.Is(err, ErrNotWireFormat) {
		t.Errorf("plain text: err = %v", err)
	}
	if _, _, err := d.Decode(good[:len(good)-1]); err == nil {
		t.Error("truncated payload decoded")
	}
	if _, _, err := d.Decode(append(good, 7)); err == nil {
		t.Error("payload with trailing bytes decoded")
	}
}

// TestDecodeRegistryDown: once the registry is gone, a schema already
// fetched still decodes (the deserializer caches codecs by id), and one never
// fetched fails as ErrRegistry, naming the id, not as an unknown schema.
func TestDecodeRegistryDown(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	rc := srclient.NewSchemaRegistryClient(reg.URL())
	rc.CodecCreationEnabled(true)
	s1, err := NewSerializer(rc, Subject("a"), schema)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := NewSerializer(rc, Subject("b"), `{"type":"record","name":"B","fields":[{"name":"x","type":"int"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	r1, _ := s1.Encode(map[string]any{"id": int64(1), "note": nil})
	r2, _ := s2.Encode(map[string]any{"x": int32(2)})
	d := NewDeserializer(srclient.NewSchemaRegistryClient(reg.URL()))
	if _, _, err := d.Decode(r1); err != nil {
		t.Fatal(err)
	}
	reg.Close()
	if _, _, err := d.Decode(r1); err != nil {
		t.Errorf("a cached schema needed the registry: %v", err)
	}
	var unknown *UnknownSchemaError
	_, _, err = d.Decode(r2)
	if !errors.Is(err, ErrRegistry) || errors.As(err, &unknown) || !strings.Contains(err.Error(), "schema id "+strconv.Itoa(s2.ID())) || strings.Contains(err.Error(), "\n") {
		t.Errorf("uncached schema with the registry down: err = %v, want one line, ErrRegistry naming id %d", err, s2.ID())
	}
}

// TestDecodeHugeBlockCount: a record that claims a billion array items is a
// bad record, not a 16 GiB allocation (goavro makes room for the count
// before reading an item; FuzzDecode found it under a memory limit).
func TestDecodeHugeBlockCount(t *testing.T) {
	rc := registry(t)
	s, err := NewSerializer(rc, Subject("fuzz"), fuzzSchema)
	if err != nil {
		t.Fatal(err)
	}
	b := append(AppendHeader(nil, s.ID()), 0, 0, 0, 0, 0) // id, n, s, b, u: zero or null
	b = binary.AppendVarint(b, 1<<30)                     // array "a": a block of 2^30 items
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err = NewDeserializer(rc).Decode(b)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "MaxBlockCount") {
		t.Fatalf("err = %v, want the block count refused", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Fatalf("decoding an 11-byte record allocated %d MiB", grew>>20)
	}
}

// The consumer's JSON printed decimals as fractions ("5274601051/100").
func TestPrintableDecimals(t *testing.T) {
	rc := registry(t)
	s, err := NewSerializer(rc, Subject("prices"), `{"type":"record","name":"P","fields":[{"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Encode(map[string]any{"price": big.NewRat(5274601051, 100)})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDeserializer(rc)
	native, id, err := d.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(d.Printable(native, id))
	if string(out) != `{"price":"52746010.51"}` {
		t.Fatalf("printed %s, want {\"price\":\"52746010.51\"}", out)
	}
}
