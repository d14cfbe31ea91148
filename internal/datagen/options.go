package datagen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
)

// options converts every listed value to goavro's native form once, in New,
// and picks one per call. Values that can be changed in place (records, maps,
// arrays, bytes, decimals) are copied on the way out, so a caller that edits
// a record cannot change the options.
func (c *compiler) options(t *avroType, path string) (genFunc, error) {
	raw := t.props[annOptions]
	list, ok := raw.([]any)
	if !ok {
		if _, isObj := raw.(map[string]any); isObj {
			return nil, fmt.Errorf("%s: options from a file ({\"file\": ...}) are not supported; list the values in an array", where(path))
		}
		return nil, fmt.Errorf("%s: options must be an array, not %s", where(path), jsonKind(raw))
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: options must not be empty", where(path))
	}
	vals := make([]any, len(list))
	for i, v := range list {
		nv, err := nativeFromJSON(t, v)
		if err != nil {
			return nil, fmt.Errorf("%s: options[%d]: %s", where(path), i, err)
		}
		vals[i] = nv
	}
	switch t.kind {
	case "record", "map", "array", "bytes", "fixed":
		return func(r *rand.Rand) any { return cloneNative(vals[r.IntN(len(vals))]) }, nil
	}
	return func(r *rand.Rand) any { return vals[r.IntN(len(vals))] }, nil
}

// nativeFromJSON converts a JSON value (as an option or a field default) to
// goavro's native form for t.
func nativeFromJSON(t *avroType, v any) (any, error) {
	switch t.kind {
	case "null":
		if v != nil {
			return nil, fmt.Errorf("want null, got %s", jsonKind(v))
		}
		return nil, nil
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want a boolean, got %s", jsonKind(v))
		}
		return b, nil
	case "int", "long":
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		if t.kind == "int" {
			lo, hi = math.MinInt32, math.MaxInt32
		}
		n, err := jsonInt(v, t.kind, lo, hi)
		if err != nil {
			return nil, err
		}
		return integralConv(t)(n), nil
	case "float", "double":
		r, err := jsonRat(v)
		if err != nil {
			return nil, err
		}
		f, _ := r.Float64()
		if t.kind == "float" {
			if math.Abs(f) > math.MaxFloat32 {
				return nil, fmt.Errorf("%v does not fit float", v)
			}
			return float32(f), nil
		}
		return f, nil
	case "bytes", "fixed":
		if t.logical == "decimal" {
			return jsonDecimal(v)
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string of the bytes, got %s", jsonKind(v))
		}
		if t.kind == "fixed" && len(s) != t.size {
			return nil, fmt.Errorf("%q is %d bytes, fixed %s is %d", s, len(s), t.fullName, t.size)
		}
		return []byte(s), nil
	case "string":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string, got %s", jsonKind(v))
		}
		return s, nil
	case "enum":
		s, ok := v.(string)
		if !ok || !slices.Contains(t.symbols, s) {
			return nil, fmt.Errorf("want one of the symbols of %s (%s), got %s", t.fullName, strings.Join(t.symbols, ", "), showJSON(v))
		}
		return s, nil
	case "array":
		a, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("want an array, got %s", jsonKind(v))
		}
		out := make([]any, len(a))
		for i, item := range a {
			nv, err := nativeFromJSON(t.items, item)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %s", i, err)
			}
			out[i] = nv
		}
		return out, nil
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want an object, got %s", jsonKind(v))
		}
		out := make(map[string]any, len(m))
		for _, k := range sortedKeys(m) {
			nv, err := nativeFromJSON(t.values, m[k])
			if err != nil {
				return nil, fmt.Errorf("%q: %s", k, err)
			}
			out[k] = nv
		}
		return out, nil
	case "record":
		return recordFromJSON(t, v)
	case "union":
		if v == nil {
			for _, b := range t.branches {
				if b.kind == "null" {
					return nil, nil
				}
			}
			return nil, errors.New("null is not a branch of the union")
		}
		for _, b := range t.branches {
			if b.kind == "null" {
				continue
			}
			if nv, err := nativeFromJSON(b, v); err == nil {
				return map[string]any{b.unionName: nv}, nil
			}
		}
		return nil, fmt.Errorf("%s fits no branch of the union", showJSON(v))
	}
	return nil, fmt.Errorf("unsupported type %s", t.kind)
}

// recordFromJSON takes an object of field values; a missing field takes its
// schema default (for a union, the default is of the first branch).
func recordFromJSON(t *avroType, v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want an object of the fields of %s, got %s", t.fullName, jsonKind(v))
	}
	for _, k := range sortedKeys(m) {
		if !slices.ContainsFunc(t.fields, func(f *avroField) bool { return f.name == k }) {
			return nil, fmt.Errorf("%s has no field %q", t.fullName, k)
		}
	}
	out := make(map[string]any, len(t.fields))
	for _, f := range t.fields {
		fv, ok := m[f.name]
		ft := f.typ
		if !ok {
			if !f.hasDef {
				return nil, fmt.Errorf("field %q is missing and has no default", f.name)
			}
			fv = f.def
			if ft.kind == "union" && len(ft.branches) > 0 {
				nv, err := nativeFromJSON(ft.branches[0], fv)
				if err != nil {
					return nil, fmt.Errorf("field %q default: %s", f.name, err)
				}
				if ft.branches[0].kind != "null" {
					nv = map[string]any{ft.branches[0].unionName: nv}
				}
				out[f.name] = nv
				continue
			}
		}
		nv, err := nativeFromJSON(ft, fv)
		if err != nil {
			return nil, fmt.Errorf("field %q: %s", f.name, err)
		}
		out[f.name] = nv
	}
	return out, nil
}

func jsonRat(v any) (*big.Rat, error) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("want a number, got %s", jsonKind(v))
	}
	r, ok := new(big.Rat).SetString(n.String())
	if !ok {
		return nil, fmt.Errorf("%s is not a number", n)
	}
	return r, nil
}

func jsonInt(v any, kind string, lo, hi int64) (int64, error) {
	r, err := jsonRat(v)
	if err != nil {
		return 0, err
	}
	if !r.IsInt() || !r.Num().IsInt64() || r.Num().Int64() < lo || r.Num().Int64() > hi {
		return 0, fmt.Errorf("%v is not a whole number that fits %s", v, kind)
	}
	return r.Num().Int64(), nil
}

// jsonDecimal reads a decimal option as a JSON number or a numeric string.
func jsonDecimal(v any) (*big.Rat, error) {
	if s, ok := v.(string); ok {
		v = json.Number(s)
	}
	return jsonRat(v)
}

func showJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// cloneNative deep-copies the mutable parts of a native value.
func cloneNative(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneNative(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneNative(e)
		}
		return out
	case []byte:
		return slices.Clone(x)
	case *big.Rat:
		return new(big.Rat).Set(x)
	}
	return v
}
