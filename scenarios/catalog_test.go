package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/out"
	"github.com/offsetlab/offsetlab/internal/scenario"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
	"github.com/offsetlab/offsetlab/internal/supervisor"
	"github.com/offsetlab/offsetlab/internal/timeline"
	"github.com/offsetlab/offsetlab/internal/verify"
)

// The supervisor re-runs this test binary as the consumer and producer.
func TestMain(m *testing.M) {
	if supervisor.Dispatch(commands, func(name string, cmd supervisor.Command) { cli.Main(name, cmd) }) {
		return
	}
	os.Exit(m.Run())
}

// env is an embedded stack with a data directory (for broker-restart), or
// the cluster $OFFSETLAB_BOOTSTRAP names.
func testEnv(t *testing.T) scenario.Env {
	t.Helper()
	env := scenario.Env{Results: t.TempDir(), Out: newTestWriter(t), Wait: 30 * time.Second, RunID: time.Now().Format("150405.000")}
	env.Conn.Timeout = config.DefaultTimeout
	if os.Getenv("OFFSETLAB_BOOTSTRAP") == "" {
		s := stacktest.Start(t, func(o *stack.Options) {
			o.DataDir = t.TempDir()
			o.BrokerConfigs = scenario.EmbeddedBrokerConfigs
		})
		env.Conn.Bootstrap, env.Conn.Registry, env.Embedded = s.BrokerAddr(), s.RegistryURL(), s
	}
	if err := env.Conn.Load(); err != nil {
		t.Fatal(err)
	}
	return env
}

// TestCatalog runs every scenario of the catalog, as `make scenarios` does.
func TestCatalog(t *testing.T) {
	catalog, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	env := testEnv(t)
	pictures := t.TempDir()
	for _, sc := range catalog {
		t.Run(sc.Name, func(t *testing.T) {
			env.Out = newTestWriter(t)
			env.Timeline = filepath.Join(pictures, sc.Name+".html")
			res := scenario.Run(t.Context(), sc, env)
			var b strings.Builder
			_ = scenario.PrintTable(&b, res)
			t.Log("\n" + b.String())
			if !res.Passed {
				t.Fatalf("%s failed: %v", sc.Name, res.Err())
			}
			// The picture of a kill scenario shows the kill and where the
			// restart resumed.
			page, err := os.ReadFile(env.Timeline)
			if err != nil {
				t.Fatalf("no timeline: %v", err)
			}
			started := map[string]bool{}
			for _, m := range res.Marks {
				started[m.Name] = started[m.Name] || m.Kind == timeline.MarkStart
			}
			for _, m := range res.Marks {
				if m.Kind != timeline.MarkKill {
					continue
				}
				if !strings.Contains(string(page), `class="mark kill"`) {
					t.Errorf("the timeline of %s has no kill marker", sc.Name)
				}
				// A consumer killed as run k and started again as run k+1
				// resumed somewhere: the picture shows where.
				name, k, _ := strings.Cut(m.Name, "#")
				if n, err := strconv.Atoi(k); err == nil && started[fmt.Sprintf("%s#%d", name, n+1)] &&
					!strings.Contains(string(page), `class="resume"`) {
					t.Errorf("the timeline of %s has no resume point after %s restarted", sc.Name, name)
				}
			}
		})
	}
}

// A deliberately wrong expectation fails the run with a message that names
// the partitions and the figures.
func TestWrongExpectationFails(t *testing.T) {
	catalog, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := find(catalog, "sync-commit-kill")
	if err != nil {
		t.Fatal(err)
	}
	wrong := *sc
	wrong.Lines = nil
	for _, l := range sc.Lines {
		if !l.Comment && l.Args[0] == "expect" && l.Args[1] == "lost" {
			l.Args = []string{"expect", "lost", "==", "5"}
		}
		wrong.Lines = append(wrong.Lines, l)
	}
	res := scenario.Run(t.Context(), &wrong, testEnv(t))
	if res.Passed {
		t.Fatal("a scenario expecting 5 lost records passed with none lost")
	}
	var bound *verify.BoundError
	if !errors.As(res.Err(), &bound) || bound.Seen != 0 || bound.Bound != 5 {
		t.Fatalf("want a BoundError seen 0, bound 5; got %v", res.Err())
	}
	if !strings.Contains(res.Error, "lost") || !strings.Contains(res.Error, "5") {
		t.Errorf("the failure does not name the figure: %s", res.Error)
	}
	if res.Dir == "" {
		t.Error("a failed scenario's ledgers were not kept")
	} else if _, err := os.Stat(res.Dir); err != nil {
		t.Errorf("results directory: %v", err)
	}
}

