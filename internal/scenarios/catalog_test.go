package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
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
	if supervisor.Dispatch(scenario.Commands, func(name string, cmd supervisor.Command) { cli.Main(name, cmd) }) {
		return
	}
	os.Exit(m.Run())
}

// testEnv is an embedded stack of the test's own with a data directory
// (for broker-restart), or the cluster $OFFSETLAB_BOOTSTRAP names.
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

// TestCatalog runs every scenario of the catalog, as `make scenarios` does,
// two at a time, each on its own stack.
func TestCatalog(t *testing.T) {
	catalog, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	pictures := t.TempDir()
	for _, j := range jobs(catalog, "both") {
		sc, id := j.sc, scenario.ID(j.sc.Name, j.protocol)
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			env := testEnv(t)
			env.Protocol = j.protocol
			env.Timeline = filepath.Join(pictures, id+".html")
			res := scenario.Run(t.Context(), sc, env)
			var b strings.Builder
			_ = scenario.PrintTable(&b, res)
			t.Log("\n" + b.String())
			if !res.Passed {
				t.Fatalf("%s failed: %v", sc.Name, res.Err())
			}
			if res.Skipped != "" {
				return
			}
			checkTimeline(t, sc.Name, env.Timeline, res)
			checkJSONKeys(t, res)
			if want, ok := perGroup[sc.Name]; ok {
				checkPerGroup(t, res, want)
			}
		})
	}
}

// checkTimeline: the picture says what the run measured (lost records
// drawn and counted per band), and the picture of a kill scenario shows the
// kill and where the restart resumed.
func checkTimeline(t *testing.T, name, path string, res *scenario.Result) {
	t.Helper()
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no timeline: %v", err)
	}
	checkPictureFigures(t, name, page, res)
	started := map[string]bool{}
	for _, m := range res.Marks {
		started[m.Name] = started[m.Name] || m.Kind == timeline.MarkStart
	}
	for _, m := range res.Marks {
		if m.Kind != timeline.MarkKill {
			continue
		}
		if !strings.Contains(string(page), `class="mark kill"`) {
			t.Errorf("the timeline of %s has no kill marker", name)
		}
		// A consumer killed as run k and started again as run k+1
		// resumed somewhere: the picture shows where. (A last run that
		// processed nothing, refused by the broker, resumed nowhere.)
		proc, k, _ := strings.Cut(m.Name, "#")
		n, err := strconv.Atoi(k)
		refused := !started[fmt.Sprintf("%s#%d", proc, n+2)] && res.Figures["processed "+proc] == 0
		if err == nil && started[fmt.Sprintf("%s#%d", proc, n+1)] && !refused &&
			!strings.Contains(string(page), `class="resume"`) {
			t.Errorf("the timeline of %s has no resume point after %s restarted", name, proc)
		}
	}
}

// checkJSONKeys pins the JSON schema's style: every key is snake_case.
func checkJSONKeys(t *testing.T, res *scenario.Result) {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				// Figures are keyed by their names ("consumed c1"), not by fields.
				if !snake.MatchString(k) && !strings.HasSuffix(path, ".figures") {
					t.Errorf("JSON key %s.%s is not snake_case", path, k)
				}
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range v {
				walk(path+"[]", e)
			}
		}
	}
	walk("", v)
	for _, key := range []string{`"group":`, `"partitions":`, `"not_consumed":`} {
		if !bytes.Contains(b, []byte(key)) && len(res.Rows) > 0 {
			t.Errorf("the JSON result has no %s", key)
		}
	}
}

// perGroup is what TestCatalog holds two stories' accounting to: per
// group suffix ("" for $GROUP), lost and not consumed. In
// auto-store-inflight-loss c1's group lost the record in flight and s1's
// group (store-after-process) lost nothing; reset-none's never-consumed
// records are "not consumed", not lost.
var perGroup = map[string]map[string][2]int64{
	"auto-store-inflight-loss": {"": {1, 0}, "-store": {0, 0}},
	"reset-none":               {"": {0, 100}},
}

