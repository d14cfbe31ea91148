package verify

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// Accountant classifies records as Account does, streaming ledgers of
// millions of records instead of holding them. It is told where the
// ledgers are (ReadAcked, ReadIncarnation, or events already read: AddAcked
// and Add); Account then reads them, in bounded memory:
//
//   - The acked ledgers first, keeping each partition's acked offsets as
//     spans of consecutive offsets, and each producer run's sequence
//     numbers as a bitmap (one bit per record, so a record reported twice
//     counts once).
//   - Then every processed event of every incarnation, merged in time
//     order (then incarnation, then ledger order) across the ledgers,
//     which each are in time order. A record read where it was acked is
//     known by its position: each group keeps, per partition, the spans of
//     offsets it processed and of those it processed again. Only the
//     others, records read where no producer acked them (forwarded to an
//     output topic, written twice by a retry) or read where a record
//     acked elsewhere was, are kept one by one.
//   - A record read away from where it was acked needs that position: the
//     acked ledgers are read again for those records only, and the
//     processed events again with their positions known. Stories without
//     such records read everything once.
//   - For the lost records Counts samples, the acked ledgers are read
//     once more, for those positions only.
//
// So memory grows with partitions, runs of consecutive offsets, and
// anomalies, not with records; the bitmaps are what grows: a bit per acked
// record (1.25 MB at 10 million), and for Replay a bit per event of each
// incarnation up to its last replay.
type Accountant struct {
	acked []source
	incs  []source
}

// source is a ledger: a file, or events already read.
type source struct {
	path   string
	events []ledger.Event
	group  string // for an incarnation
}

// each calls fn with the source's events and their numbers (from 0), as
// ledger.Scan does: an event's Record and Partitions are valid during fn
// only, and a torn last event is dropped. It stops at fn's first error.
func (s *source) each(fn func(n int, e ledger.Event) error) error {
	if s.path == "" {
		for n, e := range s.events {
			if err := fn(n, e); err != nil {
				return err
			}
		}
		return nil
	}
	return ledger.Scan(s.path, fn)
}

// item is an event a feed passes on: its number in the ledger, its time
// and its record.
type item struct {
	n   int
	at  int64
	rec ledger.Record
}

// feed reads a source in a goroutine of its own, passing on the events of
// one type that have a record, in batches: decoding, most of the work,
// runs beside the tally.
type feed struct {
	batches chan []item
	free    chan []item
	stop    chan struct{}
	err     error // set before batches is closed
	batch   []item
	i       int
}

const batchSize = 1024

func (s *source) feed(typ string) *feed {
	f := &feed{batches: make(chan []item, 2), free: make(chan []item, 3), stop: make(chan struct{})}
	go func() {
		defer close(f.batches)
		size := batchSize
		if s.path == "" {
			size = min(size, len(s.events))
		}
		batch := make([]item, 0, size)
		send := func() error {
			select {
			case f.batches <- batch:
			case <-f.stop:
				return errStopped
			}
			select {
			case batch = <-f.free:
				batch = batch[:0]
			default:
				batch = make([]item, 0, size)
			}
			return nil
		}
		err := s.each(func(n int, e ledger.Event) error {
			if e.Type != typ || e.Record == nil {
				return nil
			}
			batch = append(batch, item{n: n, at: e.TS.UnixNano(), rec: *e.Record})
			if len(batch) == size {
				return send()
			}
			return nil
		})
		if err == nil && len(batch) > 0 {
			err = send()
		}
		if err != nil && err != errStopped {
			f.err = fmt.Errorf("unable to read ledger %s: %w", s.path, err)
		}
	}()
	return f
}

// errStopped ends a read early: its reader has what it wanted.
var errStopped = errors.New("stopped")

// next returns the next item; nil after the last, with f.err set if
// reading failed.
func (f *feed) next() *item {
	if f.i == len(f.batch) {
		if f.batch != nil {
			select {
			case f.free <- f.batch:
			default:
			}
		}
		b, ok := <-f.batches
		if !ok {
			return nil
		}
		f.batch, f.i = b, 0
	}
	f.i++
	return &f.batch[f.i-1]
}

// close stops the goroutine, if it is still reading.
func (f *feed) close() { close(f.stop) }

