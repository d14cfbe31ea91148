package verify

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/ledger"
)

// Synthetic ledgers: one producer run "r1" whose sequence numbers are
// partition*1000 + offset, so the same record has the same identity in the
// producer's and every consumer's ledger.

func rec(p int32, off int64) *ledger.Record {
	return &ledger.Record{Topic: "orders", Partition: p, Offset: off, Run: "r1", Seq: int64(p)*1000 + off}
}

func acked(p int32, offs ...int64) []ledger.Event {
	var es []ledger.Event
	for _, o := range offs {
		es = append(es, ledger.Event{Type: ledger.Acked, Record: rec(p, o)})
	}
	return es
}

// consume is a record consumed then processed.
func consume(p int32, offs ...int64) []ledger.Event {
	var es []ledger.Event
	for _, o := range offs {
		es = append(es, ledger.Event{Type: ledger.Consumed, Record: rec(p, o)},
			ledger.Event{Type: ledger.Processed, Record: rec(p, o)})
	}
	return es
}

// inflight is a record consumed but not (yet) processed.
func inflight(p int32, off int64) ledger.Event {
	return ledger.Event{Type: ledger.Consumed, Record: rec(p, off)}
}

func parts(ps ...int32) []ledger.Offset {
	var os []ledger.Offset
	for _, p := range ps {
		os = append(os, ledger.Offset{Topic: "orders", Partition: p, Offset: -1001})
	}
	return os
}

func assigned(ps ...int32) ledger.Event {
	return ledger.Event{Type: ledger.Assigned, Partitions: parts(ps...)}
}

func revoked(lost bool, ps ...int32) ledger.Event {
	return ledger.Event{Type: ledger.Revoked, Lost: lost, Partitions: parts(ps...)}
}

func commit(source string, p int32, off int64) ledger.Event {
	return ledger.Event{Type: ledger.Committed, Source: source,
		Partitions: []ledger.Offset{{Topic: "orders", Partition: p, Offset: off}}}
}

func inc(name string, groups ...any) Incarnation {
	in := Incarnation{Name: name}
	for _, g := range groups {
		switch g := g.(type) {
		case ledger.Event:
			in.Events = append(in.Events, g)
		case []ledger.Event:
			in.Events = append(in.Events, g...)
		default:
			panic("inc: not an event")
		}
	}
	return in
}

func mkTP(p int32) TP { return TP{Topic: "orders", Partition: p} }

func seq(from, to int64) []int64 {
	var s []int64
	for o := from; o <= to; o++ {
		s = append(s, o)
	}
	return s
}

// assertFailed checks that err is a verification failure of type E (exit
// code 1, on the partition want) with a one-line message containing each of
// the fragments.
func assertFailed[E error](t *testing.T, err error, want TP, fragments ...string) E {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T) is not a %T", err, err, target)
	}
	if code := cli.Code(err); code != cli.ExitFailed {
		t.Errorf("exit code %d, want %d", code, cli.ExitFailed)
	}
	var p interface{ Partition() TP }
	if !errors.As(err, &p) || p.Partition() != want {
		t.Errorf("error names partition %v, want %v", p, want)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("message is not one line: %q", msg)
	}
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("message %q does not say %q", msg, f)
		}
	}
	return target
}

func TestTPString(t *testing.T) {
	if got := (TP{Topic: "orders", Partition: 1}).String(); got != "orders[1]" {
		t.Errorf("got %q", got)
	}
}

// A consumer killed with SIGKILL mid-write leaves a torn last line: Read
// keeps everything before it, and the torn record counts as not processed.
func TestReadTornLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c1.2.jsonl")
	w, err := ledger.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	started := ledger.Event{Type: ledger.Started, Detail: map[string]string{"name": "c1", "group.id": "g1", "enable.auto.commit": "false"}}
	r7 := &ledger.Record{Topic: "orders", Partition: 0, Offset: 7, Run: "r1", Seq: 7}
	// consumed 7 completely, then killed while writing processed 7
	events := append(append([]ledger.Event{started, assigned(0)}, consume(0, 5, 6)...),
		ledger.Event{Type: ledger.Consumed, Record: r7}, ledger.Event{Type: ledger.Processed, Record: r7})
	for _, e := range events {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()-2); err != nil {
		t.Fatal(err)
	}

	in, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "c1.2" || in.Group != "g1" || len(in.Events) != 7 {
		t.Fatalf("read %q in group %q with %d events, want c1.2 in g1 with 7", in.Name, in.Group, len(in.Events))
	}
	// The broker says 8 was committed: the torn record 7 is lost.
	c := Account(acked(0, 5, 6, 7), []Incarnation{in}, map[string]Offsets{"g1": {mkTP(0): 8}}).Counts("g1")[mkTP(0)]
	if c == nil || c.Processed != 2 || c.Lost != 1 || c.LostSample[0].Offset != 7 {
		t.Errorf("torn processed event: %+v, want 2 processed and offset 7 lost", c)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing.jsonl")); err == nil {
		t.Error("a missing ledger was read")
	}
}

