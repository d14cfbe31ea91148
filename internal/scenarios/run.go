package scenarios

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/out"
	"github.com/offsetlab/offsetlab/internal/scenario"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/timeline"
	"github.com/offsetlab/offsetlab/internal/workshop"
)

// runFlags are the flags of run and exercise.
type runFlags struct {
	env      scenario.Env
	format   string
	junit    string
	drawTo   string
	parallel int
	protocol string // classic, consumer or both (run only)
}

func (f *runFlags) register(fs *flag.FlagSet) {
	f.env.Conn.RegisterFlags(fs)
	fs.StringVar(&f.env.Results, "results", "results", "keep a failed scenario's ledgers and snapshots under `DIR`")
	fs.DurationVar(&f.env.Wait, "wait", 30*time.Second, "bound of each wait verb that names none (plus the cluster's longest session timeout)")
	fs.DurationVar(&f.env.Budget, "budget", 2*time.Minute, "skip a story whose kills would wait longer than this for session timeouts on this cluster (0: no limit)")
}

// check refuses flag values that cannot work, as usage errors.
func (f *runFlags) check() error {
	if f.env.Wait <= 0 {
		return cli.Usagef("--wait must be a positive duration, got %s", f.env.Wait)
	}
	if f.parallel < 1 {
		return cli.Usagef("--parallel must be 1 or more, got %d", f.parallel)
	}
	if err := out.CheckFormat(f.format); err != nil {
		return err
	}
	if f.drawTo != "" {
		if err := timeline.CheckPath(f.drawTo); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(f.env.Results, 0o755); err != nil {
		return cli.Usagef("--results: %v", err)
	}
	return nil
}

func runStories(ctx context.Context, catalog []*scenario.Scenario, args []string, stdout, stderr io.Writer) error {
	f := runFlags{format: out.Text}
	fs := flag.NewFlagSet("scenarios run", flag.ContinueOnError)
	f.register(fs)
	fs.StringVar(&f.format, "format", out.Text, "results: text or json")
	fs.StringVar(&f.junit, "junit", "", "also write JUnit XML results to `FILE`")
	fs.BoolVar(&f.env.Keep, "keep", false, "keep a passing scenario's ledgers and snapshots too")
	fs.BoolVar(&f.env.Stats, "stats", false, "after each step, print how long it took and the runner's memory (resident, peak, Go heap), and each accounting's records a second")
	fs.StringVar(&f.drawTo, "timeline", "", "draw each run to `FILE`.html or .svg (several scenarios: FILE-NAME.html)")
	fs.StringVar(&f.env.Consumer, "consumer", "", "test this program (`COMMAND ARGS...`): with no names, run the suite (scenarios list marks its stories) against it; $CONSUMER in a story")
	fs.StringVar(&f.env.Semantics, "semantics", scenario.Semantics[0], "what `expect semantics` holds consumers to: "+strings.Join(scenario.Semantics, ", "))
	fs.IntVar(&f.parallel, "parallel", defaultParallel(), "stories run at once (default: cores + 1), each on its own embedded stack (or its own topics and groups on a shared cluster)")
	fs.StringVar(&f.protocol, "protocol", "both", "group protocol of the stories' consumers: classic, consumer (KIP-848) or both (each story twice)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: scenarios run [NAME|FILE.txtar|DIR...] [flags]\n\nNames are stories of the catalog (scenarios list); files and directories hold\nstories of your own. Flags may come before, between or after them.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	names, err := cli.ParseInterleaved(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	if !slices.Contains(protocolChoices, f.protocol) {
		return cli.Usagef("--protocol %q is not a group protocol (accepted: %s)", f.protocol, strings.Join(protocolChoices, ", "))
	}
	if !slices.Contains(scenario.Semantics, f.env.Semantics) {
		return cli.Usagef("--semantics %q is not a delivery guarantee (accepted: %s)", f.env.Semantics, strings.Join(scenario.Semantics, ", "))
	}
	stories, err := resolve(catalog, names, f.env.Consumer)
	if err != nil {
		return err
	}
	var junit *os.File
	if f.junit != "" {
		if junit, err = os.Create(f.junit); err != nil {
			return cli.Usagef("--junit: %v", err)
		}
		defer junit.Close()
	}
	pool, err := newPool(ctx, &f.env, stderr)
	if err != nil {
		return err
	}
	defer pool.close()
	storyOut := stdout
	if f.format == out.JSON {
		storyOut = stderr
	}
	results := pool.run(ctx, jobs(stories, f.protocol), f, storyOut)
	failed, skipped, interrupted := 0, 0, false
	for _, res := range results {
		switch {
		case res.Interrupted:
			interrupted = true
		case !res.Passed:
			failed++
		case res.Skipped != "":
			skipped++
		}
	}
	if f.format == out.JSON {
		if err := out.WriteJSON(stdout, results); err != nil {
			return err
		}
	}
	if junit != nil {
		if err := scenario.JUnit(junit, results); err != nil {
			return err
		}
		if err := junit.Close(); err != nil {
			return err
		}
	}
	if interrupted || ctx.Err() != nil {
		fmt.Fprintf(stderr, "interrupted: %d passed, %d failed before the signal\n", len(results)-failed, failed)
		return context.Canceled
	}
	fmt.Fprintf(stderr, "%d passed, %d failed, %d skipped\n", len(results)-failed-skipped, failed, skipped)
	if failed > 0 {
		return &scenario.FailedError{Failed: failed, Of: len(results)}
	}
	return nil
}

// job is one run of a story: under one group protocol.
type job struct {
	sc       *scenario.Scenario
	protocol string
}

// protocolChoices are --protocol's values.
var protocolChoices = append(slices.Clone(scenario.Protocols), "both")

// jobs are the runs --protocol asks for. A story runs under each protocol
// chosen that it applies to; under one it does not apply to (its consumers
// pin the other), it is listed as skipped, with the reason. A story of
// programs under test only runs once: their group protocol is their own.
func jobs(stories []*scenario.Scenario, protocol string) []job {
	chosen := scenario.Protocols
	if protocol != "both" {
		chosen = []string{protocol}
	}
	var out []job
	for _, sc := range stories {
		applies, _ := sc.Protocols()
		if applies == nil {
			out = append(out, job{sc, ""})
			continue
		}
		for _, p := range chosen {
			out = append(out, job{sc, p})
		}
	}
	return out
}

// defaultParallel is --parallel's default: one story more than cores. A
// story spends most of its time waiting on session timeouts and process
// delays, not computing: measured on 2 cores, the catalog took 66-73 s with
// 2 at a time, 54-56 s with 3 and 51 s with 4, where chaos, the longest,
// stretched from 24 s to 40 s.
func defaultParallel() int { return runtime.NumCPU() + 1 }

// pool runs stories: on embedded stacks of its own, one per worker, or on
// the one cluster the flags name.
type pool struct {
	env   scenario.Env // connection settled, RunID set
	stack bool         // the runner owns its stacks
	mu    sync.Mutex
	stops []func()
	out   io.Writer
}

// newPool settles where stories run: the cluster the flags, the properties
// file or $OFFSETLAB_BOOTSTRAP name, checked within --timeout, or else
// embedded stacks the pool starts per worker.
func newPool(ctx context.Context, env *scenario.Env, stderr io.Writer) (*pool, error) {
	env.RunID = time.Now().Format("150405")
	external := env.Conn.Bootstrap != "" || env.Conn.File != "" || os.Getenv("OFFSETLAB_BOOTSTRAP") != ""
	if err := env.Conn.Load(); err != nil {
		return nil, err
	}
	p := &pool{env: *env, stack: !external, out: stderr}
	if external {
		if err := env.Conn.CheckBroker(ctx); err != nil {
			return nil, err
		}
		if err := env.Conn.CheckRegistry(ctx); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// worker returns the env a worker runs its stories in: on the shared
// cluster, or on an embedded stack started for it, with a data directory
// so the broker can restart.
func (p *pool) worker() (scenario.Env, error) {
	env := p.env
	if !p.stack {
		return env, nil
	}
	dir, err := os.MkdirTemp("", "offsetlab-stack-")
	if err != nil {
		return env, err
	}
	opts := stack.Defaults()
	opts.BrokerAddr, opts.RegistryAddr, opts.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
	opts.BrokerConfigs = scenario.EmbeddedBrokerConfigs
	s, err := stack.Start(opts)
	if err != nil {
		os.RemoveAll(dir)
		return env, err
	}
	p.mu.Lock()
	p.stops = append(p.stops, func() { s.Close(); os.RemoveAll(dir) })
	p.mu.Unlock()
	fmt.Fprintf(p.out, "embedded stack: broker %s, schema registry %s\n", s.BrokerAddr(), s.RegistryURL())
	env.Conn.Bootstrap, env.Conn.Registry, env.Embedded = s.BrokerAddr(), s.RegistryURL(), s
	return env, nil
}

func (p *pool) close() {
	for _, stop := range p.stops {
		stop()
	}
}

// run runs the stories, f.parallel at a time, and returns their results in
// the order given. On a shared cluster, a story that changes the broker
// (broker-config, restart-broker) runs alone, after the others. With one
// worker the story is told as it happens; with several, each story's
// telling is printed whole when it ends, so stories do not interleave.
func (p *pool) run(ctx context.Context, stories []job, f runFlags, w io.Writer) []*scenario.Result {
	results := make([]*scenario.Result, len(stories))
	var shared, alone []int
	for i, j := range stories {
		if !p.stack && j.sc.Exclusive() {
			alone = append(alone, i)
		} else {
			shared = append(shared, i)
		}
	}
	workers := min(f.parallel, len(shared))
	var mu sync.Mutex // serialises the output of whole stories
	runOne := func(env scenario.Env, i int) {
		sc := stories[i].sc
		env.Protocol = stories[i].protocol
		if f.drawTo != "" {
			env.Timeline = f.drawTo
			if len(stories) > 1 {
				ext := path.Ext(f.drawTo)
				env.Timeline = strings.TrimSuffix(f.drawTo, ext) + "-" + scenario.ID(sc.Name, env.Protocol) + ext
			}
		}
		var buf bytes.Buffer
		env.Out = w
		if workers > 1 {
			env.Out = &buf
		}
		res := scenario.Run(ctx, sc, env)
		mu.Lock()
		defer mu.Unlock()
		_, _ = buf.WriteTo(w)
		if f.format == out.Text {
			_ = scenario.PrintTable(w, res)
			fmt.Fprintln(w)
		}
		results[i] = res
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		env, err := p.worker()
		if err != nil {
			fmt.Fprintf(p.out, "unable to start a stack for a worker: %v\n", err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				runOne(env, i)
			}
		}()
	}
	for _, i := range shared {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, i := range alone {
		if ctx.Err() != nil {
			break
		}
		runOne(p.env, i)
	}
	// A story the signal kept from starting is reported as interrupted.
	for i, res := range results {
		if res == nil {
			sc := stories[i].sc
			results[i] = &scenario.Result{Name: sc.Name, Protocol: stories[i].protocol, File: sc.File, Claim: sc.Claim, Interrupted: true}
		}
	}
	return results
}

func runExercise(ctx context.Context, exercises []*workshop.Exercise, args []string, stdout, stderr io.Writer) error {
	var f runFlags
	var noPause bool
	fs := flag.NewFlagSet("scenarios exercise", flag.ContinueOnError)
	f.register(fs)
	fs.BoolVar(&noPause, "no-pause", false, "do not ask for a prediction (CI, scripts)")
	fs.StringVar(&f.drawTo, "timeline", "", "also draw the run to `FILE`.html or .svg, to project after the reveal")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: scenarios exercise N|NAME [--no-pause] [--timeline FILE.html] [flags]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	names, err := cli.ParseInterleaved(fs, args, stderr)
	if err != nil {
		return err
	}
	f.format, f.parallel = out.Text, 1
	if err := f.check(); err != nil {
		return err
	}
	if len(names) != 1 {
		return cli.Usagef("name one exercise: scenarios exercise N (see scenarios exercises)")
	}
	ex, err := workshop.Find(exercises, names[0])
	if err != nil {
		return cli.Usagef("%v", err)
	}
	pool, err := newPool(ctx, &f.env, stderr)
	if err != nil {
		return err
	}
	defer pool.close()
	env, err := pool.worker()
	if err != nil {
		return err
	}
	env.Out, env.Timeline = stdout, f.drawTo
	var in io.Reader = os.Stdin
	if noPause || !out.IsTerminal(os.Stdin) {
		in = nil
	}
	_, err = ex.Run(ctx, env, stdout, in)
	return err
}
