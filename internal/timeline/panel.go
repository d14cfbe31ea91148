package timeline

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	svg "github.com/ajstarks/svgo"
)

// frame is a plot's rectangle in pixels and the time and offsets it shows:
// t0 at its left, t1 at its right, offset lo at its bottom, hi at its top.
type frame struct {
	left, right, top, bottom int
	t0, t1                   time.Duration
	lo, hi                   int64
}

func (f frame) x(d time.Duration) int {
	return f.left + int(math.Round(float64(d-f.t0)/float64(f.t1-f.t0)*float64(f.right-f.left)))
}

func (f frame) y(offset float64) int {
	return f.bottom - int(math.Round((offset-float64(f.lo))/float64(f.hi-f.lo)*float64(f.bottom-f.top)))
}

func (f frame) width() int { return f.right - f.left }

// placer keeps a panel's labels apart: each label goes at the height asked
// for, or the nearest one above or below where it runs into no label
// placed before it, inside the panel.
type placer struct {
	top, bottom int
	boxes       [][4]int // x0, y0, x1, y1
}

// place returns the baseline for a label of width w at x (ending at x when
// end is set), as near to y as it can.
func (p *placer) place(x, y, w int, end bool) int {
	x0, x1 := x, x+w
	if end {
		x0, x1 = x-w, x
	}
	free := func(y int) bool {
		if y-11 < p.top || y+2 > p.bottom {
			return false
		}
		for _, b := range p.boxes {
			if x0 < b[2] && x1 > b[0] && y-11 < b[3] && y+2 > b[1] {
				return false
			}
		}
		return true
	}
	best := y
	for i := range 13 {
		dy := (i + 1) / 2 * 13
		if i%2 == 1 {
			dy = -dy
		}
		if free(y + dy) {
			best = y + dy
			break
		}
	}
	p.boxes = append(p.boxes, [4]int{x0, best - 11, x1, best + 2})
	return best
}

// label writes a placed label: right of x, or left of it (end) where it
// would run out of the panel.
func (p *placer) label(s *svg.SVG, f frame, x, y int, text string, attrs ...string) {
	w := textWidth(text, 11)
	end := x+w > f.right-2
	y = p.place(x, y, w, end)
	anchor := `text-anchor="start"`
	if end {
		anchor = `text-anchor="end"`
	}
	s.Text(x, y, text, append([]string{`font-size="11"`, anchor, halo}, attrs...)...)
}

// Where the lanes' panels go across the picture: the whole lane alone, or
// beside a zoomed panel when some lane has one.
const (
	zoomGap   = 70  // between the lane and its zoomed panel
	zoomWidth = 380 // the zoomed panel's plot
)

func columns(m *model) (main, zoom [2]int) {
	main = [2]int{plotLeft, plotRight}
	for _, l := range m.lanes {
		if l.zoom != nil {
			return [2]int{plotLeft, plotRight - zoomWidth - zoomGap}, [2]int{plotRight - zoomWidth, plotRight}
		}
	}
	return main, [2]int{}
}

