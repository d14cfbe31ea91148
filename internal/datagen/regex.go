package datagen

import (
	"errors"
	"math/rand/v2"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// A regexGen generates strings that a regular expression matches in full.
// It is compiled once from regexp/syntax's parse tree and draws from the
// Generator's own random source, so output is reproducible from the seed.
//
// Length steering: every node knows the shortest and longest string it can
// produce, and generation passes down a wanted length range [lo, hi]. A
// concatenation hands each part what the rest cannot absorb; a repeat draws
// its count among those that can land in the range; an alternation prefers
// branches that fit. When the range cannot be met (the regex is fixed-length,
// say), the nearest reachable length wins: the regex always matches, length
// is a target. This mirrors Generex's random(min, max) used upstream.
type regexGen struct {
	root *rxNode
}

type rxOp uint8

const (
	rxEmpty rxOp = iota
	rxLiteral
	rxClass
	rxConcat
	rxAlternate
	rxRepeat
)

// inf stands for "no upper bound" in length arithmetic.
const inf = 1 << 40

type rxNode struct {
	op     rxOp
	runes  []rune // literal runes, or class ranges as lo,hi pairs
	total  int    // class: number of runes in the ranges
	subs   []*rxNode
	min    int // repeat
	max    int // repeat; -1 = unbounded
	minLen int
	maxLen int   // inf when unbounded
	restLo []int // concat: minLen of subs[i+1:]
	restHi []int // concat: maxLen of subs[i+1:]
}

// printable is the class unbounded parts of a regex ('.', [^x]) draw from
// when they allow it: printable ASCII, which reads well in a workshop.
var printable = []rune{' ', '~'}

func compileRegex(expr string) (*regexGen, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, err
	}
	root, err := buildRx(re)
	if err != nil {
		return nil, err
	}
	return &regexGen{root: root}, nil
}

