package verify

import (
	"slices"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// MaxLostSample is how many lost records Counts keeps as examples.
const MaxLostSample = 5

// Counts are one partition's figures for one consumer group over a whole
// scenario. For a group, every record the producers acked is exactly one
// of: processed by one of the group's incarnations, Lost, or NotConsumed.
type Counts struct {
	Acked     int64 // distinct records the producers' delivery reports confirmed on this partition
	Processed int64 // processed events of the group's incarnations, each processing of a record counted
	Distinct  int64 // distinct records the group processed
	// Replayed is Processed - Distinct: a record the group processed n
	// times counts n-1, whichever of its consumers and incarnations
	// processed it. Another group reading the same record is no replay:
	// every group reads every record once in its own right.
	Replayed int64
	// Lost counts acked records the group never processed although it went
	// past them: it processed a record that sits later on the partition, or
	// its committed offset there is beyond them. Nothing brings them back: a
	// restart resumes at the committed offset, after them.
	Lost int64
	// LostSample holds up to MaxLostSample lost records, lowest offset first.
	LostSample []ledger.Record
	// NotConsumed counts acked records the group never reached: it
	// processed nothing after them and committed nothing beyond them. A
	// consumer with auto.offset.reset=none that consumed nothing leaves
	// every record here, and so does one stopped before the log end; a later
	// run resuming at the committed offset would still read them.
	NotConsumed int64
}

// Range is a run of records next to each other on a partition, From and
// To inclusive, N of them. Neighbours are judged among the records the
// partition is known to hold (acked ones for lost and not consumed,
// processed ones for replayed), so a range may step over offsets that hold
// no record, such as transaction markers: 30-40 holding 10 records.
type Range struct{ From, To, N int64 }

// Accounting is what Account found, per consumer group.
type Accounting struct {
	groups  map[string]*groupAccount
	replays []seqSet // per incarnation, the events that repeat an earlier processing: a bit per event
}

type groupAccount struct {
	counts map[TP]*Counts
	ranges map[classOn][]Range // only the non-empty ones
}

// class is one of the ways Account classifies records into ranges.
type class int

const (
	classLost class = iota
	classNotConsumed
	classReplayed
)

type classOn struct {
	class class
	tp    TP
}

// Account classifies, for each group, every record the producers acknowledged
// and every record the group's incarnations processed.
// committed holds each group's committed offsets read from the broker at the
// moment of the check (a group or partition absent: nothing committed); it may be nil.
//
// A group is the Group of its incarnations (the group.id its consumers
// started with). Groups are judged apart, because each reads the topic in
// its own right: group s1 processing offset 3 says nothing about whether
// group c1 lost it.
//
// A record read where a producer acked one is that record, whatever run
// id it carries (a program under test reports positions only). A record
// read elsewhere is known by its run and sequence (Record.ID), so a record
// forwarded to another topic, or written twice by a retry, is the same
// record as the one acked; without a run id, by topic, partition and
// offset. For group g:
//
//   - Replayed: every processing by g beyond the first of the same record
//     on the same partition, counted on the partition of the processed
//     record. The first is the earliest by event time (then by the order of
//     incs, then ledger order); Replay names the others.
//   - An acked record g never processed is Lost if g went past it: g
//     processed a record that sits later on the same partition, or g's
//     committed offset there is greater than the record's offset (a
//     committed offset is the next to read, so committed 4 covers offset 3).
//     Otherwise it is NotConsumed: g never reached it.
//
// On orders[0] holding offsets 0..19: c1#1 processed 0..2, and an
// auto-commit committed 4 while it was processing 3; kill -9; c1#2 resumed
// at 4 and processed 4..19. Offset 3 is Lost for c1's group. A group that processed
// 0..9 and then committed 15 lost 10..14; 15..19 are NotConsumed. A group
// started with reset=none that processed and committed nothing has all
// twenty NotConsumed and none Lost.
//
// "Sits later" is judged where the producers' delivery reports put the
// records: a processed record counts at the position of the acked record
// with its identity. So a group reading an output topic that a transformer
// forwarded records to (with their run and sequence headers) is judged on
// the source partitions. A processed record no producer acked counts where
// it was read. A committed offset counts only for acked records on its own
// partition. Processed, Distinct and Replayed stay on the partitions the
// group read: such a reader has its Acked, Lost and NotConsumed on the
// source partitions and its Processed on the output ones.
//
// Events other than acked in acked, and a torn last line, are ignored: a
// record whose processed event a SIGKILL tore was not processed as far as
// the ledger can prove.
func Account(acked []ledger.Event, incs []Incarnation, committed map[string]Offsets) *Accounting {
	ac := NewAccountant()
	ac.AddAcked(acked)
	for _, inc := range incs {
		ac.Add(inc)
	}
	a, err := ac.Account(committed)
	if err != nil {
		panic(err) // events in memory: nothing to read, so nothing fails
	}
	return a
}

// Groups returns every group that has an incarnation, sorted.
func (a *Accounting) Groups() []string {
	gs := make([]string, 0, len(a.groups))
	for g := range a.groups {
		gs = append(gs, g)
	}
	slices.Sort(gs)
	return gs
}

// Counts returns a group's figures per partition: every partition the
// producers acked a record on or the group processed one on. It is nil for
// an unknown group.
func (a *Accounting) Counts(group string) map[TP]*Counts {
	if g := a.groups[group]; g != nil {
		return g.counts
	}
	return nil
}

// Total sums a group's figures over its partitions; LostSample is left
// empty (samples are per partition).
func (a *Accounting) Total(group string) Counts {
	var t Counts
	for _, c := range a.Counts(group) {
		t.Acked += c.Acked
		t.Processed += c.Processed
		t.Distinct += c.Distinct
		t.Replayed += c.Replayed
		t.Lost += c.Lost
		t.NotConsumed += c.NotConsumed
	}
	return t
}

// Lost returns the group's lost records on a partition as ranges, lowest
// offset first; their sizes add up to Counts(group)[tp].Lost.
func (a *Accounting) Lost(group string, tp TP) []Range { return a.ranges(group, tp, classLost) }

// NotConsumed returns the acked records on a partition the group never
// reached, as ranges, lowest offset first.
func (a *Accounting) NotConsumed(group string, tp TP) []Range {
	return a.ranges(group, tp, classNotConsumed)
}

// Replayed returns, as ranges lowest offset first, the records on a
// partition the group processed more than once, each at the offset it was
// first processed at. Their sizes count records, not processings: a record
// processed three times is one record in a range and two in Counts.Replayed.
func (a *Accounting) Replayed(group string, tp TP) []Range { return a.ranges(group, tp, classReplayed) }

// Replay reports whether event number event of incarnation number inc
// (indexes into the incs given to Account and their Events) processed a
// record its group had processed before on the same partition: one of the
// processings Counts.Replayed counts.
func (a *Accounting) Replay(inc, event int) bool {
	return inc >= 0 && inc < len(a.replays) && a.replays[inc].has(int64(event))
}

func (a *Accounting) ranges(group string, tp TP, c class) []Range {
	if g := a.groups[group]; g != nil {
		return g.ranges[classOn{c, tp}]
	}
	return nil
}

func (g *groupAccount) put(c class, tp TP, rs []Range) {
	if len(rs) > 0 {
		g.ranges[classOn{c, tp}] = rs
	}
}
