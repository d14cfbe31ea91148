package scenario

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/out"
	"github.com/offsetlab/offsetlab/internal/tp"
	"github.com/offsetlab/offsetlab/internal/verify"
)

// Row is one partition of one group in a scenario's table.
type Row struct {
	Group     string `json:"group"`
	Partition string `json:"partition"`
	// Committed is the group's committed offset on the broker at the end of
	// the run; nil when nothing was committed.
	Committed *int64 `json:"committed"`
	// ResumedAt and Expected are the last resume or takeover check's first
	// offset read and the offset it expected.
	ResumedAt   *int64 `json:"resumed_at"`
	Expected    *int64 `json:"expected"`
	Replayed    int64  `json:"replayed"`
	Lost        int64  `json:"lost"`
	NotConsumed int64  `json:"not_consumed"`
	Verdict     string `json:"verdict"`
}

// table fills each group's figures in and returns the rows by group, then
// partition.
func (r *run) table(acc *verify.Accounting) []Row {
	for _, g := range acc.Groups() {
		for t, c := range acc.Counts(g) {
			row := r.row(g, t)
			row.Replayed, row.Lost, row.NotConsumed = c.Replayed, c.Lost, c.NotConsumed
		}
	}
	for g, committed := range r.committed {
		for t, c := range committed {
			if _, ok := r.rows[rowKey{g, t}]; ok || t.Topic == r.vars["TOPIC"] {
				r.row(g, t).Committed = ptr(c)
			}
		}
	}
	keys := make([]rowKey, 0, len(r.rows))
	for k := range r.rows {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b rowKey) int {
		return cmp.Or(strings.Compare(a.group, b.group), tp.Compare(a.tp, b.tp))
	})
	rows := make([]Row, len(keys))
	for i, k := range keys {
		rows[i] = *r.rows[k]
	}
	return rows
}

// sortPartitionNames orders "topic[p]" names by topic, then partition number.
func sortPartitionNames(names []string) {
	split := func(s string) (string, int) {
		i := strings.LastIndexByte(s, '[')
		if i < 0 {
			return s, -1
		}
		n, _ := strconv.Atoi(strings.TrimSuffix(s[i+1:], "]"))
		return s[:i], n
	}
	sort.Slice(names, func(i, j int) bool {
		ti, pi := split(names[i])
		tj, pj := split(names[j])
		if ti != tj {
			return ti < tj
		}
		return pi < pj
	})
}

// PrintTable writes a scenario's verdict and table.
func PrintTable(w io.Writer, res *Result) error {
	switch {
	case res.Skipped != "":
		fmt.Fprintf(w, "--- SKIP %s: %s\n", res.Title(), res.Skipped)
		return nil
	case res.Interrupted:
		fmt.Fprintf(w, "--- INTERRUPTED %s (%s)\n", res.Title(), res.Duration.Round(time.Millisecond))
		return nil
	case res.Passed:
		fmt.Fprintf(w, "--- PASS %s (%s)\n", res.Title(), res.Duration.Round(time.Millisecond))
	default:
		fmt.Fprintf(w, "--- FAIL %s (%s): %s\n", res.Title(), res.Duration.Round(time.Millisecond), res.Error)
		if res.Dir != "" {
			fmt.Fprintf(w, "    ledgers and snapshots kept in %s\n", res.Dir)
		}
	}
	if len(res.Checks) > 0 {
		t := out.NewTable(w, "line", "check", "verdict", "why")
		for _, v := range res.Checks {
			t.Row(v.Line, v.Check, cond(v.Passed, "ok", "FAIL"), cond(v.Error == "", out.None, v.Error))
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	if len(res.Rows) == 0 {
		return nil
	}
	t := out.NewTable(w, "group", "partition", "committed", "resumed-at", "expected", "replayed", "lost", "not-consumed", "verdict")
	for _, row := range res.Rows {
		// The story's own names: $GROUP, $GROUP-store, ...
		group := strings.Replace(row.Group, res.Group, "$GROUP", 1)
		t.Row(group, row.Partition, cell(row.Committed), cell(row.ResumedAt), cell(row.Expected), row.Replayed, row.Lost, row.NotConsumed, row.Verdict)
	}
	return t.Flush()
}

func cell(p *int64) string {
	if p == nil {
		return out.None
	}
	return strconv.FormatInt(*p, 10)
}

// JUnit writes results as JUnit XML, one testcase per scenario, for CI.
func JUnit(w io.Writer, results []*Result) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	type skipped struct {
		Message string `xml:"message,attr"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Time      string   `xml:"time,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Skipped   *skipped `xml:"skipped,omitempty"`
		SystemOut string   `xml:"system-out,omitempty"`
	}
	type testsuite struct {
		XMLName  xml.Name   `xml:"testsuite"`
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr"`
		Skipped  int        `xml:"skipped,attr"`
		Time     string     `xml:"time,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	suite := testsuite{Name: "offsetlab.scenarios", Tests: len(results)}
	var total time.Duration
	for _, res := range results {
		total += res.Duration
		tc := testcase{Name: res.Title(), Classname: "offsetlab.scenarios", Time: seconds(res.Duration), SystemOut: res.Claim}
		switch {
		case res.Skipped != "":
			suite.Skipped++
			tc.Skipped = &skipped{Message: res.Skipped}
		case !res.Passed:
			suite.Failures++
			var b strings.Builder
			_ = PrintTable(&b, res)
			tc.Failure = &failure{Message: res.Error, Type: "verification", Text: b.String()}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(suite); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
