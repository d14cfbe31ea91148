package scenario

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/offset"
	"github.com/offsetlab/offsetlab/internal/verify"
)

func init() {
	checks["position"] = check{"position NAME PARTITION POSITION COMMITTED: the last `positions` answer of NAME for that partition, each a number or none (-1001, librdkafka's OffsetInvalid)", parsePosition}
	checks["rebalances"] = check{"rebalances NAME OP N: assignments and revocations NAME's latest run saw since the last kill",
		parseFigure("assignments and revocations since the kill", fromEvents(rebalances), true)}
	checks["same-assignment"] = check{"same-assignment NAME: NAME's latest run was given the partitions its previous run owned", parseSameAssignment}
	checks["commits-not-ahead"] = check{"commits-not-ahead NAME...: no commit of any run of NAME was ahead of what it had processed", parseNames(func(names []string) step { return commitsNotAhead(names) })}
	checks["owners"] = check{"owners NAME...: the running consumers NAME... own every partition of $TOPIC exactly once", parseNames(func(names []string) step { return owners(names) })}
}

type positionCheck struct {
	name                string
	partition           int32
	position, committed int64
}

func parsePosition(p *parser, args []string) (step, error) {
	if len(args) != 4 {
		return nil, badUsage("want NAME PARTITION POSITION COMMITTED")
	}
	if err := p.own(args[0], "expect position"); err != nil {
		return nil, err
	}
	c := &positionCheck{name: args[0]}
	var err error
	if c.partition, err = partition(args[1]); err != nil {
		return nil, err
	}
	if c.position, err = offset.Parse(args[2]); err != nil {
		return nil, err
	}
	c.committed, err = offset.Parse(args[3])
	return c, err
}

func (c *positionCheck) run(r *run) error {
	events, err := r.events(c.name)
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
		return fmt.Errorf("%s has answered no positions request", c.name)
	}
	for _, p := range last.Partitions {
		if p.Partition != c.partition {
			continue
		}
		committed := offset.Invalid
		if p.Committed != nil {
			committed = *p.Committed
		}
		got := fmt.Sprintf("position %s, committed %s", offset.String(p.Offset), offset.String(committed))
		want := fmt.Sprintf("position %s, committed %s", offset.String(c.position), offset.String(c.committed))
		fmt.Fprintf(r.out, "    %s[%d]: %s\n", p.Topic, c.partition, got)
		if got != want {
			return fmt.Errorf("%s[%d]: %s, want %s", p.Topic, c.partition, got, want)
		}
		return nil
	}
	return fmt.Errorf("%s's last snapshot has no partition %d", c.name, c.partition)
}

// rebalances counts the assignments and revocations in a ledger since the
// last kill.
func rebalances(r *run, events []ledger.Event) int64 {
	n := int64(0)
	for _, e := range events {
		if (e.Type == ledger.Assigned || e.Type == ledger.Revoked) && e.TS.After(r.killedAt) {
			n++
		}
	}
	return n
}

type sameAssignmentCheck struct{ name string }

func parseSameAssignment(p *parser, args []string) (step, error) {
	if len(args) != 1 {
		return nil, badUsage("takes one consumer name")
	}
	if err := p.own(args[0], "expect same-assignment"); err != nil {
		return nil, err
	}
	if p.consumers[args[0]] < 2 {
		return nil, fmt.Errorf("%s has been started once before this line; same-assignment compares a restart with the run before it", args[0])
	}
	return &sameAssignmentCheck{args[0]}, nil
}

func (c *sameAssignmentCheck) run(r *run) error {
	prev, err := r.incarnation(c.name, len(r.ledgers[c.name])-1)
	if err != nil {
		return err
	}
	cur, err := r.incarnation(c.name, 0)
	if err != nil {
		return err
	}
	// The previous run was killed: its last assignment is what it owned.
	was, now := verify.Assignment(prev), verify.Assignment(cur)
	fmt.Fprintf(r.out, "    before: %v, after: %v\n", was, now)
	if fmt.Sprint(was) != fmt.Sprint(now) {
		return fmt.Errorf("%s owned %v before the restart and %v after", c.name, was, now)
	}
	return nil
}

// parseNames reads a check that takes one or more consumer names.
func parseNames(mk func([]string) step) func(p *parser, args []string) (step, error) {
	return func(p *parser, args []string) (step, error) {
		if len(args) == 0 {
			return nil, badUsage("takes one or more consumer names")
		}
		for _, n := range args {
			if err := p.own(n, "this check"); err != nil {
				return nil, err
			}
		}
		return mk(args), nil
	}
}

type commitsNotAhead []string

// run streams each ledger through the check, keeping none of it: a soak's
// consumers write millions of events.
func (names commitsNotAhead) run(r *run) error {
	for _, name := range names {
		for _, path := range r.ledgers[name] {
			group, started := r.groups[name], false
			check := verify.NewCommitCheck()
			err := ledger.Scan(path, func(_ int, e ledger.Event) error {
				if e.Type == ledger.Started && !started {
					started = true
					group = cmp.Or(e.Detail["group.id"], group)
				}
				return check.Add(e)
			})
			var ahead *verify.CommitAheadError
			if errors.As(err, &ahead) {
				return r.failedIn(group, err)
			}
			if err != nil {
				return fmt.Errorf("unable to read ledger %s: %w", path, err)
			}
		}
	}
	return nil
}

type owners []string

func (names owners) run(r *run) error {
	var live []verify.Incarnation
	for _, name := range names {
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
	s, err := r.readSnapshot("owners", r.groups[names[0]])
	if err != nil {
		return err
	}
	var tps []verify.TP
	for _, t := range s.tps {
		tps = append(tps, t)
	}
	held, err := verify.Owners(live, tps)
	for t, o := range held {
		fmt.Fprintf(r.out, "    %s: %s\n", t, o)
	}
	return r.failedIn(r.groups[names[0]], err)
}
