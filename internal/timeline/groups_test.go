package timeline

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/tp"
	"github.com/offsetlab/offsetlab/internal/verify"
)

// ledgerIn is ledgerOf for a consumer in a group.
func ledgerIn(group, name string, events ...ledger.Event) verify.Incarnation {
	inc := ledgerOf(name, events...)
	inc.Group = group
	return inc
}

// processRange is consumed-then-processed events for offsets [from, to],
// one every step seconds from start.
func processRange(p tp.TP, from, to int64, start, step float64) []ledger.Event {
	var es []ledger.Event
	for o := from; o <= to; o++ {
		s := start + float64(o-from)*step
		es = append(es, rec(ledger.Consumed, s, p, o), rec(ledger.Processed, s+0.01, p, o))
	}
	return es
}

// twoGroupRun is auto-store-inflight-loss: two groups read the same 20
// records of orders[0].
//
// Group g (c1): librdkafka's default offset store let an auto-commit at
// 5.2 s say 4 while offset 3 was in flight; kill -9 at 5.7 s; c1#2 resumed
// at 4. Group g lost offset 3.
//
// Group g-store (s1): stores after processing; killed while processing 3,
// with 3 committed; s1#2 resumed at 3. It lost nothing, and its reading of
// offset 3 must not hide g's loss.
func twoGroupRun() Run {
	var acked []ledger.Event
	for o := int64(0); o < 20; o++ {
		acked = append(acked, rec(ledger.Acked, 0.1+float64(o)*0.001, p0, o))
	}
	c1 := append(processRange(p0, 0, 2, 0.5, 1.5),
		rec(ledger.Consumed, 5.0, p0, 3), commit(5.2, "auto", "", map[tp.TP]int64{p0: 4}))
	c2 := append(processRange(p0, 4, 19, 6.6, 0.1), commit(8.5, "close", "", map[tp.TP]int64{p0: 20}),
		ledger.Event{TS: at(8.6), Type: ledger.Stopped})
	s1 := append(processRange(p0, 0, 2, 9.0, 1.5),
		rec(ledger.Consumed, 13.5, p0, 3), commit(13.6, "auto", "", map[tp.TP]int64{p0: 3}))
	s2 := append(processRange(p0, 3, 19, 15.0, 0.1), commit(17.0, "close", "", map[tp.TP]int64{p0: 20}),
		ledger.Event{TS: at(17.1), Type: ledger.Stopped})
	return Run{
		Scenario: "auto-store-inflight-loss",
		Claim:    "librdkafka's default offset store can lose the record in flight: lost == 1 among c1, lost == 0 among s1",
		Incarnations: []verify.Incarnation{
			ledgerIn("g", "c1#1", c1...), ledgerIn("g", "c1#2", c2...),
			ledgerIn("g-store", "s1#1", s1...), ledgerIn("g-store", "s1#2", s2...),
		},
		Acked: acked,
		Marks: []Mark{
			{At: at(0.2), Kind: MarkStart, Name: "c1#1"},
			{At: at(5.7), Kind: MarkKill, Name: "c1#1"},
			{At: at(5.8), Kind: MarkSnapshot, Name: "at-kill", Group: "g"},
			{At: at(6.0), Kind: MarkStart, Name: "c1#2"},
			{At: at(8.7), Kind: MarkStop, Name: "c1#2"},
			{At: at(8.8), Kind: MarkStart, Name: "s1#1"},
			{At: at(14.0), Kind: MarkKill, Name: "s1#1"},
			{At: at(14.5), Kind: MarkStart, Name: "s1#2"},
			{At: at(17.2), Kind: MarkStop, Name: "s1#2"},
		},
		Committed: map[string]map[tp.TP]int64{"at-kill": {p0: 4}},
	}
}

// resetNoneRun is reset-none: a consumer that consumed nothing, so every
// acked record is not consumed, and none lost.
func resetNoneRun() Run {
	var acked []ledger.Event
	for o := int64(0); o < 35; o++ {
		acked = append(acked, rec(ledger.Acked, 0.1, p0, o))
	}
	for o := int64(0); o < 41; o++ {
		acked = append(acked, rec(ledger.Acked, 0.1, p1, o))
	}
	c1 := ledgerIn("g", "c1#1",
		ledger.Event{TS: at(0.5), Type: ledger.Started, Detail: map[string]string{"group.id": "g"}},
		ledger.Event{TS: at(0.9), Type: ledger.Error, Code: -140, Error: "Local: No offset to automatically reset to"})
	return Run{Scenario: "reset-none", Incarnations: []verify.Incarnation{c1}, Acked: acked,
		Marks: []Mark{{At: at(0.4), Kind: MarkStart, Name: "c1#1"}}}
}

