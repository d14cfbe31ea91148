package verify

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// Accountant gathers what Account classifies one event at a time, so a
// caller can stream ledgers of millions of records through it without
// keeping their events: it keeps about 40 bytes per acked record and 56 per
// processing, with run ids and partitions interned, and no strings or maps
// per record. Account(committed) classifies by sorting and merging these
// arrays.
type Accountant struct {
	runs   map[string]int32 // run id -> index+1
	runIDs []string
	tps    map[TP]int32 // partition -> index
	tpList []TP
	acked  []ack
	groups map[string][]proc // processings per group
	incs   []string          // group of each incarnation
	lastTP struct {          // the partition looked up last: the next event is likely on it
		tp TP
		i  int32
		ok bool
	}
}

// key is a record's identity: run (index+1) and sequence, or, for a record
// without a run id, -(partition index+1) and offset.
type key struct {
	run int32
	n   int64
}

func cmpKey(a, b key) int {
	if a.run != b.run {
		return cmp.Compare(a.run, b.run)
	}
	return cmp.Compare(a.n, b.n)
}

// cmp3 compares by the first of three pairs whose values differ (cmp.Or
// would compare all three).
func cmp3(a1, b1, a2, b2, a3, b3 int64) int {
	switch {
	case a1 != b1:
		return cmp.Compare(a1, b1)
	case a2 != b2:
		return cmp.Compare(a2, b2)
	}
	return cmp.Compare(a3, b3)
}

// ack is one acked record, where it is and who it is.
type ack struct {
	key
	tp          int32
	offset, seq int64
	order       int32 // in the acked events, so the first report of a record wins
}

// proc is one processed event.
type proc struct {
	key
	at          int64 // event time, Unix nanoseconds
	inc, event  int32 // where it is: incarnation and event number
	tp          int32
	offset      int64
	rank, times int32 // in time order; how often the record was processed on tp (its first processing only)
}

// NewAccountant returns an empty Accountant.
func NewAccountant() *Accountant {
	return &Accountant{runs: map[string]int32{}, tps: map[TP]int32{}, groups: map[string][]proc{}}
}

func (ac *Accountant) tp(t TP) int32 {
	if ac.lastTP.ok && ac.lastTP.tp == t {
		return ac.lastTP.i
	}
	i, ok := ac.tps[t]
	if !ok {
		i = int32(len(ac.tpList))
		ac.tps[t] = i
		ac.tpList = append(ac.tpList, t)
	}
	ac.lastTP.tp, ac.lastTP.i, ac.lastTP.ok = t, i, true
	return i
}

func (ac *Accountant) keyOf(r *ledger.Record, tp int32) key {
	if r.Run == "" {
		return key{run: -tp - 1, n: r.Offset}
	}
	i, ok := ac.runs[r.Run]
	if !ok {
		ac.runIDs = append(ac.runIDs, r.Run)
		i = int32(len(ac.runIDs))
		ac.runs[r.Run] = i
	}
	return key{run: i, n: r.Seq}
}

// Acked takes one event of a producer's acked ledger; others are ignored.
func (ac *Accountant) Acked(e ledger.Event) {
	if e.Type != ledger.Acked || e.Record == nil {
		return
	}
	tp := ac.tp(recordTP(e.Record))
	ac.acked = append(ac.acked, ack{key: ac.keyOf(e.Record, tp), tp: tp, offset: e.Record.Offset, seq: e.Record.Seq, order: int32(len(ac.acked))})
}

// Incarnation starts the next incarnation, in group, and returns its
// number: the inc of Replay.
func (ac *Accountant) Incarnation(group string) int {
	ac.incs = append(ac.incs, group)
	if _, ok := ac.groups[group]; !ok {
		ac.groups[group] = nil
	}
	return len(ac.incs) - 1
}

// Event takes event number event of incarnation inc; only processed
// events count.
func (ac *Accountant) Event(inc, event int, e ledger.Event) {
	if e.Type != ledger.Processed || e.Record == nil {
		return
	}
	g := ac.incs[inc]
	tp := ac.tp(recordTP(e.Record))
	ac.groups[g] = append(ac.groups[g], proc{key: ac.keyOf(e.Record, tp), at: e.TS.UnixNano(), inc: int32(inc), event: int32(event), tp: tp, offset: e.Record.Offset})
}

// Add takes an incarnation read whole, as its next.
func (ac *Accountant) Add(inc Incarnation) {
	n := ac.Incarnation(inc.Group)
	for j, e := range inc.Events {
		ac.Event(n, j, e)
	}
}

// Account classifies what the Accountant took, as Account does. It uses
// up what the Accountant holds: call it once.
func (ac *Accountant) Account(committed map[string]Offsets) *Accounting {
	// The acked records by identity (the first report of each) and, as
	// indexes into that, by partition and offset.
	byKey := ac.acked
	n := len(byKey)
	slices.SortFunc(byKey, func(a, b ack) int {
		if c := cmpKey(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.order, b.order)
	})
	byKey = slices.CompactFunc(byKey, func(a, b ack) bool { return a.key == b.key })
	ac.acked = nil
	a := &Accounting{groups: map[string]*groupAccount{}, replays: map[[2]int]bool{}}
	byTP := byPartition(byKey, n, len(ac.tpList))
	for g, ps := range ac.groups {
		a.groups[g] = a.account(ac, byKey, byTP, ps, committed[g])
		ac.groups[g] = nil
	}
	return a
}

