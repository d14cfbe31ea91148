package scenario

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/offsetlab/offsetlab/internal/consumer"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/timeline"
)

func init() {
	register(verb{"start", "start NAME [consumer flags] | start NAME --exec 'COMMAND ARGS...' [--observe lines|output|broker] [--group G]: start consumer process NAME in $GROUP on $TOPIC, offsetlab's own or any program under test (a second start is a restart)", parseStart})
	register(verb{"kill", "kill NAME: SIGKILL, no commit, no leaving the group", parseSignal(sigKill)})
	register(verb{"stop", "stop NAME: SIGTERM, a clean close (final commit; a dynamic member leaves the group, a static one does not)", parseSignal(syscall.SIGTERM)})
	register(verb{"positions", "positions NAME: ask consumer NAME (SIGUSR1) for Position() and Committed() of its partitions, and wait for the answer in its ledger", parsePositions})
}

// startStep starts (or restarts) a consumer. Defaults suit kill -9
// scenarios: a 1 s session timeout and 100 ms heartbeats, so a dead member
// is noticed in about a second; flags given in the script come after, and
// win.
type startStep struct {
	name  string
	flags []string
	group string     // --group from the flags, unexpanded; "" for $GROUP
	exec  *execFlags // a program under test; nil for offsetlab's consumer
}

func parseStart(p *parser, args []string) (step, error) {
	if len(args) < 1 {
		return nil, badUsage("missing the consumer's name")
	}
	name := args[0]
	if p.producers[name] {
		return nil, fmt.Errorf("%q is the name of a producer", name)
	}
	st := &startStep{name: name, flags: args[1:], group: flagValue(args[1:], "group")}
	if flagValue(st.flags, "exec") != "" || slices.ContainsFunc(st.flags, func(f string) bool { return strings.TrimLeft(f, "-") == "exec" }) {
		var err error
		if st.exec, err = parseExecFlags(st.flags); err != nil {
			return nil, err
		}
		p.consumers[name]++
		p.observed[name] = st.exec.observe
		return st, nil
	}
	// The flags are checked as the consumer will get them under each group
	// protocol the line can run under.
	protocols := Protocols
	if p.protocol != "" {
		protocols = []string{p.protocol}
	}
	for i, protocol := range protocols {
		check := append([]string{"--group", "group", "--topic", "topic", "--name", name, "--quiet", "--ledger", "ledger.jsonl"}, placeholders(st.defaults(placeholderLimits, protocol))...)
		err := consumer.Check(check)
		switch {
		case err == nil:
		case i == 0:
			return nil, fmt.Errorf("consumer flags: %v", err)
		default: // flags fine under one protocol, not under this one
			return nil, fmt.Errorf("consumer flags, when the story runs under --protocol %s: %v (write the line [classic] or [consumer] to run it under one protocol only)", protocol, err)
		}
	}
	p.consumers[name]++
	p.observed[name] = ""
	return st, nil
}

// defaults are the flags the runner adds before the story's own: the group
// protocol the story runs under, unless the line pins one, and for the
// classic protocol the shortest session timeout the cluster allows, from a
// second up, so a dead member is noticed soon (under KIP-848 the broker owns
// the timeouts). A story's consumer waits for its topic: a background
// producer may not have created it yet.
func (s *startStep) defaults(l Limits, protocol string) []string {
	flags := []string{"--wait-for-topic"}
	if pinned := flagValue(s.flags, "protocol"); pinned != "" {
		protocol = pinned
	} else {
		flags = append(flags, "--protocol", protocol)
	}
	if protocol == Classic {
		flags = append(flags, "--session-timeout", l.Session().String(), "--heartbeat-interval", l.Heartbeat().String())
	}
	return append(flags, s.flags...)
}

// flagValue is the value of --name (or -name, --name=v) in flags; "" if absent.
func flagValue(flags []string, name string) string {
	v := ""
	for i, f := range flags {
		f = strings.TrimLeft(f, "-")
		if k, val, ok := strings.Cut(f, "="); ok && k == name {
			v = val
		} else if f == name && i+1 < len(flags) {
			v = flags[i+1]
		}
	}
	return v
}

