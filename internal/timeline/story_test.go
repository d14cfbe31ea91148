package timeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/tp"
	"github.com/offsetlab/offsetlab/internal/verify"
)

var p2 = tp.TP{Topic: "orders", Partition: 2}

func assigned(sec float64, revoked bool, ps ...tp.TP) ledger.Event {
	e := ledger.Event{TS: at(sec), Type: ledger.Assigned}
	if revoked {
		e.Type = ledger.Revoked
	}
	for _, p := range ps {
		e.Partitions = append(e.Partitions, ledger.Offset{Topic: p.Topic, Partition: p.Partition, Offset: -1001})
	}
	return e
}

// bigRun is auto-commit-kill on three partitions of 1000 records: the
// story is a few offsets among a thousand.
//
// c1#1 (session.timeout.ms 1000) processes offsets 0-600 of each partition
// from 0.5 s to 2.5 s. An auto-commit at 2.45 s commits 596 on orders[0]
// (c1#1 went on to 600: 596-600 are replayed) and 602 on orders[2] (601
// was handed over, never processed: lost). kill -9 at 2.6 s. c1#2 starts at
// 2.8 s, gets the partitions at 3.7 s, after c1#1's session ran out (3.6
// s), resumes at the committed offsets and reads to 999; it leaves the
// group as it closes at 6.0 s (a revocation that is no rebalance).
func bigRun() Run {
	var acked, e1, e2 []ledger.Event
	parts := []tp.TP{p0, p1, p2}
	for _, p := range parts {
		for o := int64(0); o < 1000; o++ {
			acked = append(acked, rec(ledger.Acked, 0.1, p, o))
		}
	}
	e1 = append(e1, ledger.Event{TS: at(0.3), Type: ledger.Started, Detail: map[string]string{"session.timeout.ms": "1000"}},
		assigned(0.4, false, parts...))
	committed := map[tp.TP]int64{p0: 596, p1: 601, p2: 602}
	for _, p := range parts {
		e1 = append(e1, processRange(p, 0, 600, 0.5, 2.0/600)...)
	}
	e1 = append(e1, rec(ledger.Consumed, 2.45, p2, 601), commit(2.45, "auto", "", committed))
	e2 = append(e2, ledger.Event{TS: at(2.9), Type: ledger.Started, Detail: map[string]string{"session.timeout.ms": "1000"}},
		assigned(3.7, false, parts...))
	for _, p := range parts {
		e2 = append(e2, processRange(p, committed[p], 999, 3.8, 2.0/400)...)
	}
	e2 = append(e2, commit(5.9, "close", "", map[tp.TP]int64{p0: 1000, p1: 1000, p2: 1000}),
		assigned(6.0, true, parts...), ledger.Event{TS: at(6.05), Type: ledger.Stopped})
	return Run{
		Scenario:     "big",
		Claim:        "a few offsets among a thousand",
		Incarnations: []verify.Incarnation{ledgerOf("c1#1", e1...), ledgerOf("c1#2", e2...)},
		Acked:        acked,
		Marks: []Mark{
			{At: at(0.2), Kind: MarkStart, Name: "c1#1"},
			{At: at(2.6), Kind: MarkKill, Name: "c1#1"},
			{At: at(2.6), Kind: MarkSnapshot, Name: "at-kill"},
			{At: at(2.6), Kind: MarkStart, Name: "c1#2"},
			{At: at(6.1), Kind: MarkStop, Name: "c1#2"},
		},
		Committed: map[string]map[tp.TP]int64{"at-kill": committed},
	}
}

// rectOf is the first rect under n.
func rectOf(t *testing.T, n *node) *node {
	t.Helper()
	rs := n.all(func(m *node) bool { return m.XMLName.Local == "rect" })
	if len(rs) == 0 {
		t.Fatalf("no rect in %s", n.attr("class"))
	}
	return rs[0]
}

