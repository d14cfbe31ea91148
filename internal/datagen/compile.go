package datagen

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"time"
)

// genFunc produces one value of a type, in goavro native form. Schemas are
// compiled into a tree of genFuncs once, in New; Next only calls them.
type genFunc func(r *rand.Rand) any

type compiler struct {
	// depth counts the records that can contain themselves (see maxDepth)
	// being generated now, one inside the other.
	depth int
}

// compile returns the generator for t. A named type is compiled once; every
// reference shares it (through an indirection, so recursive types work).
func (c *compiler) compile(t *avroType, path string) (genFunc, error) {
	if t.fullName == "" {
		return c.body(t, path)
	}
	if t.compiled {
		return t.gen, nil
	}
	t.compiled = true
	var body genFunc
	t.gen = func(r *rand.Rand) any { return body(r) }
	if recursive(t) {
		t.gen = func(r *rand.Rand) any {
			c.depth++
			defer func() { c.depth-- }()
			return body(r)
		}
	}
	b, err := c.body(t, path)
	if err != nil {
		return nil, err
	}
	body = b
	return t.gen, nil
}

func (c *compiler) body(t *avroType, path string) (genFunc, error) {
	if t.kind == "union" {
		return c.union(t, nil, path)
	}
	if err := checkProps(t.kind, t.props, path); err != nil {
		return nil, err
	}
	if _, ok := t.props[annOptions]; ok {
		return c.options(t, path)
	}
	switch t.kind {
	case "null":
		return func(*rand.Rand) any { return nil }, nil
	case "boolean":
		return c.boolean(t, path)
	case "int", "long":
		return c.integral(t, path)
	case "float", "double":
		return c.floating(t, path)
	case "bytes":
		return c.bytes(t, path)
	case "string":
		return c.str(t, path)
	case "enum":
		// Unannotated enums pick a symbol uniformly.
		syms := t.symbols
		return func(r *rand.Rand) any { return syms[r.IntN(len(syms))] }, nil
	case "fixed":
		if t.logical == "decimal" {
			return decimalGen(t.precision, t.scale, t.size), nil
		}
		size := t.size
		return func(r *rand.Rand) any { return randomBytes(r, size) }, nil
	case "array":
		return c.array(t, path)
	case "map":
		return c.mapGen(t, path)
	case "record":
		return c.record(t, path)
	}
	return nil, fmt.Errorf("%s: unsupported type %s", where(path), t.kind)
}

// record generates its fields in schema order, so the random stream does not
// depend on Go's map iteration order.
func (c *compiler) record(t *avroType, path string) (genFunc, error) {
	type field struct {
		name string
		gen  genFunc
	}
	fields := make([]field, len(t.fields))
	for i, f := range t.fields {
		fpath := f.name
		if path != "" {
			fpath = path + "." + f.name
		}
		var g genFunc
		var err error
		if f.typ.kind == "union" {
			g, err = c.union(f.typ, f.props, fpath)
		} else {
			if f.props != nil {
				return nil, fmt.Errorf("%s: arg.properties on a field only take position, for a union; put annotations inside the type object, as in {\"type\": {\"type\": %q, \"arg.properties\": {...}}}", where(fpath), f.typ.kind)
			}
			g, err = c.compile(f.typ, fpath)
		}
		if err != nil {
			return nil, err
		}
		fields[i] = field{f.name, g}
	}
	n := len(fields)
	return func(r *rand.Rand) any {
		m := make(map[string]any, n)
		for _, f := range fields {
			m[f.name] = f.gen(r)
		}
		return m
	}, nil
}

