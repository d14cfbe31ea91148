package datagen

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

func TestFixedSizeBound(t *testing.T) {
	_, err := New(`{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"fixed","name":"F","size":4000000000000}}]}`, 1)
	if err == nil || err.Error() != `field "f": fixed F: size 4000000000000 is outside 0..1048576` {
		t.Fatalf("err = %v", err)
	}
}

func TestRecursiveTypeRefused(t *testing.T) {
	for _, schema := range []string{
		`{"type":"record","name":"Node","fields":[{"name":"next","type":"Node"}]}`,
		`{"type":"record","name":"A","fields":[{"name":"b","type":{"type":"record","name":"B","fields":[{"name":"a","type":"A"}]}}]}`,
	} {
		if _, err := New(schema, 1); err == nil || !strings.HasPrefix(err.Error(), "recursive type ") {
			t.Errorf("New(%s) = %v, want a recursive type error", schema, err)
		}
	}
}

// A record may contain itself through an array, a map or a union: every
// such value must end, however the draws fall (before maxDepth, an array of
// itself with 8 or more items recursed until the stack overflowed).
func TestRecursionEnds(t *testing.T) {
	for name, schema := range map[string]string{
		"array": `{"type":"record","name":"N","fields":[{"name":"a","type":{"type":"array","items":"N"}}]}`,
		"map":   `{"type":"record","name":"N","fields":[{"name":"m","type":{"type":"map","values":"N","arg.properties":{"length":{"min":2,"max":4}}}}]}`,
		"unions": `{"type":"record","name":"N","fields":[{"name":"a","type":["null","N"]},{"name":"b","type":["null","N"]},` +
			`{"name":"c","type":["N","null"]},{"name":"d","type":["null","N"]}]}`,
		"mutual": `{"type":"record","name":"A","fields":[{"name":"bs","type":{"type":"array","items":{"type":"record","name":"B",` +
			`"fields":[{"name":"as","type":{"type":"map","values":"A"}},{"name":"a","type":["A","int"]}]}}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			g := newGen(t, schema, 7)
			deepest := 0
			for range 50 {
				rec, err := g.Next()
				if err != nil {
					t.Fatal(err)
				}
				roundTrip(t, g, rec)
				deepest = max(deepest, nesting(rec))
			}
			// Each level of recursion is at most a record, a union and an
			// array or map deep.
			if deepest > 4*(maxDepth+1) {
				t.Fatalf("records nest %d deep; recursion should end by depth %d", deepest, maxDepth)
			}
		})
	}
}

func nesting(v any) int {
	deepest := 0
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			deepest = max(deepest, nesting(e))
		}
	case []any:
		for _, e := range x {
			deepest = max(deepest, nesting(e))
		}
	default:
		return 0
	}
	return deepest + 1
}

func TestRecursionThatCannotEnd(t *testing.T) {
	_, err := New(`{"type":"record","name":"N","fields":[{"name":"a","type":["N"]}]}`, 1)
	want := `field "a": every branch of this union leads back to it, so no value would end; add "null" or another branch that does not`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

func TestRecordSizeBound(t *testing.T) {
	nested := `"int"`
	for range 8 {
		nested = `{"type":"array","items":` + nested + `}`
	}
	for _, tc := range []struct{ schema, want string }{
		{`{"type":"record","name":"R","fields":[{"name":"a","type":` + nested + `}]}`,
			`field "a[][][][][][][][]": a record can reach 25 GiB (int of up to 10 B, 15 × 15 × 15 × 15 × 15 × 15 × 15 × 15 items); records are limited to 64 MiB: lower a length annotation on that path`},
		{`{"type":"record","name":"R","fields":[{"name":"id","type":"long"},{"name":"tags","type":{"type":"array","arg.properties":{"length":1048576},` +
			`"items":{"type":"string","arg.properties":{"length":1048576}}}}]}`,
			`field "tags[]": a record can reach 1 TiB (string of up to 1 MiB, 1048576 items); records are limited to 64 MiB: lower a length annotation on that path`},
	} {
		if _, err := New(tc.schema, 1); err == nil || err.Error() != tc.want {
			t.Errorf("err = %v\nwant %s", err, tc.want)
		}
	}
	// Up to the bound is fine: 60 strings of a MiB.
	if _, err := New(`{"type":"record","name":"R","fields":[{"name":"s","type":{"type":"array","arg.properties":{"length":60},"items":{"type":"string","arg.properties":{"length":1048575}}}}]}`, 1); err != nil {
		t.Fatal(err)
	}
}

func TestByteOrderMarkSkipped(t *testing.T) {
	g, err := New("\ufeff"+`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`, 1)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(g.Schema(), "\ufeff") {
		t.Error("the byte order mark would be registered with the schema")
	}
}

// JSON output printed decimals as fractions ("5274601051/100"); they are
// strings at their scale, wherever they sit: a field, a union, an array.
func TestDecimalStrings(t *testing.T) {
	schema := `{"type":"record","name":"R","fields":[` +
		`{"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},` +
		`{"name":"maybe","type":["null",{"type":"fixed","name":"F","size":8,"logicalType":"decimal","precision":10,"scale":3}]},` +
		`{"name":"list","type":{"type":"array","items":{"type":"bytes","logicalType":"decimal","precision":4,"scale":1}}},` +
		`{"name":"n","type":"int"}]}`
	g := newGen(t, schema, 1)
	rec, _ := g.Next()
	b, err := g.Codec().BinaryFromNative(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	native, _, err := g.Codec().NativeFromBinary(b)
	if err != nil {
		t.Fatal(err)
	}
	native.(map[string]any)["price"] = big.NewRat(5274601051, 100)
	native.(map[string]any)["list"] = []any{big.NewRat(51, 10)}
	native.(map[string]any)["maybe"] = map[string]any{"F": big.NewRat(-1, 2)}
	conv, err := DecimalStrings(schema)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(conv(native))
	for _, want := range []string{`"price":"52746010.51"`, `"list":["5.1"]`, `"maybe":{"F":"-0.500"}`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%s does not hold %s", out, want)
		}
	}
}