// Five replayed offsets and one lost among a thousand are a few pixels on
// the band: the zoomed panel beside it shows them tall enough to see.
func TestZoomShowsASmallStory(t *testing.T) {
	r := bigRun()
	root := render(t, r)
	checkTruthful(t, r, root)
	ls := lanes(t, root)
	for _, tc := range []struct {
		lane, class string
		from, to    string
	}{
		{"orders[0]", "replayed-range", "596", "600"},
		{"orders[2]", "lost", "601", "601"},
	} {
		l := ls[tc.lane]
		small := rectOf(t, one(t, l, tc.class, "data-from", tc.from, "data-to", tc.to))
		if h := num(small, "height"); h >= minFocusPx {
			t.Errorf("%s: %s %s-%s is %v px on the band: the test wants it small", tc.lane, tc.class, tc.from, tc.to, h)
		}
		zoomed := rectOf(t, one(t, l, "zoom-"+tc.class, "data-from", tc.from, "data-to", tc.to))
		if h := num(zoomed, "height"); h < 8 {
			t.Errorf("%s: zoomed %s %s-%s is %v px high, want it plain to see", tc.lane, tc.class, tc.from, tc.to, h)
		}
		box := one(t, l, "zoom-box")
		from, _ := strconv.ParseFloat(tc.from, 64)
		to, _ := strconv.ParseFloat(tc.to, 64)
		if lo, hi := num(box, "data-lo"), num(box, "data-hi"); lo > from || hi <= to {
			t.Errorf("%s: zoom over offsets [%v, %v), want it around the story", tc.lane, lo, hi)
		}
		// The zoomed panel shows where c1#2 resumed, and the kill.
		one(t, l, "zoom-resume", "data-name", "c1#2")
		if len(l.all(func(n *node) bool { return n.hasClass("zoom-mark") && n.attr("data-kind") == MarkKill })) != 1 {
			t.Errorf("%s: the zoomed panel does not show the kill", tc.lane)
		}
	}
	// orders[1] resumed where c1#1 stopped: nothing replayed or lost, but
	// the resume point is the story, zoomed too.
	one(t, ls["orders[1]"], "zoom-resume", "data-name", "c1#2", "data-offset", "601")
	if got := len(root.classed("zoom-title")); got != 3 {
		t.Errorf("%d zoom titles, want one per lane", got)
	}
}

// A story tall enough on the band gets no zoom.
func TestNoZoomWhenTheBandShowsIt(t *testing.T) {
	root := render(t, knownRun()) // 20 replayed of 100, 10 lost of 60
	if n := len(root.classed("zoom-box")) + len(root.classed("zoom-plot")); n != 0 {
		t.Errorf("%d zoom elements, want none", n)
	}
}

