// Package median reports a benchmark's repeated measurements as their
// median and spread, as `make bench` prints them.
package median

import (
	"slices"
	"testing"
)

// Report gives xs as three metrics: the median as unit, and the spread as
// min-unit and max-unit. xs is sorted in place.
func Report(b *testing.B, unit string, xs []float64) {
	slices.Sort(xs)
	b.ReportMetric(xs[len(xs)/2], unit)
	b.ReportMetric(xs[0], "min-"+unit)
	b.ReportMetric(xs[len(xs)-1], "max-"+unit)
}

// Race runs ours and plain rounds times each, alternating which goes
// first so that neither always pays for a cold start, and reports the
// median and spread of each one's records/s (as unit and plain-rec/s) and
// of the per-round ratio ours/plain (as ratio).
func Race(b *testing.B, rounds int, unit string, ours, plain func(round int) float64) {
	var o, p, ratio []float64
	for round := range rounds {
		var x, y float64
		if round%2 == 0 {
			x = ours(round)
			y = plain(round)
		} else {
			y = plain(round)
			x = ours(round)
		}
		o, p, ratio = append(o, x), append(p, y), append(ratio, x/y)
	}
	b.StopTimer()
	Report(b, unit, o)
	Report(b, "plain-rec/s", p)
	Report(b, "ratio", ratio)
}
