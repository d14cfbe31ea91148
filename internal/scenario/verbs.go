package scenario

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/supervisor"
	"github.com/offsetlab/offsetlab/internal/timeline"
	"github.com/offsetlab/offsetlab/internal/verify"
)

// verb is one script command.
type verb struct {
	usage string
	fn    func(r *run, args []string) error
}

// verbs is the scenario language. Each verb's usage is its documentation.
var verbs map[string]verb

func init() {
	verbs = map[string]verb{
		"produce":        {"produce N [producer flags]: write N records to $TOPIC and wait for every acknowledgement", (*run).produce},
		"produce-bg":     {"produce-bg NAME N [producer flags]: start a producer process named NAME writing N records", (*run).produceBackground},
		"start":          {"start NAME [consumer flags]: start consumer process NAME in $GROUP on $TOPIC (a second start is a restart)", (*run).start},
		"wait":           {"wait NAME processed|consumed|committed|assigned|fetching N | fetching-at PARTITION OFFSET | exit [CODE] [within DURATION]", (*run).wait},
		"kill":           {"kill NAME: SIGKILL, no commit, no leaving the group", (*run).kill},
		"stop":           {"stop NAME: SIGTERM, a clean close (final commit, leave the group)", (*run).stop},
		"positions":      {"positions NAME: ask consumer NAME (SIGUSR1) for Position() and Committed() of its partitions, and wait for the answer in its ledger", (*run).positions},
		"chaos":          {"chaos ROUNDS SEED NAME...: kill -9 a seeded random one of NAME... at a random moment, restart it with its flags and check it resumed at the committed offsets, ROUNDS times", (*run).chaos},
		"sleep":          {"sleep DURATION: let time pass (a session timeout, an auto-commit interval); never an assertion", (*run).sleep},
		"snapshot":       {"snapshot LABEL [GROUP]: read the committed offsets of $GROUP (or GROUP) and $TOPIC's log bounds from the broker", (*run).snapshot},
		"delete-records": {"delete-records BEFORE: delete the records below offset BEFORE on every partition of $TOPIC, as retention would", (*run).deleteRecords},
		"broker-config":  {"broker-config NAME VALUE: set a dynamic broker config until the scenario ends (embedded: offset.retention.ms, ...)", (*run).brokerConfig},
		"reset-offsets":  {"reset-offsets to-earliest|to-latest|to-offset N: move $GROUP's committed offsets on $TOPIC, as `offsets reset --execute` does (the group must be empty)", (*run).resetOffsets},
		"restart-broker": {"restart-broker: stop the embedded broker and start it again from its data directory", (*run).restartBroker},
		"require":        {"require embedded: the scenario needs the embedded stack", func(*run, []string) error { return nil }},
		"expect":         {"expect CHECK ...: see `scenarios explain` for the checks", (*run).expect},
	}
}

