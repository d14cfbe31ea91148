package coordinator

import (
	"encoding/hex"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The expected values were printed by Java 17 itself: new String(b,
// StandardCharsets.UTF_8).hashCode() for the Go string's bytes b, as the
// broker decodes a group id, and Kafka's partitionFor, Utils.abs(h) % n with Utils.abs(n) = (n ==
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
	{"\U00010000", 1770496, 46, 0, "the first supplementary character: D800 DC00"},
	{"\U0010FFFF", 1803232, 32, 4, "the last code point: DBFF DFFF"},
	{"\U0001F600", 1772899, 49, 2, "an emoji alone: D83D DE00"},

	// Bytes that are not UTF-8. The broker reads a group id with new
	// String(bytes, UTF_8), which puts one U+FFFD for each invalid
	// sequence; Go's range over a string puts one per byte.
	{"a\xe2\x82A", 2124805, 5, 4, "a truncated 3-byte sequence before A: one U+FFFD (one per byte: partition 28)"},
	{"g\xe2\x82", 68726, 26, 0, "a truncated 3-byte sequence at the end: one U+FFFD"},
	{"g\uFFFD", 68726, 26, 0, "U+FFFD itself: the same Java string as g E2 82, so the same group on Kafka"},
	{"g\xc2", 68726, 26, 0, "a truncated 2-byte sequence"},
	{"g\xf0\x9f\x98", 68726, 26, 0, "a truncated 4-byte sequence at the end: one U+FFFD"},
	{"g\xf0\x9f\x98A", 2130571, 21, 2, "a truncated 4-byte sequence before A: one U+FFFD"},
	{"g\xc0\xaf", 2196039, 39, 6, "an overlong 2-byte '/': C0 is never valid, two U+FFFD"},
	{"g\xe0\x80\xaf", 68142742, 42, 3, "an overlong 3-byte '/': E0 cannot take 80..9F, three U+FFFD"},
	{"g\xf0\x8f\x80\x80", 2112490535, 35, 1, "an overlong 4-byte sequence: four U+FFFD"},
	{"g\xf4\x90\x80\x80", 2112490535, 35, 1, "beyond U+10FFFF: four U+FFFD"},
	{"g\xed\xa0\x80", 68726, 26, 0, "the surrogate D800 in UTF-8: one U+FFFD (Unicode's maximal-subpart practice: three)"},
	{"g\xed\xbf\xbf", 68726, 26, 0, "the surrogate DFFF in UTF-8: one U+FFFD"},
	{"g\xed\xa0A", 2130571, 21, 2, "a truncated surrogate before A: one U+FFFD (maximal-subpart practice: two)"},
	{"g\x80", 68726, 26, 0, "a lone continuation byte"},
	{"g\x80\xbfA", 68077274, 24, 6, "two lone continuation bytes: two U+FFFD"},
	{"g\xf5", 68726, 26, 0, "F5: never valid"},
	{"g\xff", 68726, 26, 0, "FF: never valid"},
	{"g\xf8\x88\x80\x80", 2112490535, 35, 1, "F8, a 5-byte lead in old UTF-8: four U+FFFD"},
}

func TestJavaHashCode(t *testing.T) {
	for _, c := range javaHashes {
		if got := JavaHashCode(c.s); got != c.hash {
			t.Errorf("JavaHashCode(%q) = %d, want %d (%s)", c.s, got, c.hash, c.reason)
		}
	}
}

func TestPartition(t *testing.T) {
	for _, c := range javaHashes {
		if got := Partition(c.s, 50); got != c.for50 {
			t.Errorf("Partition(%q, 50) = %d, want %d (%s)", c.s, got, c.for50, c.reason)
		}
		if got := Partition(c.s, 7); got != c.for7 {
			t.Errorf("Partition(%q, 7) = %d, want %d (%s)", c.s, got, c.for7, c.reason)
		}
		if got := Partition(c.s, 1); got != 0 {
			t.Errorf("Partition(%q, 1) = %d, want 0", c.s, got)
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

// javaHashSource prints, for each line of hex on stdin, Java's hashCode of
// the String the broker would decode from those bytes.
const javaHashSource = `import java.io.*;
import java.nio.charset.StandardCharsets;

public class Hash {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out)));
        for (String line; (line = in.readLine()) != null; ) {
            byte[] b = new byte[line.length() / 2];
            for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(line.substring(2 * i, 2 * i + 2), 16);
            out.println(new String(b, StandardCharsets.UTF_8).hashCode());
        }
        out.flush();
    }
}
`

// TestJavaHashCodeAgainstJava asks a real JVM, where there is one (java 11
// or newer on PATH), for the hash of every one- and two-byte string and of
// random strings built from the bytes that start, continue or break UTF-8
// sequences, and compares each with JavaHashCode.
func TestJavaHashCodeAgainstJava(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("no java on PATH; the table above holds Java's answers")
	}
	var inputs []string
	for a := range 256 {
		inputs = append(inputs, string([]byte{byte(a)}))
		for b := range 256 {
			inputs = append(inputs, string([]byte{byte(a), byte(b)}))
		}
	}
	alphabet := []byte{'A', 'z', 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
		0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFE, 0xFF}
	rng := rand.New(rand.NewPCG(11, 7))
	for range 30000 {
		b := make([]byte, 1+rng.IntN(9))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(b))
	}
	src := filepath.Join(t.TempDir(), "Hash.java")
	if err := os.WriteFile(src, []byte(javaHashSource), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdin strings.Builder
	for _, s := range inputs {
		stdin.WriteString(hex.EncodeToString([]byte(s)) + "\n")
	}
	cmd := exec.CommandContext(t.Context(), java, src) // the single-file source launcher
	cmd.Stdin = strings.NewReader(stdin.String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("java %s: %v\n%s", src, err, stderr.String())
	}
	lines := strings.Fields(string(got))
	if len(lines) != len(inputs) {
		t.Fatalf("java printed %d hashes for %d inputs", len(lines), len(inputs))
	}
	bad := 0
	for i, s := range inputs {
		want, err := strconv.ParseInt(lines[i], 10, 32)
		if err != nil {
			t.Fatalf("java printed %q", lines[i])
		}
		if h := JavaHashCode(s); h != int32(want) {
			if bad++; bad <= 10 {
				t.Errorf("JavaHashCode(% x) = %d, Java says %d", s, h, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d inputs hash differently from Java", bad, len(inputs))
	}
}

// A course on Kafka internals lists the partitions of __consumer_offsets that
// hold its two example groups on a cluster with the default 50 partitions.
func TestPartitionOfTheCourseGroups(t *testing.T) {
	for group, want := range map[string]int32{"metadata_group": 39, "metadata_group2": 15} {
		if got := Partition(group, DefaultPartitions); got != want {
			t.Errorf("Partition(%q, %d) = %d, want %d", group, DefaultPartitions, got, want)
		}
	}
}