func TestFirstConsumed(t *testing.T) {
	in := inc("c1", assigned(0, 1), consume(1, 60, 61), inflight(0, 57), consume(1, 40))
	want := map[TP]int64{mkTP(0): 57, mkTP(1): 60}
	if got := FirstConsumed(in); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestResume(t *testing.T) {
	c := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name                string
		inc                 Incarnation
		committed, fallback Offsets
		rows                []ResumeRow
		err                 string // the message of the first failure; "" for none
	}{
		{
			name:      "resumes at the committed offsets",
			inc:       inc("c1", assigned(0, 1), consume(0, 60, 61), consume(1, 12)),
			committed: Offsets{mkTP(0): 60, mkTP(1): 12},
			rows:      []ResumeRow{{mkTP(0), c(60), 60, 60}, {mkTP(1), c(12), 12, 12}},
		},
		{
			name:      "resumed below the committed offset",
			inc:       inc("c1", assigned(0, 1), consume(1, 57, 58), consume(0, 3)),
			committed: Offsets{mkTP(0): 3, mkTP(1): 60},
			rows:      []ResumeRow{{mkTP(0), c(3), 3, 3}, {mkTP(1), c(60), 60, 57}},
			err:       "orders[1]: resumed at 57, but the broker's committed offset was 60",
		},
		{
			name:      "committed+1 is wrong: the committed offset is the next to read",
			inc:       inc("c1", consume(0, 61)),
			committed: Offsets{mkTP(0): 60},
			rows:      []ResumeRow{{mkTP(0), c(60), 60, 61}},
			err:       "orders[0]: resumed at 61, but the broker's committed offset was 60",
		},
		{
			name:     "nothing committed: the reset policy's offset",
			inc:      inc("c1", consume(0, 0, 1), consume(1, 25)),
			fallback: Offsets{mkTP(0): 0, mkTP(1): 25},
			rows:     []ResumeRow{{mkTP(0), nil, 0, 0}, {mkTP(1), nil, 25, 25}},
		},
		{
			name:     "nothing committed, resumed elsewhere than the policy says",
			inc:      inc("c1", consume(0, 10)),
			fallback: Offsets{mkTP(0): 0},
			rows:     []ResumeRow{{mkTP(0), nil, 0, 10}},
			err:      "orders[0]: resumed at 10, but nothing was committed and the reset policy gives 0",
		},
		{
			name:      "a committed offset wins over the policy",
			inc:       inc("c1", consume(0, 40)),
			committed: Offsets{mkTP(0): 40},
			fallback:  Offsets{mkTP(0): 100},
			rows:      []ResumeRow{{mkTP(0), c(40), 40, 40}},
		},
		{
			name:      "the policy applied although an offset was committed",
			inc:       inc("c1", consume(0, 100)),
			committed: Offsets{mkTP(0): 40},
			fallback:  Offsets{mkTP(0): 100},
			rows:      []ResumeRow{{mkTP(0), c(40), 40, 100}},
			err:       "orders[0]: resumed at 100, but the broker's committed offset was 40",
		},
		{
			name:      "neither committed nor a fallback",
			inc:       inc("c1", consume(0, 5), consume(1, 0)),
			committed: Offsets{mkTP(0): 5},
			rows:      []ResumeRow{{mkTP(0), c(5), 5, 5}},
			err:       "orders[1]: resumed at 0, but the broker had no committed offset for it and no reset-policy offset was given",
		},
		{
			name:      "killed before processing its first record: consumed is what counts",
			inc:       inc("c1", assigned(0), inflight(0, 60)),
			committed: Offsets{mkTP(0): 60},
			rows:      []ResumeRow{{mkTP(0), c(60), 60, 60}},
		},
		{
			name:      "consumed nothing",
			inc:       inc("c1", assigned(0)),
			committed: Offsets{mkTP(0): 60},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := Resume(tc.inc, tc.committed, tc.fallback)
			if !reflect.DeepEqual(rows, tc.rows) {
				t.Errorf("rows %+v, want %+v", rows, tc.rows)
			}
			for _, r := range rows {
				if r.OK() != (r.FirstSeen == r.Expected) {
					t.Errorf("%v: OK() is %v", r.TP, r.OK())
				}
			}
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected failure: %v", err)
			case tc.err == "":
			case strings.Contains(tc.err, "no reset-policy"):
				e := assertFailed[*NoExpectationError](t, err, mkTP(1))
				if err.Error() != tc.err || e.FirstSeen != 0 {
					t.Errorf("got %q, want %q", err, tc.err)
				}
			default:
				e := assertFailed[*ResumeError](t, err, tc.rows[len(tc.rows)-1].TP)
				if err.Error() != tc.err {
					t.Errorf("got %q, want %q", err, tc.err)
				}
				last := tc.rows[len(tc.rows)-1]
				if e.Expected != last.Expected || e.FirstSeen != last.FirstSeen || (e.Committed == nil) != (last.Committed == nil) {
					t.Errorf("error fields %+v, want those of row %+v", e, last)
				}
			}
		})
	}
}

