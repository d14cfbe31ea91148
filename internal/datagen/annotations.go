package datagen

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
)

// The annotation names, as kafka-connect-datagen's avro-random-generator
// spells them inside "arg.properties".
const (
	// annOptions picks one value of a JSON array, uniformly, for any type.
	// Values are in Avro's JSON form for the type: a record option is an
	// object of its fields (missing fields take their schema default), an
	// enum option one of its symbols, a bytes or fixed option a string, a
	// timestamp-millis option a number of milliseconds since 1970.
	//
	//	{"type": "string", "arg.properties": {"options": ["MALE", "FEMALE", "OTHER"]}}
	//
	// options stands alone: it cannot be combined with another annotation.
	annOptions = "options"

	// annRange draws a number in [min, max): min is inclusive, max is
	// exclusive, for int, long, float and double (and the logical types on
	// them: a timestamp-millis range is in milliseconds since 1970). Either
	// bound may be left out, meaning the type's own limit.
	//
	//	{"type": "int", "arg.properties": {"range": {"min": 1, "max": 7}}}  // 1..6, a die
	annRange = "range"

	// annIteration gives a sequence instead of random values. The first
	// value is initial (default start); each next value adds step (default 1,
	// or -1 when restart < start), and a value that reaches restart wraps
	// around by the distance restart-start, the way a clock wraps at 12:
	//
	//	{"iteration": {"start": 1, "restart": 4}}           // 1 2 3 1 2 3 ...
	//	{"iteration": {"start": 0, "step": 2, "restart": 5}} // 0 2 4 1 3 0 ...
	//	{"iteration": {"start": 0, "restart": 3, "initial": 2}} // 2 0 1 2 0 ...
	//
	// Without restart the sequence runs to the type's maximum (minimum for a
	// negative step). It applies to int, long, float and double (decimal
	// steps such as 0.1 are exact: 0.1 0.2 0.3, not 0.30000000000000004), to
	// string (the decimal digits of a long sequence, with prefix and suffix:
	// {"iteration": {"start": 1}, "prefix": "order-"} gives order-1 order-2
	// ...), and to boolean, where only start is allowed and the values
	// alternate: true false true ...
	annIteration = "iteration"

	// annRegex generates a string that the regular expression (RE2 syntax,
	// as Go's regexp) matches in full. The length annotation is a target the
	// regex is steered towards: repeats and alternatives are chosen to land
	// in it, and when the regex cannot, the nearest length it can make wins.
	// Without length the target is upstream's default, 8 to 15 characters,
	// so, as upstream, "User_[1-9]?" always gets its digit and
	// "User_[1-9][0-9]?" always two; give a length to spread them:
	//
	//	{"regex": "User_[1-9][0-9]?", "length": {"min": 6, "max": 8}} // User_1 .. User_99
	annRegex = "regex"

	// annLength sets the length of a string (in characters), bytes, array
	// or map (number of entries drawn: equal keys collapse). A number means
	// exactly that length; an object {"min": 2, "max": 6} draws a length in
	// [min, max), max exclusive; a missing min is 0 and a missing max is
	// min+8. The default, as upstream, is {"min": 8, "max": 16}. With regex,
	// length is a target the regex is steered towards, not a hard limit.
	annLength = "length"

	// annPrefix and annSuffix are put before and after a generated string
	// (random, regex or iteration): {"regex": "[0-9]{4}", "prefix": "C-"}
	// gives C-0412.
	annPrefix = "prefix"
	annSuffix = "suffix"

	// annKeys holds string annotations (options, regex, length, prefix,
	// suffix, iteration) for the keys of a map; Avro map keys are always
	// strings, so they have no schema of their own to carry them.
	//
	//	{"type": "map", "values": "int",
	//	 "arg.properties": {"length": 3, "keys": {"options": ["a", "b", "c"]}}}
	annKeys = "keys"

	// annOdds is the probability, 0.0 to 1.0, that a boolean is true:
	// {"type": "boolean", "arg.properties": {"odds": 0.9}} is true 9 times
	// in 10. Upstream applies odds to booleans only; union branches are
	// picked uniformly (or by position).
	annOdds = "odds"

	// annPosition sits in the arg.properties of a field whose type is a
	// union (a union is a JSON array and has no place of its own for them)
	// and always picks that branch, counting from 0:
	//
	//	{"name": "age", "type": ["null", "int"], "arg.properties": {"position": 1}}
	annPosition = "position"
)

