package groups

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// TargetKind is where a reset moves a group's committed offsets. After any
// reset, the group's consumers start reading at the new offset: it is the
// next record they read, as every committed offset is.
type TargetKind int

const (
	// ToEarliest moves to the log start: everything still in the log is
	// read again.
	ToEarliest TargetKind = iota + 1
	// ToLatest moves to the log end: everything already written is skipped.
	ToLatest
	// ToCurrent keeps the committed offset; a partition with none gets the
	// log end, as kafka-consumer-groups does. Useful with --export, or to
	// give every partition an explicit commit.
	ToCurrent
	// ToOffset moves every partition in scope to one offset.
	ToOffset
	// ShiftBy moves each committed offset by N (negative: back, to re-read
	// N records; positive: forward, to skip them). A partition with nothing
	// committed cannot be shifted.
	ShiftBy
	// ToDatetime moves to the first record whose timestamp is at or after
	// a time; past the last record, to the log end.
	ToDatetime
	// ByDuration is ToDatetime with the time given as "this long ago".
	ByDuration
	// FromFile takes topic, partition and offset from a CSV file, as
	// --export writes it.
	FromFile
)

// Target is one reset target and its argument.
type Target struct {
	Kind     TargetKind
	Offset   int64         // ToOffset
	Shift    int64         // ShiftBy
	Time     time.Time     // ToDatetime
	Duration time.Duration // ByDuration
	File     []FileEntry   // FromFile
}

// FileEntry is one line of a reset file.
type FileEntry struct {
	TP
	Offset int64
}

// Scope says which partitions a reset covers: every partition the group
// has committed offsets for (AllTopics), or the named topics.
type Scope struct {
	AllTopics bool
	Topics    []TopicScope
}

// Plan is what a reset would do, partition by partition.
type Plan struct {
	Group    string    `json:"group"`
	State    string    `json:"state"`
	Members  int       `json:"members"`
	Rows     []PlanRow `json:"partitions"`
	Warnings []string  `json:"warnings"`
}

// Active reports whether the group had members when the plan was made.
func (p *Plan) Active() bool { return p.Members > 0 || (&Group{State: p.State}).Active() }

// PlanRow is one partition of a plan. Current is nil when the group has
// committed nothing there.
type PlanRow struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Current   *int64 `json:"current"`
	New       int64  `json:"new"`
	LogStart  int64  `json:"log_start"`
	LogEnd    int64  `json:"log_end"`
	// Requested is the offset the target asked for when it was outside
	// the log and New was clamped to the log's bounds.
	Requested *int64 `json:"requested,omitempty"`
}

// TP is the row's partition.
func (r PlanRow) TP() TP { return TP{Topic: r.Topic, Partition: r.Partition} }

// ActiveGroupError is the refusal to change the offsets of a group that has
// members: the broker would reject it, and the members would overwrite it
// with their next commit anyway.
type ActiveGroupError struct {
	Group   string
	State   string
	Members []Member
	Action  string // "reset", "delete", "delete offsets of"
}

func (e *ActiveGroupError) Error() string {
	var ms []string
	for _, m := range e.Members {
		ms = append(ms, strings.TrimSpace(m.ClientID+" on "+m.Host))
	}
	who := fmt.Sprintf("%d members", len(e.Members))
	if len(e.Members) == 1 {
		who = "1 member"
	}
	if len(ms) > 0 {
		who += ": " + strings.Join(ms, ", ")
	}
	rule := "the broker only changes the offsets of a group with no members"
	if e.Action == "delete" {
		rule = "the broker only deletes a group with no members"
	}
	return fmt.Sprintf("refusing to %s group %s: it is active (state %s, %s); %s. "+
		"Stop its consumers first: a clean shutdown (Ctrl-C, SIGTERM) leaves the group at once, but a static member (group.instance.id) and a killed one leave only after their session.timeout.ms; "+
		"`offsets describe --group %s` shows state Empty when it is done", e.Action, e.Group, e.State, who, rule, e.Group)
}

// ExitCode is the documented code for a failed operation.
func (e *ActiveGroupError) ExitCode() int { return cli.ExitFailed }

