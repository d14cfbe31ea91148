package cli

import (
	"flag"
	"io"
	"slices"
	"testing"
)

// Flags before, between and after the names all parse, in any order.
func TestParseInterleaved(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		names []string
		keep  bool
		wait  string
	}{
		{[]string{"--keep", "a"}, []string{"a"}, true, "1s"},
		{[]string{"a", "--keep"}, []string{"a"}, true, "1s"},
		{[]string{"a", "--wait", "5s", "b", "--keep", "c"}, []string{"a", "b", "c"}, true, "5s"},
		{[]string{"--wait=2s", "a", "b"}, []string{"a", "b"}, false, "2s"},
		{[]string{"a", "--", "--keep"}, []string{"a", "--keep"}, false, "1s"},
		{nil, nil, false, "1s"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		keep := fs.Bool("keep", false, "")
		wait := fs.Duration("wait", 1e9, "")
		names, err := ParseInterleaved(fs, tc.args, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if !slices.Equal(names, tc.names) || *keep != tc.keep || wait.String() != tc.wait {
			t.Errorf("%q: names %q keep %v wait %s; want %q %v %s", tc.args, names, *keep, wait, tc.names, tc.keep, tc.wait)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	if _, err := ParseInterleaved(fs, []string{"a", "--bogus"}, io.Discard); Code(err) != ExitUsage {
		t.Errorf("an unknown flag after a name: %v, want a usage error", err)
	}
}