func buildRx(re *syntax.Regexp) (*rxNode, error) {
	switch re.Op {
	case syntax.OpNoMatch:
		return nil, errors.New("the regex matches no string")
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return &rxNode{op: rxEmpty}, nil
	case syntax.OpLiteral:
		n := len(re.Rune)
		return &rxNode{op: rxLiteral, runes: re.Rune, minLen: n, maxLen: n}, nil
	case syntax.OpCharClass:
		return classNode(re.Rune)
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return classNode(printable)
	case syntax.OpCapture:
		return buildRx(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		sub, err := buildRx(re.Sub[0])
		if err != nil {
			return nil, err
		}
		n := &rxNode{op: rxRepeat, subs: []*rxNode{sub}, min: re.Min, max: re.Max}
		switch re.Op {
		case syntax.OpStar:
			n.min, n.max = 0, -1
		case syntax.OpPlus:
			n.min, n.max = 1, -1
		case syntax.OpQuest:
			n.min, n.max = 0, 1
		}
		n.minLen = mulLen(n.min, sub.minLen)
		switch {
		case sub.maxLen == 0:
			n.maxLen = 0
		case n.max < 0:
			n.maxLen = inf
		default:
			n.maxLen = mulLen(n.max, sub.maxLen)
		}
		return n, nil
	case syntax.OpConcat, syntax.OpAlternate:
		n := &rxNode{op: rxConcat}
		if re.Op == syntax.OpAlternate {
			n.op, n.minLen = rxAlternate, inf
		}
		for _, s := range re.Sub {
			sub, err := buildRx(s)
			if err != nil {
				return nil, err
			}
			n.subs = append(n.subs, sub)
			if n.op == rxConcat {
				n.minLen = addLen(n.minLen, sub.minLen)
				n.maxLen = addLen(n.maxLen, sub.maxLen)
			} else {
				n.minLen = min(n.minLen, sub.minLen)
				n.maxLen = max(n.maxLen, sub.maxLen)
			}
		}
		if n.op == rxConcat {
			k := len(n.subs)
			n.restLo, n.restHi = make([]int, k), make([]int, k)
			for i := k - 2; i >= 0; i-- {
				n.restLo[i] = addLen(n.restLo[i+1], n.subs[i+1].minLen)
				n.restHi[i] = addLen(n.restHi[i+1], n.subs[i+1].maxLen)
			}
		}
		return n, nil
	}
	return nil, errors.New("unsupported regex construct " + re.Op.String())
}

// classNode draws from a rune class. A broad class (more than 256 runes, as
// [^a] or \PL) is narrowed to its printable ASCII part when it has one, which
// reads well in a workshop; no class ever yields surrogates, which are not
// valid in a string.
func classNode(ranges []rune) (*rxNode, error) {
	ranges = intersect(ranges, []rune{0, 0xD7FF, 0xE000, unicode.MaxRune})
	if runeCount(ranges) > 256 {
		if narrowed := intersect(ranges, printable); len(narrowed) > 0 {
			ranges = narrowed
		}
	}
	total := runeCount(ranges)
	if total == 0 {
		return nil, errors.New("the regex has an empty character class")
	}
	return &rxNode{op: rxClass, runes: ranges, total: total, minLen: 1, maxLen: 1}, nil
}

func runeCount(ranges []rune) int {
	total := 0
	for i := 0; i < len(ranges); i += 2 {
		total += int(ranges[i+1]-ranges[i]) + 1
	}
	return total
}

// intersect returns the overlap of two sorted range lists.
func intersect(a, b []rune) []rune {
	var out []rune
	for i := 0; i < len(a); i += 2 {
		for j := 0; j < len(b); j += 2 {
			lo, hi := max(a[i], b[j]), min(a[i+1], b[j+1])
			if lo <= hi {
				out = append(out, lo, hi)
			}
		}
	}
	return out
}

func addLen(a, b int) int { return min(a+b, inf) }

func mulLen(n, l int) int {
	if n == 0 || l == 0 {
		return 0
	}
	if l >= inf || n >= inf/l {
		return inf
	}
	return n * l
}

// generate appends a string of wanted length in [lo, hi] (or the nearest the
// regex allows) to buf.
func (g *regexGen) generate(r *rand.Rand, buf []byte, lo, hi int) []byte {
	buf, _ = g.root.gen(r, buf, lo, hi)
	return buf
}

// gen appends one match of n to buf, aiming at a length in [lo, hi], and
// returns the number of runes it appended.
func (n *rxNode) gen(r *rand.Rand, buf []byte, lo, hi int) ([]byte, int) {
	lo, hi = max(lo, n.minLen), min(hi, n.maxLen)
	if lo > hi {
		if hi < n.minLen {
			lo, hi = n.minLen, n.minLen
		} else {
			lo, hi = n.maxLen, n.maxLen
		}
	}
	switch n.op {
	case rxLiteral:
		for _, c := range n.runes {
			buf = utf8.AppendRune(buf, c)
		}
		return buf, len(n.runes)
	case rxClass:
		k := r.IntN(n.total)
		for i := 0; i < len(n.runes); i += 2 {
			size := int(n.runes[i+1]-n.runes[i]) + 1
			if k < size {
				return utf8.AppendRune(buf, n.runes[i]+rune(k)), 1
			}
			k -= size
		}
	case rxConcat:
		total := 0
		for i, sub := range n.subs {
			var l int
			buf, l = sub.gen(r, buf, lo-n.restHi[i], hi-n.restLo[i])
			lo, hi, total = lo-l, hi-l, total+l
		}
		return buf, total
	case rxAlternate:
		fits := 0
		for _, sub := range n.subs {
			if sub.minLen <= hi && sub.maxLen >= lo {
				fits++
			}
		}
		if fits == 0 {
			return n.subs[r.IntN(len(n.subs))].gen(r, buf, lo, hi)
		}
		k := r.IntN(fits)
		for _, sub := range n.subs {
			if sub.minLen <= hi && sub.maxLen >= lo {
				if k == 0 {
					return sub.gen(r, buf, lo, hi)
				}
				k--
			}
		}
	case rxRepeat:
		return n.genRepeat(r, buf, lo, hi)
	}
	return buf, 0
}

func (n *rxNode) genRepeat(r *rand.Rand, buf []byte, lo, hi int) ([]byte, int) {
	sub := n.subs[0]
	cmin, cmax := n.min, n.max
	if cmax < 0 {
		cmax = inf
	}
	if sub.maxLen > 0 && sub.maxLen < inf {
		cmin = max(cmin, (lo+sub.maxLen-1)/sub.maxLen)
	}
	if sub.minLen > 0 {
		cmax = min(cmax, hi/sub.minLen)
	}
	if cmax >= inf {
		// Only empty-able items and no bound: a few are plenty.
		cmax = cmin + max(min(hi, 16), 1)
	}
	if cmin > cmax {
		cmax = cmin
		if n.max >= 0 {
			cmin, cmax = min(cmin, n.max), min(cmin, n.max)
		}
	}
	count := cmin + r.IntN(cmax-cmin+1)
	total := 0
	for i := range count {
		rest := count - i - 1
		var l int
		buf, l = sub.gen(r, buf, lo-mulLen(rest, sub.maxLen), hi-mulLen(rest, sub.minLen))
		lo, hi, total = lo-l, hi-l, total+l
	}
	return buf, total
}
