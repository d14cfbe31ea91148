package timeline

import (
	"bytes"
	"cmp"
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"

	svg "github.com/ajstarks/svgo"

	"github.com/offsetlab/offsetlab/internal/verify"
)

// The picture's geometry, in pixels. Elements carry a class (and data-*
// attributes) naming what they show, so tests and readers of the source
// find them by meaning; their look is in presentation attributes, which
// every SVG viewer honours, inline in HTML or alone.
const (
	width     = 1360
	plotLeft  = 90
	plotRight = width - 24
	plotH     = 118
	rowH      = 20 // a legend row
	markRowH  = 15 // a row of mark labels
	// Up to this many records in a lane, each is drawn as its own dot on
	// top of the lines; beyond it, consecutive records are lines alone.
	maxDots = 400
	// A run of records is cut where processing paused for this many pixels.
	maxGapPx = 40
)

// Colours: one per incarnation (none of them red or orange, which mean a
// kill, a loss and a replay), then the fixed ones.
// Neighbours in the list differ in hue, so the first two consumers of a
// run (c1 and c2 in a takeover) never look alike.
var palette = []string{"#2563eb", "#c026d3", "#0d9488", "#92400e", "#7c3aed", "#65a30d", "#0891b2", "#475569"}

const (
	red       = "#dc2626"
	orange    = "#f59e0b"
	darkOr    = "#b45309"
	ink       = "#111827"
	grey      = "#6b7280"
	light     = "#e5e7eb"
	green     = "#15803d"
	purple    = "#7e22ce"
	labelGrey = "#4b5563"
)

// colours gives each incarnation its colour: its own while the palette
// lasts; past that (chaos's twenty runs), its consumer's, so that c1, c2
// and c3 stay apart and the resume points mark each run's start.
func colours(names []string) []string {
	out := make([]string, len(names))
	byConsumer := map[string]int{}
	for i, name := range names {
		if len(names) <= len(palette) {
			out[i] = palette[i]
			continue
		}
		base, _ := consumerOf(name)
		if _, ok := byConsumer[base]; !ok {
			byConsumer[base] = len(byConsumer)
		}
		out[i] = palette[byConsumer[base]%len(palette)]
	}
	return out
}

// a is one attribute, its value escaped for XML.
func a(k, v string) string { return k + `="` + html.EscapeString(v) + `"` }

func ai(k string, v int64) string { return k + `="` + strconv.FormatInt(v, 10) + `"` }

// halo makes text readable over lines: a white outline painted under it.
const halo = `stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"`

// markStyle is how each kind of mark is drawn: colour, dashes, width, and
// what its label says.
func markStyle(m mark) (class, stroke, dash, width, label string) {
	switch m.kind {
	case MarkKill:
		return "mark kill", red, "", "2", "kill -9 " + m.name
	case MarkStop:
		return "mark stop", grey, "6 3", "1.5", "stop " + m.name
	case MarkStart:
		if m.restart {
			return "mark restart", green, "3 3", "1.5", "restart " + m.name
		}
		return "mark start", green, "3 3", "1.5", "start " + m.name
	case MarkSnapshot:
		return "mark snapshot", "#9ca3af", "1 3", "1", strings.TrimSpace("snapshot " + m.name)
	case MarkRestartBroker:
		return "mark restart-broker", purple, "8 3 2 3", "2", "broker restarted"
	case kindTimeout:
		return "mark session-timeout", darkOr, "2 2", "1.5", "session timeout " + m.name
	case kindRebalance:
		return "mark rebalance", ink, "5 2 1 2", "1.5", "rebalance" // its group is in its tooltip: names are long
	}
	return "mark other", grey, "2 2", "1", strings.TrimSpace(m.kind + " " + m.name)
}

// textWidth estimates the width of a label in a sans-serif font.
func textWidth(s string, size float64) int { return int(math.Ceil(float64(len(s)) * size * 0.56)) }

