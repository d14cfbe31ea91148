package scenario

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/verify"
)

func init() {
	checks["resume"] = check{"resume NAME SNAPSHOT [fallback start|end]: NAME's latest run read first, on each partition, the offset committed in SNAPSHOT; where nothing was committed, the log start or end in SNAPSHOT (the reset policy's answer)",
		parseResume(false)}
	checks["takeover"] = check{"takeover NAME SNAPSHOT [fallback start|end]: on the partitions NAME took over after the last kill, it read first the offset committed in SNAPSHOT",
		parseResume(true)}
}

// resumeCheck proves where a consumer resumed, against the committed
// offsets a snapshot read from the broker.
type resumeCheck struct {
	name     string
	snapshot string
	fallback string // "", start or end
	takeover bool   // only the partitions taken over after the last kill
}

func parseResume(takeover bool) func(p *parser, args []string) (step, error) {
	return func(p *parser, args []string) (step, error) {
		if len(args) != 2 && (len(args) != 4 || args[2] != "fallback" || (args[3] != "start" && args[3] != "end")) {
			return nil, badUsage("want NAME SNAPSHOT, optionally followed by fallback start or fallback end")
		}
		check := p.sees(args[0], "where it resumed", observeLines)
		if takeover {
			// What it took over needs its assignments: a program's are not
			// visible (which member last processed a partition is no
			// guide: after a rebalance both may still be processing it).
			check = p.own(args[0], "expect takeover")
		}
		if err := check; err != nil {
			return nil, err
		}
		if err := p.snapshot(args[1]); err != nil {
			return nil, err
		}
		c := &resumeCheck{name: args[0], snapshot: args[1], takeover: takeover}
		if len(args) == 4 {
			c.fallback = args[3]
		}
		return c, nil
	}
}

func (c *resumeCheck) run(r *run) error {
	inc, err := r.incarnation(c.name, 0)
	if err != nil {
		return err
	}
	if c.takeover {
		if r.killedAt.IsZero() {
			return errors.New("no consumer was killed before this check")
		}
		inc = takenOver(inc, r.killedAt)
	}
	return r.resume(inc, c.snapshot, c.fallback)
}

// takenOver keeps a surviving member's events after a kill, on partitions
// its ledger says it did not own before it.
func takenOver(inc verify.Incarnation, killedAt time.Time) verify.Incarnation {
	var before, after []ledger.Event
	for _, e := range inc.Events {
		if e.TS.After(killedAt) {
			after = append(after, e)
		} else {
			before = append(before, e)
		}
	}
	owned := assignment(before)
	inc.Events = slices.DeleteFunc(after, func(e ledger.Event) bool {
		return e.Record != nil && owned[verify.TP{Topic: e.Record.Topic, Partition: e.Record.Partition}.String()]
	})
	return inc
}

// resume checks inc's first consumed offsets against a snapshot, with the
// reset policy's offset (the snapshot's log start or end) where nothing
// valid was committed.
func (r *run) resume(inc verify.Incarnation, label, fallbackAt string) error {
	s := r.snapshots[label]
	// A committed offset outside the log is no valid committed offset: the
	// reset policy applies, as it does where nothing was committed.
	committed, fallback := verify.Offsets{}, verify.Offsets{}
	for name, t := range s.tps {
		c, ok := s.Committed[name]
		switch bounds := s.Bounds[name]; {
		case ok && (c < bounds[0] || c > bounds[1]):
			fmt.Fprintf(r.out, "    %s: committed %d is outside the log [%d, %d): out of range, the reset policy applies\n", name, c, bounds[0], bounds[1])
		case ok:
			committed[t] = c
		}
		if fallbackAt != "" {
			fallback[t] = s.Bounds[name][cond(fallbackAt == "start", 0, 1)]
		}
	}
	rows, err := verify.Resume(inc, committed, fallback)
	for _, row := range rows {
		// The figure itself, not just "ok": where it resumed, and why there.
		why := "nothing committed"
		if row.Committed != nil {
			why = "committed " + strconv.FormatInt(*row.Committed, 10)
		} else if f, ok := fallback[row.TP]; ok {
			why += ", so the reset policy's " + strconv.FormatInt(f, 10)
		}
		fmt.Fprintf(r.out, "    %s: %s read first %d (%s)\n", row.TP, inc.Name, row.FirstSeen, why)
		rr := r.row(inc.Group, row.TP)
		rr.ResumedAt = ptr(row.FirstSeen)
		rr.Expected = ptr(row.Expected)
		if !row.OK() {
			rr.Verdict = "FAIL"
		}
	}
	r.killToResume(inc)
	if len(rows) == 0 && err == nil {
		return fmt.Errorf("%s consumed nothing, so it resumed nowhere", inc.Name)
	}
	return r.failedIn(inc.Group, err)
}

// killToResume reports the time from the last kill to the first record inc
// processed after it, when inc ran after a kill.
func (r *run) killToResume(inc verify.Incarnation) {
	if r.killedAt.IsZero() {
		return
	}
	for _, e := range inc.Events {
		if e.Type == ledger.Processed && e.TS.After(r.killedAt) {
			d := e.TS.Sub(r.killedAt)
			r.res.KillToResume = append(r.res.KillToResume, d)
			fmt.Fprintf(r.out, "    kill to resumed processing: %s\n", d.Round(time.Millisecond))
			return
		}
	}
}

func ptr[T any](v T) *T { return &v }
