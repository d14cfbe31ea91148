package scenario

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/consumer"
	"github.com/offsetlab/offsetlab/internal/groups"
	"github.com/offsetlab/offsetlab/internal/producer"
	"github.com/offsetlab/offsetlab/internal/supervisor"
	"github.com/offsetlab/offsetlab/internal/timeline"
	"github.com/offsetlab/offsetlab/internal/tp"
	"github.com/offsetlab/offsetlab/internal/verify"
)

// Commands are what a story's processes run: start runs a consumer and
// produce a producer, each as this executable re-run under the command's
// name. An executable that runs stories hands them to supervisor.Dispatch
// first thing in its main or TestMain.
var Commands = map[string]supervisor.Command{"consumer": consumer.Run, "producer": producer.Run}

// Env is where scenarios run.
type Env struct {
	Conn config.Connection // the broker and registry, loaded
	// Embedded is set when the runner owns an embedded stack; scenarios
	// that restart the broker need it.
	Embedded Embedded
	// Results is the directory each scenario's ledgers and snapshots go
	// to, in a subdirectory named after it.
	Results string
	// Out receives the story as it happens.
	Out io.Writer
	// Wait bounds each wait verb unless it names its own bound.
	Wait time.Duration
	// RunID makes topic and group names unique to this run.
	RunID string
	// Timeline, when set, is the .html or .svg file each run is drawn to.
	Timeline string
	// Keep keeps a passing scenario's ledgers and snapshots too; a failing
	// one's are always kept.
	Keep bool
	// Consumer is $CONSUMER, the command line of the program under test
	// (scenarios run --consumer); stories that start it are skipped without.
	Consumer string
	// Budget is how long a story may spend waiting for session timeouts on
	// this cluster (see Scenario.SessionWaits); a story that would need
	// more is skipped, with that reason. 0: no limit.
	Budget time.Duration
	// Semantics is what `expect semantics` holds the consumers to:
	// at-least-once (the default), at-most-once or exactly-once.
	Semantics string
	// Protocol is the group protocol the story's consumers use unless a
	// start pins one: Classic (the default) or Consumer (KIP-848). Lines
	// written [classic] or [consumer] run only under theirs.
	Protocol string
	// Stats prints after each step how long it took and the runner's
	// memory (scenarios run --stats; make soak).
	Stats bool
}

// Semantics a consumer can be held to.
var Semantics = []string{"at-least-once", "at-most-once", "exactly-once"}

// EmbeddedBrokerConfigs are the broker configs the runner's embedded stack
// starts with: expired offsets are looked for every half second, so that
// offsets-expire need not wait Kafka's ten minutes, and KIP-848 sessions are
// short.
var EmbeddedBrokerConfigs = map[string]string{
	"offsets.retention.check.interval.ms": "500",
	// KIP-848 groups: the broker owns the session timeout (Kafka's default
	// is 45 s); 2 s keeps the new-protocol kill scenarios short.
	"group.consumer.session.timeout.ms":    "2000",
	"group.consumer.heartbeat.interval.ms": "500",
}

// FailedError says how many scenarios failed; the exit code is 1.
type FailedError struct{ Failed, Of int }

func (e *FailedError) Error() string {
	return fmt.Sprintf("%d of %d scenarios failed", e.Failed, e.Of)
}

// ExitCode is 1: a verification failed.
func (e *FailedError) ExitCode() int { return 1 }

// Embedded is what the runner can do to an embedded stack it owns.
type Embedded interface {
	RestartBroker() error
	// Cluster is the broker, for the faults a story injects.
	Cluster() *kfake.Cluster
}

// Result is what a scenario run found.
type Result struct {
	Name string `json:"name"`
	// Protocol is the group protocol the story ran under; "" for a story
	// whose consumers are all programs under test (their protocol is theirs).
	Protocol string `json:"protocol,omitempty"`
	File     string `json:"file,omitempty"`
	// Group is the run's $GROUP; the rows name each group they are for.
	Group   string `json:"group"`
	Claim   string `json:"claim"`
	Passed  bool   `json:"passed"`
	Skipped string `json:"skipped,omitempty"`
	// Interrupted is set when SIGINT or SIGTERM ended the run: neither a
	// pass nor a verdict.
	Interrupted bool          `json:"interrupted,omitempty"`
	Error       string        `json:"error,omitempty"`
	Duration    time.Duration `json:"duration_ns"`
	Rows        []Row         `json:"partitions"`
	// KillToResume are the times from a kill to the first record processed
	// after it by the consumer a resume or takeover check looked at.
	KillToResume []time.Duration `json:"kill_to_resume_ns,omitempty"`
	Dir          string          `json:"results_dir,omitempty"`
	// Checks are the verdicts of the story's expect lines, in order.
	Checks []Verdict `json:"checks"`
	// Figures are the run's measured answers by name (see figures).
	Figures map[string]int64 `json:"figures"`
	Marks   []timeline.Mark  `json:"marks"`
	err     error
}

// Verdict is what one expect line found.
type Verdict struct {
	Line   int    `json:"line"`
	Check  string `json:"check"`
	Passed bool   `json:"passed"`
	Error  string `json:"error,omitempty"`
}