// The session timeout of the killed member and the rebalance that gave its
// partitions to the next one are marked; the first assignment and the
// revocation of a consumer closing are not rebalances.
func TestSessionTimeoutAndRebalanceMarks(t *testing.T) {
	root := render(t, bigRun())
	// Times count from the run's first moment, the acks at 0.1 s.
	to := root.classed("session-timeout")
	if len(to) != 1 || to[0].attr("data-ms") != "3500" || to[0].attr("data-name") != "c1#1" {
		t.Fatalf("session timeout marks %d, want one for c1#1 at 3500 ms (kill at 2.5 s + 1000 ms)", len(to))
	}
	if !strings.Contains(to[0].text(), "session timeout c1#1") {
		t.Errorf("session timeout says %q", to[0].text())
	}
	rb := root.classed("rebalance")
	if len(rb) != 1 || rb[0].attr("data-ms") != "3600" {
		var at []string
		for _, n := range rb {
			at = append(at, n.attr("data-ms"))
		}
		t.Fatalf("rebalance marks at %v ms, want one at 3600 (c1#2 gets the partitions)", at)
	}
	if !strings.Contains(rb[0].text(), "c1#2 got [0] [1] [2]") {
		t.Errorf("the rebalance's tooltip %q does not say who got what", rb[0].text())
	}
	for name, l := range lanes(t, root) {
		for _, want := range []struct{ name, kind string }{{"c1#1", "assigned"}, {"c1#2", "assigned"}, {"c1#2", "revoked"}} {
			one(t, l, "handover", "data-name", want.name, "data-kind", want.kind)
		}
		if !strings.Contains(l.text(), "+c1#2") {
			t.Errorf("%s: no +c1#2 label where c1#2 got the partition", name)
		}
	}

	// A static member that comes back takes its partitions back with no
	// rebalance (static-member-restart): no mark.
	r := bigRun()
	for i := range r.Incarnations {
		r.Incarnations[i].Events[0].Detail["group.instance.id"] = "c1"
	}
	if n := len(render(t, r).classed("rebalance")); n != 0 {
		t.Errorf("%d rebalance marks for a static member's return, want none", n)
	}
	// Back before its session ran out (at 3.2 s), c1#2 holds c1's session:
	// c1#1's does not run out.
	r.Incarnations[1].Events[1].TS = at(3.2)
	if n := len(render(t, r).classed("session-timeout")); n != 0 {
		t.Errorf("%d session timeout marks for a static member taken back in time, want none", n)
	}

	// The consumer protocol's session is the broker's: no mark.
	r = bigRun()
	for i := range r.Incarnations {
		r.Incarnations[i].Events[0].Detail = map[string]string{"group.protocol": "consumer"}
	}
	if n := len(render(t, r).classed("session-timeout")); n != 0 {
		t.Errorf("%d session timeout marks under the consumer protocol, want none", n)
	}
}

// A label sits at the time of its event: "read again" where the replay
// began (4.61 s in knownRun), "lost" where the group went past the range
// (the commit of 40 at 3.3 s), not at either end of the axis. Times count
// from the run's first moment, the acks at 0.1 s.
func TestLabelsAtTheirEventTime(t *testing.T) {
	r := knownRun()
	m := build(r)
	f := mainFrame(m)
	root := render(t, r)
	l := lanes(t, root)["orders[0]"]
	label := one(t, l, "replayed-label").all(func(n *node) bool { return n.XMLName.Local == "text" })[0]
	if want := f.x(4510*time.Millisecond) + 6; int(num(label, "x")) != want {
		t.Errorf("the replay label is at x=%v, want %d (4.61 s, when offset 40 was read again)", num(label, "x"), want)
	}
	lost := one(t, lanes(t, root)["orders[1]"], "lost-label").all(func(n *node) bool { return n.XMLName.Local == "text" })[0]
	if want := f.x(3200*time.Millisecond) + 4; int(num(lost, "x")) != want {
		t.Errorf("the lost label is at x=%v, want %d (3.3 s, when a commit of 40 went past offsets 30-39)", num(lost, "x"), want)
	}
}

// Labels that coincide are kept apart: marks at one moment, and the labels
// inside a band.
func TestLabelsKeptApart(t *testing.T) {
	r := bigRun() // kill, snapshot and restart at 2.6 s
	root := render(t, r)
	type box struct {
		text           string
		x0, y0, x1, y1 float64
	}
	boxes := func(ns []*node) []box {
		var out []box
		for _, n := range ns {
			x, y, w := num(n, "x"), num(n, "y"), float64(textWidth(n.text(), 11))
			if n.attr("text-anchor") == "end" {
				x -= w
			}
			out = append(out, box{n.text(), x, y - 11, x + w, y + 2})
		}
		return out
	}
	overlaps := func(where string, bs []box) {
		for i := range bs {
			for j := i + 1; j < len(bs); j++ {
				a, b := bs[i], bs[j]
				if a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 {
					t.Errorf("%s: %q and %q overlap", where, a.text, b.text)
				}
			}
		}
	}
	overlaps("marks", boxes(root.classed("mark-label")))
	for name, l := range lanes(t, root) {
		var texts []*node
		for _, c := range []string{"lost-label", "replayed-label", "resume", "broker-committed", "handover"} {
			for _, g := range l.classed(c) {
				texts = append(texts, g.all(func(n *node) bool { return n.XMLName.Local == "text" })...)
			}
		}
		overlaps(name, boxes(texts))
	}
}