// PlanReset computes a reset without changing anything.
func (a *Admin) PlanReset(ctx context.Context, group string, scope Scope, target Target) (*Plan, error) {
	described, err := a.DescribeGroups(ctx, []string{group})
	if err != nil {
		return nil, err
	}
	g := described[0]
	plan := &Plan{Group: group, State: g.State, Members: g.Members, Rows: []PlanRow{}, Warnings: []string{}}
	var committed map[TP]Committed
	var tps []TP
	if scope.AllTopics && target.Kind != FromFile {
		// The partitions are those the group committed.
		if committed, err = a.CommittedOffsets(ctx, group); err != nil {
			return nil, err
		}
		if len(committed) == 0 {
			return nil, cli.Usagef("group %s has committed no offsets, so --all-topics covers nothing: name the topics with --topic", group)
		}
		for tp := range committed {
			tps = append(tps, tp)
		}
		SortTPs(tps)
	} else {
		if tps, err = a.scopePartitions(ctx, scope, target); err != nil {
			return nil, err
		}
		if committed, err = a.CommittedOffsetsOf(ctx, group, tps); err != nil {
			return nil, err
		}
	}
	marks, err := a.Watermarks(ctx, tps)
	if err != nil {
		return nil, err
	}
	for _, tp := range tps {
		if m := marks[tp]; m.Err != nil {
			return nil, fmt.Errorf("the broker could not give the log bounds of %s: %w", tp, m.Err)
		}
	}
	requested, notes, err := a.requested(ctx, tps, target, committed, marks)
	if err != nil {
		return nil, err
	}
	plan.Warnings = append(plan.Warnings, notes...)
	for _, tp := range tps {
		m := marks[tp]
		row := PlanRow{Topic: tp.Topic, Partition: tp.Partition, LogStart: m.Start, LogEnd: m.End}
		if c, ok := committed[tp]; ok {
			row.Current = ptr(c.Offset)
		}
		want := requested[tp]
		row.New = want
		switch {
		case want < m.Start:
			row.New, row.Requested = m.Start, ptr(want)
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("%s: new offset %d is before the log start %d; using %d", tp, want, m.Start, m.Start))
		case want > m.End:
			row.New, row.Requested = m.End, ptr(want)
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("%s: new offset %d is past the log end %d; using %d", tp, want, m.End, m.End))
		}
		plan.Rows = append(plan.Rows, row)
	}
	return plan, nil
}

// scopePartitions lists the partitions a reset of named topics covers:
// those of --topic, or of the --from-file lines.
func (a *Admin) scopePartitions(ctx context.Context, scope Scope, target Target) ([]TP, error) {
	if target.Kind == FromFile {
		scopes := make([]TopicScope, 0, len(target.File))
		for _, e := range target.File {
			scopes = append(scopes, TopicScope{Topic: e.Topic, Partitions: []int32{e.Partition}})
		}
		return a.Expand(ctx, scopes)
	}
	return a.Expand(ctx, scope.Topics)
}

// requested is the offset the target asks for, per partition, before
// clamping.
func (a *Admin) requested(ctx context.Context, tps []TP, target Target, committed map[TP]Committed, marks map[TP]Marks) (map[TP]int64, []string, error) {
	req := make(map[TP]int64, len(tps))
	var notes []string
	switch target.Kind {
	case ToEarliest:
		for _, tp := range tps {
			req[tp] = marks[tp].Start
		}
	case ToLatest:
		for _, tp := range tps {
			req[tp] = marks[tp].End
		}
	case ToCurrent:
		for _, tp := range tps {
			if c, ok := committed[tp]; ok {
				req[tp] = c.Offset
			} else {
				req[tp] = marks[tp].End
				notes = append(notes, fmt.Sprintf("%s: nothing committed; --to-current uses the log end %d", tp, marks[tp].End))
			}
		}
	case ToOffset:
		for _, tp := range tps {
			req[tp] = target.Offset
		}
	case ShiftBy:
		var none []string
		for _, tp := range tps {
			c, ok := committed[tp]
			if !ok {
				none = append(none, tp.String())
				continue
			}
			req[tp] = addSaturating(c.Offset, target.Shift)
		}
		if len(none) > 0 {
			return nil, nil, cli.Usagef("--shift-by moves committed offsets, and nothing is committed for %s: give those partitions an offset first (--to-earliest, --to-offset N)", someOf(none))
		}
	case ToDatetime, ByDuration:
		t := target.Time
		if target.Kind == ByDuration {
			t = time.Now().Add(-target.Duration)
		}
		// Record timestamps are milliseconds since 1970 and never negative
		// (ListOffsets reads -1, -2, -3 as latest, earliest, max-timestamp),
		// so every record is at or after an earlier time: its offset is the
		// log start, as kafka-consumer-groups gives it. Asking the broker
		// instead got "invalid offset -62135596800000" for year 1.
		if t.Before(time.UnixMilli(0)) {
			for _, tp := range tps {
				req[tp] = marks[tp].Start
			}
			notes = append(notes, fmt.Sprintf("%s is before 1970-01-01, where record timestamps start: every record is at or after it; using the log start", t.UTC().Format(time.RFC3339)))
			break
		}
		offsets, err := a.OffsetsForTime(ctx, tps, t)
		if err != nil {
			return nil, nil, err
		}
		req = offsets
	case FromFile:
		for _, e := range target.File {
			req[e.TP] = e.Offset
		}
	default:
		return nil, nil, fmt.Errorf("unknown reset target %d", target.Kind)
	}
	return req, notes, nil
}

