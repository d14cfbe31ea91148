package offsets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/groups"
)

// planJSON is `offsets reset --format json`.
type planJSON struct {
	Group      string `json:"group"`
	State      string `json:"state"`
	Members    int    `json:"members"`
	Target     string `json:"target"`
	Executed   bool   `json:"executed"`
	Warnings   []string
	Partitions []struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		Current   *int64 `json:"current"`
		New       int64  `json:"new"`
		LogStart  int64  `json:"log_start"`
		LogEnd    int64  `json:"log_end"`
		Requested *int64 `json:"requested"`
	} `json:"partitions"`
}

// news is a plan's NEW offsets as "topic/partition=new".
func (p planJSON) news() []string {
	var s []string
	for _, r := range p.Partitions {
		s = append(s, fmt.Sprintf("%s/%d=%d", r.Topic, r.Partition, r.New))
	}
	return s
}

// committed is what describe says the group committed, as "topic/partition=offset".
func (e *env) committed(group string) []string {
	e.t.Helper()
	var d describeJSON
	e.jsonOf(&d, "describe", "--group", group)
	var s []string
	for _, p := range d.Groups[0].Partitions {
		s = append(s, fmt.Sprintf("%s/%d=%s", p.Topic, p.Partition, ptrString(p.Committed)))
	}
	return s
}