type legendItem struct {
	key, text string
	swatch    func(s *svg.SVG, x, y int)
}

func draw(m *model, r Run, header bool) []byte {
	var buf bytes.Buffer
	s := svg.New(&buf)

	// Lay the picture out top to bottom before drawing: the height goes first.
	y := 8
	var claim []string
	titleY := 0
	if header {
		titleY = y + 22
		y += 32
		claim = wrap("Claim: "+r.Claim, 150)
		if r.Claim == "" {
			claim = nil
		}
		y += len(claim)*18 + 4
	}
	var sums [][]string // each group's line, wrapped
	for _, line := range summary(m) {
		sums = append(sums, wrap(line, 180))
	}
	summaryTop := y
	for _, lines := range sums {
		y += len(lines) * 17
	}
	items := legend(m)
	legendTop := y + 4
	rows := layoutLegend(items)
	nrows := 1
	for _, it := range rows {
		nrows = max(nrows, it.row+1)
	}
	legendH := 12 + nrows*rowH + 22
	y = legendTop + legendH + 10
	markTop := y
	markRows := layoutMarks(m)
	nmark := 0
	for _, r := range markRows {
		nmark = max(nmark, r+1)
	}
	y += nmark*markRowH + 4
	linesTop := y
	laneTops := make([]int, len(m.lanes))
	for i := range m.lanes {
		laneTops[i] = y
		y += 22 + plotH + 24
		if i == len(m.lanes)-1 {
			y += 18
		}
		y += 10
	}
	if len(m.lanes) == 0 {
		y += 40
	}
	height := y + 6

	s.Start(width, height, a("viewBox", fmt.Sprintf("0 0 %d %d", width, height)), `id="offsetlab-timeline"`, `font-family="Helvetica, Arial, sans-serif"`)
	s.Title("offsetlab timeline: " + r.title())
	s.Rect(0, 0, width, height, `fill="#ffffff"`)
	if header {
		s.Text(16, titleY, "offsetlab timeline: "+r.title(), `id="title"`, `font-size="20"`, `font-weight="bold"`, a("fill", ink))
		for i, line := range claim {
			s.Text(16, titleY+22+i*18, line, `class="claim"`, `font-size="14"`, a("fill", ink))
		}
	}
	s.Group(`id="summary"`)
	sy := summaryTop
	for i, lines := range sums {
		g := m.groups[i]
		s.Group(`class="summary"`, a("data-group", g.id), ai("data-lost", g.total.Lost), ai("data-replayed", g.total.Replayed))
		fill := ink
		if g.total.Lost > 0 {
			fill = red
		}
		for _, line := range lines {
			sy += 17
			s.Text(16, sy-4, line, `font-size="13"`, a("fill", fill))
		}
		s.Gend()
	}
	s.Gend()
	drawLegend(s, rows, legendTop, legendH)

	if len(m.lanes) == 0 {
		s.Text(plotLeft, linesTop+24, "Nothing to draw: no record was acked, processed or committed in this run.", `class="empty"`, `font-size="14"`, a("fill", labelGrey))
	}
	xs := mainFrame(m)
	for i, l := range m.lanes {
		drawLane(s, m, l, i, laneTops[i], i == len(m.lanes)-1)
	}
	bottom := linesTop
	if n := len(m.lanes); n > 0 {
		bottom = laneTops[n-1] + 22 + plotH
	}
	// A mark's line runs down through the label rows below its own, so
	// the rows are drawn top first: each label is painted over the lines.
	order := make([]int, len(m.marks))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(markRows[i], markRows[j]) })
	for _, i := range order {
		mk := m.marks[i]
		class, stroke, dash, w, _ := markStyle(mk)
		label, _, _, endAnchor := markLabel(mk, xs)
		x := xs.x(mk.at)
		ly := markTop + (markRows[i]+1)*markRowH - 3
		s.Group(a("class", class), a("data-name", mk.name), ai("data-ms", mk.at.Milliseconds()))
		s.Title(cmp.Or(mk.detail, label))
		attrs := []string{a("stroke", stroke), a("stroke-width", w)}
		if dash != "" {
			attrs = append(attrs, a("stroke-dasharray", dash))
		}
		if markRows[i] < 0 {
			s.Line(x, linesTop-4, x, bottom, attrs...)
		} else if endAnchor {
			s.Line(x, ly+3, x, bottom, attrs...)
			s.Text(x-3, ly, label, `class="mark-label"`, `font-size="11"`, a("fill", stroke), `font-weight="bold"`, `text-anchor="end"`, halo)
		} else {
			s.Line(x, ly+3, x, bottom, attrs...)
			s.Text(x+3, ly, label, `class="mark-label"`, `font-size="11"`, a("fill", stroke), `font-weight="bold"`, halo)
		}
		s.Gend()
	}
	s.End()
	return buf.Bytes()
}

