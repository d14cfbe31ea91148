package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/tp"
	"github.com/offsetlab/offsetlab/internal/verify"
)

func init() {
	register(verb{"expect", "expect CHECK ...: a verdict the story holds the run to (checks below)", parseExpect})
	checks["replayed"] = check{"replayed OP N [among NAME...] | replayed OP since NAME#RUN SNAPSHOT: records processed more than once within a group ($GROUP, or the groups of NAME...); `since` is what run RUN of NAME processed at or after SNAPSHOT's committed offsets (its log start where nothing was committed: the restart resets to earliest)",
		parseTotal("replayed")}
	checks["lost"] = check{"lost OP N [among NAME...]: records the producers acknowledged that the group ($GROUP, or the groups of NAME...) skipped: it never processed them but went past them (processed a later record, or committed past them)",
		parseTotal("lost")}
	checks["not-consumed"] = check{"not-consumed OP N [among NAME...]: acknowledged records the group never reached (nothing past them was processed or committed)",
		parseTotal("not-consumed")}
	checks["semantics"] = check{"semantics [among NAME...]: the bounds `scenarios run --semantics` sets for the group ($GROUP, or the groups of NAME...): at-least-once (the default) lost == 0; at-most-once replayed == 0; exactly-once both",
		parseSemantics}
	checks["consumed"] = check{"consumed NAME OP N: records NAME's latest run consumed",
		parseFigure("records consumed", consumedRecords, false)}
}

// check is one kind of expectation; it registers itself in checks from the
// file that holds its code.
type check struct {
	usage string
	parse func(p *parser, args []string) (step, error)
}

var checks = map[string]check{}

func checkNames() []string {
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// expectStep runs a check and says ok when it holds.
type expectStep struct{ check step }

func parseExpect(p *parser, args []string) (step, error) {
	if len(args) == 0 {
		return nil, badUsage("missing the check")
	}
	c, ok := checks[args[0]]
	if !ok {
		return nil, fmt.Errorf("unknown check %q; accepted: %s", args[0], strings.Join(checkNames(), ", "))
	}
	st, err := c.parse(p, args[1:])
	if err != nil {
		var u *usageErr
		if errors.As(err, &u) {
			return nil, fmt.Errorf("%s: %s; usage: expect %s", args[0], u.msg, c.usage)
		}
		return nil, fmt.Errorf("%s: %w", args[0], err)
	}
	return &expectStep{st}, nil
}

func (s *expectStep) run(r *run) error {
	if err := s.check.run(r); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "    ok\n")
	return nil
}

// totalCheck compares a figure of the accounting, summed over the
// partitions of a group, with a bound.
type totalCheck struct {
	what  string // replayed, lost, not-consumed
	op    verify.Op
	n     int64
	among []string
	since *sinceRef // replayed == since NAME#RUN SNAPSHOT
}

// sinceRef is "since NAME#RUN SNAPSHOT": what run RUN of NAME processed at
// or after the offsets SNAPSHOT says were committed.
type sinceRef struct {
	name     string
	n        int
	snapshot string
}

func parseTotal(what string) func(p *parser, args []string) (step, error) {
	return func(p *parser, args []string) (step, error) {
		if what == "replayed" && len(args) == 4 && args[1] == "since" {
			op, err := verify.ParseOp(args[0])
			if err != nil {
				return nil, err
			}
			name, n, err := p.run(args[2])
			if err != nil {
				return nil, err
			}
			if err := p.snapshot(args[3]); err != nil {
				return nil, err
			}
			return &totalCheck{what: what, op: op, since: &sinceRef{name, n, args[3]}}, nil
		}
		c := &totalCheck{what: what}
		if len(args) > 2 && args[2] == "among" {
			if len(args) == 3 {
				return nil, badUsage("among takes one or more consumer names")
			}
			for _, name := range args[3:] {
				if err := p.sees(name, "expect "+what, observeLines, observeOutput); err != nil {
					return nil, err
				}
			}
			args, c.among = args[:2], args[3:]
		}
		if len(args) != 2 {
			return nil, badUsage("want OP N")
		}
		var err error
		c.op, c.n, err = bound(args[0], args[1])
		return c, err
	}
}

