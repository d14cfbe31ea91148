package timeline

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/tp"
	"github.com/offsetlab/offsetlab/internal/verify"
)

// model is a run reduced to what the picture shows, in times relative to
// the start of the run. Everything in it is sorted: the same run gives the
// same model, and so the same bytes.
type model struct {
	names []string      // incarnations, by the time of their first event; index = colour
	span  time.Duration // from the first moment of the run to past its last, on a tick
	tstep float64       // seconds between ticks on the time axis
	marks []mark
	lanes []*lane
}

type mark struct {
	at      time.Duration
	kind    string
	name    string
	restart bool // a start of a consumer that had started before
}

// lane is one partition.
type lane struct {
	tp     tp.TP
	lo, hi int64 // the offsets shown, [lo, hi)

	processed []proc // by incarnation, then ledger order
	commits   []point
	broker    []brokerPoint
	resumes   []resume
	replayed  []span // ranges of records processed more than once
	lost      []span // ranges of acked records never processed
	counts    verify.Counts
}

// proc is one processed event.
type proc struct {
	inc    int
	at     time.Duration
	offset int64
	replay bool // the record had been processed before (by anyone)
}

type point struct {
	at     time.Duration
	offset int64
}

type brokerPoint struct {
	label  string
	at     time.Duration
	offset int64
}

// resume is where an incarnation first read a partition that someone had
// read before it: after a restart or a takeover, where it resumed.
type resume struct {
	inc    int
	at     time.Duration
	offset int64
}

// span is a range of records, from and to inclusive, n of them (a range may
// skip offsets that hold no record, such as transaction markers).
type span struct {
	from, to int64
	n        int64
}

// recordKey is a record's identity across re-reads, as verify.Tally has
// it: run and sequence, or where it is when no run id was stamped.
type recordKey struct {
	id     string
	tp     tp.TP
	offset int64
}

func keyOf(r *ledger.Record) recordKey {
	if r.Run != "" {
		return recordKey{id: r.ID()}
	}
	return recordKey{tp: recordTP(r), offset: r.Offset}
}

func recordTP(r *ledger.Record) tp.TP { return tp.TP{Topic: r.Topic, Partition: r.Partition} }

