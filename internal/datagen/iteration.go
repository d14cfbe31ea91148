package datagen

import (
	"fmt"
	"math"
	"math/big"
)

// iterValues are the numbers of an iteration annotation, exactly as written;
// nil when left out.
type iterValues struct {
	start, step, restart, initial *big.Rat
	raw                           map[string]any
}

// parseIteration reads {"start", "step", "restart", "initial"} and applies
// upstream's checks: start is required, step is not 0, restart differs from
// start, and step points from start towards restart.
func parseIteration(props map[string]any, path string) (iterValues, error) {
	m, err := object(props, annIteration, path, "start", "step", "restart", "initial")
	if err != nil {
		return iterValues{}, err
	}
	iv := iterValues{raw: m}
	if _, ok := m["start"]; !ok {
		return iterValues{}, fmt.Errorf("%s: iteration needs start", where(path))
	}
	for _, f := range []struct {
		key string
		dst **big.Rat
	}{{"start", &iv.start}, {"step", &iv.step}, {"restart", &iv.restart}, {"initial", &iv.initial}} {
		v, ok := m[f.key]
		if !ok {
			continue
		}
		if *f.dst, err = number(v, "iteration."+f.key, path); err != nil {
			return iterValues{}, err
		}
	}
	if iv.step != nil && iv.step.Sign() == 0 {
		return iterValues{}, fmt.Errorf("%s: iteration.step must not be 0", where(path))
	}
	if iv.restart != nil {
		switch c := iv.restart.Cmp(iv.start); {
		case c == 0:
			return iterValues{}, fmt.Errorf("%s: iteration.start %v == iteration.restart %v", where(path), m["start"], m["restart"])
		case iv.step != nil && c > 0 && iv.step.Sign() < 0:
			return iterValues{}, fmt.Errorf("%s: iteration.step %v must be positive when restart %v > start %v", where(path), m["step"], m["restart"], m["start"])
		case iv.step != nil && c < 0 && iv.step.Sign() > 0:
			return iterValues{}, fmt.Errorf("%s: iteration.step %v must be negative when restart %v < start %v", where(path), m["step"], m["restart"], m["start"])
		}
	}
	return iv, nil
}

// iterKeys is the order in which iteration values are checked, so that the
// first error reported does not depend on map order.
var iterKeys = []string{"start", "step", "restart", "initial"}

// intSeq is an iteration over whole numbers. It works on the offset from
// start, modulo span = |restart-start|, in uint64 so that a long sequence
// spanning the whole int64 range neither overflows nor needs big numbers per
// value.
type intSeq struct {
	first   bool
	initial int64
	start   int64
	neg     bool   // step < 0: values go down from start
	span    uint64 // |restart - start|
	stepMag uint64 // |step| mod span
	off     uint64 // offset of the next value from start, in [0, span)
}

func (s *intSeq) next() int64 {
	if s.first {
		s.first = false
		return s.initial
	}
	v := uint64(s.start) + s.off
	if s.neg {
		v = uint64(s.start) - s.off
	}
	if s.off >= s.span-s.stepMag {
		s.off -= s.span - s.stepMag
	} else {
		s.off += s.stepMag
	}
	return int64(v)
}

// newIntSeq builds the sequence for whole numbers in [lo, hi]. Without
// restart it wraps at the type's limit (hi, or lo for a negative step).
func newIntSeq(iv iterValues, path, kind string, lo, hi int64) (*intSeq, error) {
	ints := map[string]*big.Int{}
	for _, key := range iterKeys {
		if iv.raw[key] == nil {
			continue
		}
		n, err := integer(iv.raw[key], "iteration."+key, path, kind, lo, hi)
		if err != nil {
			return nil, err
		}
		ints[key] = big.NewInt(n)
	}
	seq := seqFromInts(ints, lo, hi)
	if seq == nil {
		return nil, fmt.Errorf("%s: iteration.start %v is the limit of %s: give a restart", where(path), iv.raw["start"], kind)
	}
	return seq, nil
}

// seqFromInts applies the defaults; nil when start is where the sequence
// would have to restart (start at the type's limit and no restart given).
func seqFromInts(ints map[string]*big.Int, lo, hi int64) *intSeq {
	start, step, restart := ints["start"], ints["step"], ints["restart"]
	switch {
	case step == nil && restart == nil:
		step, restart = big.NewInt(1), big.NewInt(hi)
	case restart == nil && step.Sign() > 0:
		restart = big.NewInt(hi)
	case restart == nil:
		restart = big.NewInt(lo)
	case step == nil && restart.Cmp(start) > 0:
		step = big.NewInt(1)
	case step == nil:
		step = big.NewInt(-1)
	}
	initial := ints["initial"]
	if initial == nil {
		initial = start
	}
	span := new(big.Int).Sub(restart, start)
	span.Abs(span)
	if span.Sign() == 0 {
		return nil
	}
	stepMag := new(big.Int).Abs(step)
	stepMag.Mod(stepMag, span)
	off := new(big.Int).Sub(initial, start)
	off.Add(off, step).Abs(off).Mod(off, span)
	return &intSeq{
		first:   true,
		initial: initial.Int64(),
		start:   start.Int64(),
		neg:     step.Sign() < 0,
		span:    span.Uint64(),
		stepMag: stepMag.Uint64(),
		off:     off.Uint64(),
	}
}

// floatSeq is an iteration over float or double. When every number of the
// annotation is a decimal with at most 18 digits after the point it runs as an
// intSeq on the numbers scaled by 10^digits, so steps of 0.1 stay exact, as
// upstream's BigDecimal arithmetic does. Otherwise it falls back to float64
// arithmetic with math.Mod, which can accumulate rounding.
type floatSeq struct {
	scaled *intSeq
	div    float64

	// fallback: value = start + cur, cur = (cur + step) mod span
	start, step, span, cur float64
}

func (s *floatSeq) next() float64 {
	if s.scaled != nil {
		v := s.scaled.next()
		if s.div == 1 {
			return float64(v)
		}
		return float64(v) / s.div
	}
	v := s.start + s.cur
	s.cur = math.Mod(s.cur+s.step, s.span)
	return v
}

func newFloatSeq(iv iterValues, limit float64) *floatSeq {
	vals := map[string]*big.Rat{"start": iv.start, "step": iv.step, "restart": iv.restart, "initial": iv.initial}
scale:
	for digits := 0; digits <= 18; digits++ {
		scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil))
		ints := map[string]*big.Int{}
		for _, key := range iterKeys {
			if vals[key] == nil {
				continue
			}
			x := new(big.Rat).Mul(vals[key], scale)
			if !x.IsInt() {
				continue scale // needs more digits
			}
			if !x.Num().IsInt64() {
				break scale // too large to scale: fall back
			}
			ints[key] = x.Num()
		}
		if seq := seqFromInts(ints, math.MinInt64, math.MaxInt64); seq != nil {
			return &floatSeq{scaled: seq, div: math.Pow10(digits)}
		}
		break
	}
	f := func(r *big.Rat) float64 { x, _ := r.Float64(); return x }
	s := &floatSeq{start: f(iv.start), step: 1, span: limit}
	switch {
	case iv.step == nil && iv.restart == nil:
		s.span = limit - s.start
	case iv.restart == nil:
		s.step = f(iv.step)
		s.span = math.Copysign(limit, s.step) - s.start
	default:
		s.span = f(iv.restart) - s.start
		s.step = math.Copysign(1, s.span)
		if iv.step != nil {
			s.step = f(iv.step)
		}
	}
	s.cur = 0
	if iv.initial != nil {
		s.cur = f(iv.initial) - s.start
	}
	return s
}
