package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// Every story of the catalog and every exercise parses.
func TestCatalogParses(t *testing.T) {
	files, _ := filepath.Glob("../../scenarios/*/*.txtar")
	if len(files) < 30 {
		t.Fatalf("found %d stories, want the catalog and the exercises", len(files))
	}
	for _, f := range files {
		if _, err := ParseFile(f); err != nil {
			t.Error(err)
		}
	}
}

// A mistake is found before anything runs, on its line, with what is
// accepted; the exit code is 2.
func TestParseErrors(t *testing.T) {
	const claim = "# A claim.\n\n"
	for _, tc := range []struct {
		name, story, want string
	}{
		{"unknown verb", "produce 10\nstrat c1\n", `story.txtar:4: unknown verb "strat"; accepted: `},
		{"bad count", "produce ten\n", `story.txtar:3: produce: "ten" is not a record count`},
		{"producer flag", "produce 10 --rate -1\n", "story.txtar:3: produce: producer flags: --rate must be 0"},
		{"consumer flag", "produce 10\nstart c1 --commit sometimes\n", `story.txtar:4: start: consumer flags: --commit "sometimes" is not a commit mode (accepted: `},
		{"unknown flag", "produce 10\nstart c1 --bogus\n", "story.txtar:4: start: consumer flags: flag provided but not defined: -bogus"},
		{"kill before start", "produce 10\nkill c1\n", `story.txtar:4: kill: no process "c1" was started before this line`},
		{"wait condition", "produce 10\nstart c1\nwait c1 procesed 3\n", `story.txtar:5: wait: unknown condition "procesed"; accepted: [acked assigned caught-up`},
		{"wait bound", "produce 10\nstart c1\nwait c1 processed 3 within soon\n", `story.txtar:5: wait: "soon" is not a duration`},
		{"wait bound variable", "produce 10\nstart c1\nwait c1 processed 3 within $SESION+2s\n", `story.txtar:5: unknown variable $SESION`},
		{"wait count", "produce 10\nstart c1\nwait c1 processed many\n", `story.txtar:5: wait: processed: "many" is not a count`},
		{"acked on a consumer", "produce 10\nstart c1\nwait c1 acked 3\n", "story.txtar:5: wait: acked: c1 is not a background producer"},
		{"snapshot not taken", "produce 10\nstart c1\nexpect resume c1 at-kill\n", `story.txtar:5: expect: resume: no snapshot "at-kill" was taken before this line`},
		{"snapshot twice", "produce 10\nsnapshot a\nsnapshot a\n", `story.txtar:5: snapshot: snapshot "a" was already taken`},
		{"run that does not exist", "produce 10\nstart c1\nsnapshot s\nexpect replayed == since c1#2 s\n", `story.txtar:6: expect: replayed: "c1#2": c1 has been started 1 times before this line; RUN is 1 to 1`},
		{"unknown check", "produce 10\nexpect lots == 1\n", `story.txtar:4: expect: unknown check "lots"; accepted: commits-not-ahead, consumed, evictions, failed-commits, lost`},
		{"bad op", "produce 10\nexpect lost =< 1\n", `story.txtar:4: expect: lost: unknown comparison "=<" (accepted: == <= >= < >)`},
		{"among nobody", "produce 10\nexpect lost == 0 among c9\n", `story.txtar:4: expect: lost: no consumer "c9" was started before this line`},
		{"unknown variable", "produce 10 --topic $TOPC\n", "story.txtar:3: unknown variable $TOPC; accepted: $TOPIC, $GROUP, $DIR"},
		{"sleep without a reason", "produce 10\nsleep 2s\n", "story.txtar:4: sleep: say why the story pauses"},
		{"restart-broker without require", "produce 10\nrestart-broker\n", "story.txtar:4: restart-broker: restart-broker needs the embedded stack: put `require embedded` before it"},
		{"position value", "produce 10\nstart c1\npositions c1\nexpect position c1 0 -5 none\n", `story.txtar:6: expect: position: "-5" is not an offset`},
		{"same-assignment after one start", "produce 10\nstart c1\nexpect same-assignment c1\n", "story.txtar:5: expect: same-assignment: c1 has been started once before this line"},
		{"fault on an unknown request", "require embedded\nfault OffsetComit REQUEST_TIMED_OUT\n", `story.txtar:4: fault: "OffsetComit" is not a request offsetlab faults; accepted: ConsumerGroupHeartbeat, Fetch, `},
		{"fault with an unknown error", "require embedded\nfault OffsetCommit TIMED_OUT\n", `story.txtar:4: fault: "TIMED_OUT" is not an error offsetlab injects; accepted: COORDINATOR_LOAD_IN_PROGRESS, `},
		{"fault without require", "fault OffsetCommit REQUEST_TIMED_OUT\n", "story.txtar:3: fault: needs the embedded stack: put `require embedded` before it"},
		{"fault count", "require embedded\nfault OffsetCommit REQUEST_TIMED_OUT count 0\n", `story.txtar:4: fault: count "0" is not a number of requests (1 or more; until-healed for no limit)`},
		{"fault group on a fetch", "require embedded\nfault Fetch NOT_LEADER_OR_FOLLOWER group g\n", "story.txtar:4: fault: Fetch carries no group (it is scoped by topic)"},
		{"heal an unknown fault", "require embedded\nheal f1\n", `story.txtar:4: heal: no fault "f1" was set before this line`},
		{"hits of a consumer", "produce 10\nstart c1\nwait c1 hits 1\n", "story.txtar:5: wait: hits: c1 is not a fault"},
		{"unknown condition in brackets", "produce 10\n[kip848] start c1\n", `story.txtar:4: a line's condition is [classic] or [consumer] (the group protocol it runs under), not "[kip848]"`},
		{"a classic flag under both protocols", "produce 10\nstart c1 --session-timeout 6s\n", "story.txtar:4: start: consumer flags, when the story runs under --protocol consumer: --session-timeout and --heartbeat-interval belong to the classic protocol"},
		{"stall without max-poll", "produce 10\nstart c1 --stall 40\n", "story.txtar:4: start: consumer flags: --stall 40 without a duration stalls for twice --max-poll-interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("story.txtar", []byte(claim+tc.story))
			if err == nil {
				t.Fatal("parsed")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got  %v\nwant %s...", err, tc.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || cli.Code(err) != cli.ExitUsage {
				t.Errorf("want a *ParseError with exit code 2, got %T (%d)", err, cli.Code(err))
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is not one line: %q", err)
			}
		})
	}
}

