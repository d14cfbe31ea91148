package scenario

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/offsetlab/offsetlab/internal/groups"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/tp"
	"github.com/offsetlab/offsetlab/internal/verify"
)

func init() {
	register(verb{"wait", "wait NAME CONDITION [within DURATION]: poll until CONDITION holds for process NAME (conditions below), at most DURATION (default --wait)", parseWait})
	register(verb{"sleep", "sleep DURATION: a deliberate pause the story explains on the line before (or in a trailing comment); never a stand-in for an event", parseSleep})
}

// A condition is something a wait polls for. Each says, when it runs out,
// what it waited for and what it saw.
type condition struct {
	usage string
	parse func(p *parser, name string, args []string) (awaited, error)
}

type awaited interface {
	// probe prepares a wait (it may read the log end, say) and returns the
	// poll: whether the condition holds, and what it saw.
	probe(r *run, name string) (func() (bool, string, error), error)
	// ledger reports whether only the process's own ledger can make it hold,
	// so that the process exiting ends the wait.
	ledger() bool
	String() string
}

var conditions = map[string]condition{}

func init() {
	for _, what := range []string{"processed", "consumed", "committed", "failed-commits", "assigned", "fetching", "snapshots"} {
		conditions[what] = condition{what + " N: consumer NAME's latest run " + countUsage[what], parseCount(what)}
	}
	conditions["acked"] = condition{"acked N: background producer NAME has N acknowledgements", parseCount("acked")}
	conditions["fetching-at"] = condition{"fetching-at PARTITION OFFSET: NAME's fetcher is active on PARTITION at or past OFFSET (its reset policy was resolved there)", parseFetchingAt}
	conditions["committed-at"] = condition{"committed-at PARTITION OFFSET|none: the broker holds a committed offset >= OFFSET for NAME's group on PARTITION of NAME's topic (none: it holds no committed offset there)", parseCommittedAt}
	conditions["caught-up"] = condition{"caught-up [SNAPSHOT]: on every non-empty partition of NAME's topic, NAME's latest run processed up to the log end (as SNAPSHOT saw it, or as it is when the wait starts), or NAME's group committed there", parseCaughtUp}
	conditions["exit"] = condition{"exit [CODE]: process NAME exited (with CODE)", parseExit}
}

var countUsage = map[string]string{
	"processed":      "processed N records",
	"consumed":       "was handed N records by Poll",
	"committed":      "made N successful commits",
	"failed-commits": "saw N commits fail (whatever the broker applied)",
	"assigned":       "owns N partitions",
	"fetching":       "resolved its fetch position on N partitions",
	"snapshots":      "answered N positions requests",
}

