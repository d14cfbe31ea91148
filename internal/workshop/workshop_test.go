package workshop

import (
	"io"
	"strings"
	"testing"
)

func TestGrade(t *testing.T) {
	exact := &Exercise{}
	within := &Exercise{Tolerance: 0.25}
	for _, tc := range []struct {
		ex       *Exercise
		guess    float64
		measured int64
		want     string
	}{
		{exact, 100, 100, "right"},
		{exact, 600, 100, "off by 6×: too high"}, // exercise 1: the whole topic
		{exact, 0, 100, "off: 100 too low"},
		{exact, 99, 100, "close: 1 too low"},
		{exact, 121, 120, "close: 1 too high"}, // exercise 3: "resume after the committed record"
		{exact, 300, 120, "off by 2.5×: too high"},
		{exact, -1001, -1001, "right"},
		{exact, 0, -1001, "off: 1001 too high"},
		{exact, 1, 0, "close: 1 too high"},
		{within, 1000, 1989, "off by 2×: too low"}, // exercise 9: the session timeout alone
		{within, 1800, 1989, "right"},
		{within, 2400, 1989, "right"},
		{within, 2600, 1989, "close: 611 too high"},
		{within, 3100, 1989, "off: 1111 too high"},
		{within, 1300, 1800, "close: 500 too low"},
	} {
		if got := tc.ex.Grade(tc.guess, tc.measured); got != tc.want {
			t.Errorf("tolerance %v: %v for %d graded %q, want %q", tc.ex.Tolerance, tc.guess, tc.measured, got, tc.want)
		}
	}
}

func TestParseGuess(t *testing.T) {
	for in, want := range map[string]float64{"200": 200, " 1,000 ": 1000, "1_000": 1000, "-1001": -1001, "0.5": 0.5} {
		if got, ok := ParseGuess(in); !ok || got != want {
			t.Errorf("ParseGuess(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "about 200", "200ms", "NaN", "Inf", "one"} {
		if _, ok := ParseGuess(in); ok {
			t.Errorf("ParseGuess(%q) accepted it", in)
		}
	}
}

// An answer that is not a number is asked for again; the end of input
// skips.
func TestPromptAsksAgain(t *testing.T) {
	for _, tc := range []struct{ in, want, says string }{
		{"about 200\n200\n", "200", `"about 200" is not a number`},
		{"1,000\n", "1,000", ""},
		{"\n", "", ""},
		{"about 200", "", `"about 200" is not a number`},
		{"", "", ""},
	} {
		var out strings.Builder
		got, err := Prompt(t.Context(), &out, strings.NewReader(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("input %q: answer %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if tc.says != "" && !strings.Contains(out.String(), tc.says) {
			t.Errorf("input %q: the prompt said %q, want it to say %s", tc.in, out.String(), tc.says)
		}
		if tc.says != "" && strings.Count(out.String(), "Your answer") != 2 {
			t.Errorf("input %q: asked %d times, want twice", tc.in, strings.Count(out.String(), "Your answer"))
		}
	}
}

func TestRevealSaysOneRecord(t *testing.T) {
	ex := &Exercise{Unit: "records", Explain: "why"}
	if got := ex.Reveal("0", 1); !strings.HasPrefix(got, "Measured: 1 record   your answer: 0, close: 1 too low\n\nwhy") {
		t.Errorf("reveal %q", got)
	}
	if got := ex.Reveal("", 2); !strings.HasPrefix(got, "Measured: 2 records\n\nwhy") {
		t.Errorf("reveal %q", got)
	}
	if got := (&Exercise{Explain: "why"}).Reveal("", -1001); !strings.HasPrefix(got, "Measured: -1001 (none yet)\n") {
		t.Errorf("reveal %q", got)
	}
}

// The consumers' Position()/Committed() tables are left out, whatever
// pieces the output arrives in; every other line passes.
func TestPositionsHidden(t *testing.T) {
	in := `  > stop c1
    [c1#2] TOPIC   PARTITION  POSITION          COMMITTED
    [c1#2] orders  0          300               300
    [c1#2] orders  1          -1001 (none yet)  -1001 (none yet)
    [c2] consumed 3
    [c1#2] position: the next offset this consumer will hand to the application; committed: where the group resumes after a restart
    [c1#2] revoked orders[0] orders[1]
  > expect resume c1 committed
`
	var out strings.Builder
	h := &positionsHider{w: &out}
	for chunk := range strings.SplitSeq(in, "1") { // cut mid-line
		if _, err := io.WriteString(h, chunk+"1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Flush(); err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSuffix(out.String(), "1")
	want := `  > stop c1
    [c1#2] (Position() and Committed() left out: exercise 4 asks about them)
    [c2] consumed 3
    [c1#2] revoked orders[0] orders[1]
  > expect resume c1 committed
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
