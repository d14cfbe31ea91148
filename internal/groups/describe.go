package groups

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/offsetlab/offsetlab/internal/tp"
)

// Group is what the broker says about one consumer group: its state and
// members, and per partition what it committed against the log's bounds.
//
// The JSON form is offsetlab's contract for `offsets describe --format json`.
type Group struct {
	Group string `json:"group"`
	// State is the coordinator's word: Empty, Stable, PreparingRebalance,
	// CompletingRebalance, Dead (the group does not exist), Unknown.
	State string `json:"state"`
	// Members counts the group's live members.
	Members int `json:"members"`
	// TotalLag sums the lag of the partitions that have a committed offset.
	TotalLag int64 `json:"total_lag"`
	// Partitions are every partition the group committed an offset for or
	// has assigned to a member, sorted by topic and partition.
	Partitions []Partition `json:"partitions"`

	// Exists is false when the broker does not know the group at all.
	Exists bool `json:"-"`
	// Type is the group protocol: Classic or Consumer (KIP-848).
	Type string `json:"-"`
	// Assignor is the partition assignor the group agreed on.
	Assignor string `json:"-"`
	// Coordinator is the broker coordinating the group, host:port (id).
	Coordinator string `json:"-"`
	// MemberList are the live members and their assignments.
	MemberList []Member `json:"-"`
}

// Partition is one row of a group's offsets. Committed and Lag are nil when
// the group has committed nothing for the partition; LogStart and LogEnd
// are nil when the broker could not give them (a deleted topic).
type Partition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Committed is the next offset the group will read: the first record a
	// consumer reads after a restart is this one, not the one after it.
	Committed *int64 `json:"committed"`
	LogStart  *int64 `json:"log_start"`
	LogEnd    *int64 `json:"log_end"`
	// Lag is LogEnd - Committed: records written that the group has not
	// committed past.
	Lag      *int64 `json:"lag"`
	Member   string `json:"member"`
	ClientID string `json:"client_id"`
	Host     string `json:"host"`

	// Metadata is the string committed along with the offset.
	Metadata string `json:"-"`
}

// TP is the partition's name.
func (p Partition) TP() TP { return TP{Topic: p.Topic, Partition: p.Partition} }

// Member is one live member of a group.
type Member struct {
	ID         string `json:"member_id"`
	InstanceID string `json:"instance_id"`
	ClientID   string `json:"client_id"`
	Host       string `json:"host"`
	Assigned   []TP   `json:"-"`
	// Unnamed counts assigned partitions the broker gave no topic name
	// for (the embedded broker's KIP-848 group descriptions carry topic
	// ids only); they cannot be matched to offsets.
	Unnamed int `json:"-"`
}

// Active reports whether the group has live members, in which case the
// broker refuses to alter or delete its offsets.
func (g *Group) Active() bool {
	if len(g.MemberList) > 0 {
		return true
	}
	switch g.State {
	case "Stable", "PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling":
		return true
	}
	return false
}

// Committed returns the group's committed offsets, by partition.
func (g *Group) Committed() map[TP]int64 {
	m := map[TP]int64{}
	for _, p := range g.Partitions {
		if p.Committed != nil {
			m[p.TP()] = *p.Committed
		}
	}
	return m
}

