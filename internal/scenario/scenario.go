// Package scenario runs offsetlab's scripted scenarios: stories a workshop
// presenter can show, read top to bottom, in which real consumer processes
// are started, killed with SIGKILL or stopped with SIGTERM, restarted, and
// checked against what the broker says they committed.
//
// A scenario is a txtar file. Its comment is the script; files after it
// (schemas, say) are written to the scenario's directory. The script's
// first paragraph of # lines states the claim the scenario demonstrates;
// every other # line is narration, printed as the story unfolds. Other
// lines are verbs, one per line, each backed by Go (one file per verb
// family, verb_*.go, each with its usage beside its code):
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
// Parse checks the whole story before anything runs: every verb's
// arguments, its bounds, the consumer flags of start (as the consumer would),
// and every reference (a name that was started, a snapshot taken earlier, a
// run NAME#RUN that exists). A mistake is reported as FILE:LINE. Run then
// executes the typed steps.
//
// $TOPIC and $GROUP expand to names unique to the run, so a catalog can run
// again and again against one real cluster.
package scenario

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kballard/go-shellquote"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// Scenario is one parsed script.
type Scenario struct {
	Name  string // the file's base name without .txtar
	File  string // where it was read from, for messages
	Claim string // the opening paragraph, without the #
	Lines []Line
	Files []txtar.File
	// Embedded is set by `require embedded`: the story drives the embedded
	// broker (restarts it, changes a config Kafka cannot change at run time).
	Embedded bool
	// NeedsConsumer is set when the story starts $CONSUMER, the program
	// under test `scenarios run --consumer` names.
	NeedsConsumer bool
}

// Line is one line of a script: narration or a step.
type Line struct {
	N       int // line number in the file, from 1
	Text    string
	Comment bool
	Args    []string // verb and arguments, for steps
	Step    step     // the parsed step, for non-comment lines
	// Protocol is set on a step written [classic] or [consumer]: it runs
	// only when the story's consumers use that group protocol, as a
	// testscript line runs only under its [condition].
	Protocol string
}

// Group protocols a story can run under: librdkafka's group.protocol.
const (
	Classic  = "classic"
	Consumer = "consumer" // KIP-848
)

// Protocols are the group protocols, in the order a run takes them.
var Protocols = []string{Classic, Consumer}

// ParseError is a mistake in a script, found before anything ran. Its exit
// code is 2, as for every bad input.
type ParseError struct {
	File string
	Line int // 0 when the mistake is not on one line
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// ExitCode is 2: a usage error.
func (e *ParseError) ExitCode() int { return cli.ExitUsage }

// ParseFile reads and parses a story from a .txtar file.
func ParseFile(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, cli.Usagef("unable to read the story: %v", err)
	}
	return Parse(path, b)
}

// Parse reads a story. file names it in messages; the scenario's name is its
// base name without .txtar. Every error is a *ParseError.
func Parse(file string, data []byte) (*Scenario, error) {
	// go-internal's txtar (v1.16.0) panics on a line that is exactly
	// "-- --" (its marker prefix and suffix overlap): refuse it first.
	for n, line := range strings.Split(string(data), "\n") {
		if strings.TrimSuffix(line, "\r") == "-- --" {
			return nil, &ParseError{File: file, Line: n + 1, Msg: "a file marker needs a name: -- NAME --"}
		}
	}
	ar := txtar.Parse(data)
	sc := &Scenario{Name: strings.TrimSuffix(filepath.Base(file), ".txtar"), File: file, Files: ar.Files}
	p := newParser(sc)
	s := bufio.NewScanner(strings.NewReader(string(ar.Comment)))
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	var claim []string
	inClaim, narrated := true, false
	for n := 1; s.Scan(); n++ {
		text := strings.TrimSpace(s.Text())
		switch {
		case text == "":
			if len(claim) > 0 {
				inClaim = false
			}
			narrated = false
			continue
		case strings.HasPrefix(text, "#"):
			body := strings.TrimSpace(strings.TrimPrefix(text, "#"))
			if inClaim {
				claim = append(claim, body)
				continue
			}
			sc.Lines = append(sc.Lines, Line{N: n, Text: body, Comment: true})
			narrated = true
			continue
		default:
			inClaim = false
			// A trailing comment after a verb is narration for the reader only.
			p.explained = narrated
			if i := strings.Index(text, " #"); i >= 0 {
				text = strings.TrimSpace(text[:i])
				p.explained = true
			}
			protocol, text, err := protocolCondition(text)
			if err != nil {
				return nil, &ParseError{File: file, Line: n, Msg: err.Error()}
			}
			args, err := shellquote.Split(text)
			if err != nil {
				return nil, &ParseError{File: file, Line: n, Msg: err.Error()}
			}
			if len(args) == 0 {
				continue
			}
			p.protocol = protocol
			st, err := p.parse(args)
			if err != nil {
				return nil, &ParseError{File: file, Line: n, Msg: err.Error()}
			}
			sc.Lines = append(sc.Lines, Line{N: n, Text: text, Args: args, Step: st, Protocol: protocol})
			narrated = false
		}
	}
	if err := s.Err(); err != nil {
		return nil, &ParseError{File: file, Msg: err.Error()}
	}
	sc.Claim = strings.TrimSpace(strings.Join(claim, " "))
	if sc.Claim == "" {
		return nil, &ParseError{File: file, Msg: "a scenario opens with a # paragraph stating its claim"}
	}
	return sc, nil
}

// condition splits a step's [PROTOCOL] prefix from it.
func protocolCondition(text string) (protocol, rest string, err error) {
	if !strings.HasPrefix(text, "[") {
		return "", text, nil
	}
	cond, rest, ok := strings.Cut(text[1:], "]")
	if !ok || !slices.Contains(Protocols, cond) {
		return "", "", fmt.Errorf("a line's condition is [classic] or [consumer] (the group protocol it runs under), not %q", strings.Fields(text)[0])
	}
	return cond, strings.TrimSpace(rest), nil
}

// Protocols says which group protocols the story runs under, and why not
// under the others: every protocol when it starts offsetlab's own consumer
// without pinning --protocol; only the pinned one when every start pins the
// same; none of its own when it starts only programs under test, whose group
// protocol is theirs (nil, with that reason).
func (sc *Scenario) Protocols() (protocols []string, why string) {
	pinned := map[string]bool{}
	own := false
	for _, l := range sc.Lines {
		st, ok := l.Step.(*startStep)
		if !ok || st.exec != nil {
			continue
		}
		own = true
		pinned[flagValue(st.flags, "protocol")] = true
	}
	switch {
	case !own:
		return nil, "it starts no consumer of offsetlab's own; a program under test uses the group protocol it chooses"
	case len(pinned) == 1 && !pinned[""]:
		for p := range pinned {
			return []string{p}, fmt.Sprintf("its consumers pin --protocol %s", p)
		}
	}
	return Protocols, ""
}

// Exclusive reports whether the story changes the broker itself (a
// broker config, a restart): on a shared cluster it must run alone.
func (sc *Scenario) Exclusive() bool {
	for _, l := range sc.Lines {
		switch l.Step.(type) {
		case *brokerConfigStep, restartBrokerStep:
			return true
		}
	}
	return false
}
