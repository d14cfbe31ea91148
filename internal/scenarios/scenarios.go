// Package scenarios is the scenarios command (Run): it finds stories in
// the built-in catalog (scenarios/catalog) or in any .txtar file or
// directory, runs them on a pool of stacks and reports. In a story real
// consumer processes are started, killed with -9, stopped, restarted, and
// checked against the committed offsets read from the broker;
// internal/scenario, the story engine, parses and runs each one.
//
//	scenarios list
//	scenarios explain NAME|FILE
//	scenarios check [NAME|FILE|DIR...]
//	scenarios run [NAME|FILE|DIR...] [--parallel N] [--format json] [--junit FILE] [--results DIR]
//	scenarios exercises
//	scenarios exercise N|NAME [--no-pause]
//	scenarios ledger FILE...
//
// Flags may come before, between or after the names. With no --bootstrap,
// --config or $OFFSETLAB_BOOTSTRAP it starts embedded stacks of its own;
// otherwise it runs against that cluster.
//
// A story's consumers and producers are the executable that calls Run, run
// again as those commands (see internal/supervisor): its main or TestMain
// dispatches scenario.Commands first.
package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/out"
	"github.com/offsetlab/offsetlab/internal/scenario"
)

const subcommands = "list, explain NAME|FILE, check [NAME|FILE|DIR...], run [NAME|FILE|DIR...], exercises, exercise N, ledger FILE..."

// Run is the scenarios command: a subcommand, names and flags in args.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return cli.Usagef("scenarios takes a subcommand: %s", subcommands)
	}
	catalog, err := loadCatalog()
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		t := out.NewTable(stdout, "scenario", "claim")
		for _, sc := range catalog {
			name := sc.Name
			if sc.NeedsConsumer {
				name += " (suite)"
			}
			t.Row(name, sc.Claim)
		}
		return t.Flush()
	case "explain":
		return explain(catalog, args[1:], stdout)
	case "check":
		return check(catalog, args[1:], stdout)
	case "run":
		return runStories(ctx, catalog, args[1:], stdout, stderr)
	case "ledger":
		return printLedgers(args[1:], stdout)
	case "exercises", "exercise":
		exercises, err := loadExercises()
		if err != nil {
			return err
		}
		if args[0] == "exercises" {
			t := out.NewTable(stdout, "n", "name", "exercise", "question")
			for _, ex := range exercises {
				t.Row(ex.N, ex.ShortName(), ex.Title, ex.Question)
			}
			return t.Flush()
		}
		return runExercise(ctx, exercises, args[1:], stdout, stderr)
	}
	return cli.Usagef("unknown subcommand %q (accepted: list, explain, check, run, exercises, exercise, ledger)", args[0])
}

// resolve turns names, .txtar files and directories into stories, in the
// order given; none names the whole catalog, or with a program under test
// (--consumer) the suite. Every story is parsed, so a mistake anywhere is
// refused before anything runs.
func resolve(catalog []*scenario.Scenario, args []string, consumer string) ([]*scenario.Scenario, error) {
	if len(args) == 0 {
		var stories []*scenario.Scenario
		for _, sc := range catalog {
			if sc.NeedsConsumer == (consumer != "") {
				stories = append(stories, sc)
			}
		}
		return stories, nil
	}
	var stories []*scenario.Scenario
	for _, a := range args {
		found, err := resolveOne(catalog, a)
		if err != nil {
			return nil, err
		}
		stories = append(stories, found...)
	}
	return stories, nil
}

func resolveOne(catalog []*scenario.Scenario, arg string) ([]*scenario.Scenario, error) {
	for _, sc := range catalog {
		if sc.Name == arg {
			return []*scenario.Scenario{sc}, nil
		}
	}
	info, err := os.Stat(arg)
	switch {
	case err != nil:
		names := make([]string, len(catalog))
		for i, sc := range catalog {
			names[i] = sc.Name
		}
		return nil, cli.Usagef("%q is neither a story of the catalog nor a .txtar file or directory (catalog: %s)", arg, strings.Join(names, ", "))
	case !info.IsDir():
		sc, err := scenario.ParseFile(arg)
		if err != nil {
			return nil, err
		}
		return []*scenario.Scenario{sc}, nil
	}
	var stories []*scenario.Scenario
	err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".txtar" {
			return err
		}
		sc, err := scenario.ParseFile(p)
		if err != nil {
			return err
		}
		stories = append(stories, sc)
		return nil
	})
	if err == nil && len(stories) == 0 {
		err = cli.Usagef("directory %s holds no .txtar story", arg)
	}
	return stories, err
}

// check parses stories without running them: exit 0, or 2 with the first
// mistake of each file that has one.
func check(catalog []*scenario.Scenario, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintf(stdout, "%d stories of the catalog parse\n", len(catalog))
		return nil
	}
	var bad []string
	n := 0
	for _, a := range args {
		stories, err := checkOne(catalog, a)
		n += stories
		if err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) > 0 {
		return cli.Usagef("%s", strings.Join(bad, "\n"))
	}
	fmt.Fprintf(stdout, "%d stories parse\n", n)
	return nil
}

// checkOne checks one name, file or every file of a directory, and
// reports each file's first mistake.
func checkOne(catalog []*scenario.Scenario, arg string) (int, error) {
	info, err := os.Stat(arg)
	if err != nil || !info.IsDir() {
		stories, err := resolveOne(catalog, arg)
		return len(stories), err
	}
	var bad []string
	n := 0
	err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".txtar" {
			return err
		}
		n++
		if _, err := scenario.ParseFile(p); err != nil {
			bad = append(bad, err.Error())
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if n == 0 {
		return 0, cli.Usagef("directory %s holds no .txtar story", arg)
	}
	if len(bad) > 0 {
		return n, errors.New(strings.Join(bad, "\n"))
	}
	return n, nil
}

// explain prints a story and the language it is written in.
func explain(catalog []*scenario.Scenario, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return cli.Usagef("usage: scenarios explain NAME|FILE")
	}
	stories, err := resolveOne(catalog, args[0])
	if err != nil {
		return err
	}
	sc := stories[0]
	var b []byte
	if strings.HasPrefix(sc.File, catalogDir) {
		b, err = catalogSource(sc.File)
	} else {
		b, err = os.ReadFile(sc.File)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n\nThe verbs:\n%s", b, scenario.Usage())
	return nil
}
