package datagen

import (
	"encoding/json"
	"math/big"
	"strings"
)

// DecimalStrings returns a function that rewrites a value goavro decoded
// with schema for printing as JSON: each decimal, a *big.Rat that
// encoding/json writes as a fraction ("5274601051/100"), becomes a string
// at its schema's scale ("52746010.51"). Other values are left as they are;
// for a schema without decimals the function returns its argument.
func DecimalStrings(schema string) (func(native any) any, error) {
	dec := json.NewDecoder(strings.NewReader(strings.TrimPrefix(schema, "\ufeff")))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	top, err := newParser().parse(doc, "", "")
	if err != nil {
		return nil, err
	}
	if !hasDecimal(top, map[*avroType]bool{}) {
		return func(v any) any { return v }, nil
	}
	return func(v any) any { return decimalStrings(top, v) }, nil
}

func hasDecimal(t *avroType, seen map[*avroType]bool) bool {
	if t.logical == "decimal" {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	for _, c := range t.children() {
		if hasDecimal(c, seen) {
			return true
		}
	}
	return false
}

func decimalStrings(t *avroType, v any) any {
	switch x := v.(type) {
	case *big.Rat:
		if t.logical == "decimal" {
			return x.FloatString(max(t.scale, 0))
		}
	case []any:
		if t.kind == "array" {
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = decimalStrings(t.items, e)
			}
			return out
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		switch t.kind {
		case "record":
			for _, f := range t.fields {
				if fv, ok := x[f.name]; ok {
					out[f.name] = decimalStrings(f.typ, fv)
				}
			}
			return out
		case "map":
			for k, e := range x {
				out[k] = decimalStrings(t.values, e)
			}
			return out
		case "union": // {"branch name": value}
			for k, e := range x {
				out[k] = e
				for _, b := range t.branches {
					if b.unionName == k {
						out[k] = decimalStrings(b, e)
					}
				}
			}
			return out
		}
	}
	return v
}
