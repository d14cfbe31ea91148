package offsets

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/groups"
	"github.com/offsetlab/offsetlab/internal/out"
)

// topicFlag is a repeatable --topic whose value may itself hold commas
// (TOPIC:0,1,2), so it is not split.
type topicFlag []groups.TopicScope

func (f *topicFlag) String() string { return fmt.Sprint(len(*f), " topics") }

func (f *topicFlag) Set(s string) error {
	ts, err := groups.ParseTopicScope(s)
	if err != nil {
		return err
	}
	*f = append(*f, ts)
	return nil
}

type resetOptions struct {
	common
	group     string
	topics    topicFlag
	allTopics bool
	execute   bool
	export    bool
	target    groups.Target
}

const resetAbout = `Moves a group's committed offsets. A dry run by default: it prints, per partition,
the CURRENT committed offset and the NEW one, and changes nothing; --execute applies
it. The new offset is where the group's consumers start reading: the next record.
Offsets outside the log are clamped to its start or end, with a warning. A group
with members is refused: stop its consumers first.

Exactly one target: --to-earliest, --to-latest, --to-current, --to-offset N,
--shift-by N, --to-datetime T, --by-duration D, --from-file FILE.
--export prints the plan as the CSV that kafka-consumer-groups --from-file reads
(and --from-file here reads back).`

var targetFlags = []string{"to-earliest", "to-latest", "to-current", "to-offset", "shift-by", "to-datetime", "by-duration", "from-file"}

func parseReset(args []string, stderr io.Writer) (*resetOptions, error) {
	o := &resetOptions{}
	fs := newFlagSet("reset", "--group G (--topic T[:P,...] ... | --all-topics) TARGET [--execute] [--export] [flags]", resetAbout, &o.common)
	fs.StringVar(&o.group, "group", "", "consumer group `id` (required)")
	fs.Var(&o.topics, "topic", "topic to reset, `T` or T:P,P,... for some partitions (repeatable)")
	fs.BoolVar(&o.allTopics, "all-topics", false, "every partition the group has committed offsets for")
	fs.BoolVar(&o.execute, "execute", false, "apply the reset (default: dry run, nothing changes)")
	fs.BoolVar(&o.export, "export", false, "print the plan as CSV (topic,partition,offset) instead of a table")
	fs.Bool("to-earliest", false, "target: the log start")
	fs.Bool("to-latest", false, "target: the log end")
	fs.Bool("to-current", false, "target: the committed offset (the log end where nothing is committed)")
	toOffset := fs.Int64("to-offset", 0, "target: offset `N` in every partition")
	shiftBy := fs.Int64("shift-by", 0, "target: the committed offset moved by `N` (negative: back, to re-read)")
	toDatetime := fs.String("to-datetime", "", "target: the first record at or after `TIME` (2006-01-02T15:04:05[.000][Z07:00], local time without a zone)")
	byDuration := fs.String("by-duration", "", "target: the first record at or after `D` ago (Go 1h30m, or ISO-8601 PT1H30M, P1D)")
	fromFile := fs.String("from-file", "", "target: offsets from a CSV `FILE` (topic,partition,offset per line)")
	if err := o.parse(fs, args, stderr); err != nil {
		return nil, err
	}
	var set []string
	fs.Visit(func(f *flag.Flag) {
		for _, t := range targetFlags {
			if f.Name == t {
				set = append(set, "--"+t)
			}
		}
	})
	switch {
	case o.group == "":
		return nil, cli.Usagef("--group is required")
	case len(set) == 0:
		return nil, cli.Usagef("a reset target is required (accepted: --%s)", strings.Join(targetFlags, ", --"))
	case len(set) > 1:
		return nil, cli.Usagef("give exactly one reset target, got %s", strings.Join(set, " and "))
	case set[0] == "--from-file" && (len(o.topics) > 0 || o.allTopics):
		return nil, cli.Usagef("--from-file names its partitions: drop --topic and --all-topics")
	case set[0] != "--from-file" && len(o.topics) == 0 && !o.allTopics:
		return nil, cli.Usagef("--topic or --all-topics is required")
	case len(o.topics) > 0 && o.allTopics:
		return nil, cli.Usagef("--topic and --all-topics exclude each other: give one")
	case o.export && o.format == out.JSON:
		return nil, cli.Usagef("--export prints CSV: drop --format json")
	}
	t := &o.target
	switch set[0] {
	case "--to-earliest":
		t.Kind = groups.ToEarliest
	case "--to-latest":
		t.Kind = groups.ToLatest
	case "--to-current":
		t.Kind = groups.ToCurrent
	case "--to-offset":
		if *toOffset < 0 {
			return nil, cli.Usagef("--to-offset must be an offset (0 or more), got %d; for the log start use --to-earliest", *toOffset)
		}
		t.Kind, t.Offset = groups.ToOffset, *toOffset
	case "--shift-by":
		t.Kind, t.Shift = groups.ShiftBy, *shiftBy
	case "--to-datetime":
		tm, err := parseDatetime(*toDatetime)
		if err != nil {
			return nil, err
		}
		t.Kind, t.Time = groups.ToDatetime, tm
	case "--by-duration":
		d, err := parseDuration(*byDuration)
		if err != nil {
			return nil, err
		}
		t.Kind, t.Duration = groups.ByDuration, d
	case "--from-file":
		f, err := os.Open(*fromFile)
		if err != nil {
			return nil, cli.Usagef("--from-file: %v", err)
		}
		defer f.Close()
		if t.File, err = groups.ReadResetFile(f, *fromFile, o.group); err != nil {
			return nil, err
		}
		t.Kind = groups.FromFile
	}
	return o, nil
}