func drawLane(s *svg.SVG, m *model, l *lane, index, top int, last bool) {
	mainCols, zoomCols := columns(m)
	plotTop := top + 22
	f := frame{left: mainCols[0], right: mainCols[1], top: plotTop, bottom: plotTop + plotH, t1: m.span, lo: l.lo, hi: l.hi}
	s.Group(`class="lane"`, a("data-tp", l.tp.String()), a("data-group", l.group))

	// Title: the partition, its group when there are several, and the
	// group's figures there, as verify counts them.
	s.Textspan(plotLeft, top+15, l.tp.String(), `class="lane-title"`, `font-size="14"`, `font-weight="bold"`, a("fill", ink), halo)
	if len(m.groups) > 1 {
		name := "group " + l.group
		if g := m.group(l.group); g != nil {
			name = groupName(g)
		}
		s.Span(" · "+name, `class="lane-group"`, `font-size="13"`)
	}
	s.Span("   "+stats(l.counts, offsetsIn(l.replayed), offsetsIn(l.lost)), `class="lane-stats"`,
		`font-weight="normal"`, `font-size="12"`, a("fill", labelGrey))
	s.TextEnd()

	cy := plotTop + plotH/2
	s.Text(18, cy, "offset", `class="axis-title"`, `font-size="12"`, `text-anchor="middle"`, a("fill", ink),
		a("transform", fmt.Sprintf("rotate(-90 18 %d)", cy)))
	drawPanel(s, m, l, f, "", m.tstep, "")
	if last {
		s.Text((f.left+f.right)/2, f.bottom+34, "seconds since the scenario started", `class="axis-title"`,
			`font-size="12"`, `text-anchor="middle"`, a("fill", ink))
	}

	if z := l.zoom; z != nil {
		zf := frame{left: zoomCols[0], right: zoomCols[1], top: plotTop, bottom: plotTop + plotH, t0: z.t0, t1: z.t1, lo: z.lo, hi: z.hi}
		// The region on the lane, and a line from it to its panel.
		bx0, bx1, by0, by1 := f.x(z.t0), f.x(min(z.t1, m.span)), f.y(float64(z.hi)), f.y(float64(z.lo))
		s.Group(`class="zoom-box"`, ai("data-lo", z.lo), ai("data-hi", z.hi))
		s.Rect(bx0-2, by0-2, max(4, bx1-bx0+4), max(4, by1-by0+4), `fill="none"`, a("stroke", ink), `stroke-width="1"`, `stroke-dasharray="3 2"`)
		s.Line(bx1+2, (by0+by1)/2, zf.left-48, zf.top+plotH/2, a("stroke", grey), `stroke-width="1"`, `stroke-dasharray="3 2"`)
		s.Gend()
		s.Text(zf.left, top+15, fmt.Sprintf("zoom: offsets %d–%d, %s–%s", z.lo, z.hi-1, seconds(z.t0.Seconds(), 0.1), seconds(z.t1.Seconds(), 0.1)),
			`class="zoom-title"`, `font-size="12"`, `font-weight="bold"`, a("fill", ink), halo)
		id := "zoom-clip-" + strconv.Itoa(index)
		s.ClipPath(a("id", id))
		s.Rect(zf.left, zf.top, zf.width(), plotH)
		s.ClipEnd()
		s.Group(`class="zoom"`)
		drawPanel(s, m, l, zf, "zoom-", niceStep((z.t1-z.t0).Seconds(), 5), id)
		s.Gend()
	}
	s.Gend()
}