// ID names the run where two runs of one story must not meet: its results
// directory, and its $TOPIC and $GROUP. A KIP-848 run's ends in -kip848.
func (res *Result) ID() string { return ID(res.Name, res.Protocol) }

// ID is the ID of story name's run under protocol (see Result.ID).
func ID(name, protocol string) string {
	if protocol == Consumer {
		return name + "-kip848"
	}
	return name
}

// Title is the story's name and the group protocol it ran under, for
// reports, test names and timelines: "auto-commit-kill [consumer]".
func (res *Result) Title() string {
	if res.Protocol == "" {
		return res.Name
	}
	return res.Name + " [" + res.Protocol + "]"
}

// Err is the failure, typed, for errors.As.
func (r *Result) Err() error { return r.err }

// run is the state of one scenario run.
type run struct {
	ctx      context.Context
	protocol string // the group protocol of starts that pin none
	env      Env
	sc       *Scenario
	dir      string
	vars     map[string]string
	sup      *supervisor.Supervisor
	admin    *groups.Admin
	out      io.Writer
	res      *Result

	limits    Limits // the cluster's group settings
	snapshots map[string]*snapshot
	acked     map[string]string     // producer name -> its acked ledger
	ledgers   map[string][]string   // consumer name -> ledger of each run
	starts    map[string]*startStep // consumer name -> how it was last started
	groups    map[string]string     // consumer name -> its group
	programs  map[string]*program   // consumer name -> its latest run, if a program under test
	props     string                // $OFFSETLAB_CONFIG for programs, once written
	closers   []func() error        // what to close and remove when the story ends
	producers int
	acks      ackedRead // the producers' acked ledgers as this step read them
	rows      map[rowKey]*Row
	// committed is each group's committed offsets at the last accounting.
	committed map[string]verify.Offsets
	accounted struct { // the last accounting, and what it read (see accounting)
		inputs string
		acc    *verify.Accounting
	}
	killedAt time.Time // when the last kill happened
	// brokerConfigs are the broker configs broker-config changed, with the
	// value each had before (""; none), put back at the end.
	brokerConfigs map[string]string
	// faults are the faults the story set, by name; healed when it ends.
	faults map[string]*kfake.FaultHandle
}

