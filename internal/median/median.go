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
