// Package coordinator says where Kafka keeps a consumer group: which
// partition of the internal __consumer_offsets topic holds its commits and
// metadata, and so which broker (that partition's leader) is its group
// coordinator. It needs no broker and no client, so the embedded stack and
// the offsets command share it.
package coordinator

import (
	"iter"
	"unicode/utf16"
)

// Topic is Kafka's internal topic of offset commits and group metadata.
const Topic = "__consumer_offsets"

// DefaultPartitions is Kafka's offsets.topic.num.partitions default.
const DefaultPartitions = 50

// JavaHashCode is Java's String.hashCode of a group id as the broker sees
// it: s[0]*31^(n-1) + s[1]*31^(n-2) + ... + s[n-1] over the UTF-16 code
// units of the String that the broker decodes from the id's bytes (a
// protocol STRING is read with new String(bytes, UTF_8)), in int arithmetic
// that wraps around. A character outside the Basic Multilingual Plane counts
// as its two surrogates. Bytes that are not UTF-8 are replaced as Java
// replaces them (see javaChars): "a\xe2\x82A" hashes as "a\uFFFDA", where
// Go's own decoding would give "a\uFFFD\uFFFDA".
func JavaHashCode(s string) int32 {
	var h int32
	for c := range javaChars(s) {
		h = 31*h + int32(c)
	}
	return h
}

// javaChars yields the UTF-16 code units of new String(b, UTF_8) in Java
// (JDK 17's String.decodeUTF8_UTF16; earlier JDKs' UTF-8 decoder answers
// the same). Valid UTF-8 decodes as everywhere. An invalid sequence becomes
// one U+FFFD, as Unicode's "maximal subpart" practice has it, not one per
// byte as Go's range over a string does: the lead byte and the continuation
// bytes that could still have completed it (E2 82 before A: one U+FFFD;
// F0 9F 98 at the end: one). Java departs from that practice in one place:
// it checks for a UTF-16 surrogate (ED A0..BF xx) only after reading the
// whole sequence, so ED A0 80 is one U+FFFD, not three, and ED A0 before A
// is one U+FFFD and the A.
func javaChars(s string) iter.Seq[uint16] {
	const repl = 0xFFFD
	cont := func(b byte) bool { return b&0xC0 == 0x80 }
	return func(yield func(uint16) bool) {
		n := len(s)
		for i := 0; i < n; {
			b1 := s[i]
			i++
			switch {
			case b1 < 0x80:
				if !yield(uint16(b1)) {
					return
				}
			case b1 >= 0xC2 && b1 <= 0xDF: // two bytes
				if i < n && cont(s[i]) {
					if !yield(uint16(b1&0x1F)<<6 | uint16(s[i]&0x3F)) {
						return
					}
					i++
					continue
				}
				if !yield(repl) { // b1 alone; what follows is read again
					return
				}
			case b1>>4 == 0xE: // three bytes
				// b2 can continue b1 unless b1 is E0 and b2 would make an
				// overlong form (80..9F). Surrogates are not excluded here.
				ok2 := i < n && cont(s[i]) && (b1 != 0xE0 || s[i] >= 0xA0)
				if !ok2 {
					if !yield(repl) {
						return
					}
					continue
				}
				if i+1 < n && cont(s[i+1]) {
					c := uint16(b1&0x0F)<<12 | uint16(s[i]&0x3F)<<6 | uint16(s[i+1]&0x3F)
					if utf16.IsSurrogate(rune(c)) {
						c = repl // the three bytes, one U+FFFD
					}
					if !yield(c) {
						return
					}
					i += 2
					continue
				}
				i++ // b1 b2: one U+FFFD, truncated or followed by a non-continuation
				if !yield(repl) {
					return
				}
			case b1 >= 0xF0 && b1 <= 0xF4: // four bytes
				// b2 must keep the code point within U+10000..U+10FFFF.
				ok2 := i < n && cont(s[i]) &&
					(b1 != 0xF0 || s[i] >= 0x90) && (b1 != 0xF4 || s[i] < 0x90)
				switch {
				case !ok2:
				case i+1 >= n || !cont(s[i+1]):
					i++ // b1 b2
				case i+2 >= n || !cont(s[i+2]):
					i += 2 // b1 b2 b3
				default:
					r := rune(b1&0x07)<<18 | rune(s[i]&0x3F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
					hi, lo := utf16.EncodeRune(r)
					if !yield(uint16(hi)) || !yield(uint16(lo)) {
						return
					}
					i += 3
					continue
				}
				if !yield(repl) {
					return
				}
			default: // a continuation byte alone, C0, C1, F5..FF
				if !yield(repl) {
					return
				}
			}
		}
	}
}

// Partition is the __consumer_offsets partition that holds a group's
// commits and metadata; the broker leading it is the group's coordinator.
// Kafka computes it as Utils.abs(groupId.hashCode()) % partitions, where
// Utils.abs maps Integer.MIN_VALUE (whose Math.abs is itself, negative)
// to 0.
func Partition(group string, partitions int) int32 {
	h := JavaHashCode(group)
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return int32(int(h) % partitions)
}
