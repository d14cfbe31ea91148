// Package verify holds the checks a scenario makes once its consumers have
// run: where each restart resumed, what each consumer group replayed, lost
// or never consumed (Account, the one owner of record identity), whether a
// commit ever ran ahead of processing, and who owns each partition after a
// rebalance.
//
// The checks read ledgers (package ledger) and, for commits, figures the
// caller read from the broker: the broker is the source of truth for what
// was committed, never a killed process's own ledger. Each check that fails
// returns a typed error naming the partition, the expected and the seen
// value in one line; every such error has ExitCode 1 (verification failed)
// and a Partition method, so a runner can mark the failing row of its table.
package verify

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/tp"
)

// TP is a topic partition.
type TP = tp.TP

func recordTP(r *ledger.Record) TP { return TP{Topic: r.Topic, Partition: r.Partition} }

func offsetTP(o ledger.Offset) TP { return TP{Topic: o.Topic, Partition: o.Partition} }

// sortedKeys returns a map's partitions by topic, then partition number.
func sortedKeys[V any](m map[TP]V) []TP { return tp.Keys(m) }

// Offsets holds an offset per partition. For committed offsets read from
// the broker, a partition that is absent had nothing committed.
type Offsets map[TP]int64

// Incarnation is one run of one consumer process: the events of one ledger
// file, in the order they were written. A process killed with SIGKILL
// leaves a ledger that simply ends, with no stopped event.
type Incarnation struct {
	Name string
	// Group is the consumer group the process read in: the group.id of its
	// started event. "" when the ledger has none; Account then judges it
	// with every other incarnation of group "".
	Group  string
	Events []ledger.Event
}

// Read reads an incarnation from a ledger file, named after the file
// without its extension (.ledger), in the group its started event names. A
// torn last line (the process was killed while writing it) is dropped, as
// ledger.Read does.
func Read(path string) (Incarnation, error) {
	events, err := ledger.Read(path)
	inc := Incarnation{Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), Group: groupOf(events), Events: events}
	if err != nil {
		return inc, fmt.Errorf("unable to read ledger %s: %w", path, err)
	}
	return inc, nil
}

// ReadSummary reads an incarnation as Read does, keeping every event but
// the bulk of its records: of the consumed, processed and stored events,
// only the first of each on each partition since the start and since each
// assigned, revoked or fetching event. That is what ownership, resumes and
// positions are judged on, in memory that grows with rebalances, not
// records: a soak consumer's ledger of millions of records summarizes to a
// few events per partition and assignment. Counting records, or checking
// commits against processing, needs the whole ledger: stream it
// (ledger.Scan).
func ReadSummary(path string) (Incarnation, error) {
	inc := Incarnation{Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))}
	type first struct {
		typ string
		tp  TP
	}
	seen := map[first]bool{}
	// firstOn reports whether e is the first of its type on tp since the
	// assignment last changed.
	firstOn := func(e ledger.Event, tp TP) bool {
		k := first{e.Type, tp}
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	err := ledger.Scan(path, func(_ int, e ledger.Event) error {
		switch {
		case e.Type == ledger.Assigned || e.Type == ledger.Revoked || e.Type == ledger.Fetching:
			clear(seen)
		case (e.Type == ledger.Consumed || e.Type == ledger.Processed) && e.Record != nil:
			if !firstOn(e, recordTP(e.Record)) {
				return nil
			}
		case e.Type == ledger.Stored && len(e.Partitions) == 1:
			if !firstOn(e, offsetTP(e.Partitions[0])) {
				return nil
			}
		}
		if e.Record != nil { // Scan reuses it, and Partitions
			r := *e.Record
			e.Record = &r
		}
		e.Partitions = slices.Clone(e.Partitions)
		inc.Events = append(inc.Events, e)
		return nil
	})
	inc.Group = groupOf(inc.Events)
	if err != nil {
		return inc, fmt.Errorf("unable to read ledger %s: %w", path, err)
	}
	return inc, nil
}

// groupOf is the group.id a ledger's first started event names. The
// started event's Detail holds the consumer's librdkafka settings.
func groupOf(events []ledger.Event) string {
	return Incarnation{Events: events}.Detail("group.id")
}

// Detail is a setting the incarnation's first started event records (the
// consumer's librdkafka settings; for a program under test, its exec
// command and how it is observed); "" when absent.
func (inc Incarnation) Detail(key string) string {
	for _, e := range inc.Events {
		if e.Type == ledger.Started {
			return e.Detail[key]
		}
	}
	return ""
}

// FirstConsumed returns, per partition, the first offset the incarnation
// was handed by Poll: where it resumed reading. Partitions it consumed
// nothing from are absent.
func FirstConsumed(inc Incarnation) map[TP]int64 {
	first := map[TP]int64{}
	for _, e := range inc.Events {
		if e.Type != ledger.Consumed || e.Record == nil {
			continue
		}
		if tp := recordTP(e.Record); !has(first, tp) {
			first[tp] = e.Record.Offset
		}
	}
	return first
}

// ProcessedFrom counts, for each partition in from, the distinct records
// an incarnation processed at offsets >= from[tp]. With from the committed
// offsets the broker held when the incarnation was killed, it is what a
// restart must process again: the replay at-least-once allows. Partitions
// absent from from are not counted. Events are added one at a time, so a
// ledger of millions of records streams through it (ledger.Scan); it keeps
// the processed offsets as spans.
type ProcessedFrom struct {
	from   Offsets
	done   map[TP]*spans
	counts map[TP]int64
}

// NewProcessedFrom counts from the offsets in from.
func NewProcessedFrom(from Offsets) *ProcessedFrom {
	p := &ProcessedFrom{from: from, done: map[TP]*spans{}, counts: make(map[TP]int64, len(from))}
	for tp := range from {
		p.counts[tp] = 0
		p.done[tp] = &spans{}
	}
	return p
}

// Add takes the incarnation's next event; only processed events count.
func (p *ProcessedFrom) Add(e ledger.Event) {
	if e.Type != ledger.Processed || e.Record == nil {
		return
	}
	tp := recordTP(e.Record)
	if start, ok := p.from[tp]; ok && e.Record.Offset >= start && p.done[tp].add(e.Record.Offset) {
		p.counts[tp]++
	}
}

// Counts returns the counts per partition of from.
func (p *ProcessedFrom) Counts() map[TP]int64 { return p.counts }

func has[V any](m map[TP]V, tp TP) bool {
	_, ok := m[tp]
	return ok
}

// failed is the exit code of every verification error.
const failed = cli.ExitFailed
