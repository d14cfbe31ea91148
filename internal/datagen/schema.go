package datagen

import (
	"encoding/json"
	"fmt"
	"strings"
)

// avroType is one node of a parsed schema: just what generation needs. goavro
// has already validated the schema when the parser sees it, so the parser
// only reads; it does not re-check Avro's rules.
type avroType struct {
	kind    string // null, boolean, int, long, float, double, bytes, string, record, enum, array, map, fixed, union
	logical string // a logical type this package generates for ("" when none applies)

	fullName  string // named types: namespace.name
	unionName string // the branch name goavro.Union expects for this type

	fields    []*avroField // record
	symbols   []string     // enum
	size      int          // fixed
	items     *avroType    // array
	values    *avroType    // map
	branches  []*avroType  // union
	precision int          // decimal
	scale     int          // decimal
	pattern   string       // validated-string

	props map[string]any // the "arg.properties" object, nil when absent

	// Named types are compiled once and shared by every reference to them
	// (so an iteration on a named type advances once per use, as upstream).
	gen      genFunc
	compiled bool
}

type avroField struct {
	name   string
	typ    *avroType
	def    any
	hasDef bool
	props  map[string]any // field-level arg.properties: only "position"
}

type parser struct {
	named map[string]*avroType
}

// maxFixedSize bounds a fixed type's size: one generated value is allocated
// whole, and a schema asking for terabytes is a mistake, not a workload.
const maxFixedSize = 1 << 20

func newParser() *parser { return &parser{named: map[string]*avroType{}} }

var primitives = map[string]bool{
	"null": true, "boolean": true, "int": true, "long": true,
	"float": true, "double": true, "bytes": true, "string": true,
}

// parse reads a schema node. ns is the enclosing namespace, path the dotted
// field path used in error messages.
func (p *parser) parse(v any, ns, path string) (*avroType, error) {
	switch x := v.(type) {
	case string:
		if primitives[x] {
			return &avroType{kind: x, unionName: x}, nil
		}
		return p.lookup(x, ns, path)
	case []any:
		t := &avroType{kind: "union", unionName: "union"}
		for _, b := range x {
			bt, err := p.parse(b, ns, path)
			if err != nil {
				return nil, err
			}
			t.branches = append(t.branches, bt)
		}
		return t, nil
	case map[string]any:
		return p.parseObject(x, ns, path)
	}
	return nil, fmt.Errorf("%s: type must be a string, an array or an object, not %T", where(path), v)
}