// What parses is typed: a sleep that says why, a wait with its bound, and
// the chaos rounds drawn from the seed.
func TestParseSteps(t *testing.T) {
	_, err := Parse("x/ok.txtar", []byte(`# A claim
# on two lines.

produce 100 --partition 0
start c1 --group $GROUP-other --reset earliest
# Let the auto-commit run once.
sleep 1s
wait c1 processed 10 within 5s
chaos 3 7 c1
expect replayed == since c1#4 a
`))
	if err == nil {
		t.Fatal("a since with a snapshot never taken parsed")
	}
	sc, err := Parse("x/ok.txtar", []byte(`# A claim
# on two lines.

produce 100 --partition 0
start c1 --group $GROUP-other --reset earliest
sleep 1s # the auto-commit runs once
wait c1 processed 10 within 5s
snapshot a
chaos 3 7 c1
expect replayed == since c1#4 a
`))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "ok" || sc.Claim != "A claim on two lines." {
		t.Errorf("name %q claim %q", sc.Name, sc.Claim)
	}
	w, ok := sc.Lines[3].Step.(*waitStep)
	if !ok || w.name != "c1" || w.bound.on(Limits{}).String() != "5s" || w.cond.String() != "processed >= 10" {
		t.Errorf("wait parsed as %#v", sc.Lines[3].Step)
	}
	st := sc.Lines[1].Step.(*startStep)
	if st.group != "$GROUP-other" {
		t.Errorf("start's group = %q", st.group)
	}
	ch := sc.Lines[5].Step.(*chaosStep)
	if len(ch.rounds) != 3 {
		t.Errorf("chaos has %d rounds", len(ch.rounds))
	}

	// over D spreads the kills: pauses of D/ROUNDS on average.
	sc, err = Parse("x/over.txtar", []byte("# A claim.\n\nproduce 100\nstart c1\nstart c2\nchaos 4 7 c1 c2 over 1m\n"))
	if err != nil {
		t.Fatal(err)
	}
	var sum time.Duration
	for _, rd := range sc.Lines[3].Step.(*chaosStep).rounds {
		if rd.pause < 7500*time.Millisecond || rd.pause >= 22500*time.Millisecond {
			t.Errorf("a pause of %s, want 7.5s to 22.5s", rd.pause)
		}
		sum += rd.pause
	}
	t.Logf("4 rounds over 1m: pauses add up to %s", sum)
	for _, bad := range []string{"chaos 4 7 c1 over", "chaos 4 7 c1 over soon", "chaos 4 7 over 1m"} {
		if _, err := Parse("x/bad.txtar", []byte("# A claim.\n\nproduce 100\nstart c1\n"+bad+"\n")); err == nil {
			t.Errorf("%q parsed", bad)
		} else {
			t.Logf("%s: %v", bad, err)
		}
	}
}