func runReset(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseReset(args, stderr)
	if err != nil {
		return err
	}
	admin, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer admin.Close()
	plan, err := admin.PlanReset(ctx, o.group, groups.Scope{AllTopics: o.allTopics, Topics: o.topics}, o.target)
	if err != nil {
		return err
	}
	for _, w := range plan.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if o.execute {
		if err := admin.ApplyReset(ctx, plan); err != nil {
			return err
		}
	}
	if err := printPlan(stdout, o, plan); err != nil {
		return err
	}
	switch {
	case o.execute:
		fmt.Fprintf(stderr, "executed: group %s now resumes at NEW in %d %s\n", o.group, len(plan.Rows), plural(len(plan.Rows), "partition", "partitions"))
	case plan.Active():
		fmt.Fprintf(stderr, "dry run: nothing changed. Group %s is active (state %s, %d %s): --execute will be refused until its consumers stop\n",
			o.group, plan.State, plan.Members, plural(plan.Members, "member", "members"))
	default:
		fmt.Fprintf(stderr, "dry run: nothing changed; add --execute to apply\n")
	}
	return nil
}

func printPlan(w io.Writer, o *resetOptions, plan *groups.Plan) error {
	switch {
	case o.export:
		return groups.WriteResetFile(w, plan)
	case o.format == out.JSON:
		return out.WriteJSON(w, struct {
			*groups.Plan
			Target   string `json:"target"`
			Executed bool   `json:"executed"`
		}{plan, o.target.String(), o.execute})
	}
	t := out.NewTable(w, "topic", "partition", "current", "new")
	for _, r := range plan.Rows {
		t.Row(r.Topic, r.Partition, opt(r.Current), r.New)
	}
	return t.Flush()
}

// datetimeLayouts are what --to-datetime accepts: Kafka's
// YYYY-MM-DDTHH:mm:SS.sss with an optional zone, and shorter forms.
var datetimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000Z0700",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
}

func parseDatetime(s string) (time.Time, error) {
	for _, layout := range datetimeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, cli.Usagef("--to-datetime %q is not a time (accepted: 2006-01-02T15:04:05[.000][Z|+07:00], local time without a zone; or 2006-01-02)", s)
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseDuration reads a Go duration (1h30m) or an ISO-8601 one as
// kafka-consumer-groups takes it (PT1H30M, P1DT12H).
func parseDuration(s string) (time.Duration, error) {
	bad := cli.Usagef("--by-duration %q is not a duration (accepted: Go's 90m, 1h30m, or ISO-8601 PT1H30M, P1DT12H; not negative)", s)
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return 0, bad
		}
		return d, nil
	}
	m := isoDuration.FindStringSubmatch(strings.ToUpper(s))
	if m == nil || s == "P" || strings.HasSuffix(strings.ToUpper(s), "T") {
		return 0, bad
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		v, err := strconv.ParseFloat(m[i+1], 64)
		if err != nil {
			return 0, bad
		}
		// Saturate: PT9999999999999H is past time.Duration's 292 years, and
		// the float conversion would wrap. Any duration that long reaches
		// before 1970, which the reset clamps to the log start.
		part := time.Duration(math.MaxInt64)
		if f := v * float64(unit); f < math.MaxInt64 {
			part = time.Duration(f)
		}
		if d > math.MaxInt64-part {
			d = math.MaxInt64
		} else {
			d += part
		}
	}
	return d, nil
}