// union picks a branch uniformly, or always the one the field's position
// annotation names, and wraps the value as goavro.Union does: nil for null,
// {"branch name": value} otherwise.
func (c *compiler) union(t *avroType, fieldProps map[string]any, path string) (genFunc, error) {
	pos := -1
	for _, k := range sortedKeys(fieldProps) {
		if k != annPosition {
			return nil, fmt.Errorf("%s: arg.properties on a union field only take position; put other annotations inside a branch's type object", where(path))
		}
		p, err := integer(fieldProps[k], "position", path, fmt.Sprintf("a branch index of this %d-branch union", len(t.branches)), 0, int64(len(t.branches)-1))
		if err != nil {
			return nil, err
		}
		pos = int(p)
	}
	gens := make([]genFunc, len(t.branches))
	for i, b := range t.branches {
		g, err := c.compile(b, path)
		if err != nil {
			return nil, err
		}
		name := b.unionName
		if b.kind == "null" {
			gens[i] = g
			continue
		}
		gens[i] = func(r *rand.Rand) any { return map[string]any{name: g(r)} }
	}
	pick := func(r *rand.Rand) any { return gens[r.IntN(len(gens))](r) }
	if pos >= 0 {
		pick = gens[pos]
	}
	if !recursive(t) {
		return pick, nil
	}
	var ends []genFunc // the branches that cannot lead back to this union
	for i, b := range t.branches {
		if !reaches(b, t) {
			ends = append(ends, gens[i])
		}
	}
	if len(ends) == 0 {
		return nil, fmt.Errorf("%s: every branch of this union leads back to it, so no value would end; add \"null\" or another branch that does not", where(path))
	}
	return func(r *rand.Rand) any {
		if c.depth >= maxDepth {
			return ends[r.IntN(len(ends))](r)
		}
		return pick(r)
	}, nil
}

// boolean: odds sets the chance of true; iteration alternates from start;
// unannotated booleans are a fair coin.
func (c *compiler) boolean(t *avroType, path string) (genFunc, error) {
	if _, ok := t.props[annIteration]; ok {
		m, err := object(t.props, annIteration, path, "start")
		if err != nil {
			return nil, fmt.Errorf("%s: a boolean iteration takes only start (true or false)", where(path))
		}
		next, ok := m["start"].(bool)
		if !ok {
			return nil, fmt.Errorf("%s: a boolean iteration needs start true or false", where(path))
		}
		return func(*rand.Rand) any {
			v := next
			next = !next
			return v
		}, nil
	}
	odds, ok, err := parseOdds(t.props, path)
	if err != nil {
		return nil, err
	}
	if ok {
		return func(r *rand.Rand) any { return r.Float64() < odds }, nil
	}
	return func(r *rand.Rand) any { return r.Uint64()&1 == 1 }, nil
}

// integral covers int and long and their logical types. Annotations work in
// the underlying unit (days for date, milliseconds for timestamp-millis, ...);
// the result is converted to goavro's native type last.
func (c *compiler) integral(t *avroType, path string) (genFunc, error) {
	lo, hi, kind := int64(math.MinInt64), int64(math.MaxInt64), "long"
	if t.kind == "int" {
		lo, hi, kind = math.MinInt32, math.MaxInt32, "int"
	}
	conv := integralConv(t)
	if _, ok := t.props[annIteration]; ok {
		iv, err := parseIteration(t.props, path)
		if err != nil {
			return nil, err
		}
		seq, err := newIntSeq(iv, path, kind, lo, hi)
		if err != nil {
			return nil, err
		}
		return func(*rand.Rand) any { return conv(seq.next()) }, nil
	}
	if _, ok := t.props[annRange]; ok {
		min, max, err := parseIntRange(t.props, path, kind, lo, hi)
		if err != nil {
			return nil, err
		}
		span := uint64(max) - uint64(min)
		return func(r *rand.Rand) any { return conv(int64(uint64(min) + r.Uint64N(span))) }, nil
	}
	return integralDefault(t, conv), nil
}

// integralConv turns a whole number in the type's unit into goavro's native
// value for it.
func integralConv(t *avroType) func(int64) any {
	switch t.kind + "." + t.logical {
	case "int.":
		return func(v int64) any { return int32(v) }
	case "int.date":
		return func(v int64) any { return time.Unix(v*86400, 0).UTC() }
	case "int.time-millis":
		return func(v int64) any { return time.Duration(v) * time.Millisecond }
	case "long.timestamp-millis":
		return func(v int64) any { return time.UnixMilli(v).UTC() }
	case "long.timestamp-micros":
		return func(v int64) any { return time.UnixMicro(v).UTC() }
	case "long.time-micros":
		return func(v int64) any { return time.Duration(v) * time.Microsecond }
	}
	return func(v int64) any { return v }
}