// wrap breaks text into lines of at most n characters, at spaces.
func wrap(text string, n int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > n {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

func processedItem(key, text, c string) legendItem {
	return legendItem{key, text, func(s *svg.SVG, x, y int) {
		s.Line(x, y, x+22, y-6, a("stroke", c), `stroke-width="2.5"`, `stroke-linecap="round"`)
		s.Circle(x+11, y-3, 2, a("fill", c))
	}}
}

// legend lists what the picture shows, in the order a newcomer reads it.
func legend(m *model) []legendItem {
	var items []legendItem
	if len(m.names) <= len(palette) {
		for i, name := range m.names {
			items = append(items, processedItem("processed-"+name, "records processed by "+name, m.colour(i)))
		}
	} else {
		runs := map[string][]string{}
		var consumers []string
		for _, name := range m.names {
			base, _ := consumerOf(name)
			if runs[base] == nil {
				consumers = append(consumers, base)
			}
			runs[base] = append(runs[base], name)
		}
		for _, base := range consumers {
			i := slices.Index(m.names, runs[base][0])
			items = append(items, processedItem("processed-"+base,
				fmt.Sprintf("records processed by %s (%s)", base, plural(int64(len(runs[base])), "run", "runs")), m.colour(i)))
		}
	}
	var replayed, lost, notConsumed, resumes, broker, handovers, zooms int
	for _, l := range m.lanes {
		handovers += len(l.handovers)
		if l.zoom != nil {
			zooms++
		}
		replayed += len(l.replayed)
		lost += len(l.lost)
		notConsumed += len(l.notConsumed)
		resumes += len(l.resumes)
		broker += len(l.broker)
	}
	none := func(text string, n int) string {
		if n == 0 {
			return text + " (none here)"
		}
		return text
	}
	items = append(items,
		legendItem{"committed", "committed offset (consumers' commits)", func(s *svg.SVG, x, y int) {
			s.Polyline([]int{x, x + 11, x + 11, x + 22}, []int{y, y, y - 7, y - 7}, a("stroke", ink), `stroke-width="2"`, `fill="none"`)
		}},
		legendItem{"broker-committed", none("the broker's committed offset at a snapshot", broker), func(s *svg.SVG, x, y int) {
			diamond(s, x+11, y-3, a("fill", "#ffffff"), a("stroke", ink), `stroke-width="2"`)
		}},
		legendItem{"resume", none("resume: first record read after a restart", resumes), func(s *svg.SVG, x, y int) {
			triangle(s, x+11, y-3, a("fill", grey), a("stroke", ink), `stroke-width="1.5"`)
		}},
		legendItem{"replay", none("replayed: processed again by its group", replayed), func(s *svg.SVG, x, y int) {
			s.Line(x+2, y-3, x+20, y-3, a("stroke", orange), `stroke-width="9"`, `stroke-opacity="0.55"`, `stroke-linecap="round"`)
		}},
		legendItem{"lost", none("lost: acked, skipped by its group", lost), func(s *svg.SVG, x, y int) {
			s.Rect(x, y-10, 22, 12, a("fill", red), `fill-opacity="0.16"`)
			s.Rect(x, y-10, 4, 12, a("fill", red))
		}},
	)
	if handovers > 0 {
		items = append(items, legendItem{"handover", "+c2 / −c1: assigned to c2 / revoked from c1", func(s *svg.SVG, x, y int) {
			s.Line(x+6, y+2, x+6, y-10, a("stroke", palette[0]), `stroke-width="3"`)
			s.Line(x+16, y+2, x+16, y-10, a("stroke", palette[1]), `stroke-width="3"`)
		}})
	}
	if zooms > 0 {
		items = append(items, legendItem{"zoom", "zoom: the dashed box, enlarged at right", func(s *svg.SVG, x, y int) {
			s.Rect(x+2, y-10, 18, 12, `fill="none"`, a("stroke", ink), `stroke-dasharray="3 2"`)
		}})
	}
	if notConsumed > 0 {
		items = append(items, legendItem{"not-consumed", "not consumed: acked, never reached", func(s *svg.SVG, x, y int) {
			s.Rect(x, y-10, 22, 12, a("fill", grey), `fill-opacity="0.10"`)
		}})
	}
	kinds := map[string]bool{}
	for _, mk := range m.marks {
		k := mk.kind
		if k == MarkStart && mk.restart {
			k = "restart"
		}
		kinds[k] = true
	}
	for _, k := range []struct{ kind, text string }{
		{MarkKill, "kill -9: no commit, no leaving the group"},
		{MarkStop, "stop: a clean close, which commits"},
		{MarkStart, "start of a consumer"},
		{"restart", "restart: the same consumer started again"},
		{MarkSnapshot, "snapshot: the runner asked the broker"},
		{MarkRestartBroker, "broker restarted"},
		{kindTimeout, "session timeout: a killed member's session is over"},
		{kindRebalance, "rebalance: partitions moved"},
	} {
		if !kinds[k.kind] {
			continue
		}
		mk := mark{kind: k.kind}
		if k.kind == "restart" {
			mk = mark{kind: MarkStart, restart: true}
		}
		_, stroke, dash, w, _ := markStyle(mk)
		items = append(items, legendItem{"mark-" + k.kind, k.text, func(s *svg.SVG, x, y int) {
			attrs := []string{a("stroke", stroke), a("stroke-width", w)}
			if dash != "" {
				attrs = append(attrs, a("stroke-dasharray", dash))
			}
			s.Line(x+11, y-12, x+11, y+3, attrs...)
		}})
	}
	return items
}

type placed struct {
	legendItem
	row, x int
}

// layoutLegend puts the legend's items in a grid, row by row.
func layoutLegend(items []legendItem) []placed {
	const cols = 4
	colW := (width - 40) / cols
	out := make([]placed, len(items))
	for i, it := range items {
		out[i] = placed{it, i / cols, 20 + (i%cols)*colW}
	}
	return out
}

func drawLegend(s *svg.SVG, items []placed, top, h int) {
	s.Group(`id="legend"`)
	s.Rect(8, top, width-16, h, `fill="#f9fafb"`, a("stroke", light), `rx="4"`)
	for _, it := range items {
		y := top + 12 + (it.row+1)*rowH - 6
		s.Group(`class="legend-item"`, a("data-key", it.key))
		it.swatch(s, it.x, y)
		s.Text(it.x+30, y, it.text, `font-size="12"`, a("fill", ink))
		s.Gend()
	}
	s.Text(20, top+h-10, "Across: seconds since the scenario started.  Up: the offset in the partition. "+
		"A committed offset is the next offset to read, so it sits just above the last record processed.",
		`class="legend-axes"`, `font-size="12"`, a("fill", labelGrey))
	s.Gend()
}

// markLabel is where a mark's label goes: right of its line, or left of
// it where it would run off the picture. It spans [from, to).
func markLabel(m mark, xs frame) (label string, from, to int, endAnchor bool) {
	_, _, _, _, label = markStyle(m)
	x, w := xs.x(m.at), textWidth(label, 11)
	if x+3+w > xs.right+20 {
		return label, x - 3 - w, x, true
	}
	return label, x, x + 3 + w, false
}

// Mark labels take at most this many rows; a label that finds no room in
// them is left out (its line stays, its tooltip names it).
const maxMarkRows = 6

// markPriority orders marks for a place in the label rows: the processes'
// own moments first, then what the broker did, then the runner's reads.
func markPriority(kind string) int {
	switch kind {
	case MarkKill, MarkStart, MarkStop, MarkRestartBroker:
		return 0
	case kindRebalance:
		return 1
	case kindTimeout:
		return 2
	}
	return 3
}

// layoutMarks puts each mark's label in the first row where it runs into
// no other label, by priority; -1 where no row has room.
func layoutMarks(m *model) []int {
	xs := mainFrame(m)
	var taken [][][2]int // per row, the spans of its labels
	rows := make([]int, len(m.marks))
	order := make([]int, len(m.marks))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		return cmp.Compare(markPriority(m.marks[i].kind), markPriority(m.marks[j].kind))
	})
	for _, i := range order {
		_, from, to, _ := markLabel(m.marks[i], xs)
		rows[i] = -1
		for row := 0; row < maxMarkRows; row++ {
			if row == len(taken) {
				taken = append(taken, nil)
			}
			if !slices.ContainsFunc(taken[row], func(t [2]int) bool { return from-6 < t[1] && t[0] < to+6 }) {
				taken[row] = append(taken[row], [2]int{from, to})
				rows[i] = row
				break
			}
		}
	}
	return rows
}