// allowed lists the annotations each type accepts; anything else is an error
// rather than silently ignored, so a typo or a misplaced annotation shows up.
var allowed = map[string][]string{
	"null":    {annOptions},
	"boolean": {annOptions, annIteration, annOdds},
	"int":     {annOptions, annRange, annIteration},
	"long":    {annOptions, annRange, annIteration},
	"float":   {annOptions, annRange, annIteration},
	"double":  {annOptions, annRange, annIteration},
	"bytes":   {annOptions, annLength},
	"string":  {annOptions, annIteration, annRegex, annLength, annPrefix, annSuffix},
	"enum":    {annOptions},
	"fixed":   {annOptions},
	"record":  {annOptions},
	"array":   {annOptions, annLength},
	"map":     {annOptions, annLength, annKeys},
}

// checkProps rejects unknown annotations, annotations the type does not take,
// and combinations upstream forbids: options stands alone, and iteration
// takes no range, regex or length.
func checkProps(kind string, props map[string]any, path string) error {
	if props == nil {
		return nil
	}
	keys := sortedKeys(props)
	for _, k := range keys {
		if !slices.Contains(allowed[kind], k) {
			for _, ks := range allowed {
				if slices.Contains(ks, k) {
					return fmt.Errorf("%s: %s does not apply to %s", where(path), k, kind)
				}
			}
			return fmt.Errorf("%s: unknown annotation %q in arg.properties", where(path), k)
		}
	}
	if _, ok := props[annOptions]; ok && len(props) > 1 {
		for _, k := range keys {
			if k != annOptions {
				return fmt.Errorf("%s: options cannot be combined with %s", where(path), k)
			}
		}
	}
	if _, ok := props[annIteration]; ok {
		for _, k := range []string{annRange, annRegex, annLength, annOdds} {
			if _, ok := props[k]; ok {
				return fmt.Errorf("%s: iteration cannot be combined with %s", where(path), k)
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// number reads a JSON number annotation value exactly (json.Number keeps the
// text, so long bounds beyond 2^53 and decimals like 0.1 survive).
func number(v any, name, path string) (*big.Rat, error) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a number, not %s", where(path), name, jsonKind(v))
	}
	r, ok := new(big.Rat).SetString(n.String())
	if !ok {
		return nil, fmt.Errorf("%s: %s %s is not a number", where(path), name, n)
	}
	return r, nil
}

// integer reads a JSON number that must be a whole number within [lo, hi].
func integer(v any, name, path, kind string, lo, hi int64) (int64, error) {
	r, err := number(v, name, path)
	if err != nil {
		return 0, err
	}
	if !r.IsInt() {
		return 0, fmt.Errorf("%s: %s %s is not a whole number, as %s needs", where(path), name, v, kind)
	}
	n := r.Num()
	if !n.IsInt64() || n.Int64() < lo || n.Int64() > hi {
		return 0, fmt.Errorf("%s: %s %s does not fit %s", where(path), name, v, kind)
	}
	return n.Int64(), nil
}

// object reads an annotation whose value must be a JSON object with only the
// given keys.
func object(props map[string]any, ann, path string, keys ...string) (map[string]any, error) {
	m, ok := props[ann].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be an object, not %s", where(path), ann, jsonKind(props[ann]))
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(keys, k) {
			return nil, fmt.Errorf("%s: %s has no %q (it takes %s)", where(path), ann, k, strings.Join(keys, ", "))
		}
	}
	return m, nil
}

// lengthBounds is a length in [min, max).
type lengthBounds struct{ min, max int }

// defaultLength is upstream's default for strings, bytes, arrays and maps.
var defaultLength = lengthBounds{8, 16}

// maxLength keeps a schema from asking for gigabyte values by accident.
const maxLength = 1 << 20

func parseLength(props map[string]any, path string) (lengthBounds, error) {
	v, ok := props[annLength]
	if !ok {
		return defaultLength, nil
	}
	if _, ok := v.(json.Number); ok {
		n, err := integer(v, "length", path, "a length", 0, maxLength)
		if err != nil {
			return lengthBounds{}, err
		}
		return lengthBounds{int(n), int(n) + 1}, nil
	}
	m, err := object(props, annLength, path, "min", "max")
	if err != nil {
		return lengthBounds{}, fmt.Errorf("%s: length must be a number or an object {min, max}, not %s", where(path), jsonKind(v))
	}
	if len(m) == 0 {
		return lengthBounds{}, fmt.Errorf("%s: length needs min or max", where(path))
	}
	b := lengthBounds{min: 0, max: -1}
	if mv, ok := m["min"]; ok {
		n, err := integer(mv, "length.min", path, "a length", 0, maxLength)
		if err != nil {
			return lengthBounds{}, err
		}
		b.min = int(n)
	}
	if mv, ok := m["max"]; ok {
		n, err := integer(mv, "length.max", path, "a length", 0, maxLength)
		if err != nil {
			return lengthBounds{}, err
		}
		b.max = int(n)
		if b.max <= b.min {
			return lengthBounds{}, fmt.Errorf("%s: length.min %v >= length.max %v (max is exclusive)", where(path), m["min"], mv)
		}
	} else {
		b.max = b.min + 8
	}
	return b, nil
}

func parseOdds(props map[string]any, path string) (float64, bool, error) {
	v, ok := props[annOdds]
	if !ok {
		return 0, false, nil
	}
	r, err := number(v, "odds", path)
	if err != nil {
		return 0, false, err
	}
	f, _ := r.Float64()
	if f < 0 || f > 1 {
		return 0, false, fmt.Errorf("%s: odds %v is not between 0.0 and 1.0", where(path), v)
	}
	return f, true, nil
}

func parseString(props map[string]any, key, path string) (string, error) {
	v, ok := props[key]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: %s must be a string, not %s", where(path), key, jsonKind(v))
	}
	return s, nil
}

