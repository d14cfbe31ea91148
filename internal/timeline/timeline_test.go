package timeline

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/tp"
	"github.com/offsetlab/offsetlab/internal/verify"
)

var (
	t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p0 = tp.TP{Topic: "orders", Partition: 0}
	p1 = tp.TP{Topic: "orders", Partition: 1}
)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// ledgerOf builds an incarnation's ledger from events in any order, as the
// consumer would have written them: in time order.
func ledgerOf(name string, events ...ledger.Event) verify.Incarnation {
	slices.SortStableFunc(events, func(a, b ledger.Event) int { return a.TS.Compare(b.TS) })
	return verify.Incarnation{Name: name, Events: events}
}

func rec(typ string, sec float64, p tp.TP, offset int64) ledger.Event {
	return ledger.Event{TS: at(sec), Type: typ, Record: &ledger.Record{Topic: p.Topic, Partition: p.Partition,
		Offset: offset, Run: "run1", Seq: int64(p.Partition)*1_000_000 + offset}}
}

func commit(sec float64, source, errMsg string, offs map[tp.TP]int64) ledger.Event {
	e := ledger.Event{TS: at(sec), Type: ledger.Committed, Source: source, Error: errMsg}
	for _, p := range tp.Keys(offs) {
		e.Partitions = append(e.Partitions, ledger.Offset{Topic: p.Topic, Partition: p.Partition, Offset: offs[p]})
	}
	return e
}

// knownRun is a small kill -9 story on two partitions of orders.
//
// c1#1 processes orders[0] 0-59 and auto-commits 40 at 2.5 s; on
// orders[1] librdkafka's default offset store lets an auto-commit at 3.3 s
// say 40 while processing had reached 29. It is killed at 3.5 s. The
// broker holds 40 and 40; c1#2 resumes both at 40: orders[0] 40-59 are
// replayed, orders[1] 30-39 are lost. c1#2 then stops cleanly, committing
// 100 and 60. A failed commit of 55 at 3.0 s must not move the step line.
func knownRun() Run {
	var e1, e2, acked []ledger.Event
	for o := int64(0); o < 100; o++ {
		acked = append(acked, rec(ledger.Acked, 0.1+float64(o)*0.001, p0, o))
	}
	for o := int64(0); o < 60; o++ {
		acked = append(acked, rec(ledger.Acked, 0.1+float64(o)*0.001, p1, o))
	}
	e1 = append(e1, ledger.Event{TS: at(0.4), Type: ledger.Assigned, Partitions: []ledger.Offset{
		{Topic: "orders", Partition: 0, Offset: -1001}, {Topic: "orders", Partition: 1, Offset: -1001}}})
	for o := int64(0); o < 60; o++ {
		s := 0.5 + float64(o)*0.05
		e1 = append(e1, rec(ledger.Consumed, s, p0, o), rec(ledger.Processed, s+0.01, p0, o))
	}
	for o := int64(0); o < 40; o++ {
		e1 = append(e1, rec(ledger.Consumed, 0.52+float64(o)*0.07, p1, o))
		if o < 30 {
			e1 = append(e1, rec(ledger.Processed, 0.55+float64(o)*0.09, p1, o))
		}
	}
	e1 = append(e1,
		commit(1.5, "auto", "", map[tp.TP]int64{p0: 20, p1: 10}),
		commit(2.5, "auto", "", map[tp.TP]int64{p0: 40, p1: 20}),
		commit(3.0, "sync", "Broker: Request timed out", map[tp.TP]int64{p0: 55}),
		commit(3.3, "auto", "", map[tp.TP]int64{p0: 40, p1: 40}),
	)
	e2 = append(e2, ledger.Event{TS: at(4.5), Type: ledger.Assigned, Partitions: []ledger.Offset{
		{Topic: "orders", Partition: 0, Offset: -1001}, {Topic: "orders", Partition: 1, Offset: -1001}}})
	for o := int64(40); o < 100; o++ {
		s := 4.6 + float64(o-40)*0.05
		e2 = append(e2, rec(ledger.Consumed, s, p0, o), rec(ledger.Processed, s+0.01, p0, o))
	}
	for o := int64(40); o < 60; o++ {
		s := 4.62 + float64(o-40)*0.1
		e2 = append(e2, rec(ledger.Consumed, s, p1, o), rec(ledger.Processed, s+0.02, p1, o))
	}
	e2 = append(e2,
		commit(6.0, "auto", "", map[tp.TP]int64{p0: 67, p1: 54}),
		commit(7.9, "close", "", map[tp.TP]int64{p0: 100, p1: 60}),
		ledger.Event{TS: at(7.95), Type: ledger.Stopped},
	)
	return Run{
		Scenario:     "auto-commit-kill",
		Claim:        "a consumer killed with -9 resumes at the committed offset: replayed <= 20 & lost == 0 on orders[0]",
		Incarnations: []verify.Incarnation{ledgerOf("c1#1", e1...), ledgerOf("c1#2", e2...)},
		Acked:        acked,
		Marks: []Mark{
			{At: at(0.2), Kind: MarkStart, Name: "c1#1"},
			{At: at(3.5), Kind: MarkKill, Name: "c1#1"},
			{At: at(3.7), Kind: MarkSnapshot, Name: "after-kill"},
			{At: at(4.0), Kind: MarkStart, Name: "c1#2"},
			{At: at(8.0), Kind: MarkStop, Name: "c1#2"},
		},
		Committed: map[string]map[tp.TP]int64{"after-kill": {p0: 40, p1: 40}},
	}
}

