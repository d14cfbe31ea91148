package scenarios

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/scenario"
)

// The suite's verdict on code offsetlab did not write (examples/, each
// idiomatic in its own language): every correct consumer passes it, every
// broken one fails it, naming the offsets it lost. Each runs with a 1.5 s
// session timeout (-X), so a restart after kill -9 waits 1.5 s, not its
// client's default 30-45 s. It takes minutes of waiting on sessions and
// restarts, so it runs in `make examples` (OFFSETLAB_EXAMPLES=1), which CI
// runs after `make test`.
func TestExamples(t *testing.T) {
	if os.Getenv("OFFSETLAB_EXAMPLES") == "" {
		t.Skip("the examples' suite runs in make examples (OFFSETLAB_EXAMPLES=1)")
	}
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range []struct {
		name, command, needs string
		broken               bool
		stories              []string // nil: the whole suite
	}{
		{"python", "/usr/bin/python3 " + examples + "/python/consumer.py", "/usr/bin/python3", false, nil},
		{"python-broken", "/usr/bin/python3 " + examples + "/python-broken/consumer.py", "/usr/bin/python3", true, nil},
		{"node", "node " + examples + "/node/consumer.js", "node", false, nil},
		{"node-broken", "node " + examples + "/node-broken/consumer.js", "node", true, nil},
		// kcat -G drops a record it polled after SIGTERM, whose offset
		// librdkafka had stored, and closes committing it (kcat.c:
		// consume_cb returns before printing once conf.run is 0). That
		// happens only when a record arrives between the signal and the end
		// of the poll (3 of 4 SIGTERM runs here), so kcat is held only to
		// the stories whose verdict does not depend on it.
		{"kcat", examples + "/kcat/consume.sh", "kcat", false, []string{"suite-kill-restart", "suite-broker-restart"}},
	} {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			if _, err := exec.LookPath(ex.needs); err != nil {
				t.Skipf("%s is not installed (.ci/run installs it)", ex.needs)
			}
			var stdout, stderr bytes.Buffer
			args := append([]string{"run", "--consumer", ex.command + " -X session.timeout.ms=1500 -X heartbeat.interval.ms=500", "--format", "json", "--results", t.TempDir()}, ex.stories...)
			err := Run(t.Context(), args, &stdout, &stderr)
			var results []scenario.Result
			if jerr := json.Unmarshal(stdout.Bytes(), &results); jerr != nil {
				t.Fatalf("%v: %v\n%s", err, jerr, stderr.String())
			}
			var failures []string
			for _, res := range results {
				t.Logf("%s: passed %v in %s, kill to resumed processing %v %s", res.Name, res.Passed, res.Duration.Round(time.Millisecond), res.KillToResume, res.Error)
				for _, c := range res.Checks {
					if !c.Passed {
						failures = append(failures, res.Name+": "+c.Error)
					}
				}
			}
			switch {
			case ex.stories == nil && len(results) != 4:
				t.Fatalf("the suite ran %d stories, want 4\n%s", len(results), stderr.String())
			case !ex.broken && err != nil:
				t.Errorf("a correct consumer failed the suite: %v\n%s", err, strings.Join(failures, "\n"))
			case ex.broken && cli.Code(err) != cli.ExitFailed:
				t.Errorf("a broken consumer passed the suite (exit %d, %v)", cli.Code(err), err)
			case ex.broken && !strings.Contains(strings.Join(failures, "\n"), "(offsets "):
				t.Errorf("the verdict does not name the lost offsets:\n%s", strings.Join(failures, "\n"))
			}
		})
	}
}