// The runner's own exit code and JUnit output.
func TestRunCommand(t *testing.T) {
	junit := t.TempDir() + "/junit.xml"
	env := testEnv(t)
	args := []string{"run", "reset-none", "--bootstrap", env.Conn.Bootstrap, "--registry", env.Conn.Registry, "--junit", junit, "--results", t.TempDir()}
	if err := run(context.Background(), args, io.Discard, io.Discard); err != nil {
		t.Fatalf("run: %v", err)
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		XMLName  xml.Name `xml:"testsuite"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Cases    []struct {
			Name string `xml:"name,attr"`
			Time string `xml:"time,attr"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal(b, &suite); err != nil {
		t.Fatalf("the JUnit file is not XML: %v\n%s", err, b)
	}
	if suite.Tests != 1 || suite.Failures != 0 || len(suite.Cases) != 1 || suite.Cases[0].Name != "reset-none" || suite.Cases[0].Time == "" {
		t.Errorf("JUnit testsuite = %+v", suite)
	}
	if err := run(context.Background(), []string{"run", "nope"}, io.Discard, io.Discard); cli.Code(err) != cli.ExitUsage {
		t.Errorf("unknown scenario: exit %d (%v), want %d", cli.Code(err), err, cli.ExitUsage)
	}
	unreachable := []string{"run", "reset-none", "--bootstrap", "127.0.0.1:1", "--timeout", "500ms"}
	if err := run(context.Background(), unreachable, io.Discard, io.Discard); cli.Code(err) != cli.ExitUnavailable {
		t.Errorf("unreachable broker: exit %d (%v), want %d", cli.Code(err), err, cli.ExitUnavailable)
	}
}

// testWriter sends the story to the test log, a line at a time (a table
// arrives in pieces).
type testWriter struct {
	t       *testing.T
	pending *[]byte
}

func newTestWriter(t *testing.T) testWriter { return testWriter{t: t, pending: new([]byte)} }

func (w testWriter) Write(b []byte) (int, error) {
	*w.pending = append(*w.pending, b...)
	for {
		i := bytes.IndexByte(*w.pending, '\n')
		if i < 0 {
			return len(b), nil
		}
		w.t.Log(string((*w.pending)[:i]))
		*w.pending = (*w.pending)[i+1:]
	}
}

// BenchmarkCatalog reports the wall time of the whole catalog and the
// kill-to-resume latencies its scenarios measured (make bench).
func BenchmarkCatalog(b *testing.B) {
	catalog, err := loadCatalog()
	if err != nil {
		b.Fatal(err)
	}
	s := stacktest.Start(b, func(o *stack.Options) {
		o.DataDir = b.TempDir()
		o.BrokerConfigs = scenario.EmbeddedBrokerConfigs
	})
	env := scenario.Env{Results: b.TempDir(), Out: io.Discard, Wait: 30 * time.Second}
	env.Conn.Bootstrap, env.Conn.Registry, env.Embedded, env.Conn.Timeout = s.BrokerAddr(), s.RegistryURL(), s, config.DefaultTimeout
	if err := env.Conn.Load(); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		env.RunID = fmt.Sprintf("bench%d", i)
		start := time.Now()
		var kills []time.Duration
		t := out.NewTable(os.Stdout, "scenario", "seconds", "kill-to-resume")
		for _, sc := range catalog {
			res := scenario.Run(context.Background(), sc, env)
			if !res.Passed {
				b.Fatalf("%s failed: %v", sc.Name, res.Err())
			}
			var ks []string
			for _, d := range res.KillToResume {
				ks = append(ks, d.Round(time.Millisecond).String())
				kills = append(kills, d)
			}
			t.Row(sc.Name, fmt.Sprintf("%.1f", res.Duration.Seconds()), strings.Join(ks, " "))
		}
		_ = t.Flush()
		b.ReportMetric(time.Since(start).Seconds(), "catalog-s")
		if len(kills) > 0 {
			slices.Sort(kills)
			b.ReportMetric(kills[len(kills)/2].Seconds(), "kill-to-resume-median-s")
			b.ReportMetric(kills[len(kills)-1].Seconds(), "kill-to-resume-max-s")
		}
	}
}

// TestExercises runs every exercise as `make exercise N=... --no-pause`
// does; those whose answer does not depend on timing must measure it.
func TestExercises(t *testing.T) {
	exercises, err := loadExercises()
	if err != nil {
		t.Fatal(err)
	}
	if len(exercises) < 8 {
		t.Fatalf("%d exercises, the workshop needs at least 8", len(exercises))
	}
	env := testEnv(t)
	for _, ex := range exercises {
		t.Run(ex.Name, func(t *testing.T) {
			env.Out = newTestWriter(t)
			var b strings.Builder
			if _, err := ex.Run(t.Context(), env, &b, nil); err != nil {
				t.Fatalf("%v\n%s", err, b.String())
			}
			if !strings.Contains(b.String(), "Measured: ") || !strings.Contains(b.String(), ex.Question[:20]) {
				t.Errorf("the exercise did not ask and reveal:\n%s", b.String())
			}
			t.Log("\n" + b.String())
		})
	}
}