// drawPanel draws a lane's records, commits, replays, losses, resume
// points and handovers in a frame: the whole lane (prefix "") or its
// zoomed region (prefix "zoom-", clipped to clip). Every element's class
// starts with the prefix, so each thing on the lane is found once by its
// class.
func drawPanel(s *svg.SVG, m *model, l *lane, f frame, prefix string, tstep float64, clip string) {
	cls := func(c string) string { return a("class", prefix+c) }
	labels := &placer{top: f.top, bottom: f.bottom}

	// Frame, grid and axes.
	s.Rect(f.left, f.top, f.width(), plotH, cls("plot"), `fill="#ffffff"`, `stroke="#d1d5db"`)
	ostep := int64(math.Max(1, math.Ceil(niceStep(float64(f.hi-f.lo), 5))))
	s.Group(cls("axis y"))
	for o := (f.lo + ostep - 1) / ostep * ostep; o <= f.hi; o += ostep {
		y := f.y(float64(o))
		s.Line(f.left, y, f.right, y, a("stroke", light))
		s.Text(f.left-12, y+4, strconv.FormatInt(o, 10), cls("tick"), `font-size="11"`, `text-anchor="end"`, a("fill", labelGrey))
	}
	s.Gend()
	s.Group(cls("axis x"))
	first := max(0, math.Ceil(f.t0.Seconds()/tstep-1e-9))
	if first == 0 {
		first = 0 // not -0, which prints as "-0 s"
	}
	for k := first; k*tstep <= f.t1.Seconds()+1e-9; k++ {
		v := k * tstep
		x := f.x(time.Duration(v * float64(time.Second)))
		s.Line(x, f.top, x, f.bottom, a("stroke", light))
		s.Text(x, f.bottom+15, seconds(v, tstep), cls("tick"), `font-size="11"`, `text-anchor="middle"`, a("fill", labelGrey))
	}
	s.Gend()

	if clip != "" {
		s.Group(a("clip-path", "url(#"+clip+")"))
	}
	// Not consumed: faint bands at offsets the group never reached.
	for _, sp := range l.notConsumed {
		y0, y1 := f.y(float64(sp.To+1)), f.y(float64(sp.From))
		s.Group(cls("not-consumed"), ai("data-from", sp.From), ai("data-to", sp.To), ai("data-n", sp.N))
		s.Title(fmt.Sprintf("not consumed: %s, %s acked that this group never reached", offsets(sp), plural(sp.N, "record", "records")))
		s.Rect(f.left, y0, f.width(), max(3, y1-y0), a("fill", grey), `fill-opacity="0.10"`)
		s.Gend()
	}

	// Lost: bands across the panel at offsets the group went past without
	// processing them, with a bar on the axis.
	for _, sp := range l.lost {
		y0, y1 := f.y(float64(sp.To+1)), f.y(float64(sp.From))
		h := max(3, y1-y0)
		s.Group(cls("lost"), ai("data-from", sp.From), ai("data-to", sp.To), ai("data-n", sp.N))
		s.Title(fmt.Sprintf("lost: %s, %s acked that this group went past and never processed", offsets(sp), plural(sp.N, "record", "records")))
		s.Rect(f.left, y0, f.width(), h, a("fill", red), `fill-opacity="0.16"`)
		s.Rect(f.left+1, y0, 6, h, a("fill", red))
		s.Gend()
	}

	// Replayed: a bar on the axis over each range, then a glow under each
	// record processed a second time.
	for _, sp := range l.replayed {
		y0, y1 := f.y(float64(sp.To+1)), f.y(float64(sp.From))
		s.Group(cls("replayed-range"), ai("data-from", sp.From), ai("data-to", sp.To), ai("data-n", sp.N))
		s.Title(fmt.Sprintf("replayed: %s processed more than once by this group", offsets(sp)))
		s.Rect(f.left+1, y0, 6, max(3, y1-y0), a("fill", orange))
		s.Gend()
	}

	// The committed offset over time: a step line to the end of the run,
	// under the records so that they stay visible where it follows them
	// (a commit after every record).
	if len(l.commits) > 0 {
		var d strings.Builder
		px, py := f.x(l.commits[0].at), f.y(float64(l.commits[0].offset))
		fmt.Fprintf(&d, "M%d %d", px, py)
		for _, c := range l.commits[1:] {
			x, y := f.x(c.at), f.y(float64(c.offset))
			if x != px {
				fmt.Fprintf(&d, " H%d", x)
			}
			if y != py {
				fmt.Fprintf(&d, " V%d", y)
			}
			px, py = x, y
		}
		fmt.Fprintf(&d, " H%d", f.x(m.span))
		lastC := l.commits[len(l.commits)-1].offset
		s.Group(cls("committed"), ai("data-last", lastC))
		s.Title(fmt.Sprintf("committed offset over time; last %d", lastC))
		s.Path(d.String(), a("stroke", ink), `stroke-width="1.5"`, `stroke-opacity="0.8"`, `fill="none"`)
		s.Gend()
	}

	shown := l.processed
	if prefix != "" {
		shown = within(l.processed, f)
	}
	for _, seg := range segments(shown, f, true) {
		s.Group(cls("replay"), a("data-name", m.names[seg.inc]), ai("data-from", seg.from), ai("data-to", seg.to))
		seg.draw(s, orange, 11, "0.55")
		s.Gend()
	}
	// Processed records, by incarnation.
	dots := len(shown) <= maxDots
	for _, seg := range segments(shown, f, false) {
		c := m.colour(seg.inc)
		s.Group(cls("processed"), a("data-name", m.names[seg.inc]), ai("data-from", seg.from), ai("data-to", seg.to))
		s.Title(fmt.Sprintf("%s processed %s", m.names[seg.inc], offsets(span{From: seg.from, To: seg.to})))
		w := 3.0
		if dots {
			w = 2
		}
		seg.draw(s, c, w, "1")
		s.Gend()
	}
	if dots {
		r := 2
		if prefix != "" || len(shown) < 60 {
			r = 3 // few records: each is worth seeing
		}
		s.Group(cls("records"))
		for _, p := range shown {
			s.Circle(f.x(p.at), f.y(float64(p.offset)+0.5), r, cls("record"), a("fill", m.colour(p.inc)))
		}
		s.Gend()
	}
	if clip != "" {
		s.Gend()
	}

	// Marks inside a zoomed panel: the lane's own lines do not reach it.
	if prefix != "" {
		for _, mk := range m.marks {
			if mk.at < f.t0 || mk.at > f.t1 {
				continue
			}
			_, stroke, dash, w, label := markStyle(mk)
			x := f.x(mk.at)
			s.Group(cls("mark"), a("data-kind", mk.kind), a("data-name", mk.name))
			attrs := []string{a("stroke", stroke), a("stroke-width", w)}
			if dash != "" {
				attrs = append(attrs, a("stroke-dasharray", dash))
			}
			s.Line(x, f.top, x, f.bottom, attrs...)
			labels.label(s, f, x+3, f.top+12, label, a("fill", stroke), `font-weight="bold"`)
			s.Gend()
		}
	}

	// Labels: each at the time and offset of what it names.
	for i, sp := range l.lost {
		if i == 3 {
			break
		}
		x := f.x(passedAt(l, sp, f))
		y := (f.y(float64(sp.To+1))+f.y(float64(sp.From)))/2 + 4
		s.Group(cls("lost-label"))
		labels.label(s, f, x+4, y, "lost: "+offsets(sp)+" never processed", `font-weight="bold"`, a("fill", red))
		s.Gend()
	}
	for i, sp := range l.replayed {
		if i == 3 {
			break
		}
		x := f.x(replayedAt(l, sp))
		y := f.y(float64(sp.To+1)) - 4
		s.Group(cls("replayed-label"))
		labels.label(s, f, x+6, y, "read again: "+offsets(sp), `font-weight="bold"`, a("fill", darkOr))
		s.Gend()
	}
	for _, sp := range l.notConsumed {
		y := (f.y(float64(sp.To+1))+f.y(float64(sp.From)))/2 + 4
		labels.label(s, f, f.right-6-textWidth("not consumed: "+offsets(sp), 11), y, "not consumed: "+offsets(sp), a("fill", labelGrey))
	}
	brokerSaid := map[string]int{} // label -> where it was last said
	for _, b := range l.broker {
		if b.at < f.t0 || b.at > f.t1 {
			continue
		}
		x, y := f.x(b.at), f.y(float64(b.offset))
		s.Group(cls("broker-committed"), a("data-label", b.label), ai("data-offset", b.offset))
		s.Title(fmt.Sprintf("the broker's committed offset at snapshot %s: %d", b.label, b.offset))
		diamond(s, x, y, a("fill", "#ffffff"), a("stroke", ink), `stroke-width="2"`)
		text := "broker: " + strconv.FormatInt(b.offset, 10)
		last, said := brokerSaid[text]
		if (len(l.broker) <= maxBrokerLabels || prefix != "") && (!said || x-last > 40) { // two snapshots at once: one label
			y = labels.place(x-8, y-7, textWidth(text, 11), true)
			s.Text(x-8, y, text, `font-size="11"`, `text-anchor="end"`, a("fill", ink), halo)
			brokerSaid[text] = x
		}
		s.Gend()
	}

	// Resume points, on top of everything in the panel.
	for _, r := range l.resumes {
		if r.at < f.t0 || r.at > f.t1 {
			continue
		}
		x, y := f.x(r.at), f.y(float64(r.offset)+0.5)
		name := m.names[r.inc]
		s.Group(cls("resume"), a("data-name", name), ai("data-offset", r.offset))
		label := fmt.Sprintf("%s resumed at %d", name, r.offset)
		s.Title(label)
		triangle(s, x, y, a("fill", m.colour(r.inc)), a("stroke", ink), `stroke-width="1.5"`)
		labels.label(s, f, x+10, y+16, label, `font-weight="bold"`, a("fill", ink))
		s.Gend()
	}

	// Handovers: where the partition was assigned to an incarnation
	// (a tick up from the bottom) or revoked from it (down from the top).
	said := map[string]int{} // handover label -> where it was last said
	for _, h := range l.handovers {
		if h.at < f.t0 || h.at > f.t1 {
			continue
		}
		x, name := f.x(h.at), m.names[h.inc]
		what, text, y0, y1 := "assigned to "+name, "+"+name, f.bottom, f.bottom-12
		if h.revoked {
			what, text, y0, y1 = "revoked from "+name, "−"+name, f.top, f.top+12
			if h.lost {
				what += " (lost: no clean handover)"
			}
		}
		s.Group(cls("handover"), a("data-name", name), a("data-kind", map[bool]string{false: "assigned", true: "revoked"}[h.revoked]))
		s.Title(fmt.Sprintf("%s at %s: %s", l.tp, seconds(h.at.Seconds(), 0.01), what))
		s.Line(x, y0, x, y1, a("stroke", m.colour(h.inc)), `stroke-width="3"`)
		ly := f.bottom - 4
		if h.revoked {
			ly = f.top + 12
		}
		if last, ok := said[text]; !ok || x-last > 40 { // one label for a burst of the same handover
			labels.label(s, f, x+3, ly, text, a("fill", m.colour(h.inc)), `font-weight="bold"`)
			said[text] = x
		}
		s.Gend()
	}

	// The last committed offset, at the right end of its line.
	if len(l.commits) > 0 && prefix == "" {
		lastC := l.commits[len(l.commits)-1].offset
		text := "committed " + strconv.FormatInt(lastC, 10)
		labels.label(s, f, f.right-4-textWidth(text, 11), f.y(float64(lastC))-5, text, a("fill", ink))
	}
}