// run reads NAME#RUN; RUN must be one of the starts so far.
func (p *parser) run(s string) (string, int, error) {
	name, k, ok := strings.Cut(s, "#")
	if !ok {
		return "", 0, fmt.Errorf("%q: want NAME#RUN, e.g. c1#1", s)
	}
	if err := p.sees(name, "a run's records", observeLines); err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(k)
	if err != nil || n < 1 || n > p.consumers[name] {
		return "", 0, fmt.Errorf("%q: %s has been started %d times before this line; RUN is 1 to %d", s, name, p.consumers[name], p.consumers[name])
	}
	return name, n, nil
}

func (c *totalCheck) run(r *run) error {
	among, n := c.among, c.n
	if c.since != nil {
		among = []string{c.since.name}
		path, err := r.ledgerOf(c.since.name, c.since.n)
		if err != nil {
			return err
		}
		s := r.snapshots[c.since.snapshot]
		// Where nothing was committed, the restart reads from the log
		// start (the stories that use since reset to earliest).
		from := verify.Offsets{}
		for pname, t := range s.tps {
			from[t] = s.Bounds[pname][0]
			if off, ok := s.Committed[pname]; ok {
				from[t] = off
			}
		}
		p := verify.NewProcessedFrom(from)
		if err := ledger.Scan(path, func(_ int, e ledger.Event) error { p.Add(e); return nil }); err != nil {
			return fmt.Errorf("unable to read ledger %s: %w", path, err)
		}
		n = 0
		for _, v := range p.Counts() {
			n += v
		}
		fmt.Fprintf(r.out, "    %s#%d processed %d records at or after the offsets committed in %s\n", c.since.name, c.since.n, n, c.since.snapshot)
	}
	acc, err := r.accounting()
	if err != nil {
		return err
	}
	var seen int64
	var parts []string
	for _, g := range r.groupsOf(among) {
		counts := acc.Counts(g)
		for _, t := range tp.Keys(counts) {
			if v := c.figure(counts[t]); v > 0 {
				seen += v
				parts = append(parts, fmt.Sprintf("%s %d%s", t, v, offsetsOf(c.ranges(acc, g, t))))
			}
		}
	}
	by := cond(len(parts) > 0, strings.Join(parts, ", "), "none")
	if err := verify.Bound(c.what, verify.TP{}, seen, c.op, n); err != nil {
		// Name the partitions and their figures, not just the total.
		return fmt.Errorf("%w (by partition: %s)", err, by)
	}
	fmt.Fprintf(r.out, "    %s: %d (%s)\n", c.what, seen, by)
	return nil
}

// ranges are the offsets behind the figure, where verify keeps them.
func (c *totalCheck) ranges(acc *verify.Accounting, group string, t verify.TP) []verify.Range {
	switch c.what {
	case "lost":
		return acc.Lost(group, t)
	case "not-consumed":
		return acc.NotConsumed(group, t)
	}
	return acc.Replayed(group, t)
}

