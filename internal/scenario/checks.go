package scenario

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/tp"
	"github.com/offsetlab/offsetlab/internal/verify"
)

// check is one kind of expectation.
type check struct {
	usage string
	fn    func(r *run, args []string) error
}

var checks map[string]check

func init() {
	checks = map[string]check{
		"resume": {"resume NAME SNAPSHOT [fallback start|end]: NAME's latest run read first, on each partition, the offset committed in SNAPSHOT; where nothing was committed, the log start or end in SNAPSHOT (the reset policy's answer)",
			(*run).expectResume},
		"replayed": {"replayed OP N [among NAME...] | replayed OP since NAME#RUN SNAPSHOT: records processed more than once, in all; `since` counts what run RUN of NAME processed at or after SNAPSHOT's committed offsets",
			(*run).expectReplayed},
		"lost": {"lost OP N [among NAME...]: records the producers had acknowledged that no consumer (of NAME...) processed",
			func(r *run, args []string) error { return r.expectTotal("lost", args) }},
		"takeover": {"takeover NAME SNAPSHOT [fallback start|end]: on the partitions NAME took over after the last kill, it read first the offset committed in SNAPSHOT",
			(*run).expectTakeover},
		"position": {"position NAME PARTITION POSITION COMMITTED: the last `positions` answer of NAME for that partition, each a number or none (-1001, librdkafka's OffsetInvalid)",
			(*run).expectPosition},
		"rebalances": {"rebalances NAME OP N: assignments and revocations NAME's latest run saw since the last kill",
			(*run).expectRebalances},
		"same-assignment": {"same-assignment NAME: NAME's latest run was given the partitions its previous run owned",
			(*run).expectSameAssignment},
		"consumed": {"consumed NAME OP N: records NAME's latest run consumed",
			(*run).expectConsumed},
		"commits-not-ahead": {"commits-not-ahead NAME...: no commit of any run of NAME was ahead of what it had processed",
			(*run).expectCommitsNotAhead},
		"owners": {"owners NAME...: the running consumers NAME... own every partition of $TOPIC exactly once",
			(*run).expectOwners},
	}
}

func checkNames() []string {
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (r *run) expect(args []string) error {
	if len(args) == 0 {
		return usage("expect")
	}
	c, ok := checks[args[0]]
	if !ok {
		return fmt.Errorf("unknown check %q (known: %s)", args[0], strings.Join(checkNames(), ", "))
	}
	if err := c.fn(r, args[1:]); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "    ok\n")
	return nil
}

// incarnation reads run n (from 1) of a consumer, or its latest with n 0.
func (r *run) incarnation(name string, n int) (verify.Incarnation, error) {
	paths := r.ledgers[name]
	if len(paths) == 0 {
		return verify.Incarnation{}, fmt.Errorf("no consumer named %s was started", name)
	}
	if n == 0 {
		n = len(paths)
	}
	if n < 1 || n > len(paths) {
		return verify.Incarnation{}, fmt.Errorf("%s ran %d times, there is no run %d", name, len(paths), n)
	}
	inc, err := verify.Read(paths[n-1])
	inc.Name = fmt.Sprintf("%s#%d", name, n)
	return inc, err
}

func (r *run) snap(label string) (*snapshot, error) {
	s, ok := r.snapshots[label]
	if !ok {
		return nil, fmt.Errorf("no snapshot %q was taken", label)
	}
	return s, nil
}

func (r *run) expectResume(args []string) error {
	if !resumeArgs(args) {
		return errors.New("usage: expect " + checks["resume"].usage)
	}
	inc, err := r.incarnation(args[0], 0)
	if err != nil {
		return err
	}
	return r.resume(inc, args[1:])
}

func resumeArgs(args []string) bool {
	return len(args) == 2 || len(args) == 4 && args[2] == "fallback" && (args[3] == "start" || args[3] == "end")
}

// expectTakeover checks where a surviving member started on the partitions
// it took over from a killed one: its events after the last kill, on
// partitions it did not own before it.
func (r *run) expectTakeover(args []string) error {
	if !resumeArgs(args) {
		return errors.New("usage: expect " + checks["takeover"].usage)
	}
	if r.killedAt.IsZero() {
		return errors.New("no consumer was killed before this check")
	}
	inc, err := r.incarnation(args[0], 0)
	if err != nil {
		return err
	}
	var before, after []ledger.Event
	for _, e := range inc.Events {
		if e.TS.After(r.killedAt) {
			after = append(after, e)
		} else {
			before = append(before, e)
		}
	}
	owned := assignment(before)
	inc.Events = slices.DeleteFunc(after, func(e ledger.Event) bool {
		return e.Record != nil && owned[fmt.Sprintf("%s[%d]", e.Record.Topic, e.Record.Partition)]
	})
	return r.resume(inc, args[1:])
}