// node is a parsed SVG element.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []*node    `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n *node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// set sets an attribute, adding it if n has none of that name.
func (n *node) set(name, value string) {
	for i := range n.Attrs {
		if n.Attrs[i].Name.Local == name {
			n.Attrs[i].Value = value
			return
		}
	}
	n.Attrs = append(n.Attrs, xml.Attr{Name: xml.Name{Local: name}, Value: value})
}

func (n *node) hasClass(c string) bool { return slices.Contains(strings.Fields(n.attr("class")), c) }

// all returns every element under n (n included) that matches.
func (n *node) all(match func(*node) bool) []*node {
	var out []*node
	if match(n) {
		out = append(out, n)
	}
	for _, c := range n.Children {
		out = append(out, c.all(match)...)
	}
	return out
}

func (n *node) classed(c string) []*node { return n.all(func(m *node) bool { return m.hasClass(c) }) }

// text is all the text under n.
func (n *node) text() string {
	var b strings.Builder
	b.WriteString(n.Text)
	for _, c := range n.Children {
		b.WriteString(c.text())
	}
	return b.String()
}

func parseSVG(t *testing.T, b []byte) *node {
	t.Helper()
	// Browsers refuse an SVG file with an attribute twice on an element;
	// encoding/xml does not, so look for them first.
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok {
			seen := map[xml.Name]bool{}
			for _, at := range el.Attr {
				if seen[at.Name] {
					t.Fatalf("<%s> has attribute %s twice", el.Name.Local, at.Name.Local)
				}
				seen[at.Name] = true
			}
		}
	}
	var root node
	if err := xml.Unmarshal(b, &root); err != nil {
		t.Fatalf("the SVG is not well-formed XML: %v", err)
	}
	if root.XMLName.Local != "svg" {
		t.Fatalf("root element is %q, want svg", root.XMLName.Local)
	}
	return &root
}

func render(t *testing.T, r Run) *node {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSVG(&buf, r); err != nil {
		t.Fatal(err)
	}
	return parseSVG(t, buf.Bytes())
}

func lanes(t *testing.T, root *node) map[string]*node {
	t.Helper()
	out := map[string]*node{}
	for _, l := range root.classed("lane") {
		out[l.attr("data-tp")] = l
	}
	return out
}