// ListGroupIDs returns every group the broker knows, sorted. It does not
// filter by group type on the broker: the embedded broker answers a typed
// listing with nothing.
func (a *Admin) ListGroupIDs(ctx context.Context) ([]string, error) {
	var res kafka.ListConsumerGroupsResult
	err := a.call(ctx, "the list of consumer groups", func(ctx context.Context, timeout time.Duration) error {
		var err error
		res, err = a.ac.ListConsumerGroups(ctx, kafka.SetAdminRequestTimeout(timeout))
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("listing consumer groups: %w", res.Errors[0])
	}
	ids := make([]string, 0, len(res.Valid))
	for _, l := range res.Valid {
		ids = append(ids, l.GroupID)
	}
	slices.Sort(ids)
	return ids, nil
}

// DescribeGroups returns each group's state and members, without offsets.
func (a *Admin) DescribeGroups(ctx context.Context, ids []string) ([]*Group, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var res kafka.DescribeConsumerGroupsResult
	err := a.call(ctx, "the description of groups "+fmt.Sprint(ids), func(ctx context.Context, timeout time.Duration) error {
		var err error
		res, err = a.ac.DescribeConsumerGroups(ctx, ids, kafka.SetAdminRequestTimeout(timeout))
		return err
	})
	if err != nil {
		return nil, err
	}
	byID := map[string]kafka.ConsumerGroupDescription{}
	for _, d := range res.ConsumerGroupDescriptions {
		byID[d.GroupID] = d
	}
	groups := make([]*Group, 0, len(ids))
	for _, id := range ids {
		d, ok := byID[id]
		g := &Group{Group: id, State: "Dead", Partitions: []Partition{}}
		switch {
		case !ok, d.Error.Code() == kafka.ErrGroupIDNotFound:
			// Not known to the broker: nothing committed, no members.
		case d.Error.Code() != kafka.ErrNoError:
			return nil, fmt.Errorf("describing group %s: %w", id, d.Error)
		default:
			g.State = d.State.String()
			g.Exists = d.State != kafka.ConsumerGroupStateDead
			g.Type = d.Type.String()
			g.Assignor = d.PartitionAssignor
			if d.Coordinator.ID >= 0 {
				g.Coordinator = fmt.Sprintf("%s:%d (%d)", d.Coordinator.Host, d.Coordinator.Port, d.Coordinator.ID)
			}
			for _, m := range d.Members {
				mem := Member{ID: m.ConsumerID, InstanceID: m.GroupInstanceID, ClientID: m.ClientID, Host: m.Host}
				for _, tp := range m.Assignment.TopicPartitions {
					if tp.Topic == nil || *tp.Topic == "" {
						mem.Unnamed++
						continue
					}
					mem.Assigned = append(mem.Assigned, TP{Topic: *tp.Topic, Partition: tp.Partition})
				}
				SortTPs(mem.Assigned)
				g.MemberList = append(g.MemberList, mem)
			}
			slices.SortFunc(g.MemberList, func(a, b Member) int {
				return cmp.Or(cmp.Compare(a.ClientID, b.ClientID), cmp.Compare(a.ID, b.ID))
			})
		}
		g.Members = len(g.MemberList)
		groups = append(groups, g)
	}
	return groups, nil
}

// CommittedOffsets returns what the group committed, by partition, with the
// metadata string committed along. A group the broker does not know has
// committed nothing.
func (a *Admin) CommittedOffsets(ctx context.Context, group string) (map[TP]Committed, error) {
	committed := map[TP]Committed{}
	return committed, a.committedIn(ctx, group, nil, committed)
}

// CommittedOffsetsOf is CommittedOffsets for the partitions tps only,
// asked in batches of requestBatch (see there): a reset of a
// 100,000-partition topic asks for its partitions, not for everything.
func (a *Admin) CommittedOffsetsOf(ctx context.Context, group string, tps []TP) (map[TP]Committed, error) {
	committed := map[TP]Committed{}
	for batch := range slices.Chunk(tps, requestBatch) {
		parts := make([]kafka.TopicPartition, len(batch))
		for i, tp := range batch {
			topic := tp.Topic
			parts[i] = kafka.TopicPartition{Topic: &topic, Partition: tp.Partition}
		}
		if err := a.committedIn(ctx, group, parts, committed); err != nil {
			return nil, err
		}
	}
	return committed, nil
}

// committedIn adds to committed what the group committed for parts (nil:
// every partition).
func (a *Admin) committedIn(ctx context.Context, group string, parts []kafka.TopicPartition, committed map[TP]Committed) error {
	var res kafka.ListConsumerGroupOffsetsResult
	err := a.call(ctx, "the committed offsets of group "+group, func(ctx context.Context, timeout time.Duration) error {
		var err error
		res, err = a.ac.ListConsumerGroupOffsets(ctx,
			[]kafka.ConsumerGroupTopicPartitions{{Group: group, Partitions: parts}},
			kafka.SetAdminRequestTimeout(timeout), kafka.SetAdminRequireStableOffsets(true))
		return err
	})
	if isGroupNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, gtp := range res.ConsumerGroupsTopicPartitions {
		for _, tp := range gtp.Partitions {
			if tp.Topic == nil {
				continue
			}
			if tp.Error != nil {
				if isGroupNotFound(tp.Error) {
					continue
				}
				return fmt.Errorf("committed offset of group %s for %s[%d]: %w", group, *tp.Topic, tp.Partition, tp.Error)
			}
			if tp.Offset < 0 {
				continue // -1001: nothing committed
			}
			c := Committed{Offset: int64(tp.Offset)}
			if tp.Metadata != nil {
				c.Metadata = *tp.Metadata
			}
			committed[TP{Topic: *tp.Topic, Partition: tp.Partition}] = c
		}
	}
	return nil
}

// Committed is one committed offset and the metadata committed with it.
type Committed struct {
	Offset   int64
	Metadata string
}

// Describe returns each group's state, members and, per partition, the
// committed offset, the log's bounds and the lag. Partitions with commits
// but no owner (a topic the group stopped consuming, an empty group) are
// listed with no member; a member's assigned partitions are listed even
// without commits.
func (a *Admin) Describe(ctx context.Context, ids []string) ([]*Group, error) {
	groups, err := a.DescribeGroups(ctx, ids)
	if err != nil {
		return nil, err
	}
	var all []TP
	seen := map[TP]bool{}
	committed := make([]map[TP]Committed, len(groups))
	for i, g := range groups {
		if committed[i], err = a.CommittedOffsets(ctx, g.Group); err != nil {
			return nil, err
		}
		if len(committed[i]) > 0 {
			g.Exists = true
		}
		owner := map[TP]Member{}
		for _, m := range g.MemberList {
			for _, tp := range m.Assigned {
				owner[tp] = m
			}
		}
		tps := map[TP]bool{}
		for tp := range committed[i] {
			tps[tp] = true
		}
		for tp := range owner {
			tps[tp] = true
		}
		for tp := range tps {
			m := owner[tp]
			p := Partition{Topic: tp.Topic, Partition: tp.Partition, Member: m.ID, ClientID: m.ClientID, Host: m.Host}
			if c, ok := committed[i][tp]; ok {
				p.Committed = ptr(c.Offset)
				p.Metadata = c.Metadata
			}
			g.Partitions = append(g.Partitions, p)
			if !seen[tp] {
				seen[tp] = true
				all = append(all, tp)
			}
		}
		slices.SortFunc(g.Partitions, func(a, b Partition) int { return tp.Compare(a.TP(), b.TP()) })
	}
	marks, err := a.Watermarks(ctx, all)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		for i := range g.Partitions {
			p := &g.Partitions[i]
			m := marks[p.TP()]
			if m.Err != nil {
				continue
			}
			p.LogStart, p.LogEnd = ptr(m.Start), ptr(m.End)
			if p.Committed != nil {
				p.Lag = ptr(m.End - *p.Committed)
				g.TotalLag += *p.Lag
			}
		}
	}
	return groups, nil
}

func ptr[T any](v T) *T { return &v }
