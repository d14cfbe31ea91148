package datagen

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxRecordBytes bounds the largest record a schema can generate. Lengths
// multiply through nested arrays and maps: eight nested arrays of int at
// the default 8 to 15 items grew to 6.8 GB before the process died, and an
// array of a million strings of a million characters each ran out of
// memory. Kafka's default record limit is 1 MiB; 64 MiB leaves room for
// brokers configured above it.
const maxRecordBytes = 64 << 20

// checkSize refuses a schema whose largest record, encoded, would exceed
// maxRecordBytes, naming the path that makes it large and the lengths
// that multiply there. It runs before the first record is generated.
func checkSize(top *avroType) error {
	s := sizer{memo: map[sizeKey]sized{}}
	r := s.size(top, 0)
	if r.bytes <= maxRecordBytes {
		return nil
	}
	counts := make([]string, len(r.counts))
	for i, n := range r.counts {
		counts[i] = fmt.Sprint(n)
	}
	via := ""
	if len(counts) > 0 {
		via = fmt.Sprintf(", %s items", strings.Join(counts, " × "))
	}
	return fmt.Errorf("%s: a record can reach %s (%s of up to %s%s); records are limited to %s: lower a length annotation on that path",
		where(strings.TrimPrefix(r.path, ".")), bytesString(r.bytes), kindName(r.leaf), bytesString(r.leafBytes), via, bytesString(maxRecordBytes))
}

type sizeKey struct {
	t     *avroType
	depth int
}

// sized is the largest encoding of a type at a depth, and where the bulk of
// it sits: the path to the largest leaf below, that leaf's own size, and
// the item counts of the arrays and maps on the way.
type sized struct {
	bytes     float64 // float: products of lengths must not overflow
	path      string
	leaf      *avroType
	leafBytes float64
	counts    []int
}

type sizer struct{ memo map[sizeKey]sized }

// size mirrors what compile generates: the same lengths, the same decay of
// recursive arrays and maps, the same choice of union branches at maxDepth.
func (s *sizer) size(t *avroType, depth int) sized {
	k := sizeKey{t, min(depth, maxDepth)}
	if r, ok := s.memo[k]; ok {
		return r
	}
	r := s.measure(t, k.depth)
	s.memo[k] = r
	return r
}

func (s *sizer) measure(t *avroType, depth int) sized {
	if opts, ok := t.props[annOptions].([]any); ok {
		return leafSized(t, optionsBytes(opts))
	}
	switch t.kind {
	case "record":
		if recursive(t) {
			depth++
		}
		r, largest := sized{leaf: t}, -1.0
		for _, f := range t.fields {
			c := s.size(f.typ, depth)
			r.bytes += c.bytes
			if c.bytes > largest {
				largest = c.bytes
				r.path, r.leaf, r.leafBytes, r.counts = "."+f.name+c.path, c.leaf, c.leafBytes, c.counts
			}
		}
		return r
	case "array", "map":
		lb, _ := parseLength(t.props, "")
		n := lb.max - 1
		if recursive(t) {
			n = decayed(n, depth)
		}
		if n == 0 {
			return leafSized(t, 5) // empty: a recursive array at maxDepth
		}
		elem, suffix := t.items, "[]"
		if t.kind == "map" {
			elem, suffix = t.values, "{}"
		}
		c := s.size(elem, depth)
		per := c.bytes
		if t.kind == "map" {
			keys := &avroType{kind: "string"}
			if kp, ok := t.props[annKeys].(map[string]any); ok {
				keys.props = kp
			}
			per += leafBytes(keys)
		}
		return sized{bytes: 5 + float64(n)*per, path: suffix + c.path, leaf: c.leaf, leafBytes: c.leafBytes,
			counts: append([]int{n}, c.counts...)}
	case "union":
		// The largest branch bounds a field's position annotation too.
		branches := t.branches
		if recursive(t) && depth >= maxDepth {
			branches = nil
			for _, b := range t.branches {
				if !reaches(b, t) {
					branches = append(branches, b)
				}
			}
		}
		var r sized
		for _, b := range branches {
			if c := s.size(b, depth); c.bytes >= r.bytes {
				r = c
			}
		}
		r.bytes += 5
		return r
	}
	return leafSized(t, leafBytes(t))
}

func leafSized(t *avroType, n float64) sized {
	return sized{bytes: n, leaf: t, leafBytes: n}
}

// leafBytes is the largest encoding of a scalar type.
func leafBytes(t *avroType) float64 {
	const varint = 10
	switch t.kind {
	case "boolean":
		return 1
	case "int", "long", "enum":
		return varint
	case "float":
		return 4
	case "double":
		return 8
	case "fixed":
		return float64(t.size)
	case "bytes", "string":
		if t.logical == "decimal" {
			return varint + float64(t.precision)/2 + 1
		}
		if _, ok := t.props[annIteration]; ok {
			return varint + 20 + propLen(t, annPrefix) + propLen(t, annSuffix)
		}
		lb, _ := parseLength(t.props, "")
		n := float64(lb.max - 1)
		expr, _ := t.props[annRegex].(string)
		if expr == "" && t.logical == "validated-string" {
			expr = t.pattern
		}
		if _, ok := t.props[annRegex]; ok || expr != "" {
			if rg, err := compileRegex(expr); err == nil {
				n = float64(max(lb.max-1, rg.root.minLen) * utf8.UTFMax)
			}
		} else if _, ok := t.props[annLength]; !ok && t.logical == "uuid" {
			n = 36
		}
		return varint + n + propLen(t, annPrefix) + propLen(t, annSuffix)
	}
	return 0
}

func propLen(t *avroType, ann string) float64 {
	s, _ := t.props[ann].(string)
	return float64(len(s))
}

// optionsBytes bounds an option's encoding by its JSON text.
func optionsBytes(opts []any) float64 {
	n := 0
	for _, o := range opts {
		b, _ := json.Marshal(o)
		n = max(n, len(b))
	}
	return float64(n)
}

func kindName(t *avroType) string {
	if t.fullName != "" {
		return t.kind + " " + t.fullName
	}
	return t.kind
}

func bytesString(b float64) string {
	for _, u := range []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"} {
		if b < 1024 {
			return fmt.Sprintf("%.0f %s", b, u)
		}
		b /= 1024
	}
	return fmt.Sprintf("%.0f EiB", b)
}
