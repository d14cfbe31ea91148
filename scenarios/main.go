// Command scenarios runs offsetlab's catalog of scripted scenarios: real
// consumer processes started, killed with -9, stopped, restarted, and
// checked against the committed offsets read from the broker.
//
//	scenarios list
//	scenarios explain NAME
//	scenarios run [NAME...] [--format json] [--junit FILE] [--results DIR]
//	scenarios exercises
//	scenarios exercise N|NAME [--no-pause]
//
// With no --bootstrap, --config or $OFFSETLAB_BOOTSTRAP it starts its own
// embedded stack; otherwise it runs against that cluster.
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/consumer"
	"github.com/offsetlab/offsetlab/internal/out"
	"github.com/offsetlab/offsetlab/internal/producer"
	"github.com/offsetlab/offsetlab/internal/scenario"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/supervisor"
	"github.com/offsetlab/offsetlab/internal/timeline"
	"github.com/offsetlab/offsetlab/internal/workshop"
)

//go:embed catalog/*.txtar exercises/*.txtar
var catalogFS embed.FS

// commands are what this executable becomes when the supervisor re-runs it.
var commands = map[string]supervisor.Command{"consumer": consumer.Run, "producer": producer.Run}

func main() {
	if supervisor.Dispatch(commands, func(name string, cmd supervisor.Command) { cli.Main(name, cmd) }) {
		return
	}
	cli.Main("scenarios", run)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return cli.Usagef("scenarios takes a subcommand: list, explain NAME, run [NAME...], exercises, exercise N")
	}
	catalog, err := loadCatalog()
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		t := out.NewTable(stdout, "scenario", "claim")
		for _, sc := range catalog {
			t.Row(sc.Name, sc.Claim)
		}
		return t.Flush()
	case "explain":
		if len(args) != 2 {
			return cli.Usagef("usage: scenarios explain NAME")
		}
		sc, err := find(catalog, args[1])
		if err != nil {
			return err
		}
		b, _ := catalogFS.ReadFile(path.Join("catalog", sc.Name+".txtar"))
		fmt.Fprintf(stdout, "%s\n\nThe verbs:\n%s", b, scenario.Usage())
		return nil
	case "run":
		return runCatalog(ctx, catalog, args[1:], stdout, stderr)
	case "exercises", "exercise":
		exercises, err := loadExercises()
		if err != nil {
			return err
		}
		if args[0] == "exercises" {
			t := out.NewTable(stdout, "n", "exercise", "question")
			for _, ex := range exercises {
				t.Row(ex.N, ex.Title, ex.Question)
			}
			return t.Flush()
		}
		return runExercise(ctx, exercises, args[1:], stdout, stderr)
	}
	return cli.Usagef("unknown subcommand %q (accepted: list, explain, run, exercises, exercise)", args[0])
}

func loadCatalog() ([]*scenario.Scenario, error) {
	files, err := fs.Glob(catalogFS, "catalog/*.txtar")
	if err != nil {
		return nil, err
	}
	var catalog []*scenario.Scenario
	for _, f := range files {
		b, err := catalogFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sc, err := scenario.Parse(strings.TrimSuffix(path.Base(f), ".txtar"), b)
		if err != nil {
			return nil, err
		}
		catalog = append(catalog, sc)
	}
	return catalog, nil
}

func find(catalog []*scenario.Scenario, name string) (*scenario.Scenario, error) {
	for _, sc := range catalog {
		if sc.Name == name {
			return sc, nil
		}
	}
	names := make([]string, len(catalog))
	for i, sc := range catalog {
		names[i] = sc.Name
	}
	return nil, cli.Usagef("unknown scenario %q (known: %s)", name, strings.Join(names, ", "))
}

