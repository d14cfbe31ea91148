// Package timeline draws one scenario run as a picture a newcomer can read:
// one band per partition and consumer group, with the records each consumer
// incarnation processed over time, the committed offset as a step line under
// them, the moments processes were started, killed and stopped, when a
// killed member's session ran out and the group rebalanced, where the
// partition was assigned and revoked, where each restart resumed, and which
// records were read again (replayed), skipped (lost) or never reached (not
// consumed), as package verify classifies them for each group. Where that
// story is a few offsets among thousands, a zoomed panel beside the band
// shows it; labels sit at the time of their event and keep apart.
//
// The picture is an SVG written with github.com/ajstarks/svgo, either alone
// (.svg) or inside a self-contained HTML page (.html) that opens offline:
// no script, no font, no stylesheet is fetched from anywhere.
//
// Reading a lane, with offsets on the y axis: a consumer killed with -9 at
// 3.2 s after committing 400 leaves the step line at 400; the restarted
// incarnation's resume point sits on that line at 400, and the records it
// processed a second time (the ones its predecessor had processed past 400
// before the kill) carry the orange replay highlight.
package timeline

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/tp"
	"github.com/offsetlab/offsetlab/internal/verify"
)

// Mark kinds: what happened at a moment of the run.
const (
	MarkStart         = "start"          // a consumer process started (a second start of the same consumer is a restart)
	MarkKill          = "kill"           // kill -9: no commit, no leaving the group
	MarkStop          = "stop"           // a clean stop (SIGTERM): the final commit, then Close()
	MarkSnapshot      = "snapshot"       // the runner read the group's committed offsets from the broker
	MarkRestartBroker = "restart-broker" // the embedded broker was stopped and started again
)

// Mark is a moment of the run drawn as a vertical line across every lane.
type Mark struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // one of the Mark* kinds
	Name string    `json:"name"` // the process (c1, c1#2) or the snapshot's label
	// Group is, for a snapshot, the consumer group whose committed offsets
	// it read: they are drawn in that group's bands. "" when not known:
	// then in every group's bands.
	Group string `json:"group,omitempty"`
}

// Run is everything one scenario run left behind.
type Run struct {
	Scenario string // the scenario's name, the picture's title
	// Variant is said after the name in the title, when the same story can
	// run several ways: "consumer protocol (KIP-848)".
	Variant string
	Claim   string // what the scenario claims, shown under the title
	// Incarnations are the consumers' ledgers, one per process run, named
	// like c1#1, c1#2.
	Incarnations []verify.Incarnation
	// Acked are the producers' acked events: what the broker holds, and so
	// what should be processed.
	Acked []ledger.Event
	// Marks are the starts, kills, stops, snapshots and broker restarts.
	Marks []Mark
	// Committed holds, per snapshot label, the group's committed offsets the
	// broker answered at that snapshot (the source of truth for commits).
	// They are drawn at the time of the snapshot Mark with the same label.
	Committed map[string]map[tp.TP]int64
	// EndCommitted holds, per group, the committed offsets the broker held
	// when the run ended, as the runner gave them to verify.Account (a
	// partition absent: nothing committed). It may be nil; then a record
	// only a commit went past counts as not consumed, not lost.
	EndCommitted map[string]verify.Offsets
}

// title is the scenario's name, with its variant when it has one.
func (r Run) title() string {
	if r.Variant == "" {
		return r.Scenario
	}
	return r.Scenario + " · " + r.Variant
}

// Extensions Write accepts.
var extensions = []string{".svg", ".html"}

// CheckPath reports whether Write can write path, judging by its extension
// alone, so a runner can reject a bad --timeline before the scenario runs.
// A bad extension is a usage error naming the accepted ones.
func CheckPath(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	for _, e := range extensions {
		if ext == e {
			return nil
		}
	}
	what := fmt.Sprintf("unknown extension %q", ext)
	if ext == "" {
		what = "no extension"
	}
	return cli.Usagef("timeline %s: %s (accepted: %s)", path, what, strings.Join(extensions, ", "))
}

// Write draws r into the file at path, as an SVG picture (.svg) or a
// self-contained HTML page (.html). The picture is drawn in full before the
// file is created, so a failure leaves no half-written file.
func Write(path string, r Run) error {
	if err := CheckPath(path); err != nil {
		return err
	}
	var buf bytes.Buffer
	var err error
	if strings.ToLower(filepath.Ext(path)) == ".svg" {
		err = WriteSVG(&buf, r)
	} else {
		err = WriteHTML(&buf, r)
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("unable to write the timeline: %w", err)
	}
	return nil
}

// WriteSVG writes the picture as a standalone SVG document, with the
// scenario's name and claim as its heading. The same run always gives the
// same bytes.
func WriteSVG(w io.Writer, r Run) error {
	b := draw(build(r), r, true)
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("unable to write the timeline: %w", err)
	}
	return nil
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>offsetlab timeline: {{.Title}}</title>
<style>
body { font-family: sans-serif; margin: 10px 16px; color: #111827; background: #ffffff; }
h1 { font-size: 20px; margin: 0 0 4px 0; }
p { margin: 2px 0; line-height: 1.35; }
.claim { font-size: 15px; }
.how { font-size: 12px; color: #4b5563; margin-bottom: 4px; }
svg { display: block; width: 100%; height: auto; }
</style>
</head>
<body>
<h1>offsetlab timeline: {{.Title}}</h1>
{{if .Claim}}<p class="claim" id="claim">Claim: {{.Claim}}</p>
{{end}}<p class="how">Each band is one partition as one consumer group read it: time runs left to right, offsets grow upwards.
Coloured lines are the records each consumer run processed; the thin black step line is the committed offset (the next offset
a restarted consumer reads). Vertical lines mark starts, kills, stops, session timeouts and rebalances. Where a band's story is
too small to see, a dashed box marks it and the panel at its right enlarges it.</p>
{{.SVG}}
</body>
</html>
`))

// WriteHTML writes a self-contained HTML page: the scenario's name, its
// claim, a note on how to read the picture, and the SVG (with its legend)
// inline. It fetches nothing, so it opens offline.
func WriteHTML(w io.Writer, r Run) error {
	svg := draw(build(r), r, false)
	if i := bytes.Index(svg, []byte("<svg")); i > 0 {
		svg = svg[i:] // the XML declaration has no place inside HTML
	}
	data := struct {
		Title, Claim string
		SVG          template.HTML
	}{r.title(), r.Claim, template.HTML(svg)} // svgo escapes the text, draw the attributes
	if err := page.Execute(w, data); err != nil {
		return fmt.Errorf("unable to write the timeline: %w", err)
	}
	return nil
}
