package verify

import "fmt"

// ResumeRow is one partition of a resume check.
type ResumeRow struct {
	TP TP
	// Committed is the broker's committed offset before the incarnation
	// started; nil when nothing was committed.
	Committed *int64
	// Expected is where the incarnation should have resumed: Committed, or
	// the reset policy's offset when nothing was committed.
	Expected int64
	// FirstSeen is the first offset the incarnation consumed.
	FirstSeen int64
}

// OK reports whether the incarnation resumed where it was expected to.
func (r ResumeRow) OK() bool { return r.FirstSeen == r.Expected }

// Resume proves that a consumer resumed each partition exactly where the
// group's committed offset said, and applied the reset policy only where
// nothing was committed: a committed offset always wins over the policy.
// A committed offset is the next offset to read, so the check is
// first consumed == committed, not committed+1.
//
// committed holds the offsets the broker held before the incarnation
// started (read from the broker, never from the previous run's ledger);
// fallback holds, for partitions with nothing committed, the offset the
// reset policy resolves to (the log start for earliest, the log end for
// latest). A committed offset the broker no longer has (below the log
// start after retention) is not valid and the policy applies: leave it out
// of committed. Every partition the incarnation consumed is checked.
//
// Resume returns a row per partition it could check, by partition, and the
// first failure in that order: a *ResumeError, or a *NoExpectationError for
// a partition that had neither a committed offset nor a fallback. Use
// ResumeRow.OK for the verdict of every row. An incarnation that consumed
// nothing yields no rows and no error.
func Resume(inc Incarnation, committed, fallback Offsets) ([]ResumeRow, error) {
	first := FirstConsumed(inc)
	var (
		rows []ResumeRow
		err  error
	)
	for _, tp := range sortedKeys(first) {
		row := ResumeRow{TP: tp, FirstSeen: first[tp]}
		if c, ok := committed[tp]; ok {
			row.Committed, row.Expected = &c, c
		} else if f, ok := fallback[tp]; ok {
			row.Expected = f
		} else {
			if err == nil {
				err = &NoExpectationError{TP: tp, FirstSeen: row.FirstSeen}
			}
			continue
		}
		rows = append(rows, row)
		if !row.OK() && err == nil {
			err = &ResumeError{TP: tp, Committed: row.Committed, Expected: row.Expected, FirstSeen: row.FirstSeen}
		}
	}
	return rows, err
}

// ResumeError says that a consumer did not resume a partition where it
// should have.
type ResumeError struct {
	TP        TP
	Committed *int64 // the broker's committed offset; nil when nothing was committed
	Expected  int64  // Committed, or the reset policy's offset
	FirstSeen int64  // the first offset consumed
}

func (e *ResumeError) Error() string {
	if e.Committed != nil {
		return fmt.Sprintf("%s: resumed at %d, but the broker's committed offset was %d", e.TP, e.FirstSeen, *e.Committed)
	}
	return fmt.Sprintf("%s: resumed at %d, but nothing was committed and the reset policy gives %d", e.TP, e.FirstSeen, e.Expected)
}

// Partition is the partition that failed the check.
func (e *ResumeError) Partition() TP { return e.TP }

// ExitCode is 1: a verification failed.
func (e *ResumeError) ExitCode() int { return failed }

// NoExpectationError says that a consumer read a partition for which the
// broker had no committed offset and the caller gave no reset-policy
// offset: the claim "it resumed at the committed offset" cannot hold there.
type NoExpectationError struct {
	TP        TP
	FirstSeen int64
}

func (e *NoExpectationError) Error() string {
	return fmt.Sprintf("%s: resumed at %d, but the broker had no committed offset for it and no reset-policy offset was given", e.TP, e.FirstSeen)
}

// Partition is the partition that failed the check.
func (e *NoExpectationError) Partition() TP { return e.TP }

// ExitCode is 1: a verification failed.
func (e *NoExpectationError) ExitCode() int { return failed }
