package datagen

import (
	"bytes"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// record wraps one field type into a record schema with the field "f".
func record(fieldType string) string {
	return `{"type":"record","name":"T","namespace":"test","fields":[{"name":"f","type":` + fieldType + `}]}`
}

// newGen builds a generator or fails the test.
func newGen(t testing.TB, schema string, seed int64) *Generator {
	t.Helper()
	g, err := New(schema, seed)
	if err != nil {
		t.Fatalf("New: %v\nschema: %s", err, schema)
	}
	return g
}

// draw generates n records of the one-field schema and returns field f of
// each, after checking that every record encodes with the codec.
func draw(t testing.TB, fieldType string, n int) []any {
	t.Helper()
	g := newGen(t, record(fieldType), 1)
	out := make([]any, n)
	for i := range out {
		rec, err := g.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if _, err := g.Codec().BinaryFromNative(nil, rec); err != nil {
			t.Fatalf("record %d does not encode: %v (%#v)", i, err, rec)
		}
		out[i] = rec["f"]
	}
	return out
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		want []any
	}{
		{"string", `{"type":"string","arg.properties":{"options":["a","b","c"]}}`, []any{"a", "b", "c"}},
		{"int", `{"type":"int","arg.properties":{"options":[-1,0,7]}}`, []any{int32(-1), int32(0), int32(7)}},
		{"long", `{"type":"long","arg.properties":{"options":[9007199254740993]}}`, []any{int64(9007199254740993)}},
		{"double", `{"type":"double","arg.properties":{"options":[0.5,2]}}`, []any{0.5, 2.0}},
		{"boolean", `{"type":"boolean","arg.properties":{"options":[true]}}`, []any{true}},
		{"enum", `{"type":"enum","name":"E","symbols":["A","B","C"],"arg.properties":{"options":["A","C"]}}`, []any{"A", "C"}},
		{"bytes", `{"type":"bytes","arg.properties":{"options":["hi"]}}`, []any{[]byte("hi")}},
		{"fixed", `{"type":"fixed","name":"F","size":2,"arg.properties":{"options":["ab","cd"]}}`, []any{[]byte("ab"), []byte("cd")}},
		{"array", `{"type":"array","items":"string","arg.properties":{"options":[["x","y"],[]]}}`, []any{[]any{"x", "y"}, []any{}}},
		{"map", `{"type":"map","values":"int","arg.properties":{"options":[{"one":1}]}}`, []any{map[string]any{"one": int32(1)}}},
		{"timestamp-millis", `{"type":"long","logicalType":"timestamp-millis","arg.properties":{"options":[0]}}`, []any{time.Unix(0, 0).UTC()}},
		{"record with default", `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":["null","string"],"default":null}],"arg.properties":{"options":[{"a":1},{"a":2,"b":"x"}]}}`,
			[]any{map[string]any{"a": int32(1), "b": nil}, map[string]any{"a": int32(2), "b": map[string]any{"string": "x"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make([]bool, len(tt.want))
			for _, v := range draw(t, tt.typ, 300) {
				i := slices.IndexFunc(tt.want, func(w any) bool { return reflect.DeepEqual(w, v) })
				if i < 0 {
					t.Fatalf("got %#v, not one of the options %#v", v, tt.want)
				}
				seen[i] = true
			}
			for i, ok := range seen {
				if !ok {
					t.Errorf("option %#v never drawn in 300 records", tt.want[i])
				}
			}
		})
	}
}

func TestOptionsAreCopied(t *testing.T) {
	g := newGen(t, record(`{"type":"map","values":"int","arg.properties":{"options":[{"k":1}]}}`), 1)
	first, _ := g.Next()
	first["f"].(map[string]any)["k"] = int32(99)
	second, _ := g.Next()
	if got := second["f"].(map[string]any)["k"]; got != int32(1) {
		t.Fatalf("editing a generated record changed the option: got %v, want 1", got)
	}
}

func TestRange(t *testing.T) {
	tests := []struct {
		name     string
		typ      string
		min, max float64 // [min, max)
		whole    bool    // every value in [min, max) is expected to show up
	}{
		{"int die", `{"type":"int","arg.properties":{"range":{"min":1,"max":7}}}`, 1, 7, true},
		{"int negative", `{"type":"int","arg.properties":{"range":{"min":-3,"max":0}}}`, -3, 0, true},
		{"long", `{"type":"long","arg.properties":{"range":{"min":10000,"max":10010}}}`, 10000, 10010, true},
		{"long only max", `{"type":"long","arg.properties":{"range":{"max":0}}}`, -9223372036854775808, 0, false},
		{"double", `{"type":"double","arg.properties":{"range":{"min":0.5,"max":0.75}}}`, 0.5, 0.75, false},
		{"float", `{"type":"float","arg.properties":{"range":{"min":-1,"max":1}}}`, -1, 1, false},
		{"timestamp-millis", `{"type":"long","logicalType":"timestamp-millis","arg.properties":{"range":{"min":1000,"max":1005}}}`, 1000, 1005, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[float64]bool{}
			for _, v := range draw(t, tt.typ, 10000) {
				var f float64
				switch x := v.(type) {
				case int32:
					f = float64(x)
				case int64:
					f = float64(x)
				case float32:
					f = float64(x)
				case float64:
					f = x
				case time.Time:
					f = float64(x.UnixMilli())
				default:
					t.Fatalf("got %T", v)
				}
				if f < tt.min || f >= tt.max {
					t.Fatalf("%v is outside [%v, %v)", v, tt.min, tt.max)
				}
				seen[f] = true
			}
			if tt.whole {
				for x := tt.min; x < tt.max; x++ {
					if !seen[x] {
						t.Errorf("%v never drawn in 10000 tries", x)
					}
				}
				if seen[tt.max] {
					t.Errorf("max %v drawn, but max is exclusive", tt.max)
				}
			}
		})
	}
}

func TestIteration(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		want []any
	}{
		{"start only", `{"type":"int","arg.properties":{"iteration":{"start":5}}}`, ints(5, 6, 7, 8)},
		{"restart", `{"type":"int","arg.properties":{"iteration":{"start":1,"restart":4}}}`, ints(1, 2, 3, 1, 2, 3, 1)},
		{"step wraps modulo", `{"type":"int","arg.properties":{"iteration":{"start":0,"step":2,"restart":5}}}`, ints(0, 2, 4, 1, 3, 0)},
		{"initial", `{"type":"int","arg.properties":{"iteration":{"start":0,"restart":3,"initial":2}}}`, ints(2, 0, 1, 2, 0)},
		{"counting down", `{"type":"int","arg.properties":{"iteration":{"start":10,"step":-3,"restart":0}}}`, ints(10, 7, 4, 1, 8, 5, 2, 9, 6, 3, 10)},
		{"down by default", `{"type":"int","arg.properties":{"iteration":{"start":3,"restart":0}}}`, ints(3, 2, 1, 3)},
		{"int wraps at its limit", `{"type":"int","arg.properties":{"iteration":{"start":2147483645,"step":1,"restart":2147483647}}}`, ints(2147483645, 2147483646, 2147483645)},
		{"long", `{"type":"long","arg.properties":{"iteration":{"start":9007199254740993,"step":10}}}`, []any{int64(9007199254740993), int64(9007199254741003)}},
		{"long whole range", `{"type":"long","arg.properties":{"iteration":{"start":-9223372036854775808,"step":9223372036854775807}}}`, []any{int64(-9223372036854775808), int64(-1), int64(9223372036854775806), int64(-2)}},
		{"double exact decimals", `{"type":"double","arg.properties":{"iteration":{"start":0,"step":0.1,"restart":0.5}}}`, []any{0.0, 0.1, 0.2, 0.3, 0.4, 0.0}},
		{"double beyond int64 scaling", `{"type":"double","arg.properties":{"iteration":{"start":0.5,"step":0.25,"restart":1e300}}}`, []any{0.5, 0.75, 1.0, 1.25}},
		{"float", `{"type":"float","arg.properties":{"iteration":{"start":1.5,"step":-0.5}}}`, []any{float32(1.5), float32(1), float32(0.5), float32(0)}},
		{"string", `{"type":"string","arg.properties":{"iteration":{"start":1,"restart":3},"prefix":"order-","suffix":"!"}}`, []any{"order-1!", "order-2!", "order-1!"}},
		{"boolean", `{"type":"boolean","arg.properties":{"iteration":{"start":false}}}`, []any{false, true, false, true}},
		{"timestamp-millis", `{"type":"long","logicalType":"timestamp-millis","arg.properties":{"iteration":{"start":1735689600000,"step":250}}}`,
			[]any{time.UnixMilli(1735689600000).UTC(), time.UnixMilli(1735689600250).UTC(), time.UnixMilli(1735689600500).UTC()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := draw(t, tt.typ, len(tt.want))
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func ints(vs ...int32) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func TestRegex(t *testing.T) {
	tests := []struct {
		regex          string
		length         string // arg.properties length, or ""
		minLen, maxLen int    // expected rune length bounds, inclusive
		allLengths     bool   // every length in [minLen, maxLen] shows up
	}{
		{`Item_[1-9][0-9]{0,2}`, "", 8, 8, false},
		{`Item_[1-9][0-9]{0,2}`, `{"min":6,"max":9}`, 6, 8, true},
		{`User_[1-9]?`, "", 6, 6, false},
		{`[a-zA-Z]*`, `10`, 10, 10, false},
		{`[a-z]+`, `{"min":3,"max":6}`, 3, 5, true},
		{`[a-z]{0,15}`, `{"min":5}`, 5, 12, true},
		{`(cat|horse|ox)-\d{2}`, `{"min":5,"max":7}`, 5, 6, true},
		{`[A-Z]{3}`, `{"min":10,"max":20}`, 3, 3, false},
		{`(?i)ab[^a-z]c.`, "", 5, 5, false},
		{`^\w+@example\.(com|org)$`, "", 13, 15, true},
		{`[αβγ]{4}`, "", 4, 4, false},
		{`(a|bb)*`, `7`, 7, 7, false},
		{`x{2,}y?`, `{"min":4,"max":5}`, 4, 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.regex+" "+tt.length, func(t *testing.T) {
			props := fmt.Sprintf(`{"regex":%q}`, tt.regex)
			if tt.length != "" {
				props = fmt.Sprintf(`{"regex":%q,"length":%s}`, tt.regex, tt.length)
			}
			re := regexp.MustCompile(`^(?:` + tt.regex + `)$`)
			lengths := map[int]bool{}
			for _, v := range draw(t, `{"type":"string","arg.properties":`+props+`}`, 2000) {
				s := v.(string)
				if !re.MatchString(s) {
					t.Fatalf("%q does not match %s", s, tt.regex)
				}
				n := len([]rune(s))
				if n < tt.minLen || n > tt.maxLen {
					t.Fatalf("%q has length %d, want %d..%d", s, n, tt.minLen, tt.maxLen)
				}
				lengths[n] = true
			}
			if tt.allLengths {
				for n := tt.minLen; n <= tt.maxLen; n++ {
					if !lengths[n] {
						t.Errorf("no string of length %d in 2000", n)
					}
				}
			}
		})
	}
}

func TestLength(t *testing.T) {
	tests := []struct {
		name     string
		typ      string
		min, max int // inclusive
	}{
		{"string default", `"string"`, 8, 15},
		{"string exact", `{"type":"string","arg.properties":{"length":5}}`, 5, 5},
		{"string empty", `{"type":"string","arg.properties":{"length":0}}`, 0, 0},
		{"string min max", `{"type":"string","arg.properties":{"length":{"min":2,"max":4}}}`, 2, 3},
		{"string only min", `{"type":"string","arg.properties":{"length":{"min":20}}}`, 20, 27},
		{"bytes", `{"type":"bytes","arg.properties":{"length":{"max":3}}}`, 0, 2},
		{"array", `{"type":"array","items":"int","arg.properties":{"length":{"min":1,"max":3}}}`, 1, 2},
		{"map", `{"type":"map","values":"int","arg.properties":{"length":4}}`, 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[int]bool{}
			for _, v := range draw(t, tt.typ, 1000) {
				n := reflect.ValueOf(v).Len()
				if n < tt.min || n > tt.max {
					t.Fatalf("length %d of %v, want %d..%d", n, v, tt.min, tt.max)
				}
				seen[n] = true
			}
			for n := tt.min; n <= tt.max; n++ {
				if !seen[n] {
					t.Errorf("length %d never drawn", n)
				}
			}
		})
	}
}

func TestPrefixSuffix(t *testing.T) {
	tests := []struct {
		typ  string
		want string // regex the whole value matches
	}{
		{`{"type":"string","arg.properties":{"prefix":"C-","suffix":"-x","length":4}}`, `^C-[a-zA-Z0-9]{4}-x$`},
		{`{"type":"string","arg.properties":{"regex":"[0-9]{4}","prefix":"C-"}}`, `^C-[0-9]{4}$`},
		{`{"type":"string","arg.properties":{"iteration":{"start":7},"suffix":"th"}}`, `^[0-9]+th$`},
	}
	for _, tt := range tests {
		re := regexp.MustCompile(tt.want)
		for _, v := range draw(t, tt.typ, 200) {
			if !re.MatchString(v.(string)) {
				t.Fatalf("%s: %q does not match %s", tt.typ, v, tt.want)
			}
		}
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		key  string // regex each key matches
	}{
		{"options", `{"type":"map","values":"int","arg.properties":{"length":5,"keys":{"options":["a","b","c"]}}}`, `^[abc]$`},
		{"regex", `{"type":"map","values":"int","arg.properties":{"keys":{"regex":"k[0-9]{3}"}}}`, `^k[0-9]{3}$`},
		{"prefix length", `{"type":"map","values":"int","arg.properties":{"keys":{"prefix":"id_","length":2}}}`, `^id_[a-zA-Z0-9]{2}$`},
		{"default", `{"type":"map","values":"int"}`, `^[a-zA-Z0-9]{8,15}$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re := regexp.MustCompile(tt.key)
			for _, v := range draw(t, tt.typ, 200) {
				m := v.(map[string]any)
				if len(m) == 0 {
					t.Fatalf("empty map")
				}
				for k := range m {
					if !re.MatchString(k) {
						t.Fatalf("key %q does not match %s", k, tt.key)
					}
				}
			}
		})
	}
}

func TestOdds(t *testing.T) {
	const n = 10000
	for _, odds := range []float64{0, 0.1, 0.3, 0.5, 0.9, 1} {
		t.Run(fmt.Sprint(odds), func(t *testing.T) {
			trues := 0
			for _, v := range draw(t, fmt.Sprintf(`{"type":"boolean","arg.properties":{"odds":%v}}`, odds), n) {
				if v.(bool) {
					trues++
				}
			}
			// 0.02 is more than four standard deviations at n=10000.
			if got := float64(trues) / n; got < odds-0.02 || got > odds+0.02 {
				t.Fatalf("%d of %d true (%.3f), want %.3f ± 0.02", trues, n, got, odds)
			}
			if (odds == 0 && trues != 0) || (odds == 1 && trues != n) {
				t.Fatalf("odds %v gave %d of %d true", odds, trues, n)
			}
		})
	}
}

func TestUnion(t *testing.T) {
	t.Run("uniform", func(t *testing.T) {
		counts := map[string]int{}
		for _, v := range draw(t, `["null","string",{"type":"long","logicalType":"timestamp-millis"}]`, 3000) {
			switch x := v.(type) {
			case nil:
				counts["null"]++
			case map[string]any:
				for k := range x {
					counts[k]++
				}
			}
		}
		for _, b := range []string{"null", "string", "long.timestamp-millis"} {
			if c := counts[b]; c < 850 || c > 1150 {
				t.Errorf("branch %s drawn %d times in 3000, want about 1000 (counts %v)", b, c, counts)
			}
		}
	})
	t.Run("position", func(t *testing.T) {
		schema := `{"type":"record","name":"T","fields":[{"name":"f","type":["null",{"type":"int","arg.properties":{"options":[42]}}],"arg.properties":{"position":1}}]}`
		g := newGen(t, schema, 1)
		for range 100 {
			rec, _ := g.Next()
			if !reflect.DeepEqual(rec["f"], map[string]any{"int": int32(42)}) {
				t.Fatalf("got %#v, want the int branch 42", rec["f"])
			}
		}
	})
}

// allTypes has every Avro type and logical type, unannotated.
const allTypes = `{"type":"record","name":"All","namespace":"test","fields":[
		{"name":"n","type":"null"},
		{"name":"b","type":"boolean"},
		{"name":"i","type":"int"},
		{"name":"l","type":"long"},
		{"name":"f","type":"float"},
		{"name":"d","type":"double"},
		{"name":"by","type":"bytes"},
		{"name":"s","type":"string"},
		{"name":"e","type":{"type":"enum","name":"Color","symbols":["RED","GREEN"]}},
		{"name":"e2","type":"Color"},
		{"name":"fx","type":{"type":"fixed","name":"Hash","size":4}},
		{"name":"a","type":{"type":"array","items":"int"}},
		{"name":"m","type":{"type":"map","values":"string"}},
		{"name":"r","type":{"type":"record","name":"Inner","fields":[{"name":"x","type":"int"}]}},
		{"name":"u","type":["null","Inner","Color","Hash",{"type":"array","items":"int"}]},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"tsu","type":{"type":"long","logicalType":"timestamp-micros"}},
		{"name":"date","type":{"type":"int","logicalType":"date"}},
		{"name":"tm","type":{"type":"int","logicalType":"time-millis"}},
		{"name":"tmu","type":{"type":"long","logicalType":"time-micros"}},
		{"name":"id","type":{"type":"string","logicalType":"uuid"}},
		{"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
		{"name":"decf","type":{"type":"fixed","name":"Money","size":3,"logicalType":"decimal","precision":9,"scale":2}},
		{"name":"ul","type":["null",{"type":"bytes","logicalType":"decimal","precision":4,"scale":1},{"type":"string","logicalType":"uuid"}]}
	]}`

// TestUnannotated generates every Avro type without annotations and checks
// the values round-trip through the codec.
func TestUnannotated(t *testing.T) {
	g := newGen(t, allTypes, 7)
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for range 500 {
		rec, _ := g.Next()
		roundTrip(t, g, rec)
		if ts := rec["ts"].(time.Time); ts.Before(epoch) || !ts.Before(epoch.AddDate(1, 0, 0)) {
			t.Fatalf("timestamp %v is not in the year from epoch", ts)
		}
		if id := rec["id"].(string); !uuidRE.MatchString(id) {
			t.Fatalf("uuid %q is not a version 4 UUID", id)
		}
		if tm := rec["tm"].(time.Duration); tm < 0 || tm >= 24*time.Hour {
			t.Fatalf("time-millis %v is not a time of day", tm)
		}
		dec := rec["dec"].(*big.Rat)
		if limit := big.NewRat(1e7, 1); new(big.Rat).Abs(dec).Cmp(limit) >= 0 {
			t.Fatalf("decimal(9,2) %v has more than 9 digits", dec.FloatString(2))
		}
	}
}

// roundTrip encodes rec and decodes it again: the decoded record must equal
// the generated one. (Comparing two encodings would not do: goavro writes map
// entries in Go's map order, which varies.)
func roundTrip(t testing.TB, g *Generator, rec map[string]any) {
	t.Helper()
	b, err := g.Codec().BinaryFromNative(nil, rec)
	if err != nil {
		t.Fatalf("encode: %v\nrecord: %#v", err, rec)
	}
	back, rest, err := g.Codec().NativeFromBinary(b)
	if err != nil || len(rest) != 0 {
		t.Fatalf("decode: %v (%d bytes left)", err, len(rest))
	}
	if !reflect.DeepEqual(back, any(rec)) {
		t.Fatalf("round trip changed the record:\ngot  %#v\nwant %#v", back, rec)
	}
}

func TestRecursiveType(t *testing.T) {
	schema := `{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}`
	g := newGen(t, schema, 3)
	for range 100 {
		rec, _ := g.Next()
		roundTrip(t, g, rec)
	}
}

func TestDeterminism(t *testing.T) {
	for _, name := range QuickstartNames() {
		t.Run(name, func(t *testing.T) {
			schema, _ := Quickstart(name)
			a := encodeN(t, schema, 42, 1000)
			b := encodeN(t, schema, 42, 1000)
			if !bytes.Equal(a, b) {
				t.Fatal("the same seed gave different bytes")
			}
			if c := encodeN(t, schema, 43, 1000); bytes.Equal(a, c) {
				t.Fatal("seeds 42 and 43 gave the same records")
			}
		})
	}
	// With maps the bytes can differ, because goavro writes map entries in
	// Go's map order; the values must not.
	t.Run("all types", func(t *testing.T) {
		a, b, c := newGen(t, allTypes, 42), newGen(t, allTypes, 42), newGen(t, allTypes, 43)
		differs := false
		for i := range 1000 {
			ra, _ := a.Next()
			rb, _ := b.Next()
			rc, _ := c.Next()
			if !reflect.DeepEqual(ra, rb) {
				t.Fatalf("record %d differs with the same seed:\n%#v\n%#v", i, ra, rb)
			}
			differs = differs || !reflect.DeepEqual(ra, rc)
		}
		if !differs {
			t.Fatal("seeds 42 and 43 gave the same records")
		}
	})
}

func encodeN(t *testing.T, schema string, seed int64, n int) []byte {
	t.Helper()
	g := newGen(t, schema, seed)
	var out []byte
	for range n {
		rec, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if out, err = g.Codec().BinaryFromNative(out, rec); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestQuickstarts(t *testing.T) {
	if got, want := QuickstartNames(), []string{"orders", "pageviews", "users"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("QuickstartNames() = %v, want %v", got, want)
	}
	for _, name := range QuickstartNames() {
		t.Run(name, func(t *testing.T) {
			schema, err := Quickstart(name)
			if err != nil {
				t.Fatal(err)
			}
			g := newGen(t, schema, 1)
			if g.Schema() != schema {
				t.Fatal("Schema() is not the text given to New")
			}
			if !strings.Contains(g.Codec().Schema(), "io.offsetlab.quickstart") {
				t.Errorf("quickstart %s is not in namespace io.offsetlab.quickstart", name)
			}
			for range 1000 {
				rec, err := g.Next()
				if err != nil {
					t.Fatal(err)
				}
				roundTrip(t, g, rec)
			}
		})
	}
}

func TestQuickstartOrders(t *testing.T) {
	schema, _ := Quickstart("orders")
	g := newGen(t, schema, 1)
	item := regexp.MustCompile(`^Item_[1-9][0-9]{0,2}$`)
	user := regexp.MustCompile(`^User_[1-9][0-9]?$`)
	for i := range 200 {
		rec, _ := g.Next()
		if rec["orderid"] != int64(i+1) {
			t.Fatalf("record %d has orderid %v, want %d", i, rec["orderid"], i+1)
		}
		if !item.MatchString(rec["itemid"].(string)) || !user.MatchString(rec["customerid"].(string)) {
			t.Fatalf("itemid %q or customerid %q out of shape", rec["itemid"], rec["customerid"])
		}
		if u := rec["orderunits"].(float64); u < 0.5 || u >= 20 {
			t.Fatalf("orderunits %v", u)
		}
		if ts := rec["ordertime"].(time.Time); ts.Year() != 2025 {
			t.Fatalf("ordertime %v not in 2025", ts)
		}
		addr := rec["address"].(map[string]any)
		if z := addr["zipcode"].(int32); z < 10000 || z > 99999 {
			t.Fatalf("zipcode %d", z)
		}
	}
}

func TestKeyOf(t *testing.T) {
	schema := `{"type":"record","name":"K","namespace":"test","fields":[
		{"name":"id","type":{"type":"long","arg.properties":{"iteration":{"start":7}}}},
		{"name":"name","type":{"type":"string","arg.properties":{"options":["ann"]}}},
		{"name":"opt","type":["null",{"type":"string","arg.properties":{"options":["x"]}}],"arg.properties":{"position":1}},
		{"name":"none","type":["null","string"],"arg.properties":{"position":0}},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis","arg.properties":{"options":[1735689600000]}}}
	]}`
	g := newGen(t, schema, 1)
	rec, _ := g.Next()
	for field, want := range map[string]string{"id": "7", "name": "ann", "opt": "x", "none": "", "ts": "2025-01-01T00:00:00Z"} {
		got, err := g.KeyOf(rec, field)
		if err != nil || got != want {
			t.Errorf("KeyOf(%q) = %q, %v; want %q", field, got, err, want)
		}
	}
	const wantErr = `key field "nope" is not a field of record test.K (fields: id, name, opt, none, ts)`
	if _, err := g.KeyOf(rec, "nope"); err == nil || err.Error() != wantErr {
		t.Errorf("KeyOf(nope) error = %v, want %s", err, wantErr)
	}
	if err := g.ValidateKeyField("nope"); err == nil || err.Error() != wantErr {
		t.Errorf("ValidateKeyField(nope) = %v, want %s", err, wantErr)
	}
	if err := g.ValidateKeyField("id"); err != nil {
		t.Errorf("ValidateKeyField(id) = %v", err)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		want   string // the whole error, or its start when it ends in "..."
	}{
		{"not JSON", `{"type":`, "schema is not JSON: unexpected EOF"},
		{"trailing data", `{"type":"record","name":"T","fields":[]} x`, "schema is not JSON: unexpected data after the top-level value"},
		{"invalid Avro", `{"type":"record","name":"T","fields":[{"name":"f","type":"nope"}]}`, "not a valid Avro schema: ..."},
		{"not a record", `"string"`, "top-level type must be a record, not string"},
		{"range min >= max", `{"type":"record","name":"T","fields":[{"name":"price","type":{"type":"int","arg.properties":{"range":{"min":10,"max":5}}}}]}`,
			`field "price": range.min 10 >= range.max 5 (max is exclusive)`},
		{"range equal", record(`{"type":"double","arg.properties":{"range":{"min":1.5,"max":1.5}}}`), `field "f": range.min 1.5 >= range.max 1.5 (max is exclusive)`},
		{"range not whole", record(`{"type":"int","arg.properties":{"range":{"min":0.5}}}`), `field "f": range.min 0.5 is not a whole number, as int needs`},
		{"range too big", record(`{"type":"int","arg.properties":{"range":{"max":3000000000}}}`), `field "f": range.max 3000000000 does not fit int`},
		{"range unknown key", record(`{"type":"int","arg.properties":{"range":{"from":1}}}`), `field "f": range has no "from" (it takes min, max)`},
		{"nested path", `{"type":"record","name":"T","fields":[{"name":"address","type":{"type":"record","name":"A","fields":[{"name":"zip","type":{"type":"int","arg.properties":{"range":{"min":5,"max":1}}}}]}}]}`,
			`field "address.zip": range.min 5 >= range.max 1 (max is exclusive)`},
		{"unknown annotation", record(`{"type":"int","arg.properties":{"rnage":{}}}`), `field "f": unknown annotation "rnage" in arg.properties`},
		{"annotation on wrong type", record(`{"type":"string","arg.properties":{"range":{"min":1}}}`), `field "f": range does not apply to string`},
		{"field-level annotation", `{"type":"record","name":"T","fields":[{"name":"f","type":"int","arg.properties":{"range":{"min":1}}}]}`, `field "f": arg.properties on a field only take position, for a union; ...`},
		{"options combined", record(`{"type":"string","arg.properties":{"options":["a"],"regex":"a"}}`), `field "f": options cannot be combined with regex`},
		{"options empty", record(`{"type":"string","arg.properties":{"options":[]}}`), `field "f": options must not be empty`},
		{"options wrong type", record(`{"type":"int","arg.properties":{"options":[1,"two"]}}`), `field "f": options[1]: want a number, got a string`},
		{"options bad symbol", record(`{"type":"enum","name":"E","symbols":["A"],"arg.properties":{"options":["B"]}}`), `field "f": options[0]: want one of the symbols of test.E (A), got "B"`},
		{"options file", record(`{"type":"string","arg.properties":{"options":{"file":"x.json","encoding":"json"}}}`), `field "f": options from a file ...`},
		{"iteration no start", record(`{"type":"int","arg.properties":{"iteration":{"step":1}}}`), `field "f": iteration needs start`},
		{"iteration step 0", record(`{"type":"long","arg.properties":{"iteration":{"start":1,"step":0}}}`), `field "f": iteration.step must not be 0`},
		{"iteration start == restart", record(`{"type":"long","arg.properties":{"iteration":{"start":1,"restart":1}}}`), `field "f": iteration.start 1 == iteration.restart 1`},
		{"iteration wrong direction", record(`{"type":"long","arg.properties":{"iteration":{"start":1,"restart":5,"step":-1}}}`), `field "f": iteration.step -1 must be positive when restart 5 > start 1`},
		{"iteration with range", record(`{"type":"long","arg.properties":{"iteration":{"start":1},"range":{"min":0}}}`), `field "f": iteration cannot be combined with range`},
		{"boolean iteration step", record(`{"type":"boolean","arg.properties":{"iteration":{"start":true,"step":1}}}`), `field "f": a boolean iteration takes only start (true or false)`},
		{"bad regex", record(`{"type":"string","arg.properties":{"regex":"a(b"}}`), `field "f": regex "a(b": error parsing regexp: missing closing ): ` + "`a(b`"},
		{"odds out of range", record(`{"type":"boolean","arg.properties":{"odds":1.5}}`), `field "f": odds 1.5 is not between 0.0 and 1.0`},
		{"length min >= max", record(`{"type":"string","arg.properties":{"length":{"min":5,"max":3}}}`), `field "f": length.min 5 >= length.max 3 (max is exclusive)`},
		{"length negative", record(`{"type":"string","arg.properties":{"length":-1}}`), `field "f": length -1 does not fit a length`},
		{"keys not object", record(`{"type":"map","values":"int","arg.properties":{"keys":"a"}}`), `field "f": keys must be an object of string annotations, not a string`},
		{"keys bad annotation", record(`{"type":"map","values":"int","arg.properties":{"keys":{"range":{"min":1}}}}`), `field "f (keys)": range does not apply to string`},
		{"position out of range", `{"type":"record","name":"T","fields":[{"name":"u","type":["null","int"],"arg.properties":{"position":2}}]}`, `field "u": position 2 does not fit a branch index of this 2-branch union`},
		{"props not object", record(`{"type":"int","arg.properties":[1]}`), `field "f": arg.properties must be an object, not an array`},
		{"record option missing field", record(`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}],"arg.properties":{"options":[{}]}}`), `field "f": options[0]: field "a" is missing and has no default`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.schema, 1)
			if err == nil {
				t.Fatalf("New succeeded, want error %q", tt.want)
			}
			got := err.Error()
			if strings.Contains(got, "\n") {
				t.Errorf("error is not one line: %q", got)
			}
			if prefix, ok := strings.CutSuffix(tt.want, "..."); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Fatalf("error %q\nwant it to start %q", got, prefix)
				}
				return
			}
			if got != tt.want {
				t.Fatalf("error %q\nwant       %q", got, tt.want)
			}
		})
	}
	t.Run("unknown quickstart", func(t *testing.T) {
		_, err := Quickstart("x")
		const want = `unknown quickstart "x" (known: orders, pageviews, users)`
		if err == nil || err.Error() != want {
			t.Fatalf("Quickstart(x) error = %v, want %s", err, want)
		}
	})
}

// BenchmarkOrders measures what the producer pays per Avro record: Next
// plus BinaryFromNative on the orders quickstart, and each half alone.
func BenchmarkOrders(b *testing.B) {
	schema, _ := Quickstart("orders")
	b.Run("next+encode", func(b *testing.B) {
		g := newGen(b, schema, 1)
		var buf []byte
		for b.Loop() {
			rec, err := g.Next()
			if err != nil {
				b.Fatal(err)
			}
			if buf, err = g.Codec().BinaryFromNative(buf[:0], rec); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("next", func(b *testing.B) {
		g := newGen(b, schema, 1)
		for b.Loop() {
			if _, err := g.Next(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		g := newGen(b, schema, 1)
		rec, _ := g.Next()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = g.Codec().BinaryFromNative(buf[:0], rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}