// offsetsOf shows ranges of offsets briefly: " (offsets 17, 40-44)", the
// first five ranges; " (offset 2)" for one.
func offsetsOf(ranges []verify.Range) string {
	if len(ranges) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(" (offsets ")
	if len(ranges) == 1 && ranges[0].From == ranges[0].To {
		b.Reset()
		b.WriteString(" (offset ")
	}
	for i, rg := range ranges {
		if i == 5 {
			fmt.Fprintf(&b, ", and %d more ranges", len(ranges)-5)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if rg.From == rg.To {
			fmt.Fprintf(&b, "%d", rg.From)
		} else {
			fmt.Fprintf(&b, "%d-%d", rg.From, rg.To)
		}
	}
	b.WriteString(")")
	return b.String()
}

// parseSemantics reads `expect semantics [among NAME...]`.
func parseSemantics(p *parser, args []string) (step, error) {
	if len(args) > 0 && args[0] != "among" || len(args) == 1 {
		return nil, badUsage("takes nothing, or among and one or more consumer names")
	}
	var among []string
	if len(args) > 1 {
		among = args[1:]
		for _, name := range among {
			if err := p.sees(name, "expect semantics", observeLines, observeOutput); err != nil {
				return nil, err
			}
		}
	}
	return semanticsCheck(among), nil
}

// semanticsCheck holds the group to what --semantics promises.
type semanticsCheck []string

func (among semanticsCheck) run(r *run) error {
	sem := cmp.Or(r.env.Semantics, Semantics[0])
	fmt.Fprintf(r.out, "    %s:\n", sem)
	var errs []error
	if sem != "at-most-once" {
		errs = append(errs, (&totalCheck{what: "lost", op: verify.Eq, among: among}).run(r))
	}
	if sem != "at-least-once" {
		errs = append(errs, (&totalCheck{what: "replayed", op: verify.Eq, among: among}).run(r))
	}
	return errors.Join(errs...)
}

func (c *totalCheck) figure(counts *verify.Counts) int64 {
	switch c.what {
	case "lost":
		return counts.Lost
	case "not-consumed":
		return counts.NotConsumed
	}
	return counts.Replayed
}

// groupsOf is the groups of the named consumers; $GROUP when none are named.
func (r *run) groupsOf(names []string) []string {
	if len(names) == 0 {
		return []string{r.vars["GROUP"]}
	}
	var gs []string
	for _, n := range names {
		if g := r.groups[n]; !slices.Contains(gs, g) {
			gs = append(gs, g)
		}
	}
	return gs
}

// figureCheck bounds a figure of a consumer's latest ledger.
type figureCheck struct {
	name    string
	what    string
	measure func(r *run, name string) (int64, error)
	op      verify.Op
	n       int64
}

// fromEvents measures the summary of a consumer's latest ledger (every
// event but the bulk of its records: r.events) with f.
func fromEvents(f func(r *run, events []ledger.Event) int64) func(r *run, name string) (int64, error) {
	return func(r *run, name string) (int64, error) {
		events, err := r.events(name)
		return f(r, events), err
	}
}

// consumedRecords counts the records a consumer's latest run consumed,
// streaming its ledger.
func consumedRecords(r *run, name string) (int64, error) {
	n := int64(0)
	err := r.scan(name, func(e ledger.Event) {
		if e.Type == ledger.Consumed {
			n++
		}
	})
	return n, err
}

func parseFigure(what string, measure func(r *run, name string) (int64, error), own bool) func(p *parser, args []string) (step, error) {
	return func(p *parser, args []string) (step, error) {
		if len(args) != 3 {
			return nil, badUsage("want NAME OP N")
		}
		check := p.sees(args[0], what, observeLines)
		if own {
			check = p.own(args[0], what)
		}
		if check != nil {
			return nil, check
		}
		op, n, err := bound(args[1], args[2])
		return &figureCheck{name: args[0], what: what, measure: measure, op: op, n: n}, err
	}
}

func (c *figureCheck) run(r *run) error {
	n, err := c.measure(r, c.name)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.out, "    %s: %d %s\n", c.name, n, c.what)
	return r.failed(verify.Bound(c.what+" by "+c.name, verify.TP{}, n, c.op, c.n))
}

// accounting classifies every acknowledged and processed record, per group,
// with each group's committed offsets read from the broker now. Ledgers are
// streamed through the accounting, not kept (verify.Accountant): a soak's
// millions of records cost their compact form only. A program under test's
// ledger names positions only, which is enough: a record read where one was
// acked is that record.
//
// When nothing it reads changed since the last time (every ledger the same
// size, ledgers being append-only, and the same committed offsets), the
// last accounting is the answer again: the checks at the end of a story and
// its table need one pass over the records, not one each.
func (r *run) accounting() (*verify.Accounting, error) {
	committed := map[string]verify.Offsets{}
	for _, name := range sortedKeys(r.ledgers) {
		g := r.groups[name]
		if _, ok := committed[g]; ok {
			continue
		}
		c, err := r.admin.CommittedOffsets(r.ctx, g)
		if err != nil {
			return nil, err
		}
		committed[g] = verify.Offsets{}
		for t, o := range c {
			committed[g][t] = o.Offset
		}
	}
	r.committed = committed
	inputs := r.accountingInputs(committed)
	if r.accounted.acc != nil && r.accounted.inputs == inputs {
		return r.accounted.acc, nil
	}
	began := time.Now()
	ac := verify.NewAccountant()
	for _, name := range sortedKeys(r.acked) {
		if err := ac.ReadAcked(r.acked[name]); err != nil { // a producer killed early may have none: no error
			return nil, err
		}
	}
	for _, name := range sortedKeys(r.ledgers) {
		for _, path := range r.ledgers[name] {
			if err := ac.ReadIncarnation(path, r.groups[name]); err != nil {
				return nil, err
			}
		}
	}
	output, groups, err := r.outputReads()
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if err := ac.ReadIncarnation(output, g); err != nil {
			return nil, err
		}
	}
	acc, err := ac.Account(committed)
	if err != nil {
		return nil, err
	}
	if r.env.Stats {
		var acked, processed int64
		for _, g := range acc.Groups() {
			t := acc.Total(g)
			acked, processed = max(acked, t.Acked), processed+t.Processed
		}
		d := time.Since(began)
		fmt.Fprintf(r.out, "    stats: the accounting read %d acked records and %d processings in %s: %.0f records a second\n",
			acked, processed, d.Round(time.Millisecond), float64(acked)/d.Seconds())
	}
	r.accounted.acc, r.accounted.inputs = acc, inputs
	if output != "" {
		r.accounted.acc = nil // an output topic is read from the broker: not cached
	}
	return acc, nil
}

