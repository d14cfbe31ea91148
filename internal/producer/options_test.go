package producer

import (
	"io"
	"math"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli/clitest"
)

// TestCheck: Check accepts what Run accepts and refuses what Run refuses,
// with Run's one-line usage error, without loading the connection settings.
func TestCheck(t *testing.T) {
	clitest.CheckLikeRun(t, Check, func(args []string) error { _, err := parse(args, io.Discard); return err },
		[]string{"--topic", "t", "--count", "10", "--rate", "5", "--partition", "0", "--format", "json"},
		[]clitest.Refusal{
			{Args: []string{"--colour", "red"}, Want: "flag provided but not defined: -colour (see -h)"},
			{Args: []string{"--count", "-1"}, Want: "--count must be 0 or more, got -1"},
			{Args: []string{"--count", "many"}, Want: `invalid value "many" for flag -count: parse error (see -h)`},
			{Args: []string{"--delivery-timeout", "0s"}, Want: "--delivery-timeout must be positive, got 0s"},
			{Args: []string{"--delivery-timeout", "1ns"}, Want: "--delivery-timeout must be from 1ms to 596h31m23.647s (message.timeout.ms), got 1ns"},
			{Args: []string{"--delivery-timeout", "600h"}, Want: "--delivery-timeout must be from 1ms to 596h31m23.647s (message.timeout.ms), got 600h0m0s"},
			{Args: []string{"--rate", "NaN"}, Want: "--rate must be 0 (as fast as possible) or more, got NaN"},
			{Args: []string{"--rate", "Inf"}, Want: "--rate must be 0 (as fast as possible) or more, got +Inf"},
			{Args: []string{"--rate", "-5"}, Want: "--rate must be 0 (as fast as possible) or more, got -5"},
			{Args: []string{"--format", "yaml"}, Want: `--format "yaml" is not known (accepted: text, json)`},
			{Args: []string{"--schema", "s.avsc"}, Want: "--topic is required with --schema"},
			{Args: []string{"100"}, Want: `unexpected argument "100" (flags only; see -h)`},
		})
}

// TestLimiterHoldsRate: a sleeping producer wakes late (timers overshoot,
// more so on a loaded machine); --rate must still hold within 5 %. With a
// bucket of one record, 5000/s gave 1985/s. The clock here is simulated:
// every wait overshoots by a whole millisecond.
func TestLimiterHoldsRate(t *testing.T) {
	for _, perSecond := range []float64{10, 1000, 5000, 20000, 100000} {
		lim := limiter(perSecond)
		start := time.Unix(0, 0)
		now, sent := start, 0
		for now.Before(start.Add(10 * time.Second)) {
			if d := lim.ReserveN(now, 1).DelayFrom(now); d > 0 {
				now = now.Add(d + time.Millisecond)
			}
			sent++
		}
		got := float64(sent) / now.Sub(start).Seconds()
		if math.Abs(got-perSecond) > 0.05*perSecond {
			t.Errorf("--rate %g with 1 ms late wake-ups: %.0f records/s", perSecond, got)
		}
	}
}