func (p *parser) lookup(name, ns, path string) (*avroType, error) {
	if !strings.Contains(name, ".") && ns != "" {
		if t, ok := p.named[ns+"."+name]; ok {
			return t, nil
		}
	}
	if t, ok := p.named[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("%s: unknown type %q", where(path), name)
}

func (p *parser) parseObject(m map[string]any, ns, path string) (*avroType, error) {
	props, err := argProperties(m, path)
	if err != nil {
		return nil, err
	}
	typ, ok := m["type"].(string)
	if !ok {
		// {"type": {...}} or {"type": [...]}: a wrapped type.
		if inner, ok := m["type"]; ok {
			return p.parse(inner, ns, path)
		}
		return nil, fmt.Errorf("%s: schema object has no \"type\"", where(path))
	}
	logical, _ := m["logicalType"].(string)
	t := &avroType{kind: typ, unionName: typ, props: props}
	switch typ {
	case "null", "boolean", "float", "double":
	case "int", "long", "string":
		t.logical, t.unionName = intLogical(typ, logical)
		if typ == "string" && logical == "validated-string" {
			if pat, ok := m["pattern"].(string); ok {
				t.logical, t.pattern = logical, strings.TrimSpace(pat)
				t.unionName = ownName(m, ns, "string.validated-string")
			}
		}
	case "bytes":
		if logical == "decimal" {
			t.logical = logical
			t.unionName = ownName(m, ns, "bytes.decimal")
			t.precision, t.scale = intProp(m, "precision"), intProp(m, "scale")
		}
	case "record", "error", "enum", "fixed":
		name, _ := m["name"].(string)
		space, _ := m["namespace"].(string)
		t.fullName = fullName(name, space, ns)
		t.unionName = t.fullName
		p.named[t.fullName] = t
		switch typ {
		case "record", "error":
			t.kind = "record"
			if err := p.parseFields(t, m, path); err != nil {
				return nil, err
			}
		case "enum":
			syms, _ := m["symbols"].([]any)
			for _, s := range syms {
				str, _ := s.(string)
				t.symbols = append(t.symbols, str)
			}
		case "fixed":
			t.size = intProp(m, "size")
			if t.size < 0 || t.size > maxFixedSize {
				return nil, fmt.Errorf("%s: fixed %s: size %d is outside 0..%d", where(path), t.fullName, t.size, maxFixedSize)
			}
			if logical == "decimal" {
				t.logical = logical
				t.precision, t.scale = intProp(m, "precision"), intProp(m, "scale")
			}
		}
	case "array":
		items, err := p.parse(m["items"], ns, path+"[]")
		if err != nil {
			return nil, err
		}
		t.items = items
	case "map":
		values, err := p.parse(m["values"], ns, path+"{}")
		if err != nil {
			return nil, err
		}
		t.values = values
	default:
		// {"type": "Address"}: a reference to a named type, in object form.
		ref, err := p.lookup(typ, ns, path)
		if err != nil {
			return nil, err
		}
		if props != nil {
			return nil, fmt.Errorf("%s: arg.properties cannot sit on a reference to %s; put them where %s is defined", where(path), ref.fullName, ref.fullName)
		}
		return ref, nil
	}
	return t, nil
}

func (p *parser) parseFields(t *avroType, m map[string]any, path string) error {
	ns := t.fullName[:max(strings.LastIndexByte(t.fullName, '.'), 0)]
	fields, _ := m["fields"].([]any)
	for _, fv := range fields {
		fm, _ := fv.(map[string]any)
		name, _ := fm["name"].(string)
		fpath := name
		if path != "" {
			fpath = path + "." + name
		}
		ft, err := p.parse(fm["type"], ns, fpath)
		if err != nil {
			return err
		}
		fprops, err := argProperties(fm, fpath)
		if err != nil {
			return err
		}
		f := &avroField{name: name, typ: ft, props: fprops}
		f.def, f.hasDef = fm["default"]
		t.fields = append(t.fields, f)
	}
	return nil
}

// intLogical returns the logical type this package honours on an int, long or
// string, and the union branch name goavro gives the type. goavro treats a
// logical type it does not know, or one on the wrong base type, as the base
// type (so {"type":"string","logicalType":"uuid"} is the branch "string").
func intLogical(kind, logical string) (string, string) {
	switch kind + "." + logical {
	case "int.date", "int.time-millis",
		"long.timestamp-millis", "long.timestamp-micros", "long.time-micros":
		return logical, kind + "." + logical
	case "long.local-timestamp-millis", "long.local-timestamp-micros", "string.uuid":
		return logical, kind
	}
	return "", kind
}

// ownName is the union branch name of a logical type goavro registers under a
// fixed name unless the schema names it.
func ownName(m map[string]any, ns, dflt string) string {
	name, ok := m["name"].(string)
	if !ok {
		return dflt
	}
	space, _ := m["namespace"].(string)
	return fullName(name, space, ns)
}

func fullName(name, space, enclosing string) string {
	switch {
	case strings.Contains(name, "."):
		return name
	case space != "":
		return space + "." + name
	case enclosing != "":
		return enclosing + "." + name
	}
	return name
}

func intProp(m map[string]any, key string) int {
	n, _ := m[key].(json.Number)
	i, _ := n.Int64()
	return int(i)
}

func argProperties(m map[string]any, path string) (map[string]any, error) {
	raw, ok := m["arg.properties"]
	if !ok {
		return nil, nil
	}
	props, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: arg.properties must be an object, not %s", where(path), jsonKind(raw))
	}
	return props, nil
}

// where names the place an error is about: a field path, or the top level.
func where(path string) string {
	if path == "" {
		return "top-level record"
	}
	return fmt.Sprintf("field %q", path)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