// resetFixture: orders has two partitions of 10 records, stamped one
// second apart from base; retention moved orders[0]'s log start to 2; group
// app committed 4 and 6. A third topic, other, has commits too.
func resetFixture(t *testing.T) (*env, time.Time) {
	e := newEnv(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	e.CreateTopic("orders", 2)
	e.CreateTopic("other", 1)
	e.Produce("orders", 0, 10, base)
	e.Produce("orders", 1, 10, base)
	e.Produce("other", 0, 5, base)
	e.DeleteRecords("orders", 0, 2)
	e.Commit("app", map[string]map[int32]int64{"orders": {0: 4, 1: 6}, "other": {0: 1}})
	return e, base
}

func TestResetTargetsDryRun(t *testing.T) {
	e, base := resetFixture(t)
	file := filepath.Join(t.TempDir(), "offsets.csv")
	if err := os.WriteFile(file, []byte("orders,0,3\norders,1,8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := e.committed("app")
	if want := []string{"orders/0=4", "orders/1=6", "other/0=1"}; !reflect.DeepEqual(before, want) {
		t.Fatalf("fixture committed %v, want %v", before, want)
	}
	stamp := func(d time.Duration) string { return base.Add(d).UTC().Format("2006-01-02T15:04:05.000Z") }
	cases := []struct {
		name     string
		args     []string
		want     []string
		warnings int // clamped partitions, or partitions without a commit
	}{
		{"earliest", []string{"--topic", "orders", "--to-earliest"}, []string{"orders/0=2", "orders/1=0"}, 0},
		{"latest", []string{"--topic", "orders", "--to-latest"}, []string{"orders/0=10", "orders/1=10"}, 0},
		{"current", []string{"--topic", "orders", "--to-current"}, []string{"orders/0=4", "orders/1=6"}, 0},
		{"offset", []string{"--topic", "orders", "--to-offset", "7"}, []string{"orders/0=7", "orders/1=7"}, 0},
		{"offset clamped to the log start", []string{"--topic", "orders", "--to-offset", "1"}, []string{"orders/0=2", "orders/1=1"}, 1},
		{"offset clamped to the log end", []string{"--topic", "orders", "--to-offset", "50"}, []string{"orders/0=10", "orders/1=10"}, 2},
		{"shift back, clamped", []string{"--topic", "orders", "--shift-by", "-3"}, []string{"orders/0=2", "orders/1=3"}, 1},
		{"shift forward", []string{"--topic", "orders", "--shift-by", "+2"}, []string{"orders/0=6", "orders/1=8"}, 0},
		{"shift forward, clamped", []string{"--topic", "orders", "--shift-by", "100"}, []string{"orders/0=10", "orders/1=10"}, 2},
		{"datetime", []string{"--topic", "orders", "--to-datetime", stamp(5 * time.Second)}, []string{"orders/0=5", "orders/1=5"}, 0},
		{"datetime before the log", []string{"--topic", "orders", "--to-datetime", stamp(-time.Hour)}, []string{"orders/0=2", "orders/1=0"}, 0},
		{"datetime after the log", []string{"--topic", "orders", "--to-datetime", stamp(time.Hour)}, []string{"orders/0=10", "orders/1=10"}, 0},
		{"duration, all records newer", []string{"--topic", "orders", "--by-duration", "PT2H"}, []string{"orders/0=2", "orders/1=0"}, 0},
		{"datetime before the epoch: the log start", []string{"--topic", "orders", "--to-datetime", "0001-01-01T00:00:00Z"}, []string{"orders/0=2", "orders/1=0"}, 1},
		{"duration past the epoch: the log start", []string{"--topic", "orders", "--by-duration", "PT9999999999999H"}, []string{"orders/0=2", "orders/1=0"}, 1},
		{"duration past time.Duration, Go syntax", []string{"--topic", "orders", "--by-duration", "2562047h"}, []string{"orders/0=2", "orders/1=0"}, 1},
		{"duration, all records older", []string{"--topic", "orders", "--by-duration", "30m"}, []string{"orders/0=10", "orders/1=10"}, 0},
		{"from file", []string{"--from-file", file}, []string{"orders/0=3", "orders/1=8"}, 0},
		{"some partitions", []string{"--topic", "orders:1", "--to-earliest"}, []string{"orders/1=0"}, 0},
		{"all topics", []string{"--all-topics", "--to-latest"}, []string{"orders/0=10", "orders/1=10", "other/0=5"}, 0},
		{"two topics", []string{"--topic", "other", "--topic", "orders:0", "--to-earliest"}, []string{"orders/0=2", "other/0=0"}, 0},
	}
	// The subtests run in parallel inside "targets", which returns when
	// they all have.
	t.Run("targets", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				e := e.in(t)
				var p planJSON
				e.jsonOf(&p, append([]string{"reset", "--group", "app"}, c.args...)...)
				if got := p.news(); !reflect.DeepEqual(got, c.want) {
					t.Errorf("NEW %v, want %v", got, c.want)
				}
				if len(p.Warnings) != c.warnings {
					t.Errorf("warnings %q, want %d", p.Warnings, c.warnings)
				}
				if p.Executed || p.State != "Empty" {
					t.Errorf("executed %v state %s, want a dry run of an Empty group", p.Executed, p.State)
				}
				for _, r := range p.Partitions {
					if r.Requested != nil && r.New != r.LogStart && r.New != r.LogEnd {
						t.Errorf("%s/%d: requested %d clamped to %d, which is neither log start %d nor log end %d", r.Topic, r.Partition, *r.Requested, r.New, r.LogStart, r.LogEnd)
					}
				}
			})
		}
	})
	if after := e.committed("app"); !reflect.DeepEqual(after, before) {
		t.Fatalf("dry runs changed the commits: %v, before %v", after, before)
	}
}