func verbNames() string {
	names := make([]string, 0, len(verbs))
	for n := range verbs {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Usage lists every verb and check, for `scenarios explain`.
func Usage() string {
	var b strings.Builder
	names := strings.Split(verbNames(), ", ")
	for _, n := range names {
		fmt.Fprintf(&b, "  %s\n", verbs[n].usage)
	}
	b.WriteString("\nChecks (expect ...):\n")
	for _, n := range checkNames() {
		fmt.Fprintf(&b, "  expect %s\n", checks[n].usage)
	}
	return b.String()
}

func (r *run) produce(args []string) error {
	if len(args) < 1 {
		return usage("produce")
	}
	r.producers++
	p, err := r.startProducer(fmt.Sprintf("producer%d", r.producers), args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.ctx, 2*time.Minute)
	defer cancel()
	if err := r.sup.Wait(ctx, p); err != nil {
		return fmt.Errorf("waited 2m for the producer to finish: %w", err)
	}
	if p.ExitCode() != 0 {
		return fmt.Errorf("the producer exited with code %d", p.ExitCode())
	}
	return nil
}

func (r *run) produceBackground(args []string) error {
	if len(args) < 2 {
		return usage("produce-bg")
	}
	_, err := r.startProducer(args[0], args[1:])
	return err
}

func (r *run) startProducer(name string, args []string) (*supervisor.Proc, error) {
	if _, err := strconv.ParseInt(args[0], 10, 64); err != nil {
		return nil, fmt.Errorf("%q is not a record count", args[0])
	}
	path := filepath.Join(r.dir, name+".jsonl")
	r.acked = append(r.acked, path)
	full := append([]string{"--topic", r.vars["TOPIC"], "--count", args[0], "--ledger", path, "--progress=false"}, args[1:]...)
	return r.sup.Start(name, "producer", full)
}

// start runs a consumer. Defaults suit kill -9 scenarios: a 1 s session
// timeout and 100 ms heartbeats, so a dead member is noticed in about a
// second; flags given in the script come after, and win.
func (r *run) start(args []string) error {
	if len(args) < 1 {
		return usage("start")
	}
	name := args[0]
	path := filepath.Join(r.dir, fmt.Sprintf("%s.%d.jsonl", name, len(r.ledgers[name])+1))
	full := []string{"--group", r.vars["GROUP"], "--topic", r.vars["TOPIC"], "--name", name, "--quiet", "--ledger", path}
	if !slices.Contains(args, "consumer") { // --protocol consumer: the broker owns the timeouts
		full = append(full, "--session-timeout", "1s", "--heartbeat-interval", "100ms")
	}
	full = append(full, args[1:]...)
	if _, err := r.sup.Start(name, "consumer", full); err != nil {
		return err
	}
	r.startArgs[name] = args[1:]
	r.mark(timeline.MarkStart, fmt.Sprintf("%s#%d", name, len(r.ledgers[name])+1))
	r.ledgers[name] = append(r.ledgers[name], path)
	return nil
}

// events reads the ledger of a consumer's latest run.
func (r *run) events(name string) ([]ledger.Event, error) {
	paths := r.ledgers[name]
	if len(paths) == 0 {
		return nil, fmt.Errorf("no consumer named %s was started", name)
	}
	events, err := ledger.Read(paths[len(paths)-1])
	if err != nil && len(events) == 0 {
		return nil, nil // not written yet
	}
	return events, err
}

// wait polls until a condition on a process or its ledger holds.
func (r *run) wait(args []string) error {
	if len(args) < 2 {
		return usage("wait")
	}
	name, what := args[0], args[1]
	bound := r.env.Wait
	if i := slices.Index(args, "within"); i >= 0 && i+1 < len(args) {
		d, err := time.ParseDuration(args[i+1])
		if err != nil {
			return fmt.Errorf("within %q: %v", args[i+1], err)
		}
		bound, args = d, args[:i]
	}
	if what == "fetching-at" {
		return r.waitFetchingAt(name, args[2:], bound)
	}
	var n int64
	if what != "exit" {
		if len(args) != 3 {
			return usage("wait")
		}
		var err error
		if n, err = strconv.ParseInt(args[2], 10, 64); err != nil {
			return fmt.Errorf("%q is not a count", args[2])
		}
	}
	ctx, cancel := context.WithTimeout(r.ctx, bound)
	defer cancel()
	if what == "exit" {
		p, err := r.sup.Get(name)
		if err != nil {
			return err
		}
		if err := r.sup.Wait(ctx, p); err != nil {
			return fmt.Errorf("waited %s: %w", bound, err)
		}
		if len(args) == 3 && args[2] != strconv.Itoa(p.ExitCode()) {
			return fmt.Errorf("%s exited with code %d, want %s", name, p.ExitCode(), args[2])
		}
		return nil
	}
	count, ok := counters[what]
	if !ok {
		return fmt.Errorf("cannot wait for %q (accepted: processed, consumed, committed, assigned, fetching, exit)", what)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	seen := int64(0)
	for {
		events, err := r.events(name)
		if err != nil {
			return err
		}
		if seen = count(events); seen >= n {
			return nil
		}
		if p, err := r.sup.Get(name); err == nil && !p.Running() {
			return fmt.Errorf("%s exited (code %d) with %s at %d, waiting for %d", name, p.ExitCode(), what, seen, n)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waited %s for %s %s >= %d; it is at %d", bound, name, what, n, seen)
		case <-tick.C:
		}
	}
}

// counters measure a consumer's ledger for wait.
var counters = map[string]func([]ledger.Event) int64{
	"processed": typeCount(ledger.Processed),
	"consumed":  typeCount(ledger.Consumed),
	"fetching":  typeCount(ledger.Fetching),
	"snapshots": typeCount(ledger.Snapshot),
	"committed": func(events []ledger.Event) int64 {
		n := int64(0)
		for _, e := range events {
			if e.Type == ledger.Committed && e.Error == "" && len(e.Partitions) > 0 {
				n++
			}
		}
		return n
	},
	"assigned": func(events []ledger.Event) int64 { return int64(len(assignment(events))) },
}

func typeCount(t string) func([]ledger.Event) int64 {
	return func(events []ledger.Event) int64 {
		n := int64(0)
		for _, e := range events {
			if e.Type == t {
				n++
			}
		}
		return n
	}
}

// assignment is the set of partitions a ledger says its consumer owns now.
func assignment(events []ledger.Event) map[string]bool {
	owned := map[string]bool{}
	for _, tp := range verify.Assignment(verify.Incarnation{Events: events}) {
		owned[tp.String()] = true
	}
	return owned
}

func (r *run) kill(args []string) error {
	if len(args) != 1 {
		return usage("kill")
	}
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	p, err := r.sup.Kill(ctx, args[0])
	if err != nil {
		return err
	}
	r.killedAt = p.Exited()
	r.res.Marks = append(r.res.Marks, timeline.Mark{At: p.Exited(), Kind: timeline.MarkKill, Name: fmt.Sprintf("%s#%d", p.Name, p.Run)})
	return nil
}

func (r *run) stop(args []string) error {
	if len(args) != 1 {
		return usage("stop")
	}
	ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
	defer cancel()
	p, err := r.sup.Stop(ctx, args[0])
	if err != nil {
		return err
	}
	r.res.Marks = append(r.res.Marks, timeline.Mark{At: p.Exited(), Kind: timeline.MarkStop, Name: fmt.Sprintf("%s#%d", p.Name, p.Run)})
	if p.ExitCode() != 0 {
		return fmt.Errorf("%s did not close cleanly: exit code %d", args[0], p.ExitCode())
	}
	return nil
}

func (r *run) sleep(args []string) error {
	if len(args) != 1 {
		return usage("sleep")
	}
	d, err := time.ParseDuration(args[0])
	if err != nil {
		return err
	}
	select {
	case <-time.After(d):
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

func (r *run) positions(args []string) error {
	if len(args) != 1 {
		return usage("positions")
	}
	events, err := r.events(args[0])
	if err != nil {
		return err
	}
	before := typeCount(ledger.Snapshot)(events)
	if err := r.sup.Signal(args[0], syscall.SIGUSR1); err != nil {
		return err
	}
	return r.wait([]string{args[0], "snapshots", strconv.FormatInt(before+1, 10), "within", "10s"})
}

// waitFetchingAt waits until NAME's fetcher is active on a partition at or
// past an offset: where a reset policy (latest, say) has been resolved, so
// that a record produced now is one produced "after it joined".
func (r *run) waitFetchingAt(name string, args []string, bound time.Duration) error {
	if len(args) != 2 {
		return usage("wait")
	}
	partition, err1 := strconv.ParseInt(args[0], 10, 32)
	offset, err2 := strconv.ParseInt(args[1], 10, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("fetching-at takes a partition and an offset, got %q %q", args[0], args[1])
	}
	ctx, cancel := context.WithTimeout(r.ctx, bound)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		events, err := r.events(name)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.Type == ledger.Fetching && int64(e.Partitions[0].Partition) == partition && e.Partitions[0].Offset >= offset {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waited %s for %s to fetch partition %d at or past %d", bound, name, partition, offset)
		case <-tick.C:
		}
	}
}