// The committed line is drawn before the records, so that a commit after
// every record does not hide whose records they are.
func TestCommittedLineUnderTheRecords(t *testing.T) {
	for name, l := range lanes(t, render(t, knownRun())) {
		order := l.all(func(n *node) bool { return n.hasClass("committed") || n.hasClass("processed") })
		if len(order) < 2 || !order[0].hasClass("committed") {
			t.Errorf("%s: the committed line is not drawn first, under the records", name)
		}
	}
}

// The title carries the variant (for --protocol).
func TestVariantInTheTitle(t *testing.T) {
	r := knownRun()
	r.Variant = "consumer protocol"
	if got := render(t, r).all(func(n *node) bool { return n.attr("id") == "title" })[0].text(); got != "offsetlab timeline: auto-commit-kill · consumer protocol" {
		t.Errorf("title %q", got)
	}
}

// As a person sees it: in a 1400x900 window, Chromium lays the three
// partitions of bigRun out across the window, all of them on the screen,
// and every lost record has a marker at least 3 px high on it. A test page
// holds the timeline in a frame and measures it with a script; the
// timeline itself has none.
func TestFitsTheWindowInChromium(t *testing.T) {
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "timeline.html"), bigRun()); err != nil {
		t.Fatal(err)
	}
	probe := `<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="timeline.html" style="border:0;width:100vw;height:100vh"></iframe><pre id="out"></pre>
<script>
window.addEventListener('load', function() {
  var d = document.getElementById('f').contentDocument, out = [];
  d.querySelectorAll('.lane').forEach(function(l) {
    var p = l.querySelector('.plot').getBoundingClientRect();
    out.push(['plot', l.getAttribute('data-tp'), p.left, p.right, p.top, p.bottom].join(' '));
    l.querySelectorAll('.lost rect, .zoom-lost rect').forEach(function(r) {
      var b = r.getBoundingClientRect();
      out.push(['lost', l.getAttribute('data-tp'), b.left, b.right, b.top, b.bottom].join(' '));
    });
  });
  document.getElementById('out').textContent = out.join('\n');
});
</script></body></html>`
	page := filepath.Join(dir, "probe.html")
	if err := os.WriteFile(page, []byte(probe), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := chromium(t, page, "--allow-file-access-from-files", "--window-size=1400,900", "--virtual-time-budget=5000", "--dump-dom")
	_, out, ok := strings.Cut(dom, `<pre id="out">`)
	out, _, _ = strings.Cut(out, "</pre>")
	if !ok || strings.TrimSpace(out) == "" {
		t.Fatalf("the probe measured nothing:\n%.2000s", dom)
	}
	plots, lost := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		var v [4]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(f[2+i], 64)
		}
		left, right, top, bottom := v[0], v[1], v[2], v[3]
		switch f[0] {
		case "plot":
			plots++
			if bottom > 900 {
				t.Errorf("%s ends at y=%v, below the 900 px window", f[1], bottom)
			}
			if right-left < 700 {
				t.Errorf("%s is %v px wide in a 1400 px window", f[1], right-left)
			}
		case "lost":
			if bottom-top >= 3 && right > left && bottom <= 900 {
				lost++
			}
		}
	}
	if plots != 3 {
		t.Errorf("%d plots measured, want 3", plots)
	}
	// orders[2]'s one lost record: on the band and in its zoom, each a
	// band and an axis bar.
	if lost < 2 {
		t.Errorf("%d visible lost markers, want the band's and the zoom's: %s", lost, fmt.Sprint(out))
	}
}
