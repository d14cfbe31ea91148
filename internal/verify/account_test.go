package verify

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// in puts incarnations in a group.
func in(group string, incs ...Incarnation) []Incarnation {
	for i := range incs {
		incs[i].Group = group
	}
	return incs
}

// forwarded is src as a transformer forwarded it to partition p of
// orders-out, at offset off: same run and sequence, another place.
func forwarded(p int32, off int64, src *ledger.Record) ledger.Event {
	return ledger.Event{Type: ledger.Processed, Record: &ledger.Record{Topic: "orders-out", Partition: p, Offset: off, Run: src.Run, Seq: src.Seq}}
}

func outTP(p int32) TP { return TP{Topic: "orders-out", Partition: p} }

func recs(p int32, offs ...int64) []ledger.Record {
	var rs []ledger.Record
	for _, o := range offs {
		rs = append(rs, *rec(p, o))
	}
	return rs
}

func TestAccount(t *testing.T) {
	for _, tc := range []struct {
		name      string
		acked     []ledger.Event
		incs      []Incarnation
		committed map[string]Offsets
		want      map[string]map[TP]Counts // every group, every partition
		lost      map[string]map[TP][]Range
		notCons   map[string]map[TP][]Range
	}{
		{
			// auto-store-inflight-loss: an auto-commit covered offset 3 while
			// c1 was processing it; kill -9; c1's restart resumed at 4. Group
			// s1 stored after processing and resumed at 3. Its reading of 3
			// must not hide c1's loss.
			name:  "two groups on the same records: one lost a record, the other none",
			acked: acked(0, seq(0, 19)...),
			incs: append(
				in("g", inc("c1#1", assigned(0), consume(0, 0, 1, 2), inflight(0, 3), commit("auto", 0, 4)),
					inc("c1#2", assigned(0), consume(0, seq(4, 19)...))),
				in("g-store", inc("s1#1", assigned(0), consume(0, 0, 1, 2), inflight(0, 3)),
					inc("s1#2", assigned(0), consume(0, seq(3, 19)...)))...),
			committed: map[string]Offsets{"g": {mkTP(0): 20}, "g-store": {mkTP(0): 20}},
			want: map[string]map[TP]Counts{
				"g":       {mkTP(0): {Acked: 20, Processed: 19, Distinct: 19, Lost: 1, LostSample: recs(0, 3)}},
				"g-store": {mkTP(0): {Acked: 20, Processed: 20, Distinct: 20}},
			},
			lost: map[string]map[TP][]Range{"g": {mkTP(0): {{3, 3, 1}}}},
		},
		{
			// reset-none: the consumer stopped with the reset error before
			// consuming anything, and the group committed nothing.
			name:  "reset=none: nothing processed, nothing committed: all not consumed",
			acked: append(append(acked(0, seq(0, 34)...), acked(1, seq(0, 40)...)...), acked(2, seq(0, 23)...)...),
			incs: in("g", inc("c1#1", ledger.Event{Type: ledger.Started, Detail: map[string]string{"group.id": "g"}},
				ledger.Event{Type: ledger.Error, Code: -140, Error: "Local: No offset to automatically reset to"})),
			want: map[string]map[TP]Counts{"g": {
				mkTP(0): {Acked: 35, NotConsumed: 35},
				mkTP(1): {Acked: 41, NotConsumed: 41},
				mkTP(2): {Acked: 24, NotConsumed: 24},
			}},
			notCons: map[string]map[TP][]Range{"g": {mkTP(0): {{0, 34, 35}}, mkTP(1): {{0, 40, 41}}, mkTP(2): {{0, 23, 24}}}},
		},
		{
			// reset-latest: a new group started at the log end and read only
			// what came after; the older records sit before what it read.
			name:  "reset=latest: the records before the new ones are lost, processing alone shows it",
			acked: append(acked(0, seq(0, 6)...), acked(1, 0, 1, 2, 3)...),
			incs:  in("g", inc("c1#1", assigned(0, 1), consume(0, 5, 6), consume(1, 3))),
			want: map[string]map[TP]Counts{"g": {
				mkTP(0): {Acked: 7, Processed: 2, Distinct: 2, Lost: 5, LostSample: recs(0, 0, 1, 2, 3, 4)},
				mkTP(1): {Acked: 4, Processed: 1, Distinct: 1, Lost: 3, LostSample: recs(1, 0, 1, 2)},
			}},
			lost: map[string]map[TP][]Range{"g": {mkTP(0): {{0, 4, 5}}, mkTP(1): {{0, 2, 3}}}},
		},
		{
			name:      "a loss at the tail that only the committed offset went past",
			acked:     acked(0, seq(0, 5)...),
			incs:      in("g", inc("c1#1", assigned(0), consume(0, 0, 1, 2), inflight(0, 3), commit("auto", 0, 4))),
			committed: map[string]Offsets{"g": {mkTP(0): 4}},
			want: map[string]map[TP]Counts{"g": {
				mkTP(0): {Acked: 6, Processed: 3, Distinct: 3, Lost: 1, LostSample: recs(0, 3), NotConsumed: 2},
			}},
			lost:    map[string]map[TP][]Range{"g": {mkTP(0): {{3, 3, 1}}}},
			notCons: map[string]map[TP][]Range{"g": {mkTP(0): {{4, 5, 2}}}},
		},
		{
			name:  "the same tail without a committed offset: not consumed, the group never went past it",
			acked: acked(0, seq(0, 5)...),
			incs:  in("g", inc("c1#1", assigned(0), consume(0, 0, 1, 2), inflight(0, 3))),
			want: map[string]map[TP]Counts{"g": {
				mkTP(0): {Acked: 6, Processed: 3, Distinct: 3, NotConsumed: 3},
			}},
			notCons: map[string]map[TP][]Range{"g": {mkTP(0): {{3, 5, 3}}}},
		},
		{
			// exactly-once: t1 forwarded orders[0] to orders-out[1] at other
			// offsets; the reader's group read 0 and 2 there. It went past
			// 1 in orders[0]'s coordinates; its own committed offset 102 on
			// orders-out[1] says nothing about orders[0].
			name:  "a reader of an output topic is judged where the records were acked",
			acked: acked(0, seq(0, 4)...),
			incs: append(in("g", inc("t1#1", assigned(0), consume(0, seq(0, 4)...))),
				in("g-reader", inc("reader#1", forwarded(1, 100, rec(0, 0)), forwarded(1, 101, rec(0, 2))))...),
			committed: map[string]Offsets{"g-reader": {outTP(1): 102}},
			want: map[string]map[TP]Counts{
				"g": {mkTP(0): {Acked: 5, Processed: 5, Distinct: 5}},
				"g-reader": {
					mkTP(0):  {Acked: 5, Lost: 1, LostSample: recs(0, 1), NotConsumed: 2},
					outTP(1): {Processed: 2, Distinct: 2},
				},
			},
			lost:    map[string]map[TP][]Range{"g-reader": {mkTP(0): {{1, 1, 1}}}},
			notCons: map[string]map[TP][]Range{"g-reader": {mkTP(0): {{3, 4, 2}}}},
		},
		{
			name:  "a processed record no producer acked counts where it was read",
			acked: acked(0, 0, 1, 2, 3),
			incs: in("g", inc("c1#1", consume(0, 0), ledger.Event{Type: ledger.Processed,
				Record: &ledger.Record{Topic: "orders", Partition: 0, Offset: 4, Run: "r2", Seq: 0}})),
			want: map[string]map[TP]Counts{"g": {
				mkTP(0): {Acked: 4, Processed: 2, Distinct: 2, Lost: 3, LostSample: recs(0, 1, 2, 3)},
			}},
		},
		{
			name:  "replays are counted per group: two groups reading a record once each replay nothing",
			acked: acked(0, 0, 1),
			incs: append(in("a", inc("c1#1", consume(0, 0, 1)), inc("c1#2", consume(0, 1))),
				in("b", inc("s1#1", consume(0, 0, 1)))...),
			want: map[string]map[TP]Counts{
				"a": {mkTP(0): {Acked: 2, Processed: 3, Distinct: 2, Replayed: 1}},
				"b": {mkTP(0): {Acked: 2, Processed: 2, Distinct: 2}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Account(tc.acked, tc.incs, tc.committed)
			if got, want := a.Groups(), slices.Sorted(keys(tc.want)); !slices.Equal(got, want) {
				t.Fatalf("groups %q, want %q", got, want)
			}
			for g, want := range tc.want {
				got := a.Counts(g)
				if len(got) != len(want) {
					t.Errorf("%s: counted partitions %v, want %v", g, sortedKeys(got), sortedKeys(want))
				}
				for p, w := range want {
					if got[p] == nil || !reflect.DeepEqual(*got[p], w) {
						t.Errorf("%s %v: got %+v, want %+v", g, p, got[p], w)
					}
					if r := a.Lost(g, p); !reflect.DeepEqual(r, tc.lost[g][p]) && tc.lost != nil {
						t.Errorf("%s %v: lost ranges %v, want %v", g, p, r, tc.lost[g][p])
					}
					if r := a.NotConsumed(g, p); !reflect.DeepEqual(r, tc.notCons[g][p]) && tc.notCons != nil {
						t.Errorf("%s %v: not-consumed ranges %v, want %v", g, p, r, tc.notCons[g][p])
					}
				}
			}
			checkRanges(t, a)
		})
	}
	if a := Account(acked(0, 0), nil, nil); a.Counts("g") != nil || len(a.Groups()) != 0 {
		t.Errorf("without incarnations: groups %v, counts %v; want none", a.Groups(), a.Counts("g"))
	}
}

// checkRanges checks that the ranges hold exactly as many records as the
// counts say, for every group and partition.
func checkRanges(t *testing.T, a *Accounting) {
	t.Helper()
	sum := func(rs []Range) (n int64) {
		for _, r := range rs {
			if r.N < 1 || r.To < r.From || r.To-r.From+1 < r.N {
				t.Errorf("range %+v is not a range", r)
			}
			n += r.N
		}
		return n
	}
	for _, g := range a.Groups() {
		for p, c := range a.Counts(g) {
			if n := sum(a.Lost(g, p)); n != c.Lost {
				t.Errorf("%s %v: lost ranges hold %d records, counts say %d", g, p, n, c.Lost)
			}
			if n := sum(a.NotConsumed(g, p)); n != c.NotConsumed {
				t.Errorf("%s %v: not-consumed ranges hold %d records, counts say %d", g, p, n, c.NotConsumed)
			}
			if c.Lost+c.NotConsumed > c.Acked {
				t.Errorf("%s %v: %d lost and %d not consumed of %d acked", g, p, c.Lost, c.NotConsumed, c.Acked)
			}
			if sum(a.Replayed(g, p)) > c.Replayed {
				t.Errorf("%s %v: replayed ranges hold more records than were replayed (%d)", g, p, c.Replayed)
			}
		}
	}
}

func keys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// One group ("", no started event), the cases the classification turns on.
func TestAccountCases(t *testing.T) {
	noRun := func(p int32, off int64, typ string) ledger.Event {
		return ledger.Event{Type: typ, Record: &ledger.Record{Topic: "orders", Partition: p, Offset: off, Seq: -1}}
	}
	for _, tc := range []struct {
		name      string
		acked     []ledger.Event
		incs      []Incarnation
		committed Offsets
		want      Counts
	}{
		{
			name:  "processed twice across two incarnations: 1 replayed",
			acked: acked(0, 0, 1),
			incs:  []Incarnation{inc("c1.1", consume(0, 0, 1)), inc("c1.2", consume(0, 1))},
			want:  Counts{Acked: 2, Processed: 3, Distinct: 2, Replayed: 1},
		},
		{
			name:  "processed three times by two consumers of one group: 2 replayed",
			acked: acked(0, 0),
			incs:  []Incarnation{inc("c1", consume(0, 0)), inc("c2", consume(0, 0, 0))},
			want:  Counts{Acked: 1, Processed: 3, Distinct: 1, Replayed: 2},
		},
		{
			name:  "consumed but not processed, with a later record processed: lost",
			acked: acked(0, 0, 1, 2),
			incs:  []Incarnation{inc("c1", consume(0, 0), inflight(0, 1), consume(0, 2))},
			want:  Counts{Acked: 3, Processed: 2, Distinct: 2, Lost: 1, LostSample: recs(0, 1)},
		},
		{
			name:      "consumed but not processed, covered by the committed offset: lost",
			acked:     acked(0, 0, 1),
			incs:      []Incarnation{inc("c1", consume(0, 0), inflight(0, 1))},
			committed: Offsets{mkTP(0): 2},
			want:      Counts{Acked: 2, Processed: 1, Distinct: 1, Lost: 1, LostSample: recs(0, 1)},
		},
		{
			name:      "committed at the record itself: not consumed, the next run reads it",
			acked:     acked(0, 0, 1),
			incs:      []Incarnation{inc("c1", consume(0, 0), inflight(0, 1))},
			committed: Offsets{mkTP(0): 1},
			want:      Counts{Acked: 2, Processed: 1, Distinct: 1, NotConsumed: 1},
		},
		{
			name:  "lost samples are the lowest offsets, at most MaxLostSample",
			acked: acked(0, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
			incs:  []Incarnation{inc("c1", consume(0, 0, 10))},
			want:  Counts{Acked: 11, Processed: 2, Distinct: 2, Lost: 9, LostSample: recs(0, 1, 2, 3, 4, 5)},
		},
		{
			name:  "a delivery report logged twice is one acked record",
			acked: append(acked(0, 0), acked(0, 0)...),
			incs:  []Incarnation{inc("c1", consume(0, 0))},
			want:  Counts{Acked: 1, Processed: 1, Distinct: 1},
		},
		{
			name: "without a run id, identity is the offset",
			acked: []ledger.Event{noRun(0, 0, ledger.Acked), noRun(0, 1, ledger.Acked), noRun(0, 2, ledger.Acked),
				noRun(0, 3, ledger.Acked), noRun(0, 4, ledger.Acked)},
			incs: []Incarnation{
				inc("c1", noRun(0, 0, ledger.Processed), noRun(0, 1, ledger.Processed)),
				inc("c2", noRun(0, 1, ledger.Processed), noRun(0, 3, ledger.Processed)),
			},
			want: Counts{Acked: 5, Processed: 4, Distinct: 3, Replayed: 1, Lost: 1, NotConsumed: 1,
				LostSample: []ledger.Record{{Topic: "orders", Partition: 0, Offset: 2, Seq: -1}}},
		},
		{
			// A program under test reports where it read, with no run id:
			// the acked record at that position is what it processed.
			name:  "a record read without a run id where one was acked is that record",
			acked: acked(0, 0, 1, 2, 3),
			incs: []Incarnation{
				inc("prog#1", noRun(0, 0, ledger.Processed), noRun(0, 1, ledger.Processed), noRun(0, 3, ledger.Processed)),
				inc("prog#2", noRun(0, 1, ledger.Processed)),
			},
			want: Counts{Acked: 4, Processed: 4, Distinct: 3, Replayed: 1, Lost: 1, LostSample: recs(0, 2)},
		},
		{
			name:  "the same run and sequence at another offset is the same record",
			acked: acked(0, 0),
			incs: []Incarnation{inc("c1", consume(0, 0), ledger.Event{Type: ledger.Processed,
				Record: &ledger.Record{Topic: "orders", Partition: 0, Offset: 1, Run: "r1", Seq: 0}})},
			want: Counts{Acked: 1, Processed: 2, Distinct: 1, Replayed: 1},
		},
		{
			name: "processed but never acked (no producer ledger) is neither lost nor replayed",
			incs: []Incarnation{inc("c1", consume(0, 0, 1))},
			want: Counts{Processed: 2, Distinct: 2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Account(tc.acked, tc.incs, map[string]Offsets{"": tc.committed})
			got := a.Counts("")
			if len(got) != 1 || got[mkTP(0)] == nil {
				t.Fatalf("counted partitions %v, want orders[0] only", sortedKeys(got))
			}
			if !reflect.DeepEqual(*got[mkTP(0)], tc.want) {
				t.Errorf("got %+v, want %+v", *got[mkTP(0)], tc.want)
			}
			if total := a.Total(""); total.Lost != tc.want.Lost || total.Replayed != tc.want.Replayed || total.Acked != tc.want.Acked {
				t.Errorf("total %+v, want the partition's figures", total)
			}
			checkRanges(t, a)
		})
	}
}

// Two partitions, a kill and a restart: the ranges of each kind, and which
// processed events were the replays.
func TestAccountRangesAndReplays(t *testing.T) {
	// c1.1 processed 0..4 on partition 0 and 0..2 on partition 1, and was
	// killed with 3 and 1 committed; c1.2 processed 3..6 and 1..2 again,
	// then 4..5 on partition 1 (3 was handed over to c1.1 and never
	// processed). Partition 0's 7..8 were acked after c1.2 stopped.
	first := inc("c1.1", assigned(0, 1), consume(0, seq(0, 4)...), consume(1, 0, 1, 2), inflight(1, 3))
	second := inc("c1.2", assigned(0, 1), consume(0, seq(3, 6)...), consume(1, 1, 2, 4, 5))
	all := append(acked(0, seq(0, 8)...), acked(1, seq(0, 5)...)...)

	a := Account(all, []Incarnation{first, second}, nil)
	want := map[TP]*Counts{
		mkTP(0): {Acked: 9, Processed: 9, Distinct: 7, Replayed: 2, NotConsumed: 2},
		mkTP(1): {Acked: 6, Processed: 7, Distinct: 5, Replayed: 2, Lost: 1, LostSample: recs(1, 3)},
	}
	if got := a.Counts(""); !reflect.DeepEqual(got, want) {
		for k, v := range got {
			t.Errorf("%v: got %+v, want %+v", k, *v, want[k])
		}
	}
	for _, tc := range []struct {
		what string
		got  []Range
		want []Range
	}{
		{"replayed on 0", a.Replayed("", mkTP(0)), []Range{{3, 4, 2}}},
		{"replayed on 1", a.Replayed("", mkTP(1)), []Range{{1, 2, 2}}},
		{"lost on 0", a.Lost("", mkTP(0)), nil},
		{"lost on 1", a.Lost("", mkTP(1)), []Range{{3, 3, 1}}},
		{"not consumed on 0", a.NotConsumed("", mkTP(0)), []Range{{7, 8, 2}}},
		{"not consumed on 1", a.NotConsumed("", mkTP(1)), nil},
		{"unknown group", a.Lost("other", mkTP(1)), nil},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.what, tc.got, tc.want)
		}
	}

	// Events without times: the first processing is c1.1's (incs order).
	var replays []int64
	for i, inc := range []Incarnation{first, second} {
		for j, e := range inc.Events {
			if a.Replay(i, j) {
				if i != 1 || e.Type != ledger.Processed {
					t.Errorf("event %d of incarnation %d (%s) is called a replay", j, i, e.Type)
				}
				replays = append(replays, int64(e.Record.Partition)*1000+e.Record.Offset)
			}
		}
	}
	if !slices.Equal(replays, []int64{3, 4, 1001, 1002}) {
		t.Errorf("replays at %v, want c1.2's processings of 0:3, 0:4, 1:1, 1:2", replays)
	}
}

// The first processing of a record is the earliest one, whatever the
// order of the incarnations given.
func TestReplayIsTheLaterProcessing(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(e ledger.Event, sec int) ledger.Event {
		e.TS = t0.Add(time.Duration(sec) * time.Second)
		return e
	}
	late := inc("c1.2", at(consume(0, 0)[1], 10))
	early := inc("c1.1", at(consume(0, 0)[1], 1))
	a := Account(acked(0, 0), []Incarnation{late, early}, nil)
	if !a.Replay(0, 0) || a.Replay(1, 0) {
		t.Errorf("replay flags: late %v, early %v; want the later processing to be the replay", a.Replay(0, 0), a.Replay(1, 0))
	}
}