func build(r Run) *model {
	incs := slices.Clone(r.Incarnations)
	first := func(inc verify.Incarnation) time.Time {
		for _, e := range inc.Events {
			if !e.TS.IsZero() {
				return e.TS
			}
		}
		return time.Time{}
	}
	slices.SortStableFunc(incs, func(a, b verify.Incarnation) int {
		return cmp.Or(first(a).Compare(first(b)), strings.Compare(a.Name, b.Name))
	})

	// The run starts at its first moment and ends at its last.
	var t0, t1 time.Time
	see := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if t0.IsZero() || t.Before(t0) {
			t0 = t
		}
		if t.After(t1) {
			t1 = t
		}
	}
	for _, m := range r.Marks {
		see(m.At)
	}
	for _, inc := range incs {
		for _, e := range inc.Events {
			see(e.TS)
		}
	}
	for _, e := range r.Acked {
		see(e.TS)
	}
	rel := func(t time.Time) time.Duration {
		if t.IsZero() {
			return 0
		}
		return t.Sub(t0)
	}

	m := &model{span: t1.Sub(t0)}
	if m.span <= 0 {
		m.span = time.Second
	}
	// The time axis ends on a tick, so its last label is at its right end.
	m.tstep = niceStep(m.span.Seconds(), 12)
	m.span = time.Duration(math.Ceil(m.span.Seconds()/m.tstep-1e-9) * m.tstep * float64(time.Second))
	lanes := map[tp.TP]*lane{}
	get := func(p tp.TP) *lane {
		l, ok := lanes[p]
		if !ok {
			l = &lane{tp: p}
			lanes[p] = l
		}
		return l
	}

	// Processed records, and which of them were replays: a record processed
	// before, by this incarnation or another, in time order.
	type seen struct {
		inc, idx int
		at       time.Time
		key      recordKey
		tp       tp.TP
		offset   int64
	}
	var all []seen
	firstOf := map[int]map[tp.TP]point{}   // each incarnation's first consumed record per partition
	firstProc := map[int]map[tp.TP]point{} // and its first processed one, for ledgers without consumed events
	for i, inc := range incs {
		m.names = append(m.names, inc.Name)
		firstOf[i], firstProc[i] = map[tp.TP]point{}, map[tp.TP]point{}
		for j, e := range inc.Events {
			switch {
			case e.Type == ledger.Processed && e.Record != nil:
				p := recordTP(e.Record)
				all = append(all, seen{inc: i, idx: j, at: e.TS, key: keyOf(e.Record), tp: p, offset: e.Record.Offset})
				if _, ok := firstProc[i][p]; !ok {
					firstProc[i][p] = point{rel(e.TS), e.Record.Offset}
				}
			case e.Type == ledger.Consumed && e.Record != nil:
				p := recordTP(e.Record)
				get(p)
				if _, ok := firstOf[i][p]; !ok {
					firstOf[i][p] = point{rel(e.TS), e.Record.Offset}
				}
			case e.Type == ledger.Committed && e.Error == "":
				for _, o := range e.Partitions {
					if o.Error != "" || o.Offset < 0 {
						continue
					}
					l := get(tp.TP{Topic: o.Topic, Partition: o.Partition})
					l.commits = append(l.commits, point{rel(e.TS), o.Offset})
				}
			}
		}
	}
	// The lanes keep the processed events in incarnation and ledger order,
	// the order they are drawn in; replays are judged in time order.
	byTime := slices.Clone(all)
	slices.SortStableFunc(byTime, func(a, b seen) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.inc, b.inc), cmp.Compare(a.idx, b.idx))
	})
	// As verify.Tally counts them, a replay is a record processed again on
	// the same partition; a loss, an acked record processed nowhere.
	type onTP struct {
		tp  tp.TP
		key recordKey
	}
	times := map[onTP]int{}
	processedAnywhere := map[recordKey]bool{}
	replay := map[[2]int]bool{} // (incarnation, ledger index) of each replay
	for _, s := range byTime {
		k := onTP{s.tp, s.key}
		if times[k] > 0 {
			replay[[2]int{s.inc, s.idx}] = true
		}
		times[k]++
		processedAnywhere[s.key] = true
	}
	for _, s := range all {
		l := get(s.tp)
		l.processed = append(l.processed, proc{inc: s.inc, at: rel(s.at), offset: s.offset, replay: replay[[2]int{s.inc, s.idx}]})
	}
	for _, l := range lanes {
		slices.SortStableFunc(l.commits, func(a, b point) int { return cmp.Compare(a.at, b.at) })
	}

	// Resume points: an incarnation's first record on a partition that
	// someone read before it (after a restart, or a takeover).
	firstRead := map[tp.TP]time.Duration{}
	for i := range incs {
		for p, pt := range firstPoints(firstOf[i], firstProc[i]) {
			if t, ok := firstRead[p]; !ok || pt.at < t {
				firstRead[p] = pt.at
			}
		}
	}
	for i := range incs {
		for p, pt := range firstPoints(firstOf[i], firstProc[i]) {
			if pt.at > firstRead[p] {
				l := get(p)
				l.resumes = append(l.resumes, resume{inc: i, at: pt.at, offset: pt.offset})
			}
		}
	}

	// Replayed ranges: the distinct processed records in offset order, runs
	// of the ones processed more than once.
	type rec struct {
		offset int64
		key    recordKey
	}
	distinct := map[tp.TP][]rec{}
	once := map[onTP]bool{}
	for _, s := range byTime {
		if k := (onTP{s.tp, s.key}); !once[k] {
			once[k] = true
			distinct[s.tp] = append(distinct[s.tp], rec{s.offset, s.key})
		}
	}
	for p, recs := range distinct {
		slices.SortStableFunc(recs, func(a, b rec) int { return cmp.Compare(a.offset, b.offset) })
		offsets := make([]int64, len(recs))
		flags := make([]bool, len(recs))
		for i, r := range recs {
			offsets[i], flags[i] = r.offset, times[onTP{p, r.key}] > 1
		}
		lanes[p].replayed = runsOf(offsets, flags)
	}

	// Lost ranges: acked records in offset order, runs of the ones no
	// incarnation processed.
	acked := map[tp.TP][]rec{}
	ackedSeen := map[recordKey]bool{}
	for _, e := range r.Acked {
		if e.Type != ledger.Acked || e.Record == nil {
			continue
		}
		k := keyOf(e.Record)
		if ackedSeen[k] {
			continue
		}
		ackedSeen[k] = true
		p := recordTP(e.Record)
		get(p)
		acked[p] = append(acked[p], rec{e.Record.Offset, k})
	}
	for p, recs := range acked {
		slices.SortStableFunc(recs, func(a, b rec) int { return cmp.Compare(a.offset, b.offset) })
		offsets := make([]int64, len(recs))
		flags := make([]bool, len(recs))
		for i, r := range recs {
			offsets[i], flags[i] = r.offset, !processedAnywhere[r.key]
		}
		lanes[p].lost = runsOf(offsets, flags)
	}

	// Marks, and the broker's committed offsets at each snapshot.
	for _, mk := range r.Marks {
		m.marks = append(m.marks, mark{at: rel(mk.At), kind: mk.Kind, name: mk.Name})
	}
	slices.SortStableFunc(m.marks, func(a, b mark) int {
		return cmp.Or(cmp.Compare(a.at, b.at), strings.Compare(a.kind, b.kind), strings.Compare(a.name, b.name))
	})
	started := map[string]bool{}
	for i, mk := range m.marks {
		if mk.kind != MarkStart {
			continue
		}
		base, n := consumerOf(mk.name)
		m.marks[i].restart = started[base] || n > 1
		started[base] = true
	}
	for _, mk := range m.marks {
		if mk.kind != MarkSnapshot {
			continue
		}
		for p, off := range r.Committed[mk.name] {
			if off < 0 {
				continue
			}
			l := get(p)
			l.broker = append(l.broker, brokerPoint{label: mk.name, at: mk.at, offset: off})
		}
	}

	counts := verify.Tally(r.Acked, incs)
	for _, p := range tp.Keys(lanes) {
		l := lanes[p]
		if c := counts[p]; c != nil {
			l.counts = *c
		}
		slices.SortStableFunc(l.resumes, func(a, b resume) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.inc, b.inc)) })
		l.lo, l.hi = l.bounds()
		m.lanes = append(m.lanes, l)
	}
	return m
}