// A story needs --consumer only if it names $CONSUMER itself, not a
// variable that begins with it.
func TestNeedsConsumer(t *testing.T) {
	for story, want := range map[string]bool{
		"produce 10\nstart c1 --exec '$CONSUMER'\n":                                                true,
		"produce 10\nstart c1 --exec '${CONSUMER} -X a=b'\n":                                       true,
		"produce 10\nstart c1 --protocol consumer\nwait c1 processed 1 within $CONSUMER_SESSION\n": false,
	} {
		sc, err := Parse("s.txtar", []byte("# c\n\n"+story))
		if err != nil {
			t.Fatal(err)
		}
		if sc.NeedsConsumer != want {
			t.Errorf("%q: NeedsConsumer %v, want %v", story, sc.NeedsConsumer, want)
		}
	}
}

// ParseFile names the file it could not read.
func TestParseFileMissing(t *testing.T) {
	_, err := ParseFile(filepath.Join(t.TempDir(), "nope.txtar"))
	if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), "nope.txtar") {
		t.Errorf("got %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.txtar"), []byte("# c\n\nproduce 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFile(filepath.Join(dir, "s.txtar")); err != nil {
		t.Error(err)
	}
}

// TestProtocols: which group protocols a story runs under, and the lines
// each protocol runs.
func TestProtocols(t *testing.T) {
	const claim = "# A claim.\n\n"
	for _, tc := range []struct {
		name, story string
		want        []string
		why         string
	}{
		{"own consumer", "produce 10\nstart c1\n", Protocols, ""},
		{"pinned", "produce 10\nstart c1 --protocol consumer\nstart c2 --protocol consumer\n", []string{Consumer}, "its consumers pin --protocol consumer"},
		{"pinned apart", "produce 10\nstart c1 --protocol consumer\nstart c2 --protocol classic\n", Protocols, ""},
		{"program only", "produce 10\nstart p1 --exec 'true'\n", nil, "it starts no consumer of offsetlab's own"},
		{"no consumer", "produce 10\n", nil, "it starts no consumer of offsetlab's own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("story.txtar", []byte(claim+tc.story))
			if err != nil {
				t.Fatal(err)
			}
			got, why := sc.Protocols()
			if !slices.Equal(got, tc.want) || !strings.HasPrefix(why, tc.why) {
				t.Fatalf("Protocols() = %v, %q; want %v, %q", got, why, tc.want, tc.why)
			}
		})
	}
	sc, err := Parse("story.txtar", []byte(claim+"produce 10\n[classic] start c1 --session-timeout 6s\n[consumer] start c1\n# both\nstop c1\n"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range sc.Lines {
		lines = append(lines, l.Protocol+":"+l.Text)
	}
	want := []string{":produce 10", "classic:start c1 --session-timeout 6s", "consumer:start c1", ":both", ":stop c1"}
	if !slices.Equal(lines, want) {
		t.Fatalf("lines %q, want %q", lines, want)
	}
}
