package groups

import "testing"

// The expected values were printed by Java 17 itself: s.hashCode(), and
// Kafka's partitionFor, Utils.abs(h) % n with Utils.abs(n) = (n ==
// Integer.MIN_VALUE) ? 0 : Math.abs(n), for n = 50 and n = 7. They are not
// computed by the code under test. "polygenelubricants" is the well-known
// string whose hashCode is Integer.MIN_VALUE; "Hello World" hashes to the
// often-quoted -862545276.
var javaHashes = []struct {
	s      string
	hash   int32
	for50  int32
	for7   int32
	reason string
}{
	{"", 0, 0, 0, "empty"},
	{"a", 97, 47, 6, "one character"},
	{"Aa", 2112, 12, 5, "collides with BB"},
	{"BB", 2112, 12, 5, "collides with Aa"},
	{"orders-app", 772757305, 5, 5, "positive"},
	{"console-consumer-12345", 158455506, 6, 6, "kafka-console-consumer's style"},
	{"Hello World", -862545276, 26, 5, "negative hash"},
	{"offsetlab", -1960669158, 8, 0, "negative hash"},
	{"my-group", -1906497762, 12, 1, "negative hash"},
	{"connect-local-file-sink", -1047382657, 7, 6, "negative hash"},
	{"zzzzzzzzzz", -1580979136, 36, 2, "overflows many times"},
	{"polygenelubricants", -2147483648, 0, 0, "Integer.MIN_VALUE"},
	{"GydZG_", -2147483648, 0, 0, "Integer.MIN_VALUE"},
	{"DESIGNING WORKHOUSES", -2147483648, 0, 0, "Integer.MIN_VALUE"},
	{"gr\u00fc\u00dfe", 98768023, 23, 4, "non-ASCII in the BMP: one UTF-16 unit per character"},
	{"\U0001F600-group", -1198440043, 43, 3, "outside the BMP: a surrogate pair"},
	{"app", 96801, 1, 5, "short"},
}

func TestJavaHashCode(t *testing.T) {
	for _, c := range javaHashes {
		if got := JavaHashCode(c.s); got != c.hash {
			t.Errorf("JavaHashCode(%q) = %d, want %d (%s)", c.s, got, c.hash, c.reason)
		}
	}
}

func TestOffsetsPartition(t *testing.T) {
	for _, c := range javaHashes {
		if got := OffsetsPartition(c.s, 50); got != c.for50 {
			t.Errorf("OffsetsPartition(%q, 50) = %d, want %d (%s)", c.s, got, c.for50, c.reason)
		}
		if got := OffsetsPartition(c.s, 7); got != c.for7 {
			t.Errorf("OffsetsPartition(%q, 7) = %d, want %d (%s)", c.s, got, c.for7, c.reason)
		}
		if got := OffsetsPartition(c.s, 1); got != 0 {
			t.Errorf("OffsetsPartition(%q, 1) = %d, want 0", c.s, got)
		}
	}
}

// The definition, s[0]*31^(n-1) + ... + s[n-1], worked by hand for short
// strings without overflow.
func TestJavaHashCodeByDefinition(t *testing.T) {
	cases := map[string]int32{
		"ab":  'a'*31 + 'b',             // 3105
		"abc": 'a'*31*31 + 'b'*31 + 'c', // 96354
		"G1":  'G'*31 + '1',             // 2250
		"Zz9": 'Z'*31*31 + 'z'*31 + '9', // 90329
	}
	for s, want := range cases {
		if got := JavaHashCode(s); got != want {
			t.Errorf("JavaHashCode(%q) = %d, want %d", s, got, want)
		}
	}
}
