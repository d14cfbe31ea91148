package scenarios

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/offsetlab/offsetlab/internal/scenario"
)

// checkPictureFigures holds a run's timeline to the run's own figures: each
// partition and group that lost records has a band whose lost markers hold
// exactly that many records and whose text says so, and a band of one that
// lost none says "none lost" and has no lost marker.
func checkPictureFigures(t *testing.T, name string, page []byte, res *scenario.Result) {
	t.Helper()
	start, end := bytes.Index(page, []byte("<svg")), bytes.LastIndex(page, []byte("</svg>"))
	if start < 0 || end < start {
		t.Errorf("the timeline of %s holds no SVG", name)
		return
	}
	type band struct {
		text string
		lost int64
	}
	bands := map[string]*band{} // by group and partition
	dec := xml.NewDecoder(bytes.NewReader(page[start : end+len("</svg>")]))
	var cur *band
	depth, laneDepth := 0, -1
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("the timeline of %s is not well-formed SVG: %v", name, err)
			return
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			attrs := map[string]string{}
			for _, a := range e.Attr {
				attrs[a.Name.Local] = a.Value
			}
			switch attrs["class"] {
			case "lane":
				cur, laneDepth = &band{}, depth
				bands[attrs["data-group"]+" "+attrs["data-tp"]] = cur
			case "lost":
				if cur != nil {
					n, _ := strconv.ParseInt(attrs["data-n"], 10, 64)
					cur.lost += n
				}
			}
		case xml.CharData:
			if cur != nil {
				cur.text += string(e)
			}
		case xml.EndElement:
			if depth == laneDepth {
				cur, laneDepth = nil, -1
			}
			depth--
		}
	}
	for _, row := range res.Rows {
		b := bands[row.Group+" "+row.Partition]
		switch {
		case b == nil && row.Lost > 0:
			t.Errorf("%s: group %s lost %d records on %s, but the timeline has no band for them", name, row.Group, row.Lost, row.Partition)
		case b == nil:
		case b.lost != row.Lost:
			t.Errorf("%s: group %s lost %d records on %s, but the band's lost markers hold %d", name, row.Group, row.Lost, row.Partition, b.lost)
		case row.Lost > 0 && (strings.Contains(b.text, "none lost") || !strings.Contains(b.text, fmt.Sprintf("%d lost", row.Lost))):
			t.Errorf("%s: group %s lost %d records on %s, but the band does not say so", name, row.Group, row.Lost, row.Partition)
		case row.Lost == 0 && !strings.Contains(b.text, "none lost") && !strings.Contains(b.text, "0 records acked"):
			t.Errorf("%s: group %s lost nothing on %s, but the band does not say none lost", name, row.Group, row.Partition)
		}
	}
}