func TestResetDryRunTextAndClampWarning(t *testing.T) {
	e, _ := resetFixture(t)
	stdout, stderr, err := e.offsets("reset", "--group", "app", "--topic", "orders", "--shift-by", "-3")
	if err != nil {
		t.Fatal(err)
	}
	want := "TOPIC   PARTITION  CURRENT  NEW\norders  0          4        2\norders  1          6        3\n"
	if stdout != want {
		t.Errorf("table:\n%s\nwant:\n%s", stdout, want)
	}
	if !strings.Contains(stderr, "warning: orders[0]: new offset 1 is before the log start 2; using 2") ||
		!strings.Contains(stderr, "dry run: nothing changed") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// TestResetBeforeEpochClampsToLogStart: a time before 1970 (or a duration
// reaching before it) is the log start, with a warning, as
// kafka-consumer-groups has it; it used to end with "invalid offset
// -62135596800000" (issue 15, item 13).
func TestResetBeforeEpochClampsToLogStart(t *testing.T) {
	e, _ := resetFixture(t)
	stdout, stderr, err := e.offsets("reset", "--group", "app", "--topic", "orders", "--to-datetime", "0001-01-01T00:00:00Z")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if want := "TOPIC   PARTITION  CURRENT  NEW\norders  0          4        2\norders  1          6        0\n"; stdout != want {
		t.Errorf("table:\n%s\nwant:\n%s", stdout, want)
	}
	if warning := "warning: 0001-01-01T00:00:00Z is before 1970-01-01, where record timestamps start: every record is at or after it; using the log start\n"; !strings.Contains(stderr, warning) {
		t.Errorf("stderr lacks %q:\n%s", warning, stderr)
	}
}

func TestResetExecuteThenConsumerResumesAtNew(t *testing.T) {
	e, _ := resetFixture(t)
	var p planJSON
	e.jsonOf(&p, "reset", "--group", "app", "--topic", "orders", "--shift-by", "-1", "--execute")
	if !p.Executed || !reflect.DeepEqual(p.news(), []string{"orders/0=3", "orders/1=5"}) {
		t.Fatalf("executed plan: %+v", p)
	}
	if got, want := e.committed("app"), []string{"orders/0=3", "orders/1=5", "other/0=1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("committed after --execute: %v, want %v", got, want)
	}
	m := e.Join("app", "c1", "orders")
	if got := m.FirstOffsets("orders", 0, 1); got[0] != 3 || got[1] != 5 {
		t.Fatalf("consumer resumed at %v, want NEW: 0->3, 1->5", got)
	}
}

// TestResetShiftBySaturates: a shift past int64 saturates, then clamps to
// the log end with the usual warning; it used to wrap negative and move the
// group to its log start (issue 15, item 12).
func TestResetShiftBySaturates(t *testing.T) {
	e, _ := resetFixture(t)
	_, stderr, err := e.offsets("reset", "--group", "app", "--topic", "orders:1", "--shift-by", "9223372036854775807", "--execute")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if got := e.committed("app"); !slices.Contains(got, "orders/1=10") {
		t.Errorf("--shift-by MaxInt64 --execute committed %v, want orders/1=10 (the log end)", got)
	}
	if warning := "warning: orders[1]: new offset 9223372036854775807 is past the log end 10; using 10"; !strings.Contains(stderr, warning) {
		t.Errorf("stderr lacks %q:\n%s", warning, stderr)
	}
}

func TestResetExportThenFromFileReproduces(t *testing.T) {
	e, base := resetFixture(t)
	args := []string{"reset", "--group", "app", "--all-topics", "--to-datetime", base.Add(3 * time.Second).Format(time.RFC3339)}
	csv := e.must(append(args, "--export")...)
	if csv != "orders,0,3\norders,1,3\nother,0,3\n" {
		t.Fatalf("--export:\n%s", csv)
	}
	var planned planJSON
	e.jsonOf(&planned, args...)
	file := filepath.Join(t.TempDir(), "plan.csv")
	if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	var fromFile planJSON
	e.jsonOf(&fromFile, "reset", "--group", "app", "--from-file", file)
	if !reflect.DeepEqual(fromFile.news(), planned.news()) {
		t.Fatalf("--from-file plan %v, exported plan %v", fromFile.news(), planned.news())
	}
	e.must("reset", "--group", "app", "--from-file", file, "--execute")
	if got, want := e.committed("app"), []string{"orders/0=3", "orders/1=3", "other/0=3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("committed after --from-file --execute: %v, want %v", got, want)
	}
	// kafka-consumer-groups' multi-group export: group,topic,partition,offset.
	multi := filepath.Join(t.TempDir(), "multi.csv")
	if err := os.WriteFile(multi, []byte("app,orders,0,9\nsomeone-else,orders,1,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var p planJSON
	e.jsonOf(&p, "reset", "--group", "app", "--from-file", multi)
	if !reflect.DeepEqual(p.news(), []string{"orders/0=9"}) {
		t.Fatalf("multi-group file: %v", p.news())
	}
}

func TestResetRefusesActiveGroup(t *testing.T) {
	e, _ := resetFixture(t)
	e.Join("app", "c1", "orders")
	before := e.committed("app")

	// A dry run of an active group is allowed, and says what --execute will do.
	_, stderr, err := e.offsets("reset", "--group", "app", "--topic", "orders", "--to-earliest")
	if err != nil || !strings.Contains(stderr, "--execute will be refused") {
		t.Fatalf("dry run on an active group: %v\n%s", err, stderr)
	}
	_, _, err = e.offsets("reset", "--group", "app", "--topic", "orders", "--to-earliest", "--execute")
	var active *groups.ActiveGroupError
	if !errors.As(err, &active) || cli.Code(err) != cli.ExitFailed {
		t.Fatalf("--execute on an active group: %v (exit %d), want an ActiveGroupError, exit 1", err, cli.Code(err))
	}
	msg := err.Error()
	for _, s := range []string{"group app", "active", "c1", "Stop its consumers", "session.timeout.ms"} {
		if !strings.Contains(msg, s) {
			t.Errorf("refusal %q does not say %q", msg, s)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("refusal is not one line: %q", msg)
	}
	if after := e.committed("app"); !reflect.DeepEqual(after, before) {
		t.Fatalf("a refused reset changed the commits: %v, before %v", after, before)
	}
}

func TestResetUsageErrors(t *testing.T) {
	e, _ := resetFixture(t)
	badFile := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(badFile, []byte("orders,zero,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--topic", "orders"}, "a reset target is required"},
		{[]string{"--topic", "orders", "--to-earliest", "--to-latest"}, "exactly one reset target"},
		{[]string{"--to-earliest"}, "--topic or --all-topics is required"},
		{[]string{"--topic", "orders:x", "--to-earliest"}, `"x" is not a partition number`},
		{[]string{"--topic", "orders:7", "--to-earliest"}, "has no partition 7"},
		{[]string{"--topic", "missing", "--to-earliest"}, `topic "missing" does not exist`},
		{[]string{"--topic", "orders", "--to-datetime", "yesterday"}, "is not a time"},
		{[]string{"--topic", "orders", "--by-duration", "-5m"}, "is not a duration"},
		{[]string{"--topic", "orders", "--to-offset", "-1"}, "--to-offset must be an offset"},
		{[]string{"--from-file", badFile}, "line 1: partition"},
		{[]string{"--from-file", badFile, "--topic", "orders"}, "drop --topic"},
	}
	for _, c := range cases {
		_, _, err := e.offsets(append([]string{"reset", "--group", "app"}, c.args...)...)
		if cli.Code(err) != cli.ExitUsage || !strings.Contains(fmt.Sprint(err), c.want) {
			t.Errorf("reset %v: %v (exit %d), want usage error containing %q", c.args, err, cli.Code(err), c.want)
		}
	}
	// Asking about a missing topic did not create it.
	_, _, err := e.offsets("reset", "--group", "app", "--topic", "missing", "--to-earliest")
	if !strings.Contains(fmt.Sprint(err), "does not exist") {
		t.Fatalf("second ask for a missing topic: %v", err)
	}
	// Shifting a partition with nothing committed cannot work.
	e.CreateTopic("fresh", 1)
	_, _, err = e.offsets("reset", "--group", "app", "--topic", "fresh", "--shift-by", "1")
	if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), "nothing is committed for fresh[0]") {
		t.Fatalf("shift without a commit: %v", err)
	}
}

// A reset of many partitions goes in batches (librdkafka's work on one
// admin request grows faster than its size: a 100,000-partition dry run
// spent 103 s of CPU, then "did not answer within 10s"). Every batch must
// land: 2,500 partitions are three batches of at most 1,000, for the log
// bounds, the committed offsets and the commit.
func TestResetManyPartitions(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("wide", 2500)
	e.Commit("app", map[string]map[int32]int64{"wide": {0: 0, 1999: 0}})
	_, stderr, err := e.offsets("reset", "--group", "app", "--topic", "wide", "--to-latest", "--execute")
	if err != nil || !strings.Contains(stderr, "executed: group app now resumes at NEW in 2500 partitions") {
		t.Fatalf("reset of 2500 partitions: %v\n%s", err, stderr)
	}
	if got := len(e.committed("app")); got != 2500 {
		t.Fatalf("%d partitions committed after the reset, want 2500", got)
	}
	// The committed offsets of partitions past the first batch are read back.
	if out := e.must("reset", "--group", "app", "--topic", "wide:1999", "--to-current"); !strings.Contains(out, "wide   1999       0        0") {
		t.Fatalf("--to-current of wide[1999]:\n%s", out)
	}
}
