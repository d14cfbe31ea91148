package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/offsetlab/offsetlab/internal/groups"
	"github.com/offsetlab/offsetlab/internal/offset"
	"github.com/offsetlab/offsetlab/internal/out"
	"github.com/offsetlab/offsetlab/internal/timeline"
)

func init() {
	register(verb{"snapshot", "snapshot LABEL [GROUP]: read the committed offsets of $GROUP (or GROUP) and $TOPIC's log bounds from the broker", parseSnapshot})
	register(verb{"delete-records", "delete-records BEFORE: delete the records below offset BEFORE on every partition of $TOPIC, as retention would", parseDeleteRecords})
	register(verb{"reset-offsets", "reset-offsets to-earliest|to-latest|to-offset N: move $GROUP's committed offsets on $TOPIC, as `offsets reset --execute` does (the group must be empty)", parseResetOffsets})
	register(verb{"broker-config", "broker-config NAME VALUE: set a dynamic broker config until the scenario ends (embedded: offset.retention.ms, ...)", parseBrokerConfig})
	register(verb{"restart-broker", "restart-broker: stop the embedded broker and start it again from its data directory (needs require embedded)", parseRestartBroker})
	register(verb{"require", "require embedded: the story drives the embedded broker (restarts it, injects faults); on another cluster it is skipped with that reason", parseRequire})
}

// snapshot is what the broker said at one moment: the group's committed
// offsets and the topic's log bounds. The broker is the source of truth for
// commits; a killed process's own ledger is never trusted for them.
type snapshot struct {
	Label     string                  `json:"label"`
	Group     string                  `json:"group"`
	Committed map[string]int64        `json:"committed"` // by partition name; absent: nothing committed
	Marks     map[string]groups.Marks `json:"-"`
	Bounds    map[string][2]int64     `json:"log_bounds"`
	tps       map[string]groups.TP
}

// readAll reports whether the group had committed every partition up to
// its log end: a member started now has nothing to read until more is
// written.
func (s *snapshot) readAll() bool {
	for name, b := range s.Bounds {
		if c, ok := s.Committed[name]; b[1] > b[0] && (!ok || c < b[1]) {
			return false
		}
	}
	return true
}

type snapshotStep struct{ label, group string }

func parseSnapshot(p *parser, args []string) (step, error) {
	if len(args) != 1 && len(args) != 2 {
		return nil, badUsage("takes a label and, optionally, a group")
	}
	if p.snapshots[args[0]] {
		return nil, fmt.Errorf("snapshot %q was already taken; give each a label of its own", args[0])
	}
	p.snapshots[args[0]] = true
	st := &snapshotStep{label: args[0], group: "$GROUP"}
	if len(args) == 2 {
		st.group = args[1]
	}
	return st, nil
}

func (s *snapshotStep) run(r *run) error {
	snap, err := r.readSnapshot(s.label, r.expand(s.group))
	if err != nil {
		return err
	}
	r.snapshots[s.label] = snap
	r.res.Marks = append(r.res.Marks, timeline.Mark{At: time.Now(), Kind: timeline.MarkSnapshot, Name: s.label, Group: snap.Group})
	t := out.NewTable(r.out, "    partition", "committed", "log-start", "log-end")
	for _, name := range sortedKeys(snap.tps) {
		c, ok := snap.Committed[name]
		t.Row("    "+name, cond(ok, itoa(c), out.None), snap.Bounds[name][0], snap.Bounds[name][1])
	}
	_ = t.Flush()
	b, _ := json.MarshalIndent(snap, "", "  ")
	return os.WriteFile(filepath.Join(r.dir, "snapshot-"+s.label+".json"), b, 0o644)
}

func (r *run) readSnapshot(label, group string) (*snapshot, error) {
	topic := r.vars["TOPIC"]
	n, exists, err := r.admin.TopicPartitions(r.ctx, topic)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("topic %s does not exist yet: produce first", topic)
	}
	tps := make([]groups.TP, n)
	for p := range tps {
		tps[p] = groups.TP{Topic: topic, Partition: int32(p)}
	}
	marks, err := r.admin.Watermarks(r.ctx, tps)
	if err != nil {
		return nil, err
	}
	committed, err := r.admin.CommittedOffsets(r.ctx, group)
	if err != nil {
		return nil, err
	}
	s := &snapshot{Label: label, Group: group, Committed: map[string]int64{}, Marks: map[string]groups.Marks{},
		Bounds: map[string][2]int64{}, tps: map[string]groups.TP{}}
	for _, tp := range tps {
		name := tp.String()
		s.tps[name] = tp
		s.Marks[name] = marks[tp]
		s.Bounds[name] = [2]int64{marks[tp].Start, marks[tp].End}
		if c, ok := committed[tp]; ok && c.Offset >= 0 {
			s.Committed[name] = c.Offset
		}
	}
	return s, nil
}

type deleteRecordsStep struct{ before int64 }

