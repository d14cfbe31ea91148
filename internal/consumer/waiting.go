package consumer

import (
	"fmt"
	"time"
)

// quietFor is how long an assigned consumer goes without a record before it
// says that it is waiting: long enough not to interrupt a steady stream,
// short enough that `make consume RESET=latest` does not look hung.
const quietFor = 2 * time.Second

// sayWaiting tells, once per quiet spell, that the consumer has partitions
// and is waiting for records: with --reset latest a new group starts at the
// log end, so after "assigned ..." nothing comes until someone produces.
// A record ends the spell (see handle). --quiet, as stories and scripts
// run it, says nothing.
func (c *consumer) sayWaiting() {
	if c.o.quiet || c.saidWaiting || len(c.assigned) == 0 || time.Since(c.lastWork) < quietFor {
		return
	}
	c.saidWaiting = true
	switch {
	case c.stats.Consumed > 0:
		fmt.Fprintf(c.stderr, "caught up: waiting for new records (Ctrl-C stops)\n")
	case resetPolicies[c.o.reset] == "latest":
		fmt.Fprintf(c.stderr, "waiting for new records: with --reset latest a group with nothing committed starts at the log end, so only records produced from now on arrive (make produce in another terminal; Ctrl-C stops)\n")
	default:
		fmt.Fprintf(c.stderr, "waiting for new records: nothing to read past the committed offsets (Ctrl-C stops)\n")
	}
}