func conditionNames() []string {
	names := make([]string, 0, len(conditions))
	for n := range conditions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// waitStep polls a condition.
type waitStep struct {
	name  string
	cond  awaited
	bound *timing // nil: Env.Wait plus the cluster's longest session timeout
}

func parseWait(p *parser, args []string) (step, error) {
	st := &waitStep{}
	if i := slices.Index(args, "within"); i >= 0 {
		if i != len(args)-2 {
			return nil, badUsage("within takes one duration, at the end of the line")
		}
		t, err := parseTiming(args[i+1])
		if err != nil {
			return nil, err
		}
		st.bound, args = &t, args[:i]
	}
	if len(args) < 2 {
		return nil, badUsage("missing the process name or the condition")
	}
	st.name = args[0]
	c, ok := conditions[args[1]]
	if !ok {
		return nil, fmt.Errorf("unknown condition %q; accepted: %v", args[1], conditionNames())
	}
	if err := p.process(st.name); err != nil {
		return nil, err
	}
	var err error
	if st.cond, err = c.parse(p, st.name, args[2:]); err != nil {
		return nil, fmt.Errorf("%s: %w; usage: wait NAME %s", args[1], err, c.usage)
	}
	return st, nil
}

func (s *waitStep) run(r *run) error {
	if s.bound != nil {
		return r.waitFor(s.name, s.cond, s.bound.on(r.limits))
	}
	return r.waitFor(s.name, s.cond, r.defaultWait())
}

// defaultWait bounds a wait that names no bound: --wait, plus the longest
// session timeout a group may have on this cluster (a kill -9 takes that
// long to show).
func (r *run) defaultWait() time.Duration { return r.env.Wait + r.limits.Longest() }

// waitTick is how often a wait polls.
const waitTick = 20 * time.Millisecond

// waitFor polls c for process name until it holds, for at most bound. A
// ledger condition also ends when the process exits: it can no longer
// come true. The error says what was awaited, what was seen last, and
// where the ledgers are kept.
func (r *run) waitFor(name string, c awaited, bound time.Duration) error {
	ctx, cancel := context.WithTimeout(r.ctx, bound)
	defer cancel()
	poll, err := c.probe(r, name)
	if err != nil {
		return err
	}
	tick := time.NewTicker(waitTick)
	defer tick.Stop()
	for {
		ok, seen, err := poll()
		if err == nil {
			err = r.programFailure()
		}
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if c.ledger() {
			if p, err := r.sup.Get(name); err == nil && !p.Running() {
				return fmt.Errorf("%s exited (code %d) while the story waited for %s %s; it saw %s (ledgers in %s)", name, p.ExitCode(), name, c, seen, r.dir)
			}
		}
		select {
		case <-ctx.Done():
			if r.ctx.Err() != nil {
				return r.ctx.Err()
			}
			return fmt.Errorf("waited %s for %s %s; it saw %s (ledgers in %s)", bound, name, c, seen, r.dir)
		case <-tick.C:
		}
	}
}

// countCond waits for a ledger figure to reach n.
type countCond struct {
	what string
	n    int64
}

func parseCount(what string) func(p *parser, name string, args []string) (awaited, error) {
	return func(p *parser, name string, args []string) (awaited, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("takes one count")
		}
		if what == "acked" && !p.producers[name] {
			return nil, fmt.Errorf("%s is not a background producer", name)
		}
		switch what {
		case "acked":
		case "processed", "consumed":
			if err := p.sees(name, "wait "+what, observeLines); err != nil {
				return nil, err
			}
		default:
			if err := p.own(name, "wait "+what); err != nil {
				return nil, err
			}
		}
		n, err := count(args[0], "count")
		return &countCond{what: what, n: n}, err
	}
}

func (c *countCond) String() string { return fmt.Sprintf("%s >= %d", c.what, c.n) }
func (c *countCond) ledger() bool   { return true }

// probe streams the ledger: the events written for every record are
// counted, not kept (a soak's ledgers hold millions), and the few others
// are kept for the counters that read them.
func (c *countCond) probe(r *run, name string) (func() (bool, string, error), error) {
	return func() (bool, string, error) {
		var kept []ledger.Event
		perRecord := map[string]int64{}
		keep := func(e ledger.Event) {
			switch e.Type {
			case ledger.Consumed, ledger.Processed, ledger.Stored, ledger.Acked:
				perRecord[e.Type]++
			default:
				e.Partitions = slices.Clone(e.Partitions) // Scan reuses it
				kept = append(kept, e)
			}
		}
		var err error
		if c.what == "acked" {
			read := 0
			err = ledger.Scan(r.acked[name], func(_ int, e ledger.Event) error {
				read++
				keep(e)
				return nil
			})
			if err != nil && read == 0 {
				err = nil // not written yet
			}
		} else {
			err = r.scan(name, keep)
		}
		if err != nil {
			return false, "", err
		}
		n, ok := perRecord[c.what]
		if !ok {
			n = counters[c.what](kept)
		}
		return n >= c.n, fmt.Sprintf("%s %d", c.what, n), nil
	}, nil
}

// counters measure a ledger for wait.
var counters = map[string]func([]ledger.Event) int64{
	"processed": typeCounter(ledger.Processed),
	"consumed":  typeCounter(ledger.Consumed),
	"fetching":  typeCounter(ledger.Fetching),
	"snapshots": typeCounter(ledger.Snapshot),
	"acked":     typeCounter(ledger.Acked),
	"committed": func(events []ledger.Event) int64 {
		n := int64(0)
		for _, e := range events {
			if e.Type == ledger.Committed && e.Error == "" && len(e.Partitions) > 0 {
				n++
			}
		}
		return n
	},
	"assigned":       func(events []ledger.Event) int64 { return int64(len(assignment(events))) },
	"failed-commits": func(events []ledger.Event) int64 { return failedCommits(nil, events) },
}

func typeCounter(t string) func([]ledger.Event) int64 {
	return func(events []ledger.Event) int64 { return countType(events, t) }
}

func countType(events []ledger.Event, t string) int64 {
	return countEvents(events, func(e ledger.Event) bool { return e.Type == t })
}

