package workshop

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// positionsHider passes a run's output through, except the Position() and
// Committed() tables offsetlab's consumer prints when it stops: those show
// -1001 on every partition it read nothing from, which is exercise 4's
// question, and earlier exercises stop consumers too. Each table becomes
// one line saying it was left out. Exercises about positions show them.
//
// A table is a line with POSITION and COMMITTED headers, the rows after it
// with the same prefix ("    [c1#2] "), and the line that explains the
// columns ("position: the next offset ...").
type positionsHider struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	hiding string // the prefix of the table being hidden
}

func (h *positionsHider) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf = append(h.buf, p...)
	for {
		i := bytes.IndexByte(h.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(h.buf[:i+1])
		h.buf = h.buf[i+1:]
		if err := h.line(line); err != nil {
			return len(p), err
		}
	}
}

func (h *positionsHider) line(line string) error {
	prefix, rest := splitPrefix(line)
	switch {
	case h.hiding != "" && prefix == h.hiding:
		if strings.HasPrefix(rest, "position: ") {
			h.hiding = ""
		}
		return nil
	case strings.Contains(rest, "POSITION") && strings.Contains(rest, "COMMITTED"):
		h.hiding = prefix
		_, err := io.WriteString(h.w, prefix+"(Position() and Committed() left out: exercise 4 asks about them)\n")
		return err
	}
	_, err := io.WriteString(h.w, line)
	return err
}

// splitPrefix splits a child's output line into its prefix, up to and
// including "] ", and the rest; no prefix for the runner's own lines.
func splitPrefix(line string) (string, string) {
	if i := strings.Index(line, "] "); i > 0 && strings.HasPrefix(strings.TrimLeft(line, " "), "[") {
		return line[:i+2], line[i+2:]
	}
	return "", line
}

// Flush writes a last line that had no newline.
func (h *positionsHider) Flush() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.buf) == 0 {
		return nil
	}
	line := string(h.buf)
	h.buf = nil
	return h.line(line)
}