// eachAcked calls fn with every acked record of the sources, in order.
func eachAcked(srcs []source, fn func(r *ledger.Record)) error {
	for i := range srcs {
		f := srcs[i].feed(ledger.Acked)
		for it := f.next(); it != nil; it = f.next() {
			fn(&it.rec)
		}
		f.close()
		if f.err != nil {
			return f.err
		}
	}
	return nil
}

// NewAccountant returns an empty Accountant.
func NewAccountant() *Accountant { return &Accountant{} }

// AddAcked takes a producer's acked ledger, read already; events other
// than acked are ignored.
func (ac *Accountant) AddAcked(events []ledger.Event) {
	ac.acked = append(ac.acked, source{events: events})
}

// ReadAcked takes a producer's acked ledger file, read by Account. A
// missing file adds nothing: a producer killed early may have written none.
func (ac *Accountant) ReadAcked(path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("unable to read ledger %s: %w", path, err)
	}
	ac.acked = append(ac.acked, source{path: path})
	return nil
}

// Add takes an incarnation read whole, as the next one.
func (ac *Accountant) Add(inc Incarnation) {
	ac.incs = append(ac.incs, source{events: inc.Events, group: inc.Group})
}

// ReadIncarnation takes a consumer's ledger file as the next incarnation,
// in the group its first started event names (group when it names none),
// as Read does. It reads up to that event now, the rest in Account.
func (ac *Accountant) ReadIncarnation(path, group string) error {
	s := source{path: path}
	err := s.each(func(_ int, e ledger.Event) error {
		if e.Type != ledger.Started {
			return nil
		}
		if g := e.Detail["group.id"]; g != "" {
			group = g
		}
		return errStopped
	})
	if err != nil && err != errStopped {
		return fmt.Errorf("unable to read ledger %s: %w", path, err)
	}
	s.group = group
	ac.incs = append(ac.incs, s)
	return nil
}

// key is a record's identity: run (index+1) and sequence, or a position,
// -(partition index+1) and offset, for a record known by where it was
// acked or, without a run id, where it was read.
type key struct {
	run int32
	n   int64
}

func at(tp int32, offset int64) key { return key{run: -tp - 1, n: offset} }

// names interns partitions and run ids.
type names struct {
	tps    map[TP]int32
	tpList []TP
	runs   map[string]int32 // run id -> index+1
	runIDs []string
	last   struct { // the partition looked up last: the next event is likely on it
		tp TP
		i  int32
		ok bool
	}
}

func (n *names) tp(t TP) int32 {
	if n.last.ok && n.last.tp == t {
		return n.last.i
	}
	i, ok := n.tps[t]
	if !ok {
		i = int32(len(n.tpList))
		n.tps[t] = i
		n.tpList = append(n.tpList, t)
	}
	n.last.tp, n.last.i, n.last.ok = t, i, true
	return i
}

func (n *names) run(id string) int32 {
	i, ok := n.runs[id]
	if !ok {
		n.runIDs = append(n.runIDs, id)
		i = int32(len(n.runIDs))
		n.runs[id] = i
	}
	return i
}

// ackedSet is what the acked ledgers hold: per partition, the acked offsets
// (the first report of each record), and per run, the records reported.
type ackedSet struct {
	names
	offsets []spans  // per partition index
	seen    []seqSet // per run index-1
}

func (a *ackedSet) spansOf(tp int32) *spans {
	for int(tp) >= len(a.offsets) {
		a.offsets = append(a.offsets, spans{})
	}
	return &a.offsets[tp]
}

func (a *ackedSet) has(tp int32, offset int64) bool {
	return int(tp) < len(a.offsets) && a.offsets[tp].has(offset)
}

// keyAcked reports whether a record with a run id was acked.
func (a *ackedSet) keyAcked(k key) bool {
	return int(k.run) <= len(a.seen) && a.seen[k.run-1].has(k.n)
}

func (a *ackedSet) read(srcs []source) error {
	return eachAcked(srcs, func(r *ledger.Record) {
		tp := a.tp(recordTP(r))
		if r.Run != "" {
			run := a.run(r.Run)
			for int(run) > len(a.seen) {
				a.seen = append(a.seen, seqSet{})
			}
			if !a.seen[run-1].add(r.Seq) {
				return // reported before: the first report wins
			}
		}
		a.spansOf(tp).add(r.Offset)
	})
}