// one returns the single element of class c under n with the given
// attributes, failing the test if there is not exactly one.
func one(t *testing.T, n *node, c string, attrs ...string) *node {
	t.Helper()
	var found []*node
	for _, m := range n.classed(c) {
		ok := true
		for i := 0; i+1 < len(attrs); i += 2 {
			ok = ok && m.attr(attrs[i]) == attrs[i+1]
		}
		if ok {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("found %d elements of class %q with %v, want 1", len(found), c, attrs)
	}
	return found[0]
}

func TestPictureShowsTheKillStory(t *testing.T) {
	root := render(t, knownRun())
	checkTruthful(t, knownRun(), root)
	ls := lanes(t, root)
	if len(ls) != 2 || ls["orders[0]"] == nil || ls["orders[1]"] == nil {
		t.Fatalf("lanes %v, want orders[0] and orders[1]", slices.Sorted(func(yield func(string) bool) {
			for k := range ls {
				yield(k)
			}
		}))
	}

	// The moments: c1#1 started and was killed, c1#2 is a restart.
	if got := one(t, root, "kill", "data-name", "c1#1").text(); !strings.Contains(got, "kill -9 c1#1") {
		t.Errorf("kill marker says %q, want it to name kill -9 c1#1", got)
	}
	one(t, root, "start", "data-name", "c1#1")
	if got := one(t, root, "restart", "data-name", "c1#2").text(); !strings.Contains(got, "restart c1#2") {
		t.Errorf("restart marker says %q", got)
	}
	one(t, root, "stop", "data-name", "c1#2")
	if n := len(root.classed("restart")) + len(root.classed("start")); n != 2 {
		t.Errorf("%d start/restart markers, want 2", n)
	}

	for _, tc := range []struct {
		lane                 string
		replayFrom, replayTo string
		lostFrom, lostTo     string
		lastCommitted        string
	}{
		{lane: "orders[0]", replayFrom: "40", replayTo: "59", lastCommitted: "100"},
		{lane: "orders[1]", lostFrom: "30", lostTo: "39", lastCommitted: "60"},
	} {
		t.Run(tc.lane, func(t *testing.T) {
			l := ls[tc.lane]
			// The restart resumed at the broker's committed offset, 40.
			r := one(t, l, "resume", "data-name", "c1#2")
			if r.attr("data-offset") != "40" || !strings.Contains(r.text(), "c1#2 resumed at 40") {
				t.Errorf("resume point at %s saying %q, want 40", r.attr("data-offset"), r.text())
			}
			if len(l.classed("resume")) != 1 {
				t.Errorf("%d resume points, want only c1#2's: c1#1 was the first to read", len(l.classed("resume")))
			}
			b := one(t, l, "broker-committed", "data-label", "after-kill")
			if b.attr("data-offset") != "40" {
				t.Errorf("broker's committed offset at after-kill drawn at %s, want 40", b.attr("data-offset"))
			}
			if got := one(t, l, "committed").attr("data-last"); got != tc.lastCommitted {
				t.Errorf("committed step line ends at %s, want %s", got, tc.lastCommitted)
			}

			ranges, replays := l.classed("replayed-range"), l.classed("replay")
			if tc.replayFrom == "" {
				if len(ranges)+len(replays) != 0 {
					t.Errorf("%d replay highlights, want none", len(ranges)+len(replays))
				}
			} else {
				one(t, l, "replayed-range", "data-from", tc.replayFrom, "data-to", tc.replayTo, "data-n", "20")
				// The replays are c1#2's second reading, one run of records.
				g := one(t, l, "replay", "data-name", "c1#2")
				if g.attr("data-from") != tc.replayFrom || g.attr("data-to") != tc.replayTo {
					t.Errorf("replay highlight over %s-%s, want %s-%s", g.attr("data-from"), g.attr("data-to"), tc.replayFrom, tc.replayTo)
				}
				if !strings.Contains(l.text(), "20 replayed (offsets 40–59)") {
					t.Errorf("lane title does not count the replay as verify does: %q", one(t, l, "lane-title").text())
				}
			}
			lost := l.classed("lost")
			if tc.lostFrom == "" {
				if len(lost) != 0 {
					t.Errorf("%d lost bands, want none", len(lost))
				}
			} else {
				one(t, l, "lost", "data-from", tc.lostFrom, "data-to", tc.lostTo, "data-n", "10")
				if !strings.Contains(l.text(), "10 lost (offsets 30–39)") {
					t.Errorf("lane title does not count the loss: %q", one(t, l, "lane-title").text())
				}
			}

			// Records are drawn by incarnation, each in runs of offsets.
			for _, name := range []string{"c1#1", "c1#2"} {
				if len(l.all(func(n *node) bool { return n.hasClass("processed") && n.attr("data-name") == name })) == 0 {
					t.Errorf("no records drawn for %s", name)
				}
			}
			if n := len(l.classed("record")); n == 0 {
				t.Errorf("no per-record marks in a lane of few records")
			}

			// Axes: titled, and labelled with offsets and seconds.
			var titles, ticks []string
			for _, n := range l.classed("axis-title") {
				titles = append(titles, n.text())
			}
			for _, n := range l.classed("tick") {
				ticks = append(ticks, n.text())
			}
			if !slices.Contains(titles, "offset") {
				t.Errorf("axis titles %q, want offset", titles)
			}
			for _, want := range []string{"0", "20", "40", "0 s", "4 s", "8 s"} {
				if !slices.Contains(ticks, want) {
					t.Errorf("tick labels %q lack %q", ticks, want)
				}
			}
		})
	}
	var xTitle []*node
	for _, n := range root.classed("axis-title") {
		if n.text() == "seconds since the scenario started" {
			xTitle = append(xTitle, n)
		}
	}
	if len(xTitle) != 1 {
		t.Errorf("%d x axis titles, want 1 under the last lane", len(xTitle))
	}

	// The legend explains every kind of thing drawn.
	legend := root.all(func(n *node) bool { return n.attr("id") == "legend" })
	if len(legend) != 1 {
		t.Fatalf("%d legends, want 1", len(legend))
	}
	keys := map[string]string{}
	for _, it := range legend[0].classed("legend-item") {
		keys[it.attr("data-key")] = it.text()
	}
	for _, k := range []string{"processed-c1#1", "processed-c1#2", "committed", "broker-committed", "resume", "replay", "lost",
		"mark-kill", "mark-start", "mark-restart", "mark-stop", "mark-snapshot"} {
		if strings.TrimSpace(keys[k]) == "" {
			t.Errorf("legend has no entry %q (has %v)", k, keys)
		}
	}
	if strings.Contains(keys["lost"], "none here") || strings.Contains(keys["replay"], "none here") {
		t.Errorf("legend says none replayed or lost in a run with both: %v", keys)
	}
	if len(legend[0].classed("legend-axes")) != 1 {
		t.Errorf("legend does not explain the axes")
	}

	// The heading of a standalone SVG.
	if got := root.all(func(n *node) bool { return n.attr("id") == "title" }); len(got) != 1 || !strings.Contains(got[0].text(), "auto-commit-kill") {
		t.Errorf("no title naming the scenario")
	}
	if got := root.classed("claim"); len(got) == 0 || !strings.Contains(got[0].text(), "replayed <= 20 & lost") {
		t.Errorf("no claim, or the claim was mangled")
	}
}

// The figures in the lane titles and the ranges drawn are verify's own.
func TestLaneCountsAreVerifys(t *testing.T) {
	r := knownRun()
	m := build(r)
	acc := verify.Account(r.Acked, r.Incarnations, nil)
	counts := acc.Counts("")
	for _, l := range m.lanes {
		if !reflect.DeepEqual(*counts[l.tp], l.counts) {
			t.Errorf("%s: lane counts %+v, verify.Account %+v", l.tp, l.counts, *counts[l.tp])
		}
		var lost int64
		for _, s := range l.lost {
			lost += s.N
		}
		if lost != counts[l.tp].Lost || !reflect.DeepEqual(l.lost, acc.Lost("", l.tp)) {
			t.Errorf("%s: lost bands %v hold %d records, verify counts %d", l.tp, l.lost, lost, counts[l.tp].Lost)
		}
	}
}

func TestSameRunSameBytes(t *testing.T) {
	writers := map[string]func(io.Writer, Run) error{"svg": WriteSVG, "html": WriteHTML}
	first := map[string][]byte{}
	for i := range 6 {
		r := knownRun()
		if i%2 == 1 { // the order incarnations and marks are given in does not matter
			slices.Reverse(r.Incarnations)
			slices.Reverse(r.Marks)
		}
		for _, kind := range []string{"svg", "html"} {
			var buf bytes.Buffer
			if err := writers[kind](&buf, r); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first[kind] = buf.Bytes()
			} else if !bytes.Equal(first[kind], buf.Bytes()) {
				t.Fatalf("%s: drawing %d differs from the first", kind, i)
			}
		}
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, knownRun()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"<!DOCTYPE html>", "<title>offsetlab timeline: auto-commit-kill</title>",
		"replayed &lt;= 20 &amp; lost == 0", `<svg width="1360"`, `id="legend"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Nothing is fetched: no scripts, stylesheets, images, fonts or links.
	for _, bad := range []string{"<script", "<link", "<img", "src=", "href=", "url(", "@import", "<?xml"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must open offline and stand alone", bad)
		}
	}
}

func TestWriteByExtension(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, starts string }{
		{"run.svg", "<?xml"},
		{"run.html", "<!DOCTYPE html>"},
		{"RUN.HTML", "<!DOCTYPE html>"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := Write(path, knownRun()); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte(tc.starts)) {
			t.Errorf("%s starts with %q, want %q", tc.name, b[:min(len(b), 20)], tc.starts)
		}
	}
}

func TestWriteRejectsOtherExtensions(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"run.png", "run.htm", "run"} {
		path := filepath.Join(dir, name)
		err := Write(path, knownRun())
		var usage *cli.UsageError
		if !errors.As(err, &usage) {
			t.Fatalf("%s: error %v, want a usage error", name, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, ".svg") || !strings.Contains(msg, ".html") || strings.Contains(msg, "\n") {
			t.Errorf("%s: %q, want one line naming .svg and .html", name, msg)
		}
		if CheckPath(path) == nil {
			t.Errorf("CheckPath(%s) accepted it", name)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was created", name)
		}
	}
}

// A lane of many records is drawn as a few lines, not an element per record.
func TestManyRecordsStayLight(t *testing.T) {
	const n = 20000
	events := make([]ledger.Event, 0, 2*n)
	for o := int64(0); o < n; o++ {
		s := 1 + float64(o)*0.0005
		events = append(events, rec(ledger.Consumed, s, p0, o), rec(ledger.Processed, s, p0, o))
		if o%1000 == 999 {
			events = append(events, commit(s, "auto", "", map[tp.TP]int64{p0: o + 1}))
		}
	}
	r := Run{Scenario: "many", Incarnations: []verify.Incarnation{ledgerOf("c1#1", events...)},
		Marks: []Mark{{At: at(0), Kind: MarkStart, Name: "c1#1"}}}
	var buf bytes.Buffer
	if err := WriteSVG(&buf, r); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 64<<10 {
		t.Errorf("%d records drew %d bytes, want under 64 KiB", n, buf.Len())
	}
	root := parseSVG(t, buf.Bytes())
	if got := len(root.classed("record")); got != 0 {
		t.Errorf("%d per-record marks for %d records, want lines only", got, n)
	}
	segs := root.classed("processed")
	if len(segs) == 0 || len(segs) > 5 {
		t.Errorf("%d runs for one incarnation reading %d records in order, want a handful", len(segs), n)
	}
	if got := segs[0].attr("data-from") + "-" + segs[0].attr("data-to"); len(segs) == 1 && got != "0-"+strconv.Itoa(n-1) {
		t.Errorf("one run over offsets %s, want 0-%d", got, n-1)
	}
}

func TestEmptyRunStillDraws(t *testing.T) {
	root := render(t, Run{Scenario: "nothing"})
	if len(root.classed("empty")) != 1 || len(root.classed("lane")) != 0 {
		t.Errorf("an empty run should draw a note and no lanes")
	}
}

// The step line follows successful commits only: the failed commit of 55
// at 3.0 s claimed nothing.
func TestStepLineSkipsFailedCommits(t *testing.T) {
	for _, l := range build(knownRun()).lanes {
		var got []int64
		for _, c := range l.commits {
			got = append(got, c.offset)
		}
		want := map[tp.TP][]int64{p0: {20, 40, 40, 67, 100}, p1: {10, 20, 40, 54, 60}}[l.tp]
		if !slices.Equal(got, want) {
			t.Errorf("%s: step line through %v, want %v", l.tp, got, want)
		}
	}
}