// checkPerGroup reads the JSON result as a machine would and the table as
// a person would.
func checkPerGroup(t *testing.T, res *scenario.Result, want map[string][2]int64) {
	t.Helper()
	b, _ := json.Marshal(res)
	var decoded struct {
		Group string `json:"group"`
		Rows  []struct {
			Group       string `json:"group"`
			Lost        int64  `json:"lost"`
			NotConsumed int64  `json:"not_consumed"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int64{}
	for _, row := range decoded.Rows {
		suffix := strings.TrimPrefix(row.Group, decoded.Group)
		g := got[suffix]
		got[suffix] = [2]int64{g[0] + row.Lost, g[1] + row.NotConsumed}
	}
	var table strings.Builder
	_ = scenario.PrintTable(&table, res)
	for suffix, w := range want {
		if got[suffix] != w {
			t.Errorf("group $GROUP%s: lost, not consumed = %v, want %v", suffix, got[suffix], w)
		}
		if !strings.Contains(table.String(), "$GROUP"+suffix+" ") {
			t.Errorf("the table does not name group $GROUP%s:\n%s", suffix, table.String())
		}
	}
}

// A deliberately wrong expectation fails the run with a message that names
// the partitions and the figures, and keeps the ledgers.
func TestWrongExpectationFails(t *testing.T) {
	t.Parallel()
	b, err := catalogSource("catalog/sync-commit-kill.txtar")
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(b), "expect lost == 0", "expect lost == 5", 1)
	sc, err := scenario.Parse("sync-commit-kill.txtar", []byte(wrong))
	if err != nil {
		t.Fatal(err)
	}
	res := scenario.Run(t.Context(), sc, testEnv(t))
	if res.Passed {
		t.Fatal("a scenario expecting 5 lost records passed with none lost")
	}
	var bound *verify.BoundError
	if !errors.As(res.Err(), &bound) || bound.Seen != 0 || bound.Bound != 5 {
		t.Fatalf("want a BoundError seen 0, bound 5; got %v", res.Err())
	}
	if !strings.Contains(res.Error, "sync-commit-kill.txtar:") || !strings.Contains(res.Error, "lost is 0") {
		t.Errorf("the failure does not name the line and the figure: %s", res.Error)
	}
	if res.Dir == "" {
		t.Fatal("a failed scenario's ledgers were not kept")
	}
	if _, err := os.Stat(filepath.Join(res.Dir, "c1.1.ledger")); err != nil {
		t.Errorf("the kept results hold no ledger: %v", err)
	}
}

// A wait that runs out fails the story at once: it names what it waited
// for and what it saw, points at the kept ledgers, and every process the
// story started is stopped when Run returns.
func TestFailedWait(t *testing.T) {
	t.Parallel()
	sc, err := scenario.Parse("slow.txtar", []byte(`# A wait that cannot be met.

produce 50
start c1 --reset earliest --commit sync --process-delay 100ms
wait c1 processed 1000 within 1s
`))
	if err != nil {
		t.Fatal(err)
	}
	env := testEnv(t)
	start := time.Now()
	res := scenario.Run(t.Context(), sc, env)
	t.Logf("Run returned %s after it started", time.Since(start).Round(time.Millisecond))
	if res.Passed {
		t.Fatal("passed")
	}
	for _, want := range []string{"slow.txtar:5: wait: waited 1s for c1 processed >= 1000; it saw processed ", "ledgers in " + res.Dir} {
		if !strings.Contains(res.Error, want) {
			t.Errorf("the failure %q does not say %q", res.Error, want)
		}
	}
	// The consumer was killed, not left to finish: its ledger ends without
	// a stopped event, and no process writing it is alive.
	path := filepath.Join(res.Dir, "c1.1.ledger")
	ledger, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ledger, []byte(`"type":"stopped"`)) {
		t.Error("the consumer stopped cleanly: it was left running after the failure")
	}
	if pids := processesWith(t, path); len(pids) > 0 {
		t.Errorf("processes %v still write %s after Run returned", pids, path)
	}
}

// processesWith lists the live processes whose command line holds arg.
func processesWith(t *testing.T, arg string) []string {
	t.Helper()
	cmdlines, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, c := range cmdlines {
		b, err := os.ReadFile(c) // a process that ended meanwhile has none
		if err == nil && slices.Contains(strings.Split(string(b), "\x00"), arg) {
			pids = append(pids, filepath.Base(filepath.Dir(c)))
		}
	}
	return pids
}

// SIGINT or SIGTERM during a run reports it as interrupted (exit 130), not
// as a failed wait.
func TestInterrupted(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(3*time.Second, cancel)
	var stdout, stderr bytes.Buffer
	err := Run(ctx, []string{"run", "chaos", "--protocol", "classic", "--bootstrap", env.Conn.Bootstrap, "--registry", env.Conn.Registry, "--results", t.TempDir(), "--format", "json"}, &stdout, &stderr)
	if cli.Code(err) != cli.ExitInterrupted {
		t.Fatalf("exit %d (%v), want %d\n%s", cli.Code(err), err, cli.ExitInterrupted, stderr.String())
	}
	var results []scenario.Result
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || !results[0].Interrupted || results[0].Passed {
		t.Errorf("results = %+v, want one interrupted", results)
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say interrupted: %s", stderr.String())
	}
}

// The runner's own exit code and JUnit output, with flags before, between
// and after the names.
func TestRunCommand(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	conn := []string{"--bootstrap", env.Conn.Bootstrap, "--registry", env.Conn.Registry}
	for _, args := range [][]string{
		append(append([]string{"run", "--parallel", "1", "reset-none"}, conn...), "--junit"),
		append(append([]string{"run"}, conn...), "reset-none", "--parallel", "1", "--junit"),
		append([]string{"run", "reset-none", "--keep", "reset-none"}, append(conn, "--junit")...),
	} {
		junit := filepath.Join(t.TempDir(), "junit.xml")
		args = append(args, junit, "--results", t.TempDir())
		if err := Run(t.Context(), args, io.Discard, io.Discard); err != nil {
			t.Fatalf("%q: %v", args, err)
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
		// One case per story named and group protocol, named after it
		// (--protocol both).
		want := 2 * strings.Count(strings.Join(args, " "), "reset-none")
		if suite.Failures != 0 || suite.Tests != want || len(suite.Cases) != want || suite.Cases[0].Name != "reset-none [classic]" ||
			suite.Cases[1].Name != "reset-none [consumer]" || suite.Cases[0].Time == "" {
			t.Errorf("%q: JUnit testsuite = %+v", args, suite)
		}
	}
	if err := Run(t.Context(), []string{"run", "nope"}, io.Discard, io.Discard); cli.Code(err) != cli.ExitUsage {
		t.Errorf("unknown scenario: exit %d (%v), want %d", cli.Code(err), err, cli.ExitUsage)
	}
	unreachable := []string{"run", "reset-none", "--bootstrap", "127.0.0.1:1", "--timeout", "500ms"}
	if err := Run(t.Context(), unreachable, io.Discard, io.Discard); cli.Code(err) != cli.ExitUnavailable {
		t.Errorf("unreachable broker: exit %d (%v), want %d", cli.Code(err), err, cli.ExitUnavailable)
	}
}

// A team's own stories, in its own directory: run by file and by
// directory, checked with `check`, explained; a broken one is refused with
// its line before anything runs.
func TestStoriesFromFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "ours", "sync-resume.txtar")
	if err := os.MkdirAll(filepath.Dir(good), 0o755); err != nil {
		t.Fatal(err)
	}
	story := `# Our service's commit mode: a kill -9 resumes at the committed offset.

produce 200
start c1 --reset earliest --commit sync --process-delay 1ms
wait c1 processed 50
kill c1
snapshot at-kill
start c1 --reset earliest --commit sync
wait c1 caught-up
stop c1
expect resume c1 at-kill fallback start
expect lost == 0
expect replayed <= 1
`
	if err := os.WriteFile(good, []byte(story), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := Run(t.Context(), []string{"check", good, filepath.Dir(good)}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := Run(t.Context(), []string{"explain", good}, &stdout, io.Discard); err != nil || !strings.Contains(stdout.String(), "Our service's commit mode") {
		t.Fatalf("explain: %v\n%s", err, stdout.String())
	}
	env := testEnv(t)
	stdout.Reset()
	args := []string{"run", filepath.Dir(good), "--bootstrap", env.Conn.Bootstrap, "--registry", env.Conn.Registry, "--results", t.TempDir(), "--format", "json"}
	if err := Run(t.Context(), args, &stdout, io.Discard); err != nil {
		t.Fatalf("run %s: %v", filepath.Dir(good), err)
	}
	var results []scenario.Result
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("results = %+v, want the story under each group protocol", results)
	}
	for i, protocol := range scenario.Protocols {
		if res := results[i]; res.Name != "sync-resume" || res.Protocol != protocol || !res.Passed || res.File != good {
			t.Errorf("results[%d] = %+v, want sync-resume passed under %s", i, res, protocol)
		}
	}

	broken := filepath.Join(dir, "ours", "broken.txtar")
	if err := os.WriteFile(broken, []byte(strings.Replace(story, "snapshot at-kill\n", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"check", "run"} {
		err := Run(t.Context(), []string{sub, filepath.Dir(good)}, io.Discard, io.Discard)
		if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), "broken.txtar:10: expect: resume: no snapshot \"at-kill\"") {
			t.Errorf("%s of a directory with a broken story: exit %d, %v", sub, cli.Code(err), err)
		}
	}
}

// Flags after the exercise's number work too.
func TestExerciseFlagsAnywhere(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	var stdout bytes.Buffer
	args := []string{"exercise", "--no-pause", "2", "--bootstrap", env.Conn.Bootstrap, "--registry", env.Conn.Registry, "--results", t.TempDir()}
	if err := Run(t.Context(), args, &stdout, io.Discard); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "Measured: ") {
		t.Errorf("no reveal:\n%s", stdout.String())
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

// BenchmarkCatalog reports the wall time of the whole catalog run as
// `scenarios run` runs it (--parallel, default the number of cores, each
// worker on its own embedded stack), each story's time, and the
// kill-to-resume latencies the stories measured (make bench).
func BenchmarkCatalog(b *testing.B) {
	catalog, err := loadCatalog()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		f := runFlags{format: out.JSON, parallel: benchParallel()}
		f.env = scenario.Env{Results: b.TempDir(), Wait: 30 * time.Second}
		f.env.Conn.Timeout = config.DefaultTimeout
		pool, err := newPool(b.Context(), &f.env, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		results := pool.run(b.Context(), jobs(catalog, "both"), f, io.Discard)
		wall := time.Since(start)
		pool.close()
		var kills []time.Duration
		t := out.NewTable(os.Stdout, "scenario", "seconds", "kill-to-resume")
		for _, res := range results {
			if !res.Passed {
				b.Errorf("%s failed: %v", res.Title(), res.Err())
			}
			var ks []string
			for _, d := range res.KillToResume {
				ks = append(ks, d.Round(time.Millisecond).String())
				kills = append(kills, d)
			}
			t.Row(res.Title(), fmt.Sprintf("%.1f", res.Duration.Seconds()), strings.Join(ks, " "))
		}
		_ = t.Flush()
		fmt.Printf("catalog: %d stories, --parallel %d, %.1f s wall\n", len(results), f.parallel, wall.Seconds())
		b.ReportMetric(wall.Seconds(), "catalog-s")
		if len(kills) > 0 {
			slices.Sort(kills)
			b.ReportMetric(kills[len(kills)/2].Seconds(), "kill-to-resume-median-s")
			b.ReportMetric(kills[len(kills)-1].Seconds(), "kill-to-resume-max-s")
		}
	}
}

// benchParallel is --parallel for BenchmarkCatalog: $PARALLEL, or the
// runner's default.
func benchParallel() int {
	if n, err := strconv.Atoi(os.Getenv("PARALLEL")); err == nil && n > 0 {
		return n
	}
	return defaultParallel()
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
	for _, ex := range exercises {
		t.Run(ex.Name, func(t *testing.T) {
			t.Parallel()
			env := testEnv(t)
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

// A story's broker-config lasts until it ends, then the broker has what it
// had before: the embedded stack's own settings, not kfake's defaults (the
// KIP-848 session went from the stack's 2 s to kfake's 45 s for every story
// after broker-restart-mid-run on the same stack).
func TestBrokerConfigRestored(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	sc, err := scenario.Parse("restore.txtar", []byte("# A claim.\n\nrequire embedded\nbroker-config group.consumer.session.timeout.ms 6000\nbroker-config offset.retention.ms 1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res := scenario.Run(t.Context(), sc, env); !res.Passed {
		t.Fatalf("the story failed: %v", res.Err())
	}
	got := stacktest.BrokerConfigs(t, env.Conn.Bootstrap)
	if v := got["group.consumer.session.timeout.ms"]; v != scenario.EmbeddedBrokerConfigs["group.consumer.session.timeout.ms"] {
		t.Errorf("group.consumer.session.timeout.ms = %q after the story, want the stack's %q back", v, scenario.EmbeddedBrokerConfigs["group.consumer.session.timeout.ms"])
	}
	if v, ok := got["offset.retention.ms"]; ok && v == "1000" {
		t.Errorf("offset.retention.ms still 1000 after the story")
	}
}
