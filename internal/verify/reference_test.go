package verify

// The accounting offsetlab used before it streamed, kept as the reference
// the streaming Accountant must agree with (TestStreamingAgreesWithReference):
// it holds every acked record and every processing, sorts and merges.

import (
	"cmp"
	"slices"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// refAccountant keeps about 40 bytes per acked record and 56 per
// processing, then classifies by sorting and merging those arrays: simple
// enough to trust, too big for a soak.
type refAccountant struct {
	names
	acked  []refAck
	groups map[string][]refProc // processings per group
	incs   []string             // group of each incarnation
}

// refKey is a record's identity: run (index+1) and sequence, or, for a record
// without a run id, -(partition index+1) and offset.
type refKey struct {
	run int32
	n   int64
}

func refCmpKey(a, b refKey) int {
	if a.run != b.run {
		return cmp.Compare(a.run, b.run)
	}
	return cmp.Compare(a.n, b.n)
}

// refAck is one acked record, where it is and who it is.
type refAck struct {
	refKey
	tp          int32
	offset, seq int64
	order       int32 // in the acked events, so the first report of a record wins
}

// refProc is one processed event.
type refProc struct {
	refKey
	at          int64 // event time, Unix nanoseconds
	inc, event  int32 // where it is: incarnation and event number
	tp          int32
	offset      int64
	rank, times int32 // in time order; how often the record was processed on tp (its first processing only)
}

// newRefAccountant returns an empty refAccountant.
func newRefAccountant() *refAccountant {
	return &refAccountant{names: names{runs: map[string]int32{}, tps: map[TP]int32{}}, groups: map[string][]refProc{}}
}

func (ac *refAccountant) keyOf(r *ledger.Record, tp int32) refKey {
	if r.Run == "" {
		return refKey{run: -tp - 1, n: r.Offset}
	}
	return refKey{run: ac.run(r.Run), n: r.Seq}
}

// Acked takes one event of a producer's acked ledger; others are ignored.
func (ac *refAccountant) Acked(e ledger.Event) {
	if e.Type != ledger.Acked || e.Record == nil {
		return
	}
	tp := ac.tp(recordTP(e.Record))
	ac.acked = append(ac.acked, refAck{refKey: ac.keyOf(e.Record, tp), tp: tp, offset: e.Record.Offset, seq: e.Record.Seq, order: int32(len(ac.acked))})
}

// Incarnation starts the next incarnation, in group, and returns its
// number: the inc of Replay.
func (ac *refAccountant) Incarnation(group string) int {
	ac.incs = append(ac.incs, group)
	if _, ok := ac.groups[group]; !ok {
		ac.groups[group] = nil
	}
	return len(ac.incs) - 1
}

// Event takes event number event of incarnation inc; only processed
// events count.
func (ac *refAccountant) Event(inc, event int, e ledger.Event) {
	if e.Type != ledger.Processed || e.Record == nil {
		return
	}
	g := ac.incs[inc]
	tp := ac.tp(recordTP(e.Record))
	ac.groups[g] = append(ac.groups[g], refProc{refKey: ac.keyOf(e.Record, tp), at: e.TS.UnixNano(), inc: int32(inc), event: int32(event), tp: tp, offset: e.Record.Offset})
}

// Add takes an incarnation read whole, as its next.
func (ac *refAccountant) Add(inc Incarnation) {
	n := ac.Incarnation(inc.Group)
	for j, e := range inc.Events {
		ac.Event(n, j, e)
	}
}

// Account classifies what the refAccountant took, as Account does. It uses
// up what the refAccountant holds: call it once.
func (ac *refAccountant) Account(committed map[string]Offsets) *Accounting {
	// The acked records by identity (the first report of each) and, as
	// indexes into that, by partition and offset.
	byKey := ac.acked
	n := len(byKey)
	slices.SortFunc(byKey, func(a, b refAck) int {
		if c := refCmpKey(a.refKey, b.refKey); c != 0 {
			return c
		}
		return cmp.Compare(a.order, b.order)
	})
	byKey = slices.CompactFunc(byKey, func(a, b refAck) bool { return a.refKey == b.refKey })
	ac.acked = nil
	a := &Accounting{groups: map[string]*groupAccount{}, replays: make([]seqSet, len(ac.incs))}
	byTP := refByPartition(byKey, n, len(ac.tpList))
	for g, ps := range ac.groups {
		a.groups[g] = a.refAccount(ac, byKey, byTP, ps, committed[g])
		ac.groups[g] = nil
	}
	return a
}

// refByPartition returns indexes into byKey ordered by partition, then offset,
// then the order the records were acked in (n records, some dropped as
// reported twice). A producer's delivery reports come in offset order on
// each partition, so bucketing the records by partition in that order
// leaves little to sort.
func refByPartition(byKey []refAck, n, partitions int) []int32 {
	at := make([]int32, n) // index in byKey of the record acked order-th, -1 if dropped
	for i := range at {
		at[i] = -1
	}
	start := make([]int, partitions+1)
	for i := range byKey {
		at[byKey[i].order] = int32(i)
		start[byKey[i].tp+1]++
	}
	for t := range partitions {
		start[t+1] += start[t]
	}
	byTP := make([]int32, len(byKey))
	next := slices.Clone(start[:partitions])
	for _, i := range at {
		if i >= 0 {
			t := byKey[i].tp
			byTP[next[t]] = i
			next[t]++
		}
	}
	for t := range partitions {
		bucket := byTP[start[t]:start[t+1]]
		offset := func(i, j int32) int { return cmp.Compare(byKey[i].offset, byKey[j].offset) }
		if !slices.IsSortedFunc(bucket, offset) {
			slices.SortStableFunc(bucket, offset)
		}
	}
	return byTP
}

// refFind returns the acked record with refKey k, or nil.
func refFind(byKey []refAck, k refKey) *refAck {
	i, ok := slices.BinarySearchFunc(byKey, k, func(a refAck, k refKey) int { return refCmpKey(a.refKey, k) })
	if !ok {
		return nil
	}
	return &byKey[i]
}

// account classifies one group's processings, ps, and every acked record.
func (a *Accounting) refAccount(ac *refAccountant, byKey []refAck, byTP []int32, ps []refProc, committed Offsets) *groupAccount {
	g := &groupAccount{counts: map[TP]*Counts{}, ranges: map[classOn][]Range{}}
	get := func(tp int32) *Counts {
		t := ac.tpList[tp]
		c, ok := g.counts[t]
		if !ok {
			c = &Counts{}
			g.counts[t] = c
		}
		return c
	}

	// Processings in time order: the first of each record on a partition
	// counts as distinct, the others as replays.
	slices.SortFunc(ps, func(x, y refProc) int {
		return cmp3(x.at, y.at, int64(x.inc), int64(y.inc), int64(x.event), int64(y.event))
	})
	for i := range ps {
		ps[i].rank = int32(i)
	}
	// Then by partition and record, each record's first processing first.
	slices.SortFunc(ps, func(x, y refProc) int {
		if x.tp != y.tp {
			return cmp.Compare(x.tp, y.tp)
		}
		if c := refCmpKey(x.refKey, y.refKey); c != 0 {
			return c
		}
		return cmp.Compare(x.rank, y.rank)
	})
	highest := map[int32]int64{} // per acked partition, the highest offset the group processed
	var processed []refKey
	for i := 0; i < len(ps); {
		j := i + 1
		for j < len(ps) && ps[j].tp == ps[i].tp && ps[j].refKey == ps[i].refKey {
			j++
		}
		c := get(ps[i].tp)
		c.Processed += int64(j - i)
		c.Distinct++
		processed = append(processed, ps[i].refKey)
		for k := i; k < j; k++ {
			p := &ps[k]
			if k > i {
				a.replays[p.inc].add(int64(p.event))
			}
			tp, offset := p.tp, p.offset
			if at := refFind(byKey, p.refKey); at != nil {
				tp, offset = at.tp, at.offset
			}
			if h, ok := highest[tp]; !ok || offset > h {
				highest[tp] = offset
			}
		}
		i = j
	}

	// Replayed ranges: each record at the offset it was first processed
	// at, on the partition it was processed on, flagged if processed again.
	firsts := ps[:0] // in place: each record's first processing, at or before where it was
	for i := 0; i < len(ps); {
		j := i + 1
		for j < len(ps) && ps[j].tp == ps[i].tp && ps[j].refKey == ps[i].refKey {
			j++
		}
		f := ps[i]
		f.times = int32(j - i)
		firsts = append(firsts, f)
		i = j
	}
	slices.SortFunc(firsts, func(x, y refProc) int {
		return cmp3(int64(x.tp), int64(y.tp), x.offset, y.offset, int64(x.rank), int64(y.rank))
	})
	for i := 0; i < len(firsts); {
		tp := firsts[i].tp
		var rs refRuns
		for ; i < len(firsts) && firsts[i].tp == tp; i++ {
			rs.add(firsts[i].offset, firsts[i].times > 1)
		}
		g.put(classReplayed, ac.tpList[tp], rs.out)
	}
	firsts = nil

	slices.SortFunc(processed, refCmpKey)
	processed = slices.Compact(processed)
	for i := 0; i < len(byTP); {
		tp := byKey[byTP[i]].tp
		c, t := get(tp), ac.tpList[tp]
		h, reached := highest[tp]
		cm, hasCommit := committed[t]
		var lost, not refRuns
		for ; i < len(byTP) && byKey[byTP[i]].tp == tp; i++ {
			r := &byKey[byTP[i]]
			c.Acked++
			_, done := slices.BinarySearchFunc(processed, r.refKey, refCmpKey)
			isLost := !done && (reached && h > r.offset || hasCommit && cm > r.offset)
			isNot := !done && !isLost
			lost.add(r.offset, isLost)
			not.add(r.offset, isNot)
			switch {
			case isLost:
				c.Lost++
				if len(c.LostSample) < MaxLostSample {
					c.LostSample = append(c.LostSample, ac.record(r)) // by offset: the lowest come first
				}
			case isNot:
				c.NotConsumed++
			}
		}
		g.put(classLost, t, lost.out)
		g.put(classNotConsumed, t, not.out)
	}
	for _, c := range g.counts {
		c.Replayed = c.Processed - c.Distinct
	}
	return g
}

// record is an acked record as the producer's ledger held it.
func (ac *refAccountant) record(r *refAck) ledger.Record {
	t := ac.tpList[r.tp]
	rec := ledger.Record{Topic: t.Topic, Partition: t.Partition, Offset: r.offset, Seq: r.seq}
	if r.run > 0 {
		rec.Run = ac.runIDs[r.run-1]
	}
	return rec
}

// refRuns groups flagged offsets, added in order, into ranges of neighbours:
// offsets added one after the other, whatever lies between them.
type refRuns struct {
	out  []Range
	open bool
}

func (rs *refRuns) add(offset int64, flagged bool) {
	switch {
	case !flagged:
		rs.open = false
	case rs.open:
		r := &rs.out[len(rs.out)-1]
		r.To, r.N = offset, r.N+1
	default:
		rs.out = append(rs.out, Range{From: offset, To: offset, N: 1})
		rs.open = true
	}
}