// byPartition returns indexes into byKey ordered by partition, then offset,
// then the order the records were acked in (n records, some dropped as
// reported twice). A producer's delivery reports come in offset order on
// each partition, so bucketing the records by partition in that order
// leaves little to sort.
func byPartition(byKey []ack, n, partitions int) []int32 {
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

// find returns the acked record with key k, or nil.
func find(byKey []ack, k key) *ack {
	i, ok := slices.BinarySearchFunc(byKey, k, func(a ack, k key) int { return cmpKey(a.key, k) })
	if !ok {
		return nil
	}
	return &byKey[i]
}

// account classifies one group's processings, ps, and every acked record.
func (a *Accounting) account(ac *Accountant, byKey []ack, byTP []int32, ps []proc, committed Offsets) *groupAccount {
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
	slices.SortFunc(ps, func(x, y proc) int {
		return cmp3(x.at, y.at, int64(x.inc), int64(y.inc), int64(x.event), int64(y.event))
	})
	for i := range ps {
		ps[i].rank = int32(i)
	}
	// Then by partition and record, each record's first processing first.
	slices.SortFunc(ps, func(x, y proc) int {
		if x.tp != y.tp {
			return cmp.Compare(x.tp, y.tp)
		}
		if c := cmpKey(x.key, y.key); c != 0 {
			return c
		}
		return cmp.Compare(x.rank, y.rank)
	})
	highest := map[int32]int64{} // per acked partition, the highest offset the group processed
	var processed []key
	for i := 0; i < len(ps); {
		j := i + 1
		for j < len(ps) && ps[j].tp == ps[i].tp && ps[j].key == ps[i].key {
			j++
		}
		c := get(ps[i].tp)
		c.Processed += int64(j - i)
		c.Distinct++
		processed = append(processed, ps[i].key)
		for k := i; k < j; k++ {
			p := &ps[k]
			if k > i {
				a.replays[[2]int{int(p.inc), int(p.event)}] = true
			}
			tp, offset := p.tp, p.offset
			if at := find(byKey, p.key); at != nil {
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
		for j < len(ps) && ps[j].tp == ps[i].tp && ps[j].key == ps[i].key {
			j++
		}
		f := ps[i]
		f.times = int32(j - i)
		firsts = append(firsts, f)
		i = j
	}
	slices.SortFunc(firsts, func(x, y proc) int {
		return cmp3(int64(x.tp), int64(y.tp), x.offset, y.offset, int64(x.rank), int64(y.rank))
	})
	for i := 0; i < len(firsts); {
		tp := firsts[i].tp
		var rs runs
		for ; i < len(firsts) && firsts[i].tp == tp; i++ {
			rs.add(firsts[i].offset, firsts[i].times > 1)
		}
		g.put(classReplayed, ac.tpList[tp], rs.out)
	}
	firsts = nil

	slices.SortFunc(processed, cmpKey)
	processed = slices.Compact(processed)
	for i := 0; i < len(byTP); {
		tp := byKey[byTP[i]].tp
		c, t := get(tp), ac.tpList[tp]
		h, reached := highest[tp]
		cm, hasCommit := committed[t]
		var lost, not runs
		for ; i < len(byTP) && byKey[byTP[i]].tp == tp; i++ {
			r := &byKey[byTP[i]]
			c.Acked++
			_, done := slices.BinarySearchFunc(processed, r.key, cmpKey)
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
func (ac *Accountant) record(r *ack) ledger.Record {
	t := ac.tpList[r.tp]
	rec := ledger.Record{Topic: t.Topic, Partition: t.Partition, Offset: r.offset, Seq: r.seq}
	if r.run > 0 {
		rec.Run = ac.runIDs[r.run-1]
	}
	return rec
}

// runs groups flagged offsets, added in order, into ranges of neighbours:
// offsets added one after the other, whatever lies between them.
type runs struct {
	out  []Range
	open bool
}

func (rs *runs) add(offset int64, flagged bool) {
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

// ReadAcked streams a producer's acked ledger into the Accountant. A
// missing file adds nothing (a producer killed early may have written
// none); a torn last event is dropped, as ledger.Read drops it.
func (ac *Accountant) ReadAcked(path string) error {
	err := ledger.Scan(path, func(_ int, e ledger.Event) error {
		ac.Acked(e)
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// ReadIncarnation streams a consumer's ledger into the Accountant as its
// next incarnation, in the group its started event names (group when it
// names none), as Read and Incarnation would, without keeping its events.
func (ac *Accountant) ReadIncarnation(path, group string) error {
	inc := -1
	var before []ledger.Event // events before the started event, usually none
	err := ledger.Scan(path, func(n int, e ledger.Event) error {
		if inc < 0 && e.Type == ledger.Started {
			if g := e.Detail["group.id"]; g != "" {
				group = g
			}
			inc = ac.Incarnation(group)
			for j, b := range before {
				ac.Event(inc, j, b)
			}
			before = nil
		}
		if inc < 0 {
			before = append(before, e)
			return nil
		}
		ac.Event(inc, n, e)
		return nil
	})
	if inc < 0 {
		inc = ac.Incarnation(group)
		for j, b := range before {
			ac.Event(inc, j, b)
		}
	}
	if err != nil {
		return fmt.Errorf("unable to read ledger %s: %w", path, err)
	}
	return nil
}
