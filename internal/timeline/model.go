package timeline

import (
	"cmp"
	"maps"
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
	names  []string      // incarnations, by the time of their first event
	colors []string      // each incarnation's colour, by index
	groups []group       // every consumer group that has an incarnation, sorted
	span   time.Duration // from the first moment of the run to past its last, on a tick
	tstep  float64       // seconds between ticks on the time axis
	marks  []mark
	lanes  []*lane // by partition, then group
}

// group is one consumer group's figures over the run, as verify counts
// them.
type group struct {
	id    string
	names []string // its incarnations, in model.names order
	total verify.Counts
}

type mark struct {
	at      time.Duration
	kind    string
	name    string
	restart bool   // a start of a consumer that had started before
	detail  string // what the mark means here, for its tooltip
}

// lane is one partition as one consumer group saw it. Groups read a topic
// each in their own right, so each has its own band: its own committed
// offsets, resume points, replays and losses.
type lane struct {
	tp     tp.TP
	group  string
	lo, hi int64 // the offsets shown, [lo, hi)

	processed   []proc // by incarnation, then ledger order
	commits     []point
	broker      []brokerPoint
	resumes     []resume
	replayed    []span // ranges of records the group processed more than once
	lost        []span // ranges of acked records the group went past without processing
	notConsumed []span // ranges of acked records the group never reached
	counts      verify.Counts
	handovers   []handover // the partition assigned to or revoked from an incarnation
	zoom        *focus     // where the lane's story is, when it is too small to see on the whole lane
}

// handover is the partition assigned to an incarnation, or revoked from
// it (lost: without a clean handover, as after a session timeout).
type handover struct {
	inc     int
	at      time.Duration
	revoked bool
	lost    bool
}

// laneKey names a lane.
type laneKey struct {
	group string
	tp    tp.TP
}

