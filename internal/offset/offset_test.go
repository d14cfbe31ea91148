package offset

import "testing"

func TestStringAndParse(t *testing.T) {
	for _, tc := range []struct {
		text string
		o    int64
		show string
	}{
		{"none", Invalid, "-1001 (none yet)"},
		{"0", 0, "0"},
		{"831", 831, "831"},
	} {
		o, err := Parse(tc.text)
		if err != nil || o != tc.o {
			t.Errorf("Parse(%q) = %d, %v; want %d", tc.text, o, err, tc.o)
		}
		if got := String(tc.o); got != tc.show {
			t.Errorf("String(%d) = %q, want %q", tc.o, got, tc.show)
		}
	}
	for _, bad := range []string{"-1", "-1001", "x", ""} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