// parseIntRange reads a range annotation for int and long: [min, max).
func parseIntRange(props map[string]any, path, kind string, lo, hi int64) (min, max int64, err error) {
	m, err := object(props, annRange, path, "min", "max")
	if err != nil {
		return 0, 0, err
	}
	if len(m) == 0 {
		return 0, 0, fmt.Errorf("%s: range needs min or max", where(path))
	}
	min, max = lo, hi
	if v, ok := m["min"]; ok {
		if min, err = integer(v, "range.min", path, kind, lo, hi); err != nil {
			return 0, 0, err
		}
	}
	if v, ok := m["max"]; ok {
		if max, err = integer(v, "range.max", path, kind, lo, hi); err != nil {
			return 0, 0, err
		}
	}
	if min >= max {
		return 0, 0, fmt.Errorf("%s: range.min %s >= range.max %s (max is exclusive)", where(path), show(m["min"], min), show(m["max"], max))
	}
	return min, max, nil
}

// parseFloatRange reads a range annotation for float and double: [min, max).
func parseFloatRange(props map[string]any, path, kind string, limit float64) (min, max float64, err error) {
	m, err := object(props, annRange, path, "min", "max")
	if err != nil {
		return 0, 0, err
	}
	if len(m) == 0 {
		return 0, 0, fmt.Errorf("%s: range needs min or max", where(path))
	}
	min, max = -limit, limit
	for _, b := range []struct {
		key string
		dst *float64
	}{{"min", &min}, {"max", &max}} {
		v, ok := m[b.key]
		if !ok {
			continue
		}
		r, err := number(v, "range."+b.key, path)
		if err != nil {
			return 0, 0, err
		}
		f, _ := r.Float64()
		if math.Abs(f) > limit {
			return 0, 0, fmt.Errorf("%s: range.%s %v does not fit %s", where(path), b.key, v, kind)
		}
		*b.dst = f
	}
	if min >= max {
		return 0, 0, fmt.Errorf("%s: range.min %s >= range.max %s (max is exclusive)", where(path), show(m["min"], min), show(m["max"], max))
	}
	return min, max, nil
}

// show prints an annotation value as written, or the default it took.
func show(v any, dflt any) string {
	if v != nil {
		return fmt.Sprint(v)
	}
	return fmt.Sprint(dflt)
}