func parseDeleteRecords(p *parser, args []string) (step, error) {
	if len(args) != 1 {
		return nil, badUsage("takes one offset")
	}
	n, err := count(args[0], "offset")
	return &deleteRecordsStep{before: n}, err
}

func (s *deleteRecordsStep) run(r *run) error {
	snap, err := r.readSnapshot("", r.vars["GROUP"])
	if err != nil {
		return err
	}
	want := map[groups.TP]int64{}
	for name, tp := range snap.tps {
		want[tp] = min(s.before, snap.Bounds[name][1])
	}
	starts, err := r.admin.DeleteRecords(r.ctx, want)
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(snap.tps) {
		fmt.Fprintf(r.out, "    %s now starts at %d\n", name, starts[snap.tps[name]])
	}
	return nil
}

// resetOffsetsStep moves $GROUP's committed offsets on every partition of
// $TOPIC, as `offsets reset --execute` does. The group must be empty.
type resetOffsetsStep struct{ target groups.Target }

func parseResetOffsets(p *parser, args []string) (step, error) {
	switch {
	case len(args) == 1 && args[0] == "to-earliest":
		return &resetOffsetsStep{groups.Target{Kind: groups.ToEarliest}}, nil
	case len(args) == 1 && args[0] == "to-latest":
		return &resetOffsetsStep{groups.Target{Kind: groups.ToLatest}}, nil
	case len(args) == 2 && args[0] == "to-offset":
		n, err := count(args[1], "offset")
		return &resetOffsetsStep{groups.Target{Kind: groups.ToOffset, Offset: n}}, err
	}
	return nil, badUsage("unknown target %q", args)
}

func (s *resetOffsetsStep) run(r *run) error {
	scope := groups.Scope{Topics: []groups.TopicScope{{Topic: r.vars["TOPIC"]}}}
	plan, err := r.admin.PlanReset(r.ctx, r.vars["GROUP"], scope, s.target)
	if err != nil {
		return err
	}
	for _, w := range plan.Warnings {
		fmt.Fprintf(r.out, "    warning: %s\n", w)
	}
	if err := r.admin.ApplyReset(r.ctx, plan); err != nil {
		return err
	}
	for _, row := range plan.Rows {
		current := offset.Invalid
		if row.Current != nil {
			current = *row.Current
		}
		fmt.Fprintf(r.out, "    %s: %s -> %d\n", row.TP(), offset.String(current), row.New)
	}
	return nil
}

// brokerConfigStep sets a dynamic broker config for the rest of the
// scenario; the runner removes the override when the scenario ends.
type brokerConfigStep struct{ name, value string }

func parseBrokerConfig(p *parser, args []string) (step, error) {
	if len(args) != 2 {
		return nil, badUsage("takes a config name and a value")
	}
	return &brokerConfigStep{args[0], args[1]}, nil
}

func (s *brokerConfigStep) run(r *run) error {
	before, err := r.admin.BrokerConfigs(r.ctx, []string{s.name})
	if err != nil {
		return err
	}
	if err := r.admin.SetBrokerConfig(r.ctx, s.name, s.value); err != nil {
		return err
	}
	if _, set := r.brokerConfigs[s.name]; !set {
		r.brokerConfigs[s.name] = before[s.name]
	}
	return nil
}

// restoreBrokerConfigs puts back what the broker said before the story's
// first broker-config of each name: its value, or no override. Deleting
// the override instead left the embedded stack's own settings (a 2 s
// KIP-848 session) at kfake's defaults (45 s) for the stories after.
func (r *run) restoreBrokerConfigs() {
	for name, value := range r.brokerConfigs {
		if err := r.admin.SetBrokerConfig(context.Background(), name, value); err != nil {
			fmt.Fprintf(r.out, "    unable to restore broker config %s: %v\n", name, err)
		}
	}
}

type restartBrokerStep struct{}

func parseRestartBroker(p *parser, args []string) (step, error) {
	if len(args) != 0 {
		return nil, badUsage("takes no arguments")
	}
	if !p.sc.Embedded {
		return nil, fmt.Errorf("restart-broker needs the embedded stack: put `require embedded` before it")
	}
	return restartBrokerStep{}, nil
}

func (restartBrokerStep) run(r *run) error {
	if r.env.Embedded == nil {
		return fmt.Errorf("restart-broker needs the embedded stack")
	}
	r.mark(timeline.MarkRestartBroker, "broker")
	return r.env.Embedded.RestartBroker()
}

type requireStep struct{}

func parseRequire(p *parser, args []string) (step, error) {
	if len(args) != 1 || args[0] != "embedded" {
		return nil, badUsage("accepted: require embedded")
	}
	p.sc.Embedded = true
	return requireStep{}, nil
}

func (requireStep) run(*run) error { return nil }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortPartitionNames(keys)
	return keys
}

func cond[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

// itoa is strconv.FormatInt for int64.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
