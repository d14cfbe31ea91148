// Package out prints offsetlab's tables and JSON, in the manner of rpk's
// out package: upper-case headers, aligned columns, "-" where there is no
// value, and JSON for machines. Printers take an io.Writer.
package out

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// None is what a table shows where there is no value.
const None = "-"

// Formats accepted by --format.
const (
	Text = "text"
	JSON = "json"
)

// CheckFormat validates a --format value.
func CheckFormat(f string) error {
	if f != Text && f != JSON {
		return cli.Usagef("--format %q is not known (accepted: text, json)", f)
	}
	return nil
}

// Table writes aligned columns.
type Table struct{ tw *tabwriter.Writer }

// NewTable starts a table with the given headers, upper-cased.
func NewTable(w io.Writer, headers ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	for i, h := range headers {
		headers[i] = strings.ToUpper(h)
	}
	fmt.Fprintln(t.tw, strings.Join(headers, "\t"))
	return t
}

// Row adds a row; nil and empty strings print as "-".
func (t *Table) Row(cells ...any) {
	s := make([]string, len(cells))
	for i, c := range cells {
		switch v := c.(type) {
		case nil:
			s[i] = None
		case string:
			s[i] = v
			if v == "" {
				s[i] = None
			}
		default:
			s[i] = fmt.Sprint(v)
		}
	}
	fmt.Fprintln(t.tw, strings.Join(s, "\t"))
}

// Flush writes the table out.
func (t *Table) Flush() error { return t.tw.Flush() }

// WriteJSON writes v as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// IsTerminal reports whether w is a terminal, for progress bars and
// in-place refreshes.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