// accountingInputs names what an accounting reads: each ledger with its
// size, and the committed offsets.
func (r *run) accountingInputs(committed map[string]verify.Offsets) string {
	var b strings.Builder
	size := func(path string) {
		var n int64 = -1
		if fi, err := os.Stat(path); err == nil {
			n = fi.Size()
		}
		fmt.Fprintf(&b, "%s %d\n", path, n)
	}
	for _, name := range sortedKeys(r.acked) {
		size(r.acked[name])
	}
	for _, name := range sortedKeys(r.ledgers) {
		for _, path := range r.ledgers[name] {
			size(path)
		}
	}
	for _, g := range slices.Sorted(maps.Keys(committed)) {
		for _, t := range tp.Keys(committed[g]) {
			fmt.Fprintf(&b, "%s %s %d\n", g, t, committed[g][t])
		}
	}
	return b.String()
}

// ledgerOf is the ledger of run n (from 1) of a consumer, or of its latest
// with n 0.
func (r *run) ledgerOf(name string, n int) (string, error) {
	paths := r.ledgers[name]
	if len(paths) == 0 {
		return "", fmt.Errorf("no consumer named %s was started", name)
	}
	if n == 0 {
		n = len(paths)
	}
	if n < 1 || n > len(paths) {
		return "", fmt.Errorf("%s ran %d times, there is no run %d", name, len(paths), n)
	}
	return paths[n-1], nil
}

// incarnation reads run n (from 1) of a consumer, or its latest with n 0,
// summarized (verify.ReadSummary): its records but the first on each
// partition after each change of assignment are left out.
func (r *run) incarnation(name string, n int) (verify.Incarnation, error) {
	return r.readIncarnation(name, n, verify.ReadSummary)
}

// readIncarnation reads run n of a consumer with read, named NAME#RUN, in
// its group.
func (r *run) readIncarnation(name string, n int, read func(string) (verify.Incarnation, error)) (verify.Incarnation, error) {
	path, err := r.ledgerOf(name, n)
	if err != nil {
		return verify.Incarnation{}, err
	}
	if n == 0 {
		n = len(r.ledgers[name])
	}
	inc, err := read(path)
	inc.Name = fmt.Sprintf("%s#%d", name, n)
	if inc.Group == "" {
		inc.Group = r.groups[name]
	}
	return inc, err
}

// failed marks the row a check failed on, for the table's verdict.
func (r *run) failed(err error) error {
	return r.failedIn(r.vars["GROUP"], err)
}

func (r *run) failedIn(group string, err error) error {
	if err == nil {
		return nil
	}
	var p interface{ Partition() verify.TP }
	if errors.As(err, &p) && p.Partition().Topic != "" {
		r.row(group, p.Partition()).Verdict = "FAIL"
	}
	return err
}

// ackedEvents reads every producer's acked ledger, once per step: a
// background producer may still be adding to it, so the next step reads
// it again.
func (r *run) ackedEvents() []ledger.Event {
	if r.acks.events != nil {
		return r.acks.events
	}
	acked := []ledger.Event{}
	for _, name := range sortedKeys(r.acked) {
		events, _ := ledger.Read(r.acked[name]) // a producer killed early may have none
		acked = append(acked, events...)
	}
	r.acks.events = acked
	return acked
}

// ackedRead is what one step read of the producers' acked ledgers.
type ackedRead struct {
	events []ledger.Event
}