// position is a partition index and an offset.
type position struct {
	tp     int32
	offset int64
}

// tally is one pass over the processed events.
type tally struct {
	*ackedSet
	groups  map[string]*groupTally
	replays []seqSet         // per incarnation
	located map[key]position // records read away from where they were acked: where they were
	moved   map[key]bool     // positions in located: all their processings are kept one by one
	missing map[key]bool     // records read away from where they were acked, not located yet
}

type groupTally struct {
	parts []*partTally // per partition index, nil if untouched
	exact map[exactKey]exact
}

// partTally is a group's processing on one partition.
type partTally struct {
	done, again         spans // offsets processed, and processed more than once, of records known by position
	processed, distinct int64 // processings on the partition, and records processed
	highest             int64 // the highest offset processed, as acked
	reached             bool
}

// exactKey is a record kept one by one: the partition it was processed on
// and its identity.
type exactKey struct {
	tp int32
	id key
}

// exact is a record kept one by one.
type exact struct {
	first int64 // the offset of its first processing
	rank  int64 // of its first processing, in time order
	times int32
}

func (g *groupTally) part(tp int32) *partTally {
	for int(tp) >= len(g.parts) {
		g.parts = append(g.parts, nil)
	}
	if g.parts[tp] == nil {
		g.parts[tp] = &partTally{}
	}
	return g.parts[tp]
}

func (p *partTally) reach(offset int64) {
	if !p.reached || offset > p.highest {
		p.highest, p.reached = offset, true
	}
}

// head is an incarnation's next processed event in the merge.
type head struct {
	f   *feed
	inc int
	*item
}

func cmpHead(x, y *head) int {
	return cmp3(x.at, y.at, int64(x.inc), int64(y.inc), int64(x.n), int64(y.n))
}

// cmp3 compares by the first of three pairs whose values differ.
func cmp3(a1, b1, a2, b2, a3, b3 int64) int {
	switch {
	case a1 != b1:
		return cmp.Compare(a1, b1)
	case a2 != b2:
		return cmp.Compare(a2, b2)
	}
	return cmp.Compare(a3, b3)
}

// pass tallies the processed events of incs, merged in time order.
func (t *tally) pass(incs []source) error {
	var heads []*head // ordered by their events
	feeds := make([]*feed, len(incs))
	for i := range incs {
		t.group(incs[i].group)
		feeds[i] = incs[i].feed(ledger.Processed)
	}
	defer func() {
		for _, f := range feeds {
			f.close()
		}
	}()
	for i, f := range feeds {
		h := &head{f: f, inc: i, item: f.next()}
		if h.item == nil {
			if f.err != nil {
				return f.err
			}
			continue
		}
		j, _ := slices.BinarySearchFunc(heads, h, cmpHead)
		heads = slices.Insert(heads, j, h)
	}
	for rank := int64(0); len(heads) > 0; rank++ {
		h := heads[0]
		t.processed(t.groups[incs[h.inc].group], h, rank)
		if h.item = h.f.next(); h.item == nil {
			if h.f.err != nil {
				return h.f.err
			}
			heads = heads[1:]
			continue
		}
		// Move h to its place: usually it stays first, or moves by one.
		for j := 1; j < len(heads) && cmpHead(heads[j], h) < 0; j++ {
			heads[j-1], heads[j] = heads[j], h
		}
	}
	return nil
}

func (t *tally) group(name string) *groupTally {
	g := t.groups[name]
	if g == nil {
		g = &groupTally{exact: map[exactKey]exact{}}
		t.groups[name] = g
	}
	return g
}