// mainFrame places times on the lanes' own plots (their offsets are each
// lane's own).
func mainFrame(m *model) frame {
	cols, _ := columns(m)
	return frame{left: cols[0], right: cols[1], t1: m.span, lo: 0, hi: 1}
}

// niceStep is the step, 1, 2 or 5 times a power of ten, that cuts span into
// at most about n parts.
func niceStep(span float64, n int) float64 {
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

func seconds(v, step float64) string {
	dec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	return strconv.FormatFloat(v, 'f', dec, 64) + " s"
}

func offsets(s span) string {
	if s.From == s.To {
		return "offset " + strconv.FormatInt(s.From, 10)
	}
	return fmt.Sprintf("offsets %d–%d", s.From, s.To)
}

// offsetsIn says where ranges are: "offset 3", "offsets 30–39",
// "offsets 3, 30–39".
func offsetsIn(ss []span) string {
	if len(ss) == 1 {
		return offsets(ss[0])
	}
	return "offsets " + spans(ss)
}

func spans(ss []span) string {
	var parts []string
	for i, s := range ss {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more ranges", len(ss)-3))
			break
		}
		parts = append(parts, strings.TrimPrefix(strings.TrimPrefix(offsets(s), "offsets "), "offset "))
	}
	return strings.Join(parts, ", ")
}