func countEvents(events []ledger.Event, match func(ledger.Event) bool) int64 {
	n := int64(0)
	for _, e := range events {
		if match(e) {
			n++
		}
	}
	return n
}

// assignment is the set of partitions a ledger says its consumer owns now.
func assignment(events []ledger.Event) map[string]bool {
	owned := map[string]bool{}
	for _, tp := range verify.Assignment(verify.Incarnation{Events: events}) {
		owned[tp.String()] = true
	}
	return owned
}

// fetchingAtCond waits until NAME's fetcher is active on a partition at or
// past an offset: where a reset policy (latest, say) has been resolved, so
// that a record produced now is one produced "after it joined".
type fetchingAtCond struct {
	partition int32
	offset    int64
}

func parseFetchingAt(p *parser, name string, args []string) (awaited, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("takes a partition and an offset")
	}
	if err := p.own(name, "wait fetching-at"); err != nil {
		return nil, err
	}
	part, err := partition(args[0])
	if err != nil {
		return nil, err
	}
	off, err := count(args[1], "offset")
	return &fetchingAtCond{partition: part, offset: off}, err
}

func (c *fetchingAtCond) String() string {
	return fmt.Sprintf("to fetch partition %d at or past %d", c.partition, c.offset)
}
func (c *fetchingAtCond) ledger() bool { return true }

func (c *fetchingAtCond) probe(r *run, name string) (func() (bool, string, error), error) {
	return func() (bool, string, error) {
		events, err := r.events(name)
		if err != nil {
			return false, "", err
		}
		seen := "no fetch position"
		for _, e := range events {
			if e.Type == ledger.Fetching && e.Partitions[0].Partition == c.partition {
				seen = fmt.Sprintf("fetching at %d", e.Partitions[0].Offset)
				if e.Partitions[0].Offset >= c.offset {
					return true, seen, nil
				}
			}
		}
		return false, seen, nil
	}, nil
}

// committedAtCond polls the broker, the source of truth for commits, for
// NAME's group's committed offset on one partition of NAME's topic.
type committedAtCond struct {
	partition int32
	offset    int64 // -1: none committed
}

func parseCommittedAt(p *parser, name string, args []string) (awaited, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("takes a partition and an offset (or none)")
	}
	if err := p.consumer(name); err != nil {
		return nil, err
	}
	part, err := partition(args[0])
	if err != nil {
		return nil, err
	}
	c := &committedAtCond{partition: part, offset: -1}
	if args[1] != "none" {
		c.offset, err = count(args[1], "offset (or none)")
	}
	return c, err
}

func (c *committedAtCond) String() string {
	if c.offset < 0 {
		return fmt.Sprintf("its group to hold no committed offset on partition %d", c.partition)
	}
	return fmt.Sprintf("its group's committed offset on partition %d to reach %d", c.partition, c.offset)
}
func (c *committedAtCond) ledger() bool { return false }

func (c *committedAtCond) probe(r *run, name string) (func() (bool, string, error), error) {
	at := tp.TP{Topic: r.topicOf(name), Partition: c.partition}
	return func() (bool, string, error) {
		committed, err := r.admin.CommittedOffsets(r.ctx, r.groups[name])
		if groups.IsUnstable(err) {
			return false, "an open transaction's offsets (unstable)", nil
		}
		if err != nil {
			return false, "", err
		}
		got, ok := committed[at]
		if !ok {
			return c.offset < 0, "nothing committed on " + at.String(), nil
		}
		seen := fmt.Sprintf("committed %d on %s", got.Offset, at)
		return c.offset >= 0 && got.Offset >= c.offset, seen, nil
	}, nil
}

// caughtUpCond waits until a consumer has read its topic to the end: a
// story's "and now it has caught up, stop it" without waiting for
// --idle-exit's silence.
type caughtUpCond struct{ snapshot string }