// Beyond this many snapshots in a lane, their diamonds go unlabelled (each
// keeps its tooltip): the resume labels beside them matter more.
const maxBrokerLabels = 6

// within is the records a frame shows, and a few around it, so that lines
// run to its edges.
func within(ps []proc, f frame) []proc {
	var out []proc
	dt, do := (f.t1-f.t0)/4, (f.hi-f.lo)/4+1
	for _, p := range ps {
		if p.at >= f.t0-dt && p.at <= f.t1+dt && p.offset >= f.lo-do && p.offset < f.hi+do {
			out = append(out, p)
		}
	}
	return out
}

// passedAt is when the group went past a lost range: the first record it
// processed, or the first commit it made, beyond the range; the frame's
// end when neither is known.
func passedAt(l *lane, sp span, f frame) time.Duration {
	at := time.Duration(-1)
	see := func(t time.Duration) {
		if at < 0 || t < at {
			at = t
		}
	}
	for _, p := range l.processed {
		if p.offset > sp.To {
			see(p.at)
		}
	}
	for _, c := range l.commits {
		if c.offset > sp.To {
			see(c.at)
		}
	}
	if at < 0 {
		return f.t1
	}
	return at
}

// replayedAt is when the first record of a replayed range was processed
// again.
func replayedAt(l *lane, sp span) time.Duration {
	for _, p := range l.processed {
		if p.replay && p.offset >= sp.From && p.offset <= sp.To {
			return p.at
		}
	}
	return 0
}