// processed tallies one processing.
func (t *tally) processed(g *groupTally, h *head, rank int64) {
	r := &h.rec
	tp := t.tp(recordTP(r))
	p := g.part(tp)
	p.processed++
	var id key
	var where position // as acked, for the highest offset processed
	if r.Run == "" || t.has(tp, r.Offset) {
		id, where = at(tp, r.Offset), position{tp, r.Offset}
		if !t.moved[id] { // known by position
			if p.done.add(r.Offset) {
				p.distinct++
			} else {
				p.again.add(r.Offset)
				t.replays[h.inc].add(int64(h.n))
			}
			p.reach(r.Offset)
			return
		}
	} else {
		id, where = key{run: t.run(r.Run), n: r.Seq}, position{tp, r.Offset}
		if t.keyAcked(id) {
			w, ok := t.located[id]
			if !ok {
				t.missing[id] = true
				return
			}
			id, where = at(w.tp, w.offset), w
		}
	}
	k := exactKey{tp: tp, id: id}
	if x, ok := g.exact[k]; ok {
		x.times++
		g.exact[k] = x
		t.replays[h.inc].add(int64(h.n))
	} else {
		g.exact[k] = exact{first: r.Offset, rank: rank, times: 1}
		p.distinct++
	}
	g.part(where.tp).reach(where.offset)
}