// firstPoints is an incarnation's first consumed record per partition, or
// its first processed one where its ledger has no consumed events.
func firstPoints(consumed, processed map[tp.TP]point) map[tp.TP]point {
	out := make(map[tp.TP]point, len(processed))
	for p, pt := range processed {
		out[p] = pt
	}
	for p, pt := range consumed {
		out[p] = pt
	}
	return out
}

// runsOf groups the flagged offsets into ranges of neighbours: offsets
// next to each other in the sorted list, whatever lies between them.
func runsOf(offsets []int64, flags []bool) []span {
	var out []span
	for i := 0; i < len(offsets); i++ {
		if !flags[i] {
			continue
		}
		s := span{from: offsets[i], to: offsets[i], n: 1}
		for i+1 < len(offsets) && flags[i+1] {
			i++
			s.to, s.n = offsets[i], s.n+1
		}
		out = append(out, s)
	}
	return out
}

// consumerOf splits an incarnation's name, c1#2, into the consumer and the
// run number; a name without a run number is run 1.
func consumerOf(name string) (string, int) {
	if i := strings.LastIndexByte(name, '#'); i > 0 {
		if n, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i], n
		}
	}
	return name, 1
}

// bounds are the offsets a lane shows: every record and committed offset
// in it, [lo, hi).
func (l *lane) bounds() (int64, int64) {
	lo, hi := int64(-1), int64(-1)
	see := func(from, to int64) { // [from, to)
		if lo < 0 || from < lo {
			lo = from
		}
		if to > hi {
			hi = to
		}
	}
	for _, p := range l.processed {
		see(p.offset, p.offset+1)
	}
	for _, c := range l.commits {
		see(c.offset, c.offset)
	}
	for _, b := range l.broker {
		see(b.offset, b.offset)
	}
	for _, r := range l.resumes {
		see(r.offset, r.offset+1)
	}
	for _, s := range l.lost {
		see(s.from, s.to+1)
	}
	if lo < 0 {
		return 0, 10
	}
	if hi-lo < 10 {
		hi = lo + 10
	}
	return lo, hi
}
