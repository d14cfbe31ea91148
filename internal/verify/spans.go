package verify

import "slices"

// span is offsets from..to, inclusive.
type span struct{ from, to int64 }

// spans is a set of offsets as sorted, disjoint spans with gaps between
// them: a partition read in order is one span, whatever its length.
type spans struct {
	s    []span
	hint int // the span touched last: the next offset is likely in it or just after
}

// find returns the index of the last span starting at or before o, or -1.
func (x *spans) find(o int64) int {
	if h := x.hint; h < len(x.s) && x.s[h].from <= o && (h+1 == len(x.s) || x.s[h+1].from > o) {
		return h
	}
	i, found := slices.BinarySearchFunc(x.s, o, func(s span, o int64) int {
		switch {
		case s.from < o:
			return -1
		case s.from > o:
			return 1
		}
		return 0
	})
	if !found {
		i--
	}
	return i
}

func (x *spans) has(o int64) bool {
	i := x.find(o)
	return i >= 0 && o <= x.s[i].to
}

// add adds o, and reports whether it was new.
func (x *spans) add(o int64) bool {
	i := x.find(o)
	if i >= 0 && o <= x.s[i].to {
		x.hint = i
		return false
	}
	joinsNext := i+1 < len(x.s) && x.s[i+1].from == o+1
	switch {
	case i >= 0 && x.s[i].to == o-1 && joinsNext:
		x.s[i].to = x.s[i+1].to
		x.s = slices.Delete(x.s, i+1, i+2)
	case i >= 0 && x.s[i].to == o-1:
		x.s[i].to = o
	case joinsNext:
		i++
		x.s[i].from = o
	default:
		i++
		x.s = slices.Insert(x.s, i, span{o, o})
	}
	x.hint = i
	return true
}

func (x *spans) clone() spans { return spans{s: slices.Clone(x.s)} }

// minus calls fn with x's offsets in order as segments, flagged where they
// are not in y.
func (x *spans) minus(y *spans, fn func(segment)) {
	j := 0
	for _, s := range x.s {
		from := s.from
		for from <= s.to {
			for j < len(y.s) && y.s[j].to < from {
				j++
			}
			if j == len(y.s) || y.s[j].from > s.to {
				fn(segment{from: from, to: s.to, n: s.to - from + 1, flagged: true})
				break
			}
			if y.s[j].from > from {
				fn(segment{from: from, to: y.s[j].from - 1, n: y.s[j].from - from, flagged: true})
				from = y.s[j].from
			}
			to := min(y.s[j].to, s.to)
			fn(segment{from: from, to: to, n: to - from + 1})
			from = to + 1
		}
	}
}

// segments returns x's offsets as segments, flagged where they are in y,
// a subset of x.
func (x *spans) segments(y *spans) []segment {
	var out []segment
	x.minus(y, func(s segment) {
		s.flagged = !s.flagged
		out = append(out, s)
	})
	return out
}

// seqSet is a set of sequence numbers: a bitmap for those a producer
// stamps (0 up), a map for any others.
type seqSet struct {
	bits  []uint64
	other map[int64]bool
}

// maxBitmap bounds the bitmap: 2^30 sequence numbers, 128 MiB.
const maxBitmap = 1 << 30

// add adds n, and reports whether it was new.
func (s *seqSet) add(n int64) bool {
	if n < 0 || n >= maxBitmap {
		if s.other == nil {
			s.other = map[int64]bool{}
		}
		if s.other[n] {
			return false
		}
		s.other[n] = true
		return true
	}
	w := int(n >> 6)
	if w >= len(s.bits) {
		s.bits = slices.Grow(s.bits, w+1-len(s.bits))[:w+1]
	}
	bit := uint64(1) << (n & 63)
	if s.bits[w]&bit != 0 {
		return false
	}
	s.bits[w] |= bit
	return true
}

func (s *seqSet) has(n int64) bool {
	if n < 0 || n >= maxBitmap {
		return s.other[n]
	}
	w := int(n >> 6)
	return w < len(s.bits) && s.bits[w]&(uint64(1)<<(n&63)) != 0
}