func runCatalog(ctx context.Context, catalog []*scenario.Scenario, args []string, stdout, stderr io.Writer) error {
	var env scenario.Env
	var format, junit string
	fs := flag.NewFlagSet("scenarios run", flag.ContinueOnError)
	env.Conn.RegisterFlags(fs)
	fs.StringVar(&format, "format", out.Text, "results: text or json")
	fs.StringVar(&junit, "junit", "", "also write JUnit XML results to `FILE`")
	fs.StringVar(&env.Results, "results", "results", "keep a failed scenario's ledgers and snapshots under `DIR`")
	fs.BoolVar(&env.Keep, "keep", false, "keep a passing scenario's ledgers and snapshots too")
	fs.DurationVar(&env.Wait, "wait", 30*time.Second, "bound of each wait verb that names none")
	var drawTo string
	fs.StringVar(&drawTo, "timeline", "", "draw each run to `FILE`.html or .svg (several scenarios: FILE-NAME.html)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: scenarios run [flags] [NAME...]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	names, flags := splitNames(args)
	if err := cli.Parse(fs, flags, stderr); err != nil {
		return err
	}
	if err := out.CheckFormat(format); err != nil {
		return err
	}
	if drawTo != "" {
		if err := timeline.CheckPath(drawTo); err != nil {
			return err
		}
	}
	selected := catalog
	if len(names) > 0 {
		selected = nil
		for _, n := range names {
			sc, err := find(catalog, n)
			if err != nil {
				return err
			}
			selected = append(selected, sc)
		}
	}
	stop, err := connect(ctx, &env, stderr)
	if err != nil {
		return err
	}
	defer stop()
	env.Out = stdout
	if format == out.JSON {
		env.Out = stderr
	}
	var results []*scenario.Result
	failed := 0
	for _, sc := range selected {
		if drawTo != "" {
			env.Timeline = drawTo
			if len(selected) > 1 {
				ext := path.Ext(drawTo)
				env.Timeline = strings.TrimSuffix(drawTo, ext) + "-" + sc.Name + ext
			}
		}
		res := scenario.Run(ctx, sc, env)
		results = append(results, res)
		if !res.Passed {
			failed++
		}
		if format == out.Text {
			_ = scenario.PrintTable(stdout, res)
			fmt.Fprintln(stdout)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if format == out.JSON {
		if err := out.WriteJSON(stdout, results); err != nil {
			return err
		}
	}
	if junit != "" {
		f, err := os.Create(junit)
		if err != nil {
			return cli.Usagef("--junit: %v", err)
		}
		if err := scenario.JUnit(f, results); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "%d passed, %d failed\n", len(results)-failed, failed)
	if failed > 0 {
		return &scenario.FailedError{Failed: failed, Of: len(results)}
	}
	return nil
}

// splitNames separates scenario names from flags, so both orders work.
func splitNames(args []string) (names, flags []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "-"):
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && !isBool(a) {
				i++
				flags = append(flags, args[i])
			}
		default:
			names = append(names, a)
		}
	}
	return names, flags
}

func isBool(flag string) bool { return slices.Contains([]string{"-h", "-help", "--help"}, flag) }

// connect settles where scenarios run: the cluster the flags, the
// properties file or $OFFSETLAB_BOOTSTRAP name, or else an embedded stack of
// its own on free ports, with a data directory so the broker can restart.
// It checks, within --timeout, that broker and registry answer.
func connect(ctx context.Context, env *scenario.Env, stderr io.Writer) (stop func(), err error) {
	stop = func() {}
	env.RunID = time.Now().Format("150405")
	external := env.Conn.Bootstrap != "" || env.Conn.File != "" || os.Getenv("OFFSETLAB_BOOTSTRAP") != ""
	if err := env.Conn.Load(); err != nil {
		return stop, err
	}
	if !external {
		dir, err := os.MkdirTemp("", "offsetlab-stack-")
		if err != nil {
			return stop, err
		}
		opts := stack.Defaults()
		opts.BrokerAddr, opts.RegistryAddr, opts.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
		opts.BrokerConfigs = scenario.EmbeddedBrokerConfigs
		s, err := stack.Start(opts)
		if err != nil {
			os.RemoveAll(dir)
			return stop, err
		}
		stop = func() { s.Close(); os.RemoveAll(dir) }
		env.Conn.Bootstrap, env.Conn.Registry, env.Embedded = s.BrokerAddr(), s.RegistryURL(), s
		fmt.Fprintf(stderr, "embedded stack: broker %s, schema registry %s\n", s.BrokerAddr(), s.RegistryURL())
	}
	if err := env.Conn.CheckBroker(ctx); err != nil {
		return stop, err
	}
	return stop, env.Conn.CheckRegistry(ctx)
}

func loadExercises() ([]*workshop.Exercise, error) {
	files, err := fs.Glob(catalogFS, "exercises/*.txtar")
	if err != nil {
		return nil, err
	}
	var all []*workshop.Exercise
	for i, f := range files {
		b, err := catalogFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		ex, err := workshop.Parse(i+1, strings.TrimSuffix(path.Base(f), ".txtar"), b)
		if err != nil {
			return nil, err
		}
		all = append(all, ex)
	}
	return all, nil
}

func runExercise(ctx context.Context, exercises []*workshop.Exercise, args []string, stdout, stderr io.Writer) error {
	var env scenario.Env
	var noPause bool
	fs := flag.NewFlagSet("scenarios exercise", flag.ContinueOnError)
	env.Conn.RegisterFlags(fs)
	fs.BoolVar(&noPause, "no-pause", false, "do not ask for a prediction (CI, scripts)")
	fs.StringVar(&env.Results, "results", "results", "keep a failed run's ledgers under `DIR`")
	fs.DurationVar(&env.Wait, "wait", 30*time.Second, "bound of each wait verb that names none")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: scenarios exercise N|NAME [--no-pause] [flags]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	names, flags := splitNames(args)
	if err := cli.Parse(fs, flags, stderr); err != nil {
		return err
	}
	if len(names) != 1 {
		return cli.Usagef("name one exercise: scenarios exercise N (see scenarios exercises)")
	}
	ex, err := workshop.Find(exercises, names[0])
	if err != nil {
		return cli.Usagef("%v", err)
	}
	stop, err := connect(ctx, &env, stderr)
	if err != nil {
		return err
	}
	defer stop()
	env.Out = stdout
	var in io.Reader = os.Stdin
	if noPause || !out.IsTerminal(os.Stdin) {
		in = nil
	}
	_, err = ex.Run(ctx, env, stdout, in)
	return err
}
