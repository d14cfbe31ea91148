package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/groups"
	"github.com/offsetlab/offsetlab/internal/supervisor"
	"github.com/offsetlab/offsetlab/internal/timeline"
)

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
}

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
}

// Result is what a scenario run found.
type Result struct {
	Name     string        `json:"name"`
	Claim    string        `json:"claim"`
	Passed   bool          `json:"passed"`
	Skipped  string        `json:"skipped,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	Rows     []Row         `json:"partitions"`
	// KillToResume are the times from a kill to the first record processed
	// after it by the consumer a resume or takeover check looked at.
	KillToResume []time.Duration `json:"kill_to_resume_ns,omitempty"`
	Dir          string          `json:"results_dir,omitempty"`
	// Figures are the run's measured answers by name (see figures).
	Figures map[string]int64 `json:"figures"`
	Marks   []timeline.Mark  `json:"marks"`
	err     error
}

// Err is the failure, typed, for errors.As.
func (r *Result) Err() error { return r.err }

// run is the state of one scenario run.
type run struct {
	ctx   context.Context
	env   Env
	sc    *Scenario
	dir   string
	vars  map[string]string
	sup   *supervisor.Supervisor
	admin *groups.Admin
	out   io.Writer
	res   *Result

	snapshots map[string]*snapshot
	acked     []string            // producer ledgers
	ledgers   map[string][]string // consumer name -> ledger of each run
	startArgs map[string][]string // consumer name -> the flags it was last started with
	producers int
	rows      map[string]*Row // by partition name, for the table
	killedAt  time.Time       // when the last kill happened
	// brokerConfigs are the overrides broker-config set, removed at the end.
	brokerConfigs []string
}

// Run runs one scenario and reports what it found. It never panics on a
// failed check: the failure is in the Result.
func Run(ctx context.Context, sc *Scenario, env Env) *Result {
	start := time.Now()
	res := &Result{Name: sc.Name, Claim: sc.Claim}
	defer func() { res.Duration = time.Since(start) }()
	if req := sc.Requires(); req == "embedded" && env.Embedded == nil {
		res.Skipped = "needs the embedded stack (it restarts the broker or reads its internals); on a real cluster run it by hand"
		res.Passed = true
		return res
	}
	dir, err := filepath.Abs(filepath.Join(env.Results, sc.Name))
	if err != nil {
		res.fail(err)
		return res
	}
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		res.fail(fmt.Errorf("unable to create the results directory: %w", err))
		return res
	}
	res.Dir = dir
	for _, f := range sc.Files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			res.fail(err)
			return res
		}
	}
	name := sc.Name + "-" + env.RunID
	r := &run{ctx: ctx, env: env, sc: sc, dir: dir, out: env.Out, res: res,
		vars:      map[string]string{"TOPIC": name, "GROUP": name, "DIR": dir},
		snapshots: map[string]*snapshot{}, ledgers: map[string][]string{}, startArgs: map[string][]string{}, rows: map[string]*Row{}}
	r.sup, err = supervisor.New(dir, []string{
		"OFFSETLAB_BOOTSTRAP=" + env.Conn.Bootstrap, "OFFSETLAB_REGISTRY=" + env.Conn.Registry, "OFFSETLAB_CONFIG=" + env.Conn.File,
	}, prefixed{env.Out})
	if err != nil {
		res.fail(err)
		return res
	}
	defer r.sup.Close()
	if r.admin, err = groups.Open(ctx, &env.Conn); err != nil {
		res.fail(err)
		return res
	}
	defer func() {
		r.restoreBrokerConfigs()
		r.admin.Close()
	}()

	fmt.Fprintf(r.out, "=== %s\n    %s\n", sc.Name, sc.Claim)
	for _, l := range sc.Lines {
		if l.Comment {
			fmt.Fprintf(r.out, "    # %s\n", l.Text)
			continue
		}
		args := make([]string, len(l.Args))
		for i, a := range l.Args {
			args[i] = os.Expand(a, func(k string) string { return r.vars[k] })
		}
		fmt.Fprintf(r.out, "  > %s\n", strings.Join(args, " "))
		if err := verbs[args[0]].fn(r, args[1:]); err != nil {
			res.fail(fmt.Errorf("line %d: %s: %w", l.N, args[0], err))
			break
		}
		if ctx.Err() != nil {
			res.fail(ctx.Err())
			break
		}
	}
	res.Rows = r.table()
	res.Figures = r.figures()
	if env.Timeline != "" {
		if err := r.timeline(); err != nil {
			fmt.Fprintf(r.out, "    unable to draw the timeline: %v\n", err)
		} else {
			fmt.Fprintf(r.out, "    timeline: %s\n", env.Timeline)
		}
	}
	if res.err == nil {
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

func (res *Result) fail(err error) {
	res.err = err
	res.Error = err.Error()
	res.Passed = false
}

// prefixed indents the children's output under the story.
type prefixed struct{ w io.Writer }

func (p prefixed) Write(b []byte) (int, error) {
	_, err := p.w.Write(append([]byte("    "), b...))
	return len(b), err
}

// usageError is a verb used wrongly: a mistake in the script.
type usageError struct{ usage string }

func (e *usageError) Error() string { return "usage: " + e.usage }

func usage(verb string) error { return &usageError{usage: verbs[verb].usage} }

// IsScriptError reports whether err is a mistake in a script rather than a
// failed check.
func IsScriptError(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}
