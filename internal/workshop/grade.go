package workshop

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/offsetlab/offsetlab/internal/offset"
)

// Grade says how a prediction compares with the measured figure, on a
// scale a learner reads at a glance:
//
//	right                 within the exercise's tolerance (exact when it is 0)
//	off by 6×: too high   a factor of 2 or more away (600 for 100)
//	close: 1 too low      within 1, a quarter of the figure or twice the tolerance (119 for 120)
//	off: 989 too low      anything else
func (ex *Exercise) Grade(guess float64, measured int64) string {
	m := float64(measured)
	if ex.close(guess, measured) {
		return "right"
	}
	dir := "too high"
	if guess < m {
		dir = "too low"
	}
	if guess != 0 && m != 0 && (guess > 0) == (m > 0) {
		r := math.Max(guess/m, m/guess)
		if r = math.Round(r*10) / 10; r >= 2 {
			return fmt.Sprintf("off by %s×: %s", strconv.FormatFloat(r, 'f', -1, 64), dir)
		}
	}
	diff := strconv.FormatFloat(math.Abs(guess-m), 'f', -1, 64)
	if math.Abs(guess-m) <= max(1, 0.25*math.Abs(m), 2*ex.Tolerance*math.Abs(m)) {
		return "close: " + diff + " " + dir
	}
	return "off: " + diff + " " + dir
}

// ParseGuess reads a prediction: a number, with or without thousands
// separators (1,000 and 1_000 are 1000). ok is false for anything else,
// such as "about 200", which the prompt asks again for.
func ParseGuess(s string) (float64, bool) {
	s = strings.NewReplacer(",", "", "_", "").Replace(strings.TrimSpace(s))
	g, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(g) || math.IsInf(g, 0) {
		return 0, false
	}
	return g, true
}

// measuredText is the figure with its unit, in the singular for one
// record: "1 record", "148 records", "-1001 (none yet)".
func (ex *Exercise) measuredText(measured int64) string {
	unit := ex.Unit
	if (measured == 1 || measured == -1) && strings.HasSuffix(unit, "records") {
		unit = strings.TrimSuffix(unit, "s")
	}
	return strings.TrimSpace(offset.String(measured) + " " + unit)
}
