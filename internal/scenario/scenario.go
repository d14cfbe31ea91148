// Package scenario runs offsetlab's scripted scenarios: stories a workshop
// presenter can show, read top to bottom, in which real consumer processes
// are started, killed with SIGKILL or stopped with SIGTERM, restarted, and
// checked against what the broker says they committed.
//
// A scenario is a txtar file. Its comment is the script; files after it
// (schemas, say) are written to the scenario's directory. The script's
// first paragraph of # lines states the claim the scenario demonstrates;
// every other # line is narration, printed as the story unfolds. Other
// lines are verbs, one per line, each backed by Go (see verbs.go):
//
//	# auto-commit-kill: a consumer killed with -9 resumes at its last auto-commit.
//	produce 2000 --key-field customerid
//	start c1 --commit auto --auto-commit-interval 1s --process-delay 2ms
//	wait c1 processed 300
//	kill c1
//	snapshot at-kill
//	start c1
//	expect resume c1 at-kill
//
// $TOPIC and $GROUP expand to names unique to the run, so a catalog can run
// again and again against one real cluster.
package scenario

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/kballard/go-shellquote"
	"github.com/rogpeppe/go-internal/txtar"
)

// Scenario is one parsed script.
type Scenario struct {
	Name  string
	Claim string // the opening paragraph, without the #
	Lines []Line
	Files []txtar.File
}

// Line is one line of a script: narration or a verb with its arguments.
type Line struct {
	N       int // line number in the file, from 1
	Text    string
	Comment bool
	Args    []string // verb and arguments, for non-comment lines
}

// Parse reads a scenario. Errors name the file and line.
func Parse(name string, data []byte) (*Scenario, error) {
	// go-internal's txtar (v1.16.0) panics on a line that is exactly
	// "-- --" (its marker prefix and suffix overlap): refuse it first.
	for n, line := range strings.Split(string(data), "\n") {
		if strings.TrimSuffix(line, "\r") == "-- --" {
			return nil, fmt.Errorf("%s:%d: a file marker needs a name: -- NAME --", name, n+1)
		}
	}
	ar := txtar.Parse(data)
	sc := &Scenario{Name: name, Files: ar.Files}
	s := bufio.NewScanner(strings.NewReader(string(ar.Comment)))
	var claim []string
	inClaim := true
	for n := 1; s.Scan(); n++ {
		text := strings.TrimSpace(s.Text())
		switch {
		case text == "":
			if len(claim) > 0 {
				inClaim = false
			}
			continue
		case strings.HasPrefix(text, "#"):
			body := strings.TrimSpace(strings.TrimPrefix(text, "#"))
			if inClaim {
				claim = append(claim, body)
				continue
			}
			sc.Lines = append(sc.Lines, Line{N: n, Text: body, Comment: true})
		default:
			inClaim = false
			// A trailing comment after a verb is narration for the reader only.
			if i := strings.Index(text, " #"); i >= 0 {
				text = strings.TrimSpace(text[:i])
			}
			args, err := shellquote.Split(text)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", name, n, err)
			}
			if _, ok := verbs[args[0]]; !ok {
				return nil, fmt.Errorf("%s:%d: unknown verb %q (known: %s)", name, n, args[0], verbNames())
			}
			sc.Lines = append(sc.Lines, Line{N: n, Text: text, Args: args})
		}
	}
	sc.Claim = strings.TrimSpace(strings.Join(claim, " "))
	if sc.Claim == "" {
		return nil, fmt.Errorf("%s: a scenario opens with a # paragraph stating its claim", name)
	}
	return sc, nil
}

// Requires returns what the scenario needs of the stack: "embedded" for
// scenarios that drive the embedded broker, "" for any.
func (sc *Scenario) Requires() string {
	for _, l := range sc.Lines {
		if !l.Comment && l.Args[0] == "require" && len(l.Args) > 1 {
			return l.Args[1]
		}
	}
	return ""
}