func TestProcessedFrom(t *testing.T) {
	// Killed with commits at 3 (partition 0) and 7 (partition 1): a restart
	// must process 3..5 and 7 again; 9 was consumed, never processed.
	in := inc("c1.1", assigned(0, 1, 2), consume(0, seq(0, 5)...), consume(1, 6, 7), consume(0, 4), inflight(1, 9), consume(2, 0))
	p := NewProcessedFrom(Offsets{mkTP(0): 3, mkTP(1): 7, mkTP(3): 0})
	for _, e := range in.Events {
		p.Add(e)
	}
	got := p.Counts()
	want := map[TP]int64{mkTP(0): 3, mkTP(1): 1, mkTP(3): 0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCommitsNotAhead(t *testing.T) {
	failedCommit := commit("sync", 0, 9)
	failedCommit.Error = "Broker: Request timed out"
	partFailed := commit("async", 0, 9)
	partFailed.Partitions[0].Error = "Broker: Unknown member"
	for _, tc := range []struct {
		name  string
		inc   Incarnation
		err   string // "" when no commit is ahead
		errTP TP
	}{
		{
			name: "sync: each commit is the processed offset + 1",
			inc:  inc("c1", assigned(0), consume(0, 5), commit("sync", 0, 6), consume(0, 6), commit("sync", 0, 7), inflight(0, 7)),
		},
		{
			name: "store-after-process: commits lag processing",
			inc:  inc("c1", assigned(0), consume(0, 5, 6, 7), commit("auto", 0, 7), consume(0, 8), commit("close", 0, 9)),
		},
		{
			name: "auto-store: the commit covers a record handed over but not processed",
			inc:  inc("c1", assigned(0), consume(0, 40, 41), inflight(0, 42), commit("auto", 0, 43)),
			err:  "orders[0]: committed 43 (auto), but processing had reached only 41; at most 42 may be committed", errTP: mkTP(0),
		},
		{
			name: "commit-before-process, killed in flight",
			inc:  inc("c1", assigned(0), inflight(0, 42), commit("before-process", 0, 43)),
			err:  "orders[0]: committed 43 (before-process) before any record on it was processed; at most 42 may be committed", errTP: mkTP(0),
		},
		{
			name:  "auto-store: two records handed over, none processed",
			inc:   inc("c1", assigned(0), inflight(0, 42), inflight(0, 43), commit("auto", 0, 44)),
			err:   "orders[0]: committed 44 (auto) before any record on it was processed; at most 42 may be committed",
			errTP: mkTP(0),
		},
		{
			name: "a commit of where reading began claims nothing",
			inc:  inc("c1", assigned(0), inflight(0, 42), commit("revoke", 0, 42)),
		},
		{
			name: "a commit on a partition never read",
			inc:  inc("c1", assigned(0, 1), consume(0, 5), commit("sync", 1, 3)),
			err:  "orders[1]: committed 3 (sync) before any record on it was processed; at most 0 may be committed", errTP: mkTP(1),
		},
		{
			name: "failed commits claimed nothing",
			inc:  inc("c1", assigned(0), consume(0, 5), failedCommit, partFailed),
		},
		{
			name: "reassigned further on: the new start bounds the commit",
			inc: inc("c1", assigned(0), consume(0, 5), commit("sync", 0, 6), revoked(false, 0),
				assigned(0), inflight(0, 50), commit("revoke", 0, 50), consume(0, 50), commit("sync", 0, 51)),
		},
		{
			name: "reassigned: the old start no longer counts",
			inc: inc("c1", assigned(0), inflight(0, 50), revoked(true, 0),
				assigned(0), inflight(0, 20), commit("auto", 0, 50)),
			err: "orders[0]: committed 50 (auto) before any record on it was processed; at most 20 may be committed", errTP: mkTP(0),
		},
		{
			name: "the commit is judged when it happened, not at the ledger's end",
			inc:  inc("c1", assigned(0), consume(0, 1), commit("async", 0, 5), consume(0, 2, 3, 4)),
			err:  "orders[0]: committed 5 (async), but processing had reached only 1; at most 2 may be committed", errTP: mkTP(0),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCommitCheck()
			var err error
			for _, e := range tc.inc.Events {
				if err = c.Add(e); err != nil {
					break
				}
			}
			if tc.err == "" {
				if err != nil {
					t.Fatalf("unexpected failure: %v", err)
				}
				return
			}
			assertFailed[*CommitAheadError](t, err, tc.errTP)
			if err.Error() != tc.err {
				t.Errorf("got  %q\nwant %q", err, tc.err)
			}
		})
	}
}

func TestAssignment(t *testing.T) {
	for _, tc := range []struct {
		name string
		inc  Incarnation
		want []TP
	}{
		{"eager rebalance", inc("c1", assigned(0, 1, 2), revoked(false, 0, 1, 2), assigned(2, 0)), []TP{mkTP(0), mkTP(2)}},
		{"cooperative: increments", inc("c1", assigned(0, 1, 2), revoked(false, 1), assigned(3)), []TP{mkTP(0), mkTP(2), mkTP(3)}},
		{"lost", inc("c1", assigned(0, 1), revoked(true, 0, 1)), []TP{}},
		{"stopped", inc("c1", assigned(0, 1), ledger.Event{Type: ledger.Stopped}), []TP{}},
		{"killed: the ledger just ends", inc("c1", assigned(0, 1), consume(0, 1)), []TP{mkTP(0), mkTP(1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Assignment(tc.inc); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOwners(t *testing.T) {
	all := []TP{mkTP(2), mkTP(0), mkTP(1)}
	for _, tc := range []struct {
		name   string
		live   []Incarnation
		owners map[TP]string
		err    string
		errTP  TP
	}{
		{
			name:   "one owner each",
			live:   []Incarnation{inc("c1", assigned(0, 1)), inc("c2", assigned(2))},
			owners: map[TP]string{mkTP(0): "c1", mkTP(1): "c1", mkTP(2): "c2"},
		},
		{
			name: "after a takeover: revoked everything, assigned everything",
			live: []Incarnation{
				inc("c1", assigned(0), revoked(false, 0), assigned(0, 1, 2)),
			},
			owners: map[TP]string{mkTP(0): "c1", mkTP(1): "c1", mkTP(2): "c1"},
		},
		{
			name: "a partition nobody owns",
			live: []Incarnation{inc("c1", assigned(0)), inc("c2", assigned(1, 2), revoked(false, 2))},
			err:  "orders[2]: no running consumer owns it, expected exactly 1 owner", errTP: mkTP(2),
			owners: map[TP]string{mkTP(0): "c1", mkTP(1): "c2"},
		},
		{
			name: "a lost revocation gives the partition up",
			live: []Incarnation{inc("c1", assigned(0, 1, 2), revoked(true, 0, 1, 2), assigned(0, 1))},
			err:  "orders[2]: no running consumer owns it, expected exactly 1 owner", errTP: mkTP(2),
			owners: map[TP]string{mkTP(0): "c1", mkTP(1): "c1"},
		},
		{
			name: "two owners",
			live: []Incarnation{inc("c1", assigned(0, 1)), inc("c2", assigned(1, 2))},
			err:  "orders[1]: owned by 2 consumers (c1, c2), expected exactly 1", errTP: mkTP(1),
			owners: map[TP]string{mkTP(0): "c1", mkTP(2): "c2"},
		},
		{
			name: "a stopped consumer owns nothing",
			live: []Incarnation{inc("c1", assigned(0, 1, 2), ledger.Event{Type: ledger.Stopped}), inc("c2", assigned(1, 2))},
			err:  "orders[0]: no running consumer owns it, expected exactly 1 owner", errTP: mkTP(0),
			owners: map[TP]string{mkTP(1): "c2", mkTP(2): "c2"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			owners, err := Owners(tc.live, all)
			if !reflect.DeepEqual(owners, tc.owners) {
				t.Errorf("owners %v, want %v", owners, tc.owners)
			}
			if tc.err == "" {
				if err != nil {
					t.Fatalf("unexpected failure: %v", err)
				}
				return
			}
			assertFailed[*OwnershipError](t, err, tc.errTP)
			if err.Error() != tc.err {
				t.Errorf("got %q, want %q", err, tc.err)
			}
		})
	}
}

func TestBound(t *testing.T) {
	for _, tc := range []struct {
		seen int64
		op   Op
		ok   []int64 // bounds that hold
		fail []int64 // bounds that do not
	}{
		{3, Eq, []int64{3}, []int64{2, 4}},
		{3, Le, []int64{3, 4}, []int64{2}},
		{3, Ge, []int64{2, 3}, []int64{4}},
		{3, Lt, []int64{4}, []int64{2, 3}},
		{3, Gt, []int64{2}, []int64{3, 4}},
	} {
		op, err := ParseOp(string(tc.op))
		if err != nil || op != tc.op {
			t.Fatalf("ParseOp(%q) = %q, %v", tc.op, op, err)
		}
		for _, b := range tc.ok {
			if err := Bound("replayed", TP{}, tc.seen, op, b); err != nil {
				t.Errorf("3 %s %d: %v", op, b, err)
			}
		}
		for _, b := range tc.fail {
			err := Bound("replayed", TP{}, tc.seen, op, b)
			e := assertFailed[*BoundError](t, err, TP{}, "replayed is 3", string(op))
			if e.Seen != 3 || e.Bound != b || e.Op != op || e.What != "replayed" {
				t.Errorf("3 %s %d: fields %+v", op, b, e)
			}
		}
	}

	err := Bound("lost", mkTP(1), 2, Eq, 0)
	assertFailed[*BoundError](t, err, mkTP(1))
	if want := "orders[1]: lost is 2, but the scenario expects == 0"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if want := "replayed is 3, but the scenario expects <= 0"; Bound("replayed", TP{}, 3, Le, 0).Error() != want {
		t.Errorf("total: got %q, want %q", Bound("replayed", TP{}, 3, Le, 0), want)
	}
}

func TestBadOp(t *testing.T) {
	for _, s := range []string{"", "=", "!=", "=<", "eq", "<<"} {
		_, err := ParseOp(s)
		var usage *cli.UsageError
		if !errors.As(err, &usage) || cli.Code(err) != cli.ExitUsage {
			t.Errorf("ParseOp(%q): %v, want a usage error", s, err)
			continue
		}
		if !strings.Contains(err.Error(), "== <= >= < >") {
			t.Errorf("ParseOp(%q): %q does not list the accepted comparisons", s, err)
		}
		if err := Bound("lost", TP{}, 0, Op(s), 0); cli.Code(err) != cli.ExitUsage {
			t.Errorf("Bound with op %q: %v, want a usage error", s, err)
		}
	}
}

// A summary keeps what resumes and ownership are judged on, and
// leaves out the bulk of the records.
func TestReadSummary(t *testing.T) {
	started := ledger.Event{Type: ledger.Started, Detail: map[string]string{"group.id": "g1"}}
	full := inc("c1", started, assigned(0, 1), consume(0, seq(5, 500)...), consume(1, seq(0, 300)...),
		commit("auto", 0, 400), revoked(false, 0, 1), assigned(1), consume(1, seq(250, 900)...), inflight(1, 901),
		ledger.Event{Type: ledger.Stopped})
	path := filepath.Join(t.TempDir(), "c1.ledger")
	w, err := ledger.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range full.Events {
		e.TS = time.Unix(0, int64(i+1))
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	sum, err := ReadSummary(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Name != "c1" || sum.Group != "g1" {
		t.Errorf("name %q group %q, want c1 g1", sum.Name, sum.Group)
	}
	if len(sum.Events) > 15 {
		t.Errorf("%d events kept of %d, want the first records after each assignment only", len(sum.Events), len(full.Events))
	}
	if got, want := FirstConsumed(sum), FirstConsumed(full); !reflect.DeepEqual(got, want) {
		t.Errorf("first consumed %v, want %v", got, want)
	}
	// After the second assignment, partition 1 resumed at 250: kept.
	var resumed []int64
	for _, e := range sum.Events {
		if e.Type == ledger.Consumed && e.Record.Partition == 1 {
			resumed = append(resumed, e.Record.Offset)
		}
	}
	if !slices.Equal(resumed, []int64{0, 250}) {
		t.Errorf("consumed on partition 1 kept at %v, want 0 and 250", resumed)
	}
	if got := Assignment(sum); len(got) != 0 {
		t.Errorf("assignment after stopped %v, want none", got)
	}
}
