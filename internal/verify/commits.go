package verify

import (
	"fmt"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// CommitCheck proves the at-least-once promise of a consumer's commits:
// no successful commit in the incarnation's ledger claimed a record that had
// not been processed. A committed offset is the next offset to read, so on
// each partition a commit may say at most (highest offset processed so
// far)+1, judged at the moment of the commit event in ledger order (the
// consumer writes processed before the store or commit that covers it).
// A commit may also repeat where the current assignment began reading (the
// first offset consumed after the partition was assigned): that claims
// nothing new.
//
// Failed commits, and partitions a commit reports with an error, claimed
// nothing and are skipped. The caller decides when the check applies:
// librdkafka's default auto-commit and commit-before-process are expected
// to fail it. Add returns a *CommitAheadError for the first commit ahead.
// The ledger streams through it one event at a time: it keeps two offsets
// per partition.
type CommitCheck struct {
	parts map[TP]*progress
}

type progress struct {
	processed int64 // highest offset processed; -1 for none
	start     int64 // first offset consumed in the current assignment; -1 for none yet
}

// NewCommitCheck starts a check of one incarnation.
func NewCommitCheck() *CommitCheck { return &CommitCheck{parts: map[TP]*progress{}} }

func (c *CommitCheck) get(tp TP) *progress {
	p, ok := c.parts[tp]
	if !ok {
		p = &progress{processed: -1, start: -1}
		c.parts[tp] = p
	}
	return p
}

// Add takes the incarnation's next event and returns a *CommitAheadError
// if it is a commit ahead of processing.
func (c *CommitCheck) Add(e ledger.Event) error {
	switch e.Type {
	case ledger.Assigned:
		for _, o := range e.Partitions {
			c.get(offsetTP(o)).start = -1
		}
	case ledger.Consumed:
		if e.Record != nil {
			if p := c.get(recordTP(e.Record)); p.start < 0 {
				p.start = e.Record.Offset
			}
		}
	case ledger.Processed:
		if e.Record != nil {
			p := c.get(recordTP(e.Record))
			p.processed = max(p.processed, e.Record.Offset)
		}
	case ledger.Committed:
		if e.Error != "" {
			return nil
		}
		for _, o := range e.Partitions {
			if o.Error != "" || o.Offset < 0 {
				continue
			}
			p := c.get(offsetTP(o))
			if allowed := max(p.processed+1, p.start); o.Offset > allowed {
				return &CommitAheadError{TP: offsetTP(o), Source: e.Source, Committed: o.Offset,
					ProcessedUpTo: p.processed, Allowed: allowed}
			}
		}
	}
	return nil
}

// CommitAheadError says that a commit claimed records that had not been
// processed: a consumer killed after it would skip them on restart.
type CommitAheadError struct {
	TP            TP
	Source        string // who committed: auto, sync, async, close, revoke, ...
	Committed     int64  // the committed offset (the next offset to read)
	ProcessedUpTo int64  // the highest offset processed before the commit; -1 for none
	Allowed       int64  // the highest offset the commit could have said
}

func (e *CommitAheadError) Error() string {
	if e.ProcessedUpTo < 0 {
		return fmt.Sprintf("%s: committed %d (%s) before any record on it was processed; at most %d may be committed",
			e.TP, e.Committed, e.Source, e.Allowed)
	}
	return fmt.Sprintf("%s: committed %d (%s), but processing had reached only %d; at most %d may be committed",
		e.TP, e.Committed, e.Source, e.ProcessedUpTo, e.Allowed)
}

// Partition is the partition that failed the check.
func (e *CommitAheadError) Partition() TP { return e.TP }

// ExitCode is 1: a verification failed.
func (e *CommitAheadError) ExitCode() int { return failed }