// checkTruthful fails the test when the picture contradicts verify's
// accounting of the run (see truthProblems).
func checkTruthful(t *testing.T, r Run, root *node) {
	t.Helper()
	for _, p := range truthProblems(r, root) {
		t.Error(p)
	}
}

// truthProblems lists where the picture contradicts verify's accounting of
// the run: a lost record without a visible lost marker in its group's
// band, a band or summary line saying "none lost" (or another figure) for a
// group that lost records, replayed or processed figures other than
// verify's, a group without its summary line.
func truthProblems(r Run, root *node) []string {
	var out []string
	problem := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	acc := verify.Account(r.Acked, r.Incarnations, r.EndCommitted)
	bands := map[string]*node{} // by group and partition
	for _, l := range root.classed("lane") {
		bands[l.attr("data-group")+" "+l.attr("data-tp")] = l
	}
	for _, g := range acc.Groups() {
		counts := acc.Counts(g)
		for _, p := range tp.Keys(counts) {
			c := counts[p]
			if band := bands[g+" "+p.String()]; band != nil {
				text := band.text()
				if !strings.Contains(text, fmt.Sprintf("%d processed", c.Processed)) {
					problem("group %q, %s: %d processed, but the band says %q", g, p, c.Processed, text)
				}
				if c.Replayed > 0 && (strings.Contains(text, "none replayed") || !strings.Contains(text, fmt.Sprintf("%d replayed", c.Replayed))) {
					problem("group %q, %s: %d replayed, but the band says %q", g, p, c.Replayed, text)
				}
				if c.Replayed == 0 && c.Processed > 0 && !strings.Contains(text, "none replayed") {
					problem("group %q, %s: none replayed, but the band says %q", g, p, text)
				}
			} else if c.Processed > 0 || c.Lost > 0 {
				problem("group %q processed %d records of %s, but the picture has no band for them", g, c.Processed, p)
			}
			lost := acc.Lost(g, p)
			if len(lost) == 0 {
				continue
			}
			band := bands[g+" "+p.String()]
			if band == nil {
				problem("group %q lost %d records on %s, but the picture has no band for them", g, counts[p].Lost, p)
				continue
			}
			if text := band.text(); strings.Contains(text, "none lost") || !strings.Contains(text, fmt.Sprintf("%d lost", counts[p].Lost)) {
				problem("group %q, %s: %d lost, but the band says %q", g, p, counts[p].Lost, text)
			}
			plots := band.classed("plot")
			if len(plots) != 1 {
				problem("group %q, %s: %d plot areas in the band, want 1", g, p, len(plots))
				continue
			}
			top := num(plots[0], "y")
			bottom := top + num(plots[0], "height")
			for _, rg := range lost {
				for o := rg.From; o <= rg.To; o++ {
					if !visibleMarker(band, o, top, bottom) {
						problem("group %q, %s: offset %d is lost but has no visible lost marker", g, p, o)
					}
				}
			}
		}
	}
	summaries := map[string]*node{}
	for _, s := range root.classed("summary") {
		summaries[s.attr("data-group")] = s
	}
	for _, g := range acc.Groups() {
		s, total := summaries[g], acc.Total(g)
		if s == nil {
			problem("no summary line for group %q", g)
			continue
		}
		if s.attr("data-lost") != strconv.FormatInt(total.Lost, 10) {
			problem("summary of %q says %s lost, verify counts %d", g, s.attr("data-lost"), total.Lost)
		}
		if text := s.text(); total.Lost > 0 && (strings.Contains(text, "none lost") || !strings.Contains(text, fmt.Sprintf("%d lost", total.Lost))) {
			problem("group %q lost %d records, but its summary says %q", g, total.Lost, text)
		}
		if s.attr("data-replayed") != strconv.FormatInt(total.Replayed, 10) {
			problem("summary of %q says %s replayed, verify counts %d", g, s.attr("data-replayed"), total.Replayed)
		}
		if text := s.text(); total.Replayed > 0 && (strings.Contains(text, "none replayed") || !strings.Contains(text, fmt.Sprintf("%d replayed", total.Replayed))) {
			problem("group %q replayed %d records, but its summary says %q", g, total.Replayed, text)
		}
		if text := s.text(); total.Lost == 0 && total.Acked > 0 && !strings.Contains(text, "none lost") {
			problem("group %q lost nothing, but its summary says %q", g, text)
		}
	}
	return out
}