// resume checks inc's first consumed offsets against a snapshot: args are
// SNAPSHOT [fallback start|end].
func (r *run) resume(inc verify.Incarnation, args []string) error {
	s, err := r.snap(args[0])
	if err != nil {
		return err
	}
	// A committed offset outside the log is no valid committed offset: the
	// reset policy applies, as it does where nothing was committed.
	committed, fallback := verify.Offsets{}, verify.Offsets{}
	for name, tp := range s.tps {
		vtp := verify.TP{Topic: tp.Topic, Partition: tp.Partition}
		c, ok := s.Committed[name]
		switch bounds := s.Bounds[name]; {
		case ok && (c < bounds[0] || c > bounds[1]):
			fmt.Fprintf(r.out, "    %s: committed %d is outside the log [%d, %d): out of range, the reset policy applies\n", name, c, bounds[0], bounds[1])
		case ok:
			committed[vtp] = c
		}
		if len(args) == 3 {
			fallback[vtp] = s.Bounds[name][cond(args[2] == "start", 0, 1)]
		}
	}
	rows, err := verify.Resume(inc, committed, fallback)
	for _, row := range rows {
		rr := r.row(row.TP.String())
		rr.Committed = row.Committed
		if c, ok := s.Committed[row.TP.String()]; ok {
			rr.Committed = ptr(c)
		}
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
	return r.failed(err)
}

func (r *run) expectReplayed(args []string) error {
	if len(args) == 4 && args[1] == "since" {
		name, n, err := nameRun(args[2])
		if err != nil {
			return err
		}
		inc, err := r.incarnation(name, n)
		if err != nil {
			return err
		}
		s, err := r.snap(args[3])
		if err != nil {
			return err
		}
		from := verify.Offsets{}
		for pname, tp := range s.tps {
			if c, ok := s.Committed[pname]; ok {
				from[verify.TP{Topic: tp.Topic, Partition: tp.Partition}] = c
			}
		}
		want := int64(0)
		for _, v := range verify.ProcessedFrom(inc, from) {
			want += v
		}
		fmt.Fprintf(r.out, "    %s processed %d records at or after the offsets committed in %s\n", inc.Name, want, args[3])
		return r.expectTotal("replayed", []string{args[0], strconv.FormatInt(want, 10)})
	}
	return r.expectTotal("replayed", args)
}

// expectTotal compares a figure summed over every partition with a bound.
// "among NAME..." counts only those consumers' runs (another group on the
// same topic, say).
func (r *run) expectTotal(what string, args []string) error {
	var among []string
	if len(args) > 3 && args[2] == "among" {
		args, among = args[:2], args[3:]
	}
	if len(args) != 2 {
		return errors.New("usage: expect " + checks[what].usage)
	}
	op, bound, err := parseBound(args[0], args[1])
	if err != nil {
		return err
	}
	tally, err := r.tally(among...)
	if err != nil {
		return err
	}
	var seen int64
	var parts []string
	for _, tp := range tp.Keys(tally) {
		if v := cond(what == "lost", tally[tp].Lost, tally[tp].Replayed); v > 0 {
			seen += v
			parts = append(parts, fmt.Sprintf("%s %d", tp, v))
		}
	}
	if err := verify.Bound(what, verify.TP{}, seen, op, bound); err != nil {
		// Name the partitions and their figures, not just the total.
		return fmt.Errorf("%w (by partition: %s)", err, cond(len(parts) > 0, strings.Join(parts, ", "), "none"))
	}
	fmt.Fprintf(r.out, "    %s: %d (%s)\n", what, seen, cond(len(parts) > 0, strings.Join(parts, ", "), "none"))
	return nil
}

func (r *run) expectConsumed(args []string) error {
	if len(args) != 3 {
		return errors.New("usage: expect " + checks["consumed"].usage)
	}
	op, bound, err := parseBound(args[1], args[2])
	if err != nil {
		return err
	}
	events, err := r.events(args[0])
	if err != nil {
		return err
	}
	return r.failed(verify.Bound("consumed by "+args[0], verify.TP{}, counters["consumed"](events), op, bound))
}

func (r *run) expectCommitsNotAhead(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: expect " + checks["commits-not-ahead"].usage)
	}
	for _, name := range args {
		for n := range r.ledgers[name] {
			inc, err := r.incarnation(name, n+1)
			if err != nil {
				return err
			}
			if err := r.failed(verify.CommitsNotAhead(inc)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *run) expectOwners(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: expect " + checks["owners"].usage)
	}
	var live []verify.Incarnation
	for _, name := range args {
		p, err := r.sup.Get(name)
		if err != nil {
			return err
		}
		if !p.Running() {
			return fmt.Errorf("%s is not running", name)
		}
		inc, err := r.incarnation(name, 0)
		if err != nil {
			return err
		}
		live = append(live, inc)
	}
	s, err := r.readSnapshot("owners", r.vars["GROUP"])
	if err != nil {
		return err
	}
	var tps []verify.TP
	for _, tp := range s.tps {
		tps = append(tps, verify.TP{Topic: tp.Topic, Partition: tp.Partition})
	}
	owners, err := verify.Owners(live, tps)
	for tp, o := range owners {
		fmt.Fprintf(r.out, "    %s: %s\n", tp, o)
	}
	return r.failed(err)
}

// tally counts replays and losses over every producer ledger and the
// consumers named (all when none are).
func (r *run) tally(names ...string) (map[verify.TP]*verify.Counts, error) {
	var acked []ledger.Event
	for _, p := range r.acked {
		events, err := ledger.Read(p)
		if err != nil {
			return nil, err
		}
		acked = append(acked, events...)
	}
	var incs []verify.Incarnation
	for name, paths := range r.ledgers {
		if len(names) > 0 && !slices.Contains(names, name) {
			continue
		}
		for n := range paths {
			inc, err := r.incarnation(name, n+1)
			if err != nil {
				return nil, err
			}
			incs = append(incs, inc)
		}
	}
	return verify.Tally(acked, incs), nil
}

// failed marks the partition a check failed on, for the table's verdict.
func (r *run) failed(err error) error {
	if err == nil {
		return nil
	}
	var p interface{ Partition() verify.TP }
	if errors.As(err, &p) && p.Partition().Topic != "" {
		r.row(p.Partition().String()).Verdict = "FAIL"
	}
	return err
}

func nameRun(s string) (string, int, error) {
	name, n, ok := strings.Cut(s, "#")
	if !ok {
		return s, 0, nil
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 1 {
		return "", 0, fmt.Errorf("%q: want NAME#RUN with RUN from 1", s)
	}
	return name, i, nil
}

func ptr[T any](v T) *T { return &v }

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

func (r *run) expectPosition(args []string) error {
	if len(args) != 4 {
		return errors.New("usage: expect " + checks["position"].usage)
	}
	events, err := r.events(args[0])
	if err != nil {
		return err
	}
	var last *ledger.Event
	for i := range events {
		if events[i].Type == ledger.Snapshot {
			last = &events[i]
		}
	}
	if last == nil {
		return fmt.Errorf("%s has answered no positions request", args[0])
	}
	for _, p := range last.Partitions {
		if strconv.Itoa(int(p.Partition)) != args[1] {
			continue
		}
		committed := int64(-1001)
		if p.Committed != nil {
			committed = *p.Committed
		}
		got := fmt.Sprintf("position %s, committed %s", word(p.Offset), word(committed))
		want := fmt.Sprintf("position %s, committed %s", args[2], args[3])
		fmt.Fprintf(r.out, "    %s[%s]: %s\n", p.Topic, args[1], got)
		if got != want {
			return fmt.Errorf("%s[%s]: %s, want %s", p.Topic, args[1], got, want)
		}
		return nil
	}
	return fmt.Errorf("%s's last snapshot has no partition %s", args[0], args[1])
}

// word shows librdkafka's OffsetInvalid (-1001) as "none".
func word(o int64) string {
	if o == -1001 {
		return "none"
	}
	return strconv.FormatInt(o, 10)
}

func (r *run) expectRebalances(args []string) error {
	if len(args) != 3 {
		return errors.New("usage: expect " + checks["rebalances"].usage)
	}
	op, bound, err := parseBound(args[1], args[2])
	if err != nil {
		return err
	}
	events, err := r.events(args[0])
	if err != nil {
		return err
	}
	n := int64(0)
	for _, e := range events {
		if (e.Type == ledger.Assigned || e.Type == ledger.Revoked) && e.TS.After(r.killedAt) {
			n++
		}
	}
	fmt.Fprintf(r.out, "    %s: %d assignments and revocations since the kill\n", args[0], n)
	return verify.Bound("rebalances of "+args[0], verify.TP{}, n, op, bound)
}

func (r *run) expectSameAssignment(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: expect " + checks["same-assignment"].usage)
	}
	runs := r.ledgers[args[0]]
	if len(runs) < 2 {
		return fmt.Errorf("%s has run only once", args[0])
	}
	prev, err := r.incarnation(args[0], len(runs)-1)
	if err != nil {
		return err
	}
	cur, err := r.incarnation(args[0], 0)
	if err != nil {
		return err
	}
	// The previous run was killed: its last assignment is what it owned.
	was, now := verify.Assignment(prev), verify.Assignment(cur)
	fmt.Fprintf(r.out, "    before: %v, after: %v\n", was, now)
	if fmt.Sprint(was) != fmt.Sprint(now) {
		return fmt.Errorf("%s owned %v before the restart and %v after", args[0], was, now)
	}
	return nil
}

// parseBound reads the OP N of a check.
func parseBound(op, n string) (verify.Op, int64, error) {
	o, err := verify.ParseOp(op)
	if err != nil {
		return "", 0, err
	}
	bound, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not a count", n)
	}
	return o, bound, nil
}