func parseCaughtUp(p *parser, name string, args []string) (awaited, error) {
	if len(args) > 1 {
		return nil, fmt.Errorf("takes at most a snapshot label")
	}
	if err := p.consumer(name); err != nil {
		return nil, err
	}
	c := &caughtUpCond{}
	if len(args) == 1 {
		c.snapshot = args[0]
		if err := p.snapshot(c.snapshot); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *caughtUpCond) String() string {
	if c.snapshot != "" {
		return "to catch up with the log end of snapshot " + c.snapshot
	}
	return "to catch up with the log end"
}
func (c *caughtUpCond) ledger() bool { return true }

func (c *caughtUpCond) probe(r *run, name string) (func() (bool, string, error), error) {
	ends := map[tp.TP]int64{}
	if c.snapshot != "" {
		s := r.snapshots[c.snapshot]
		for pname, t := range s.tps {
			if b := s.Bounds[pname]; b[1] > b[0] {
				ends[t] = b[1]
			}
		}
	} else {
		topic := r.topicOf(name)
		n, _, err := r.admin.TopicPartitions(r.ctx, topic)
		if err != nil {
			return nil, err
		}
		tps := make([]groups.TP, n)
		for p := range tps {
			tps[p] = groups.TP{Topic: topic, Partition: int32(p)}
		}
		marks, err := r.admin.Watermarks(r.ctx, tps)
		if err != nil {
			return nil, err
		}
		for t, m := range marks {
			if m.End > m.Start {
				ends[t] = m.End
			}
		}
	}
	return func() (bool, string, error) {
		// How far NAME got: the offset after the last record it processed.
		// (Not its fetch position: librdkafka prefetches far ahead of what
		// the application has processed.)
		at := map[tp.TP]int64{}
		err := r.scan(name, func(e ledger.Event) {
			if e.Type == ledger.Processed && e.Record != nil {
				t := tp.TP{Topic: e.Record.Topic, Partition: e.Record.Partition}
				at[t] = max(at[t], e.Record.Offset+1)
			}
		})
		if err != nil {
			return false, "", err
		}
		behind := behindOf(ends, at)
		if len(behind) > 0 && r.groups[name] != "" {
			// Partitions it did not read itself: its group may have
			// committed them at the end before this run.
			committed, err := r.admin.CommittedOffsets(r.ctx, r.groups[name])
			if groups.IsUnstable(err) {
				return false, "an open transaction's offsets (unstable)", nil
			}
			if err != nil {
				return false, "", err
			}
			for t, c := range committed {
				at[t] = max(at[t], c.Offset)
			}
			behind = behindOf(ends, at)
		}
		return len(behind) == 0, "behind on " + fmt.Sprint(behind), nil
	}, nil
}

// behindOf lists the partitions where at has not reached the end, as
// "topic[p] at X of END".
func behindOf(ends, at map[tp.TP]int64) []string {
	var behind []string
	for _, t := range tp.Keys(ends) {
		if at[t] < ends[t] {
			behind = append(behind, fmt.Sprintf("%s at %d of %d", t, at[t], ends[t]))
		}
	}
	return behind
}

// exitCond waits for a process to end, with a given code when one is named.
type exitCond struct{ code *int }

func parseExit(p *parser, name string, args []string) (awaited, error) {
	switch len(args) {
	case 0:
		return &exitCond{}, nil
	case 1:
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 0 || n > 255 {
			return nil, fmt.Errorf("%q is not an exit code (0 to 255)", args[0])
		}
		return &exitCond{code: &n}, nil
	}
	return nil, fmt.Errorf("takes at most an exit code")
}

func (c *exitCond) String() string {
	if c.code != nil {
		return fmt.Sprintf("to exit with code %d", *c.code)
	}
	return "to exit"
}
func (c *exitCond) ledger() bool { return false }

func (c *exitCond) probe(r *run, name string) (func() (bool, string, error), error) {
	p, err := r.sup.Get(name)
	if err != nil {
		return nil, err
	}
	return func() (bool, string, error) {
		if p.Running() {
			return false, "still running", nil
		}
		if c.code != nil && p.ExitCode() != *c.code {
			return false, "", fmt.Errorf("%s exited with code %d, want %d", name, p.ExitCode(), *c.code)
		}
		return true, "", nil
	}, nil
}

// sleepStep is a deliberate pause.
type sleepStep struct{ d time.Duration }

func parseSleep(p *parser, args []string) (step, error) {
	if len(args) != 1 {
		return nil, badUsage("takes one duration")
	}
	if !p.explained {
		return nil, fmt.Errorf("say why the story pauses, in a # line just before or a trailing comment (to wait for something that happens, use wait NAME CONDITION)")
	}
	d, err := duration(args[0])
	return &sleepStep{d: d}, err
}

func (s *sleepStep) run(r *run) error { return r.sleep(s.d) }

func (r *run) sleep(d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}