// Account classifies what the Accountant was given, as Account does,
// reading the ledgers now.
func (ac *Accountant) Account(committed map[string]Offsets) (*Accounting, error) {
	a := &ackedSet{names: names{tps: map[TP]int32{}, runs: map[string]int32{}}}
	if err := a.read(ac.acked); err != nil {
		return nil, err
	}
	t, err := ac.tally(a, nil)
	if err != nil {
		return nil, err
	}
	if len(t.missing) > 0 {
		located, err := a.locate(ac.acked, t.missing)
		if err != nil {
			return nil, err
		}
		if t, err = ac.tally(a, located); err != nil {
			return nil, err
		}
	}
	acc := &Accounting{groups: map[string]*groupAccount{}, replays: t.replays}
	samples := map[position][]*Counts{}
	for name, g := range t.groups {
		acc.groups[name] = t.classify(g, committed[name], samples)
	}
	if len(samples) > 0 {
		if err := a.sample(ac.acked, samples); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

func (ac *Accountant) tally(a *ackedSet, located map[key]position) (*tally, error) {
	t := &tally{ackedSet: a, groups: map[string]*groupTally{}, replays: make([]seqSet, len(ac.incs)), located: located, moved: map[key]bool{}, missing: map[key]bool{}}
	for _, w := range located {
		t.moved[at(w.tp, w.offset)] = true
	}
	return t, t.pass(ac.incs)
}

// locate finds where the records keys name were acked (their first report).
func (a *ackedSet) locate(srcs []source, keys map[key]bool) (map[key]position, error) {
	located := map[key]position{}
	err := eachAcked(srcs, func(r *ledger.Record) {
		if r.Run == "" {
			return
		}
		k := key{run: a.runs[r.Run], n: r.Seq}
		if _, done := located[k]; keys[k] && !done {
			located[k] = position{a.tp(recordTP(r)), r.Offset}
		}
	})
	return located, err
}

// sample fills in the lost records Counts sample, as the producer's
// ledger held them: the first report at each position.
func (a *ackedSet) sample(srcs []source, samples map[position][]*Counts) error {
	found := map[position]ledger.Record{}
	err := eachAcked(srcs, func(r *ledger.Record) {
		w := position{a.tp(recordTP(r)), r.Offset}
		if _, ok := samples[w]; ok {
			if _, done := found[w]; !done {
				found[w] = *r
			}
		}
	})
	if err != nil {
		return err
	}
	for w, cs := range samples {
		for _, c := range cs {
			i := slices.IndexFunc(c.LostSample, func(r ledger.Record) bool { return r.Offset == w.offset })
			c.LostSample[i] = found[w]
		}
	}
	return nil
}

// segment is offsets from..to, n elements (records) among them, flagged
// or not.
type segment struct {
	from, to, n int64
	flagged     bool
}

// classify turns a group's tally into its accounting. Lost records to
// sample are added to samples, with their offset only: sample fills them.
func (t *tally) classify(g *groupTally, committed Offsets, samples map[position][]*Counts) *groupAccount {
	ga := &groupAccount{counts: map[TP]*Counts{}, ranges: map[classOn][]Range{}}
	// Records kept one by one: their first processings per partition they
	// were processed on, and the acked positions they cover.
	type first struct {
		segment
		rank int64
	}
	firsts := map[int32][]first{}
	covered := map[int32][]int64{}
	for k, x := range g.exact {
		firsts[k.tp] = append(firsts[k.tp], first{segment{from: x.first, to: x.first, n: 1, flagged: x.times > 1}, x.rank})
		if k.id.run < 0 && t.has(-k.id.run-1, k.id.n) {
			covered[-k.id.run-1] = append(covered[-k.id.run-1], k.id.n)
		}
	}
	for tp := range int32(len(t.tpList)) {
		var p *partTally
		if int(tp) < len(g.parts) {
			p = g.parts[tp]
		}
		var offsets *spans
		if int(tp) < len(t.offsets) && len(t.offsets[tp].s) > 0 {
			offsets = &t.offsets[tp]
		}
		if offsets == nil && (p == nil || p.processed == 0) {
			continue
		}
		if p == nil {
			p = &partTally{}
		}
		c := &Counts{Processed: p.processed, Distinct: p.distinct, Replayed: p.processed - p.distinct}
		ga.counts[t.tpList[tp]] = c

		// Replayed: every record's first processing on this partition in
		// offset order, flagged if processed again.
		slices.SortFunc(firsts[tp], func(x, y first) int {
			return cmp.Or(cmp.Compare(x.from, y.from), cmp.Compare(x.rank, y.rank))
		})
		pts := make([]segment, len(firsts[tp]))
		for i, f := range firsts[tp] {
			pts[i] = f.segment
		}
		var replayed runs
		merge(p.done.segments(&p.again), pts, replayed.add)
		ga.put(classReplayed, t.tpList[tp], replayed.out)

		if offsets == nil {
			continue
		}
		// Lost and not consumed: the acked records the group did not
		// process, below and from where it went.
		done := p.done.clone()
		for _, o := range covered[tp] {
			done.add(o)
		}
		limit, bounded := p.highest, p.reached
		if cm, ok := committed[t.tpList[tp]]; ok && (!bounded || cm > limit) {
			limit, bounded = cm, true
		}
		var lost, not runs
		offsets.minus(&done, func(s segment) { // s flagged: not processed
			c.Acked += s.n
			if !s.flagged {
				lost.add(s)
				not.add(s)
				return
			}
			below := segment{from: s.from, to: min(s.to, limit-1), flagged: true}
			if bounded && below.to >= below.from {
				below.n = below.to - below.from + 1
				lost.add(below)
				not.add(segment{from: below.from, to: below.to, n: below.n})
				c.Lost += below.n
				for o := below.from; o <= below.to && len(c.LostSample) < MaxLostSample; o++ {
					c.LostSample = append(c.LostSample, ledger.Record{Offset: o})
					w := position{tp, o}
					samples[w] = append(samples[w], c)
				}
				s.from = below.to + 1
			}
			if s.from <= s.to {
				s.n = s.to - s.from + 1
				lost.add(segment{from: s.from, to: s.to, n: s.n})
				not.add(s)
				c.NotConsumed += s.n
			}
		})
		ga.put(classLost, t.tpList[tp], lost.out)
		ga.put(classNotConsumed, t.tpList[tp], not.out)
	}
	return ga
}

// merge calls add with segs and pts in offset order, segs being disjoint
// spans of single records and pts single records; a point inside a span
// splits it.
func merge(segs, pts []segment, add func(segment)) {
	for _, s := range segs {
		for len(pts) > 0 && pts[0].from <= s.to {
			pt := pts[0]
			pts = pts[1:]
			if pt.from >= s.from {
				head := s
				head.to = pt.from
				head.n = head.to - head.from + 1
				add(head)
				s.from = pt.from + 1
				s.n = s.to - s.from + 1
			}
			add(pt)
		}
		if s.from <= s.to {
			add(s)
		}
	}
	for _, pt := range pts {
		add(pt)
	}
}

// runs groups flagged records, added in order, into ranges of neighbours:
// records added one after the other, whatever offsets lie between them.
type runs struct {
	out  []Range
	open bool
}

func (rs *runs) add(s segment) {
	switch {
	case !s.flagged:
		rs.open = false
	case rs.open:
		r := &rs.out[len(rs.out)-1]
		r.To, r.N = s.to, r.N+s.n
	default:
		rs.out = append(rs.out, Range{From: s.from, To: s.to, N: s.n})
		rs.open = true
	}
}