// addSaturating is a+b, held at the int64 bounds instead of wrapping: a
// --shift-by of 9223372036854775807 from offset 5 asks for MaxInt64, which
// PlanReset then clamps to the log end with its warning, where a wrapped sum
// would be negative and land on the log start.
func addSaturating(a, b int64) int64 {
	switch {
	case b > 0 && a > math.MaxInt64-b:
		return math.MaxInt64
	case b < 0 && a < math.MinInt64-b:
		return math.MinInt64
	}
	return a + b
}

// ApplyReset commits the plan's new offsets for the group. It refuses a
// group with members, checking again just before it writes.
func (a *Admin) ApplyReset(ctx context.Context, plan *Plan) error {
	if len(plan.Rows) == 0 {
		return nil
	}
	if err := a.refuseActive(ctx, plan.Group, "reset the offsets of"); err != nil {
		return err
	}
	tps := make([]kafka.TopicPartition, 0, len(plan.Rows))
	for _, r := range plan.Rows {
		topic := r.Topic
		tps = append(tps, kafka.TopicPartition{Topic: &topic, Partition: r.Partition, Offset: kafka.Offset(r.New)})
	}
	// In batches (see requestBatch): Kafka commits each partition on its
	// own anyway, one request or several. A failure midway leaves the
	// earlier batches applied; the same reset run again completes it.
	var failed []string
	var first error
	for batch := range slices.Chunk(tps, requestBatch) {
		var res kafka.AlterConsumerGroupOffsetsResult
		err := a.call(ctx, "the reset of group "+plan.Group, func(ctx context.Context, timeout time.Duration) error {
			var err error
			res, err = a.ac.AlterConsumerGroupOffsets(ctx,
				[]kafka.ConsumerGroupTopicPartitions{{Group: plan.Group, Partitions: batch}},
				kafka.SetAdminRequestTimeout(timeout))
			return err
		})
		if err != nil {
			return a.activeFromBroker(ctx, plan.Group, "reset the offsets of", err)
		}
		for _, g := range res.ConsumerGroupsTopicPartitions {
			for _, tp := range g.Partitions {
				if tp.Error != nil {
					failed = append(failed, fmt.Sprintf("%s[%d]", *tp.Topic, tp.Partition))
					first = cmp.Or(first, tp.Error)
				}
			}
		}
	}
	if first != nil {
		var active *ActiveGroupError
		if err := a.activeFromBroker(ctx, plan.Group, "reset the offsets of", first); errors.As(err, &active) {
			return err
		}
		return fmt.Errorf("the broker refused the new offsets for %s: %w", someOf(failed), first)
	}
	return nil
}

// refuseActive returns an ActiveGroupError if the group has members now.
func (a *Admin) refuseActive(ctx context.Context, group, action string) error {
	gs, err := a.DescribeGroups(ctx, []string{group})
	if err != nil {
		return err
	}
	if g := gs[0]; g.Active() {
		return &ActiveGroupError{Group: group, State: g.State, Members: g.MemberList, Action: action}
	}
	return nil
}

// activeFromBroker turns the broker's "this group has members" answers
// (a member joined between our check and the write) into an
// ActiveGroupError; other errors pass through.
func (a *Admin) activeFromBroker(ctx context.Context, group, action string, err error) error {
	var kerr kafka.Error
	if !errors.As(err, &kerr) {
		return err
	}
	switch kerr.Code() {
	case kafka.ErrUnknownMemberID, kafka.ErrRebalanceInProgress, kafka.ErrNonEmptyGroup, kafka.ErrGroupSubscribedToTopic, kafka.ErrIllegalGeneration:
		if aerr := a.refuseActive(ctx, group, action); aerr != nil {
			return aerr
		}
	}
	return err
}
