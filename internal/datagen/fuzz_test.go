package datagen

import (
	"encoding/json"
	"testing"
)

// FuzzNew: any schema text either builds a generator or is refused with an
// error; it never panics or hangs. A generator that was built makes records
// its own codec encodes.
func FuzzNew(f *testing.F) {
	for _, name := range QuickstartNames() {
		s, err := Quickstart(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s, int64(1))
	}
	for _, s := range []string{
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"int","arg.properties":{"range":{"min":1,"max":10}}}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"long","arg.properties":{"iteration":{"start":5,"step":-2,"restart":-10}}}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"string","arg.properties":{"regex":"[a-c]{2,4}x+","length":{"min":1,"max":3}}}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"string","arg.properties":{"options":["x","y"],"prefix":"p-","suffix":"-s"}}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"u","type":["null",{"type":"string","arg.properties":{"options":["a"]}}],"arg.properties":{"odds":[1,3]}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":"int","arg.properties":{"keys":{"options":["k1","k2"]},"length":2}}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},{"name":"f","type":{"type":"fixed","name":"F","size":3}},{"name":"a","type":{"type":"array","items":"E"}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"next","type":["null","R"]}]}`,
		`{"type":"record","name":"R","fields":[{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"int","arg.properties":{"range":{"min":10,"max":5}}}}]}`,
		`this is not { json`,
		`"string"`,
	} {
		f.Add(s, int64(7))
	}
	f.Fuzz(func(t *testing.T, schema string, seed int64) {
		if why := beyondFuzzing(schema); why != "" {
			t.Skip(why)
		}
		g, err := New(schema, seed)
		if err != nil {
			return
		}
		for range 3 {
			rec, err := g.Next()
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if _, err := g.Codec().BinaryFromNative(nil, rec); err != nil {
				t.Fatalf("generated %v does not match its schema: %v", rec, err)
			}
		}
	})
}

// beyondFuzzing names what in a schema the fuzzer must not run, because it
// kills the fuzzing process instead of failing a test:
//
//   - a length above 4096: the 1 MiB bound on lengths multiplies through
//     nested arrays and maps. (Fixed sizes are bounded by New since this
//     fuzzer found {"type":"fixed","size":4000000000000} running out of
//     memory.)
func beyondFuzzing(schema string) string {
	var doc any
	if json.Unmarshal([]byte(schema), &doc) != nil {
		return ""
	}
	if oversized(doc, "") {
		return "a length above 4096"
	}
	return ""
}

func oversized(v any, key string) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if (k == "length" || key == "length") && isBig(x) {
				return true
			}
			if oversized(x, k) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if oversized(x, key) {
				return true
			}
		}
	}
	return false
}

func isBig(v any) bool {
	n, ok := v.(float64)
	return ok && (n > 4096 || n < -4096)
}