// Run runs one scenario and reports what it found. It never panics on a
// failed check: the failure is in the Result. When a step fails, every
// process the story started is killed at once, before the accounting.
func Run(ctx context.Context, sc *Scenario, env Env) *Result {
	start := time.Now()
	protocol := cmp.Or(env.Protocol, Classic)
	protocols, notHere := sc.Protocols()
	res := &Result{Name: sc.Name, File: sc.File, Claim: sc.Claim}
	if len(protocols) > 0 {
		res.Protocol = protocol
	}
	defer func() { res.Duration = time.Since(start) }()
	switch {
	case len(protocols) > 0 && !slices.Contains(protocols, protocol):
		res.Skipped = fmt.Sprintf("does not apply to the %s group protocol: %s", protocol, notHere)
	case sc.Embedded && env.Embedded == nil:
		res.Skipped = "needs the embedded stack (it restarts the broker, injects faults through its Fault API, or changes a config Kafka cannot change at run time); on a real cluster run it by hand"
	case sc.NeedsConsumer && env.Consumer == "":
		res.Skipped = "tests the program `scenarios run --consumer 'COMMAND'` names, and none was named"
	}
	if res.Skipped != "" {
		res.Passed = true
		return res
	}
	dir, err := filepath.Abs(filepath.Join(env.Results, res.ID()))
	if err != nil {
		res.fail(ctx, err)
		return res
	}
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		res.fail(ctx, fmt.Errorf("unable to create the results directory: %w", err))
		return res
	}
	res.Dir = dir
	for _, f := range sc.Files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			res.fail(ctx, err)
			return res
		}
	}
	name := res.ID() + "-" + env.RunID
	res.Group = name
	r := &run{ctx: ctx, env: env, sc: sc, dir: dir, out: env.Out, res: res, protocol: protocol,
		vars:      map[string]string{"TOPIC": name, "GROUP": name, "DIR": dir, "CONSUMER": env.Consumer},
		snapshots: map[string]*snapshot{}, acked: map[string]string{}, ledgers: map[string][]string{},
		starts: map[string]*startStep{}, groups: map[string]string{}, programs: map[string]*program{}, rows: map[rowKey]*Row{}, faults: map[string]*kfake.FaultHandle{}, brokerConfigs: map[string]string{}}
	r.sup, err = supervisor.New(dir, []string{
		"OFFSETLAB_BOOTSTRAP=" + env.Conn.Bootstrap, "OFFSETLAB_REGISTRY=" + env.Conn.Registry, "OFFSETLAB_CONFIG=" + env.Conn.File,
	}, prefixed{env.Out})
	if err != nil {
		res.fail(ctx, err)
		return res
	}
	defer func() {
		for _, c := range r.closers {
			_ = c()
		}
	}()
	defer r.sup.Close()
	defer r.healAll()
	if r.admin, err = groups.Open(ctx, &env.Conn); err != nil {
		res.fail(ctx, err)
		return res
	}
	defer func() {
		r.restoreBrokerConfigs()
		r.admin.Close()
	}()
	if r.limits, err = ReadLimits(ctx, r.admin); err != nil {
		res.fail(ctx, fmt.Errorf("unable to read the cluster's group settings: %w", err))
		return res
	}
	r.limits.Protocol = protocol
	maps.Copy(r.vars, r.limits.vars())
	if waits := sc.SessionWaits(r.limits); env.Budget > 0 && waits > env.Budget {
		res.Skipped = fmt.Sprintf("on this cluster (%s) its kills wait %s for session timeouts, more than --budget %s", r.limits, waits, env.Budget)
		res.Passed, res.Dir = true, ""
		_ = os.RemoveAll(dir)
		return res
	}

	fmt.Fprintf(r.out, "=== %s\n    %s\n", res.Title(), sc.Claim)
	for _, l := range sc.Lines {
		if l.Protocol != "" && l.Protocol != protocol {
			continue // a [classic] or [consumer] line of the other protocol
		}
		if l.Comment {
			fmt.Fprintf(r.out, "    # %s\n", l.Text)
			continue
		}
		fmt.Fprintf(r.out, "  > %s\n", r.expand(l.Text))
		r.acks = ackedRead{}
		began := time.Now()
		err := l.Step.run(r)
		r.stats(l.Args[0], began)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		if err == nil {
			err = r.programFailure()
		}
		// A check that fails is a verdict, not the end of the story: the
		// checks after it still run, as a test goes on after t.Error.
		if _, ok := l.Step.(*expectStep); ok && ctx.Err() == nil {
			v := Verdict{Line: l.N, Check: r.expand(l.Text), Passed: err == nil}
			if err != nil {
				v.Error = err.Error()
				fmt.Fprintf(r.out, "    FAIL: %v\n", err)
				if res.err == nil {
					res.fail(ctx, fmt.Errorf("%s:%d: %s: %w", sc.File, l.N, l.Args[0], err))
				}
			}
			res.Checks = append(res.Checks, v)
			continue
		}
		if err != nil {
			// Stop every process now: a failed story ends within seconds,
			// whatever it had running.
			r.sup.Close()
			res.fail(ctx, fmt.Errorf("%s:%d: %s: %w", sc.File, l.N, l.Args[0], err))
			break
		}
	}
	r.acks = ackedRead{}
	if !res.Interrupted {
		began := time.Now()
		r.account(res)
		r.stats("the table's accounting", began)
	}
	if env.Timeline != "" && !res.Interrupted {
		if err := r.timeline(); err != nil {
			fmt.Fprintf(r.out, "    unable to draw the timeline: %v\n", err)
		} else {
			fmt.Fprintf(r.out, "    timeline: %s\n", env.Timeline)
		}
	}
	if res.err == nil && !res.Interrupted {
		res.Passed = true
		// A passing scenario's ledgers are not kept unless asked; a failing
		// one's always are.
		if !env.Keep {
			_ = os.RemoveAll(dir)
			res.Dir = ""
		}
	}
	return res
}

// account fills the table and the figures in at the end of a run.
func (r *run) account(res *Result) {
	acc, err := r.accounting()
	if err != nil {
		fmt.Fprintf(r.out, "    unable to account for the records: %v\n", err)
		return
	}
	res.Rows = r.table(acc)
	res.Figures = r.figures(acc)
}

func (res *Result) fail(ctx context.Context, err error) {
	res.err = err
	res.Error = err.Error()
	res.Passed = false
	// Whatever a step says once SIGINT or SIGTERM ended the run, it was
	// interrupted, not refuted.
	res.Interrupted = ctx.Err() != nil
}

// expand replaces the story's variables with this run's values; a
// program's own variables ($OFFSETLAB_*) are left for its start.
func (r *run) expand(s string) string {
	return os.Expand(s, func(k string) string {
		if v, ok := r.vars[k]; ok {
			return v
		}
		return "$" + k
	})
}

func (r *run) expandAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = r.expand(a)
	}
	return out
}

// topicOf is the topic consumer name reads: its --topic, or $TOPIC.
func (r *run) topicOf(name string) string {
	if s, ok := r.starts[name]; ok {
		if t := flagValue(s.flags, "topic"); t != "" {
			return r.expand(strings.Split(t, ",")[0])
		}
	}
	return r.vars["TOPIC"]
}

// prefixed indents the children's output under the story.
type prefixed struct{ w io.Writer }

func (p prefixed) Write(b []byte) (int, error) {
	_, err := p.w.Write(append([]byte("    "), b...))
	return len(b), err
}

// rowKey identifies a row of the table: a group's partition.
type rowKey struct {
	group string
	tp    tp.TP
}

func (r *run) row(group string, t tp.TP) *Row {
	k := rowKey{group, t}
	row, ok := r.rows[k]
	if !ok {
		row = &Row{Group: group, Partition: t.String(), Verdict: "ok"}
		r.rows[k] = row
	}
	return row
}
