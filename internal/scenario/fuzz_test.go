package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: any script either parses into typed steps whose verbs are
// known, or is refused with an error naming the file; it never panics or
// hangs.
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
		sc, err := Parse("fuzz.txtar", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.txtar") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if sc.Claim == "" {
			t.Fatal("a scenario parsed with no claim")
		}
		for _, l := range sc.Lines {
			if l.Comment {
				continue
			}
			if len(l.Args) == 0 || l.Step == nil {
				t.Fatalf("line %d %q parsed without a verb or a step", l.N, l.Text)
			}
			if _, ok := verbs[l.Args[0]]; !ok {
				t.Fatalf("line %d: unknown verb %q parsed", l.N, l.Args[0])
			}
		}
		_ = sc.Exclusive()
	})
}
