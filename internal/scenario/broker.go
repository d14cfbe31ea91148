package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/offsetlab/offsetlab/internal/groups"
	"github.com/offsetlab/offsetlab/internal/out"
	"github.com/offsetlab/offsetlab/internal/timeline"
)

// snapshot is what the broker said at one moment: the group's committed
// offsets and the topic's log bounds. The broker is the source of truth for
// commits; a killed process's own ledger is never trusted for them.
type snapshot struct {
	Label     string                  `json:"label"`
	Committed map[string]int64        `json:"committed"` // by partition name; absent: nothing committed
	Marks     map[string]groups.Marks `json:"-"`
	Bounds    map[string][2]int64     `json:"log_bounds"`
	tps       map[string]groups.TP
}

func (r *run) snapshot(args []string) error {
	if len(args) != 1 && len(args) != 2 {
		return usage("snapshot")
	}
	group := r.vars["GROUP"]
	if len(args) == 2 {
		group = args[1]
	}
	s, err := r.readSnapshot(args[0], group)
	if err != nil {
		return err
	}
	r.snapshots[args[0]] = s
	r.mark(timeline.MarkSnapshot, args[0])
	t := out.NewTable(r.out, "    partition", "committed", "log-start", "log-end")
	for _, name := range sortedKeys(s.tps) {
		c, ok := s.Committed[name]
		t.Row("    "+name, cond(ok, strconv.FormatInt(c, 10), out.None), s.Bounds[name][0], s.Bounds[name][1])
	}
	_ = t.Flush()
	b, _ := json.MarshalIndent(s, "", "  ")
	return os.WriteFile(filepath.Join(r.dir, "snapshot-"+args[0]+".json"), b, 0o644)
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
	s := &snapshot{Label: label, Committed: map[string]int64{}, Marks: map[string]groups.Marks{},
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

func (r *run) deleteRecords(args []string) error {
	if len(args) != 1 {
		return usage("delete-records")
	}
	before, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || before < 0 {
		return fmt.Errorf("%q is not an offset", args[0])
	}
	s, err := r.readSnapshot("", r.vars["GROUP"])
	if err != nil {
		return err
	}
	want := map[groups.TP]int64{}
	for name, tp := range s.tps {
		want[tp] = min(before, s.Bounds[name][1])
	}
	starts, err := r.admin.DeleteRecords(r.ctx, want)
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(s.tps) {
		fmt.Fprintf(r.out, "    %s now starts at %d\n", name, starts[s.tps[name]])
	}
	return nil
}

// brokerConfig sets a dynamic broker config for the rest of the scenario;
// the runner removes the override when the scenario ends.
func (r *run) brokerConfig(args []string) error {
	if len(args) != 2 {
		return usage("broker-config")
	}
	if err := r.admin.SetBrokerConfig(r.ctx, args[0], args[1]); err != nil {
		return err
	}
	r.brokerConfigs = append(r.brokerConfigs, args[0])
	return nil
}

// restoreBrokerConfigs removes the overrides the scenario set.
func (r *run) restoreBrokerConfigs() {
	for _, name := range r.brokerConfigs {
		if err := r.admin.SetBrokerConfig(context.Background(), name, ""); err != nil {
			fmt.Fprintf(r.out, "    unable to restore broker config %s: %v\n", name, err)
		}
	}
}

// resetOffsets moves $GROUP's committed offsets on every partition of
// $TOPIC, as `offsets reset --execute` does: to-earliest, to-latest or
// to-offset N. The group must be empty.
func (r *run) resetOffsets(args []string) error {
	var target groups.Target
	switch {
	case len(args) == 1 && args[0] == "to-earliest":
		target.Kind = groups.ToEarliest
	case len(args) == 1 && args[0] == "to-latest":
		target.Kind = groups.ToLatest
	case len(args) == 2 && args[0] == "to-offset":
		n, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an offset", args[1])
		}
		target = groups.Target{Kind: groups.ToOffset, Offset: n}
	default:
		return usage("reset-offsets")
	}
	scope := groups.Scope{Topics: []groups.TopicScope{{Topic: r.vars["TOPIC"]}}}
	plan, err := r.admin.PlanReset(r.ctx, r.vars["GROUP"], scope, target)
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
		current := int64(-1001)
		if row.Current != nil {
			current = *row.Current
		}
		fmt.Fprintf(r.out, "    %s: %s -> %d\n", row.TP(), word(current), row.New)
	}
	return nil
}

func (r *run) restartBroker(args []string) error {
	if len(args) != 0 {
		return usage("restart-broker")
	}
	if r.env.Embedded == nil {
		return fmt.Errorf("restart-broker needs the embedded stack")
	}
	r.mark(timeline.MarkRestartBroker, "broker")
	return r.env.Embedded.RestartBroker()
}

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