// stats says a lane's or a group's figures, as verify counts them;
// replayedAt and lostAt say where the replays and losses are.
func stats(c verify.Counts, replayedAt, lostAt string) string {
	out := []string{plural(c.Acked, "record acked", "records acked"), fmt.Sprintf("%d processed", c.Processed)}
	if c.Replayed > 0 {
		out = append(out, fmt.Sprintf("%d replayed (%s)", c.Replayed, replayedAt))
	} else {
		out = append(out, "none replayed")
	}
	if c.Lost > 0 {
		out = append(out, fmt.Sprintf("%d lost (%s)", c.Lost, lostAt))
	} else if c.Acked > 0 {
		out = append(out, "none lost")
	}
	if c.NotConsumed > 0 {
		out = append(out, fmt.Sprintf("%d not consumed", c.NotConsumed))
	}
	return strings.Join(out, " · ")
}

// groupName names a group and the incarnations that read in it.
func groupName(g *group) string {
	if g.id == "" {
		return "consumers " + strings.Join(g.names, ", ")
	}
	return "group " + g.id + " (" + strings.Join(g.names, ", ") + ")"
}

// summary is a line per group: its figures over the whole run, and on
// which partitions its replays and losses are.
func summary(m *model) []string {
	var lines []string
	for i := range m.groups {
		g := &m.groups[i]
		var replayed, lost []string
		for _, l := range m.lanes {
			if l.group != g.id {
				continue
			}
			if len(l.replayed) > 0 {
				replayed = append(replayed, l.tp.String()+" "+offsetsIn(l.replayed))
			}
			if len(l.lost) > 0 {
				lost = append(lost, l.tp.String()+" "+offsetsIn(l.lost))
			}
		}
		lines = append(lines, groupName(g)+": "+stats(g.total, strings.Join(replayed, "; "), strings.Join(lost, "; ")))
	}
	return lines
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

func diamond(s *svg.SVG, x, y int, attrs ...string) {
	s.Polygon([]int{x, x + 6, x, x - 6}, []int{y - 6, y, y + 6, y}, attrs...)
}

// triangle points right, at the resume point.
func triangle(s *svg.SVG, x, y int, attrs ...string) {
	s.Polygon([]int{x - 6, x + 7, x - 6}, []int{y - 7, y, y + 7}, attrs...)
}

// segment is a run of records one incarnation processed one after the
// other, thinned to the pixels they cover.
type segment struct {
	inc      int
	from, to int64
	xs, ys   []int
}

// draw draws a run as a line of the given colour, width and opacity, or
// as a dot that wide when it is one point.
func (g segment) draw(s *svg.SVG, colour string, width float64, opacity string) {
	if len(g.xs) == 1 {
		s.Circle(g.xs[0], g.ys[0], max(2, int(math.Round(width/2))), a("fill", colour), a("fill-opacity", opacity))
		return
	}
	s.Polyline(g.xs, g.ys, `fill="none"`, a("stroke", colour), a("stroke-width", strconv.FormatFloat(width, 'f', -1, 64)),
		a("stroke-opacity", opacity), `stroke-linecap="round"`, `stroke-linejoin="round"`)
}

// segments cuts a lane's processed records (or only its replays) into
// runs: a run ends where the incarnation changes, the offset goes back or
// jumps visibly, or processing paused. Within a run a point is kept only
// where it moves a pixel, so a lane costs at most about a point per pixel
// however many records it holds.
func segments(ps []proc, f frame, replays bool) []segment {
	var out []segment
	var cur *segment
	var prev proc
	for _, p := range ps {
		if replays && !p.replay {
			cur = nil
			continue
		}
		x, y := f.x(p.at), f.y(float64(p.offset)+0.5)
		if cur != nil {
			px, py := cur.xs[len(cur.xs)-1], cur.ys[len(cur.ys)-1]
			jump := p.offset != prev.offset+1 && py-y > 2
			if p.inc != prev.inc || p.offset <= prev.offset || jump || x-px > maxGapPx {
				cur = nil
			}
		}
		if cur == nil {
			out = append(out, segment{inc: p.inc, from: p.offset, to: p.offset, xs: []int{x}, ys: []int{y}})
			cur = &out[len(out)-1]
		} else {
			cur.to = p.offset
			if n := len(cur.xs) - 1; cur.xs[n] != x || cur.ys[n] != y {
				cur.xs, cur.ys = append(cur.xs, x), append(cur.ys, y)
			}
		}
		prev = p
	}
	return out
}