// Unannotated whole numbers: int and long span their whole range, as
// upstream; timestamps and dates fall in the year from epoch (2025); times of day
// anywhere in the day.
func integralDefault(t *avroType, conv func(int64) any) genFunc {
	const day = 24 * time.Hour
	var base, n int64
	switch t.logical {
	case "date":
		base, n = epoch.Unix()/86400, 365
	case "time-millis":
		base, n = 0, day.Milliseconds()
	case "time-micros":
		base, n = 0, day.Microseconds()
	case "timestamp-millis", "local-timestamp-millis":
		base, n = epoch.UnixMilli(), (365 * day).Milliseconds()
	case "timestamp-micros", "local-timestamp-micros":
		base, n = epoch.UnixMicro(), (365 * day).Microseconds()
	default:
		if t.kind == "int" {
			return func(r *rand.Rand) any { return int32(r.Uint32()) }
		}
		return func(r *rand.Rand) any { return int64(r.Uint64()) }
	}
	return func(r *rand.Rand) any { return conv(base + r.Int64N(n)) }
}

// floating covers float and double. Unannotated values are in [0, 1), as
// upstream.
func (c *compiler) floating(t *avroType, path string) (genFunc, error) {
	limit, kind := math.MaxFloat64, "double"
	if t.kind == "float" {
		limit, kind = math.MaxFloat32, "float"
	}
	if _, ok := t.props[annIteration]; ok {
		iv, err := parseIteration(t.props, path)
		if err != nil {
			return nil, err
		}
		seq := newFloatSeq(iv, limit)
		if kind == "float" {
			return func(*rand.Rand) any { return float32(seq.next()) }, nil
		}
		return func(*rand.Rand) any { return seq.next() }, nil
	}
	if _, ok := t.props[annRange]; ok {
		min, max, err := parseFloatRange(t.props, path, kind, limit)
		if err != nil {
			return nil, err
		}
		// min*(1-u) + max*u cannot overflow even for the widest range;
		// rounding can reach max, which is exclusive, so such a draw is
		// replaced by the lowest value in range.
		if kind == "double" {
			return func(r *rand.Rand) any {
				u := r.Float64()
				v := min*(1-u) + max*u
				if v >= max || v < min {
					v = min
				}
				return v
			}, nil
		}
		low := float32(min)
		if float64(low) < min {
			low = math.Nextafter32(low, math.MaxFloat32)
		}
		if float64(low) >= max {
			return nil, fmt.Errorf("%s: range [%v, %v) holds no float value", where(path), min, max)
		}
		return func(r *rand.Rand) any {
			u := r.Float64()
			v := float32(min*(1-u) + max*u)
			if float64(v) >= max || float64(v) < min {
				v = low
			}
			return v
		}, nil
	}
	if kind == "float" {
		return func(r *rand.Rand) any { return r.Float32() }, nil
	}
	return func(r *rand.Rand) any { return r.Float64() }, nil
}

// bytes: random bytes of the length annotation's size, or a decimal.
func (c *compiler) bytes(t *avroType, path string) (genFunc, error) {
	if t.logical == "decimal" {
		return decimalGen(t.precision, t.scale, 0), nil
	}
	lb, err := parseLength(t.props, path)
	if err != nil {
		return nil, err
	}
	return func(r *rand.Rand) any { return randomBytes(r, lb.draw(r)) }, nil
}