// visibleMarker reports whether a lost marker covers offset o with a
// filled rectangle at least 3 px high inside the plot.
func visibleMarker(band *node, o int64, top, bottom float64) bool {
	for _, g := range band.classed("lost") {
		if o < int64(num(g, "data-from")) || o > int64(num(g, "data-to")) {
			continue
		}
		for _, r := range g.all(func(n *node) bool { return n.XMLName.Local == "rect" }) {
			y, h := num(r, "y"), num(r, "height")
			if h >= 3 && y >= top && y+h <= bottom && r.attr("fill") != "none" && r.attr("fill-opacity") != "0" {
				return true
			}
		}
	}
	return false
}

// num is a numeric attribute; NaN, which fails every comparison, when it
// is not a number.
func num(n *node, attr string) float64 {
	v, err := strconv.ParseFloat(n.attr(attr), 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// Each group has its own band, its own figures and its own committed line:
// group g-store's reading of offset 3 does not hide group g's loss of it.
func TestTwoGroupsEachTheirOwnBand(t *testing.T) {
	r := twoGroupRun()
	root := render(t, r)
	checkTruthful(t, r, root)

	bands := map[string]*node{}
	for _, l := range root.classed("lane") {
		bands[l.attr("data-group")] = l
		if l.attr("data-tp") != "orders[0]" {
			t.Errorf("a band for %s, want only orders[0]", l.attr("data-tp"))
		}
	}
	g, store := bands["g"], bands["g-store"]
	if len(bands) != 2 || g == nil || store == nil {
		t.Fatalf("bands for groups %v, want g and g-store", slices.Sorted(func(yield func(string) bool) {
			for k := range bands {
				yield(k)
			}
		}))
	}
	one(t, g, "lost", "data-from", "3", "data-to", "3", "data-n", "1")
	if n := len(store.classed("lost")); n != 0 {
		t.Errorf("g-store has %d lost bands, want none", n)
	}
	for _, tc := range []struct {
		band *node
		says []string
	}{
		{g, []string{"group g (c1#1, c1#2)", "1 lost (offset 3)", "none replayed"}},
		{store, []string{"group g-store (s1#1, s1#2)", "none lost", "none replayed"}},
	} {
		for _, want := range tc.says {
			if !strings.Contains(tc.band.text(), want) {
				t.Errorf("band %s says %q, want it to say %q", tc.band.attr("data-group"), tc.band.text(), want)
			}
		}
	}
	// One committed line per group: g's ends at 20 after 4, never at 3.
	for band, want := range map[*node]string{g: "20", store: "20"} {
		if got := one(t, band, "committed").attr("data-last"); got != want {
			t.Errorf("%s: committed line ends at %s, want %s", band.attr("data-group"), got, want)
		}
	}
	var steps []int64
	for _, l := range build(r).lanes {
		if l.group == "g" {
			for _, c := range l.commits {
				steps = append(steps, c.offset)
			}
		}
	}
	if !slices.Equal(steps, []int64{4, 20}) {
		t.Errorf("g's step line through %v, want 4, 20 (g-store's 3 is not g's)", steps)
	}
	// The snapshot read g's offsets: drawn in g's band only.
	one(t, g, "broker-committed", "data-label", "at-kill")
	if n := len(store.classed("broker-committed")); n != 0 {
		t.Errorf("g's snapshot drawn in g-store's band too")
	}
	// s1#2 resumed within its own group, at 3; s1#1 was its group's first reader.
	one(t, store, "resume", "data-name", "s1#2", "data-offset", "3")
	one(t, g, "resume", "data-name", "c1#2", "data-offset", "4")
	if n := len(store.classed("resume")) + len(g.classed("resume")); n != 2 {
		t.Errorf("%d resume points, want c1#2's and s1#2's", n)
	}

	one(t, root, "summary", "data-group", "g", "data-lost", "1")
	one(t, root, "summary", "data-group", "g-store", "data-lost", "0")
	var legendLost string
	for _, it := range root.classed("legend-item") {
		if it.attr("data-key") == "lost" {
			legendLost = it.text()
		}
	}
	if legendLost == "" || strings.Contains(legendLost, "none here") {
		t.Errorf("the legend's lost entry says %q in a run where a group lost a record", legendLost)
	}
}

// A snapshot whose group the runner did not name is drawn in every group's
// band; one of a group no consumer read in gets a band of its own.
func TestSnapshotGroups(t *testing.T) {
	for _, tc := range []struct {
		group string
		bands []string // the groups whose bands show the snapshot
	}{
		{"", []string{"g", "g-store"}},
		{"g-store", []string{"g-store"}},
		{"g-other", []string{"g-other"}},
	} {
		r := twoGroupRun()
		r.Marks[2].Group = tc.group
		var got []string
		for _, l := range render(t, r).classed("lane") {
			if len(l.classed("broker-committed")) > 0 {
				got = append(got, l.attr("data-group"))
			}
		}
		if !slices.Equal(got, tc.bands) {
			t.Errorf("snapshot of group %q drawn in the bands of %q, want %q", tc.group, got, tc.bands)
		}
	}
}

// The check itself fails on a picture that hides the loss.
func TestTruthCheckCatchesAHiddenLoss(t *testing.T) {
	r := twoGroupRun()
	var buf bytes.Buffer
	if err := WriteSVG(&buf, r); err != nil {
		t.Fatal(err)
	}
	if p := truthProblems(r, parseSVG(t, buf.Bytes())); len(p) != 0 {
		t.Fatalf("the good picture has problems: %q", p)
	}
	lostRects := func(root *node) []*node {
		var rs []*node
		for _, g := range root.classed("lost") {
			rs = append(rs, g.all(func(n *node) bool { return n.XMLName.Local == "rect" })...)
		}
		return rs
	}
	for _, tc := range []struct {
		name  string
		spoil func(root *node)
	}{
		{"no lost marker", func(root *node) {
			for _, g := range root.classed("lost") {
				g.set("class", "hidden")
			}
		}},
		{"a marker too thin to see", func(root *node) {
			for _, r := range lostRects(root) {
				r.set("height", "1")
			}
		}},
		{"a marker outside the plot", func(root *node) {
			for _, r := range lostRects(root) {
				r.set("y", "0")
			}
		}},
		{"the band says none lost", func(root *node) {
			for _, n := range root.classed("lane-stats") {
				n.Text = strings.ReplaceAll(n.Text, "1 lost (offset 3)", "none lost")
			}
		}},
		{"the summary says none lost", func(root *node) {
			for _, n := range root.classed("summary") {
				for _, c := range n.Children {
					c.Text = strings.ReplaceAll(c.Text, "1 lost (orders[0] offset 3)", "none lost")
				}
			}
		}},
	} {
		root := parseSVG(t, buf.Bytes())
		tc.spoil(root)
		if p := truthProblems(r, root); len(p) == 0 {
			t.Errorf("%s: the check passed a picture that hides the loss", tc.name)
		}
	}
}

// reset-none: nothing was consumed, so nothing is lost; the records show as
// not consumed, and the text says so.
func TestNotConsumedIsNotLost(t *testing.T) {
	r := resetNoneRun()
	root := render(t, r)
	checkTruthful(t, r, root)
	if n := len(root.classed("lost")); n != 0 {
		t.Errorf("%d lost bands in a run that consumed nothing, want none", n)
	}
	for _, want := range []struct {
		tp     string
		n      string
		from   string
		to     string
		phrase string
	}{
		{"orders[0]", "35", "0", "34", "35 not consumed"},
		{"orders[1]", "41", "0", "40", "41 not consumed"},
	} {
		var band *node
		for _, l := range root.classed("lane") {
			if l.attr("data-tp") == want.tp {
				band = l
			}
		}
		if band == nil {
			t.Fatalf("no band for %s", want.tp)
		}
		one(t, band, "not-consumed", "data-from", want.from, "data-to", want.to, "data-n", want.n)
		if !strings.Contains(band.text(), want.phrase) || !strings.Contains(band.text(), "none lost") {
			t.Errorf("%s says %q, want %q and none lost", want.tp, band.text(), want.phrase)
		}
	}
	if got := one(t, root, "summary", "data-group", "g").text(); !strings.Contains(got, "76 not consumed") || !strings.Contains(got, "none lost") {
		t.Errorf("summary %q, want 76 not consumed and none lost", got)
	}
}