// proc is one processed event.
type proc struct {
	inc    int
	at     time.Duration
	offset int64
	replay bool // the group had processed the record before
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

// resume is where an incarnation first read a partition that someone in
// its group had read before it: after a restart or a takeover, where it
// resumed.
type resume struct {
	inc    int
	at     time.Duration
	offset int64
}

// span is a range of records, as verify reports them: From and To
// inclusive, N records (a range may skip offsets that hold no record, such
// as transaction markers).
type span = verify.Range

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
	lanes := map[laneKey]*lane{}
	get := func(g string, p tp.TP) *lane {
		k := laneKey{g, p}
		l, ok := lanes[k]
		if !ok {
			l = &lane{tp: p, group: g}
			lanes[k] = l
		}
		return l
	}

	// What was replayed and lost is verify's to say, per group.
	acc := verify.Account(r.Acked, incs, r.EndCommitted)
	for _, g := range acc.Groups() {
		m.groups = append(m.groups, group{id: g, total: acc.Total(g)})
	}

	// Processed records, with verify's replays; commits; and each
	// incarnation's first record per partition, for the resume points.
	handovers := map[laneKey][]handover{}  // drawn in lanes that show something else
	firstOf := map[int]map[tp.TP]point{}   // each incarnation's first consumed record per partition
	firstProc := map[int]map[tp.TP]point{} // and its first processed one, for ledgers without consumed events
	for i, inc := range incs {
		m.names = append(m.names, inc.Name)
		g := m.group(inc.Group)
		g.names = append(g.names, inc.Name)
		firstOf[i], firstProc[i] = map[tp.TP]point{}, map[tp.TP]point{}
		for j, e := range inc.Events {
			switch {
			case e.Type == ledger.Processed && e.Record != nil:
				p := recordTP(e.Record)
				l := get(inc.Group, p)
				l.processed = append(l.processed, proc{inc: i, at: rel(e.TS), offset: e.Record.Offset, replay: acc.Replay(i, j)})
				if _, ok := firstProc[i][p]; !ok {
					firstProc[i][p] = point{rel(e.TS), e.Record.Offset}
				}
			case e.Type == ledger.Consumed && e.Record != nil:
				p := recordTP(e.Record)
				get(inc.Group, p)
				if _, ok := firstOf[i][p]; !ok {
					firstOf[i][p] = point{rel(e.TS), e.Record.Offset}
				}
			case e.Type == ledger.Assigned || e.Type == ledger.Revoked:
				for _, o := range e.Partitions {
					k := laneKey{inc.Group, tp.TP{Topic: o.Topic, Partition: o.Partition}}
					handovers[k] = append(handovers[k], handover{inc: i, at: rel(e.TS), revoked: e.Type == ledger.Revoked, lost: e.Lost})
				}
			case e.Type == ledger.Committed && e.Error == "":
				for _, o := range e.Partitions {
					if o.Error != "" || o.Offset < 0 {
						continue
					}
					l := get(inc.Group, tp.TP{Topic: o.Topic, Partition: o.Partition})
					l.commits = append(l.commits, point{rel(e.TS), o.Offset})
				}
			}
		}
	}
	for _, l := range lanes {
		slices.SortStableFunc(l.commits, func(a, b point) int { return cmp.Compare(a.at, b.at) })
	}

	m.colors = colours(m.names)

	// Resume points: an incarnation's first record on a partition that
	// someone in its group read before it (after a restart, or a takeover).
	firstRead := map[laneKey]time.Duration{}
	for i, inc := range incs {
		for p, pt := range firstPoints(firstOf[i], firstProc[i]) {
			k := laneKey{inc.Group, p}
			if t, ok := firstRead[k]; !ok || pt.at < t {
				firstRead[k] = pt.at
			}
		}
	}
	for i, inc := range incs {
		for p, pt := range firstPoints(firstOf[i], firstProc[i]) {
			if pt.at > firstRead[laneKey{inc.Group, p}] {
				l := get(inc.Group, p)
				l.resumes = append(l.resumes, resume{inc: i, at: pt.at, offset: pt.offset})
			}
		}
	}

	// Lost and not-consumed ranges get a lane of their own where the group
	// had nothing else on the partition (a consumer that read nothing).
	for _, g := range m.groups {
		for _, p := range tp.Keys(acc.Counts(g.id)) {
			if acc.Lost(g.id, p) != nil || acc.NotConsumed(g.id, p) != nil {
				get(g.id, p)
			}
		}
	}

	// Marks, and the broker's committed offsets at each snapshot, in the
	// band of the group the snapshot read.
	for _, mk := range r.Marks {
		m.marks = append(m.marks, mark{at: rel(mk.At), kind: mk.Kind, name: mk.Name})
	}
	slices.SortStableFunc(m.marks, func(a, b mark) int {
		return cmp.Or(cmp.Compare(a.at, b.at), strings.Compare(a.kind, b.kind), strings.Compare(a.name, b.name))
	})
	m.marks = append(m.marks, derivedMarks(incs, r.Marks, rel, m.span)...)
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
	for _, mk := range r.Marks {
		if mk.Kind != MarkSnapshot {
			continue
		}
		for _, g := range snapshotGroups(mk, m.groups) {
			for p, off := range r.Committed[mk.Name] {
				if off < 0 {
					continue
				}
				l := get(g, p)
				l.broker = append(l.broker, brokerPoint{label: mk.Name, at: rel(mk.At), offset: off})
			}
		}
	}

	keys := slices.SortedFunc(maps.Keys(lanes), func(a, b laneKey) int {
		return cmp.Or(tp.Compare(a.tp, b.tp), strings.Compare(a.group, b.group))
	})
	for _, k := range keys {
		l := lanes[k]
		if c := acc.Counts(k.group)[k.tp]; c != nil {
			l.counts = *c
		}
		l.replayed, l.lost, l.notConsumed = acc.Replayed(k.group, k.tp), acc.Lost(k.group, k.tp), acc.NotConsumed(k.group, k.tp)
		slices.SortStableFunc(l.broker, func(a, b brokerPoint) int {
			return cmp.Or(cmp.Compare(a.at, b.at), strings.Compare(a.label, b.label))
		})
		slices.SortStableFunc(l.resumes, func(a, b resume) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.inc, b.inc)) })
		l.handovers = handovers[k]
		slices.SortStableFunc(l.handovers, func(a, b handover) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.inc, b.inc)) })
		l.lo, l.hi = l.bounds()
		l.zoom = l.focus(m.marks)
		m.lanes = append(m.lanes, l)
	}
	return m
}

func (m *model) colour(inc int) string { return m.colors[inc] }

// group returns the group with the id; nil for a group no incarnation
// read in (one a snapshot named).
func (m *model) group(id string) *group {
	i, ok := slices.BinarySearchFunc(m.groups, id, func(g group, id string) int { return strings.Compare(g.id, id) })
	if !ok {
		return nil
	}
	return &m.groups[i]
}

// snapshotGroups are the groups a snapshot's offsets are drawn for: the
// group it read, or, when the runner did not say, every group (the only
// one, in a run of one group).
func snapshotGroups(mk Mark, groups []group) []string {
	if mk.Group != "" || len(groups) == 0 {
		return []string{mk.Group}
	}
	var ids []string
	for _, g := range groups {
		ids = append(ids, g.id)
	}
	return ids
}

func recordTP(r *ledger.Record) tp.TP { return tp.TP{Topic: r.Topic, Partition: r.Partition} }

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
		see(s.From, s.To+1)
	}
	for _, s := range l.notConsumed {
		see(s.From, s.To+1)
	}
	if lo < 0 {
		return 0, 10
	}
	if hi-lo < 10 {
		hi = lo + 10
	}
	return lo, hi
}