func (s *startStep) run(r *run) error {
	path := filepath.Join(r.dir, fmt.Sprintf("%s.%d.ledger", s.name, len(r.ledgers[s.name])+1))
	r.groups[s.name] = r.vars["GROUP"]
	if s.group != "" {
		r.groups[s.name] = r.expand(s.group)
	} else if s.exec != nil && s.exec.group != "" {
		r.groups[s.name] = r.expand(s.exec.group)
	}
	if s.exec != nil {
		if err := r.startProgram(s, path); err != nil {
			return err
		}
	} else {
		delete(r.programs, s.name)
		full := append([]string{"--group", r.vars["GROUP"], "--topic", r.vars["TOPIC"], "--name", s.name, "--quiet", "--ledger", path}, r.expandAll(s.defaults(r.limits, r.protocol))...)
		if _, err := r.sup.Start(s.name, "consumer", full); err != nil {
			return err
		}
	}
	r.starts[s.name] = s
	r.mark(timeline.MarkStart, fmt.Sprintf("%s#%d", s.name, len(r.ledgers[s.name])+1))
	r.ledgers[s.name] = append(r.ledgers[s.name], path)
	return nil
}

const sigKill = syscall.SIGKILL

// signalStep kills (SIGKILL) or stops (SIGTERM) a process.
type signalStep struct {
	name string
	sig  syscall.Signal
}

func parseSignal(sig syscall.Signal) func(p *parser, args []string) (step, error) {
	return func(p *parser, args []string) (step, error) {
		if len(args) != 1 {
			return nil, badUsage("takes one process name")
		}
		if err := p.process(args[0]); err != nil {
			return nil, err
		}
		return &signalStep{name: args[0], sig: sig}, nil
	}
}

// signalBound is how long a killed or stopped process may take to exit.
const signalBound = 30 * time.Second

func (s *signalStep) run(r *run) error {
	ctx, cancel := context.WithTimeout(r.ctx, signalBound)
	defer cancel()
	if s.sig == syscall.SIGKILL {
		p, err := r.sup.Kill(ctx, s.name)
		if err != nil {
			return err
		}
		r.killedAt = p.Exited()
		r.res.Marks = append(r.res.Marks, timeline.Mark{At: p.Exited(), Kind: timeline.MarkKill, Name: fmt.Sprintf("%s#%d", p.Name, p.Run)})
		return nil
	}
	p, err := r.sup.Stop(ctx, s.name)
	if err != nil {
		return err
	}
	if prog, ok := r.programs[s.name]; ok && p.ExitCode() == 0 {
		_ = prog.w.Write(ledger.Event{Type: ledger.Stopped})
	}
	r.res.Marks = append(r.res.Marks, timeline.Mark{At: p.Exited(), Kind: timeline.MarkStop, Name: fmt.Sprintf("%s#%d", p.Name, p.Run)})
	if p.ExitCode() != 0 {
		return fmt.Errorf("%s did not close cleanly: exit code %d", s.name, p.ExitCode())
	}
	return nil
}

// positionsStep asks a consumer for Position() and Committed() and waits
// for the answer in its ledger.
type positionsStep struct{ name string }

// positionsBound is how long a consumer may take to answer SIGUSR1.
const positionsBound = 10 * time.Second

func parsePositions(p *parser, args []string) (step, error) {
	if len(args) != 1 {
		return nil, badUsage("takes one consumer name")
	}
	if err := p.own(args[0], "positions"); err != nil {
		return nil, err
	}
	return &positionsStep{name: args[0]}, nil
}

func (s *positionsStep) run(r *run) error {
	events, err := r.events(s.name)
	if err != nil {
		return err
	}
	before := countType(events, ledger.Snapshot)
	if err := r.sup.Signal(s.name, syscall.SIGUSR1); err != nil {
		return err
	}
	return r.waitFor(s.name, &countCond{what: "snapshots", n: before + 1}, positionsBound)
}

// scan streams the ledger of a consumer's latest run through fn, keeping
// none of it (a soak's ledgers hold millions of events), with events'
// errors: a ledger not written yet is empty.
func (r *run) scan(name string, fn func(ledger.Event)) error {
	paths := r.ledgers[name]
	if len(paths) == 0 {
		return fmt.Errorf("no consumer named %s was started", name)
	}
	read := 0
	err := ledger.Scan(paths[len(paths)-1], func(_ int, e ledger.Event) error {
		read++
		fn(e)
		return nil
	})
	if err != nil && read == 0 {
		return nil // not written yet
	}
	return err
}

// events reads the ledger of a consumer's latest run, summarized
// (verify.ReadSummary): every event but the bulk of its records. A ledger
// not written yet has none.
func (r *run) events(name string) ([]ledger.Event, error) {
	inc, err := r.incarnation(name, 0)
	if err != nil && len(inc.Events) == 0 && len(r.ledgers[name]) > 0 {
		return nil, nil // not written yet
	}
	return inc.Events, err
}
