package verify

import (
	"fmt"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// Op is a comparison a scenario states a bound with.
type Op string

// The comparisons a bound accepts.
const (
	Eq Op = "=="
	Le Op = "<="
	Ge Op = ">="
	Lt Op = "<"
	Gt Op = ">"
)

var ops = []Op{Eq, Le, Ge, Lt, Gt}

// ParseOp validates a comparison. A bad one is a usage error listing the
// accepted ones.
func ParseOp(s string) (Op, error) {
	for _, op := range ops {
		if string(op) == s {
			return op, nil
		}
	}
	return "", cli.Usagef("unknown comparison %q (accepted: == <= >= < >)", s)
}

func (op Op) holds(seen, bound int64) bool {
	switch op {
	case Eq:
		return seen == bound
	case Le:
		return seen <= bound
	case Ge:
		return seen >= bound
	case Lt:
		return seen < bound
	case Gt:
		return seen > bound
	}
	return false
}

// Bound proves that a figure (replayed, lost, ...) is within the bound a
// scenario states: seen op bound. tp names the partition the figure is for;
// its zero value means the total over all partitions. It returns a
// *BoundError when the figure is out of bounds, and a usage error for an
// op ParseOp would reject.
func Bound(what string, tp TP, seen int64, op Op, bound int64) error {
	if _, err := ParseOp(string(op)); err != nil {
		return err
	}
	if op.holds(seen, bound) {
		return nil
	}
	return &BoundError{What: what, TP: tp, Op: op, Bound: bound, Seen: seen}
}

// BoundError says that a figure is out of the bound a scenario states.
type BoundError struct {
	What  string // the figure: replayed, lost, ...
	TP    TP     // the partition; the zero value for the total
	Op    Op
	Bound int64
	Seen  int64
}

func (e *BoundError) Error() string {
	where := ""
	if e.TP != (TP{}) {
		where = e.TP.String() + ": "
	}
	return fmt.Sprintf("%s%s is %d, but the scenario expects %s %d", where, e.What, e.Seen, e.Op, e.Bound)
}

// Partition is the partition the figure is for; the zero value for a total.
func (e *BoundError) Partition() TP { return e.TP }

// ExitCode is 1: a verification failed.
func (e *BoundError) ExitCode() int { return failed }
