package groups

import "unicode/utf16"

// DefaultOffsetsPartitions is Kafka's offsets.topic.num.partitions default.
const DefaultOffsetsPartitions = 50

// JavaHashCode is Java's String.hashCode of a group id as the broker sees
// it (UTF-8 bytes decoded to a Java String): s[0]*31^(n-1) + s[1]*31^(n-2)
// + ... + s[n-1] over the string's UTF-16 code units, in int arithmetic
// that wraps around. A character outside the Basic Multilingual Plane
// counts as its two surrogates; an invalid UTF-8 byte as U+FFFD.
func JavaHashCode(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			h = 31*h + hi
			h = 31*h + lo
			continue
		}
		h = 31*h + r
	}
	return h
}

// OffsetsPartition is the __consumer_offsets partition that holds a group's
// commits and metadata; the broker leading it is the group's coordinator.
// Kafka computes it as Utils.abs(groupId.hashCode()) % partitions, where
// Utils.abs maps Integer.MIN_VALUE (whose Math.abs is itself, negative)
// to 0.
func OffsetsPartition(group string, partitions int) int32 {
	h := JavaHashCode(group)
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return int32(int(h) % partitions)
}