func (b lengthBounds) draw(r *rand.Rand) int {
	if b.max-b.min <= 1 {
		return b.min
	}
	return b.min + r.IntN(b.max-b.min)
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		u := r.Uint64()
		for j := i; j < min(i+8, n); j++ {
			b[j] = byte(u)
			u >>= 8
		}
	}
	return b
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// str: iteration, regex, or random letters and digits (upstream draws any
// 7-bit character, control characters included; letters and digits read
// better). A uuid logical type without regex or length gives a random
// version 4 UUID; a validated-string's pattern serves as its regex. prefix
// and suffix go around whatever was generated.
func (c *compiler) str(t *avroType, path string) (genFunc, error) {
	prefix, err := parseString(t.props, annPrefix, path)
	if err != nil {
		return nil, err
	}
	suffix, err := parseString(t.props, annSuffix, path)
	if err != nil {
		return nil, err
	}
	if _, ok := t.props[annIteration]; ok {
		iv, err := parseIteration(t.props, path)
		if err != nil {
			return nil, err
		}
		seq, err := newIntSeq(iv, path, "long", math.MinInt64, math.MaxInt64)
		if err != nil {
			return nil, err
		}
		return func(*rand.Rand) any {
			return prefix + strconv.FormatInt(seq.next(), 10) + suffix
		}, nil
	}
	lb, err := parseLength(t.props, path)
	if err != nil {
		return nil, err
	}
	expr, err := parseString(t.props, annRegex, path)
	if err != nil {
		return nil, err
	}
	if expr == "" && t.logical == "validated-string" {
		expr = t.pattern
	}
	if _, ok := t.props[annRegex]; ok || expr != "" {
		rg, err := compileRegex(expr)
		if err != nil {
			return nil, fmt.Errorf("%s: regex %q: %s", where(path), expr, oneLine(err.Error()))
		}
		lo, hi := lb.min, lb.max-1
		// One buffer per field, reused: a Generator is used by one
		// goroutine, and string(buf) copies.
		buf := make([]byte, 0, len(prefix)+len(suffix)+min(hi, 64))
		return func(r *rand.Rand) any {
			buf = append(buf[:0], prefix...)
			buf = rg.generate(r, buf, lo, hi)
			buf = append(buf, suffix...)
			return string(buf)
		}, nil
	}
	if _, ok := t.props[annLength]; !ok && t.logical == "uuid" {
		return func(r *rand.Rand) any { return prefix + uuid(r) + suffix }, nil
	}
	return func(r *rand.Rand) any {
		n := lb.draw(r)
		buf := make([]byte, len(prefix)+n+len(suffix))
		copy(buf, prefix)
		for i := range n {
			buf[len(prefix)+i] = alnum[r.IntN(len(alnum))]
		}
		copy(buf[len(prefix)+n:], suffix)
		return string(buf)
	}, nil
}

// uuid formats 16 random bytes as a version 4, variant 1 UUID.
func uuid(r *rand.Rand) string {
	var b [16]byte
	hi, lo := r.Uint64(), r.Uint64()
	for i := range 8 {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// decimalGen draws a decimal with up to precision digits (fewer when a fixed
// of size bytes cannot hold them) and a random sign, as upstream does.
func decimalGen(precision, scale, size int) genFunc {
	digits := max(precision, 1)
	if size > 0 {
		limit := new(big.Int).Lsh(big.NewInt(1), uint(8*size-1))
		limit.Sub(limit, big.NewInt(1))
		digits = min(digits, len(limit.String())-1)
	}
	denom := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(scale, 0))), nil)
	return func(r *rand.Rand) any {
		n := new(big.Int)
		for left := digits; left > 0; left -= 18 {
			d := min(left, 18)
			p := int64(math.Pow10(d))
			n.Mul(n, big.NewInt(p))
			n.Add(n, big.NewInt(r.Int64N(p)))
		}
		if r.Uint64()&1 == 1 {
			n.Neg(n)
		}
		return new(big.Rat).SetFrac(n, denom)
	}
}

// array draws a length (default 8 to 15 items) and that many items; one
// that can contain itself shrinks with depth (see maxDepth).
func (c *compiler) array(t *avroType, path string) (genFunc, error) {
	lb, err := parseLength(t.props, path)
	if err != nil {
		return nil, err
	}
	items, err := c.compile(t.items, path+"[]")
	if err != nil {
		return nil, err
	}
	decay := recursive(t)
	return func(r *rand.Rand) any {
		n := lb.draw(r)
		if decay {
			n = decayed(n, c.depth)
		}
		a := make([]any, n)
		for i := range a {
			a[i] = items(r)
		}
		return a
	}, nil
}

// mapGen draws a length and that many key/value pairs; keys follow the keys
// annotation (any string annotation), values their own schema. Keys drawn
// twice collapse, so a map can have fewer entries than its length.
func (c *compiler) mapGen(t *avroType, path string) (genFunc, error) {
	lb, err := parseLength(t.props, path)
	if err != nil {
		return nil, err
	}
	keyType := &avroType{kind: "string", unionName: "string"}
	if raw, ok := t.props[annKeys]; ok {
		kp, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: keys must be an object of string annotations, not %s", where(path), jsonKind(raw))
		}
		keyType.props = kp
	}
	keys, err := c.body(keyType, path+" (keys)")
	if err != nil {
		return nil, err
	}
	values, err := c.compile(t.values, path+"{}")
	if err != nil {
		return nil, err
	}
	decay := recursive(t)
	return func(r *rand.Rand) any {
		n := lb.draw(r)
		if decay {
			n = decayed(n, c.depth)
		}
		m := make(map[string]any, n)
		for range n {
			k := keys(r).(string)
			m[k] = values(r)
		}
		return m
	}, nil
}
