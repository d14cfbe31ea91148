package groups

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/groups/offsetdelete"
)

// NotFoundError says the broker does not know a group.
type NotFoundError struct{ Group string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("group %s does not exist on the broker (see `offsets groups`)", e.Group)
}

// DeleteGroup deletes a group: its committed offsets and its metadata. A
// group with members is refused before the broker is asked.
func (a *Admin) DeleteGroup(ctx context.Context, group string) error {
	gs, err := a.DescribeGroups(ctx, []string{group})
	if err != nil {
		return err
	}
	if g := gs[0]; g.Active() {
		return &ActiveGroupError{Group: group, State: g.State, Members: g.MemberList, Action: "delete"}
	}
	var res kafka.DeleteConsumerGroupsResult
	err = a.call(ctx, "the deletion of group "+group, func(ctx context.Context, timeout time.Duration) error {
		var err error
		res, err = a.ac.DeleteConsumerGroups(ctx, []string{group}, kafka.SetAdminRequestTimeout(timeout))
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range res.ConsumerGroupResults {
		switch r.Error.Code() {
		case kafka.ErrNoError:
		case kafka.ErrGroupIDNotFound:
			return &NotFoundError{group}
		default:
			return a.activeFromBroker(ctx, group, "delete", fmt.Errorf("deleting group %s: %w", group, r.Error))
		}
	}
	return nil
}

// DeleteOffsets deletes the group's committed offsets for some partitions,
// leaving the rest of the group alone, and returns the partitions it
// deleted. A topic without partitions means every partition of it the
// group committed for, so the offsets of a deleted topic can go too. A
// group with members is refused before the broker is asked (the broker
// itself refuses only the topics a member subscribes to). A named
// partition with nothing committed is not an error: afterwards nothing is
// committed there, as asked.
func (a *Admin) DeleteOffsets(ctx context.Context, group string, scopes []TopicScope) ([]TP, error) {
	gs, err := a.DescribeGroups(ctx, []string{group})
	if err != nil {
		return nil, err
	}
	g := gs[0]
	if g.Active() {
		return nil, &ActiveGroupError{Group: group, State: g.State, Members: g.MemberList, Action: "delete offsets of"}
	}
	committed, err := a.CommittedOffsets(ctx, group)
	if err != nil {
		return nil, err
	}
	if !g.Exists && len(committed) == 0 {
		return nil, &NotFoundError{group}
	}
	var tps []TP
	seen := map[TP]bool{}
	for _, s := range scopes {
		var these []TP
		if s.Partitions == nil {
			for tp := range committed {
				if tp.Topic == s.Topic {
					these = append(these, tp)
				}
			}
			if len(these) == 0 {
				return nil, cli.Usagef("group %s has no committed offsets for topic %s (see `offsets describe --group %s`)", group, s.Topic, group)
			}
		}
		for _, p := range s.Partitions {
			these = append(these, TP{Topic: s.Topic, Partition: p})
		}
		for _, tp := range these {
			if !seen[tp] {
				seen[tp] = true
				tps = append(tps, tp)
			}
		}
	}
	SortTPs(tps)
	req := make([]kafka.TopicPartition, 0, len(tps))
	for _, tp := range tps {
		topic := tp.Topic
		req = append(req, kafka.TopicPartition{Topic: &topic, Partition: tp.Partition})
	}
	var res []kafka.TopicPartition
	err = a.call(ctx, "the deletion of offsets of group "+group, func(ctx context.Context, timeout time.Duration) error {
		var err error
		res, err = offsetdelete.Delete(ctx, a.cm, group, req, timeout)
		return err
	})
	if err != nil {
		var kerr kafka.Error
		if errors.As(err, &kerr) && kerr.Code() == kafka.ErrGroupIDNotFound {
			return nil, &NotFoundError{group}
		}
		if errors.As(err, &kerr) && kerr.Code() == kafka.ErrInvalidArg {
			return nil, cli.Usagef("unable to create the offset-delete client: %v (check --config and -X)", kerr)
		}
		return nil, a.activeFromBroker(ctx, group, "delete offsets of", err)
	}
	for _, tp := range res {
		if tp.Error != nil {
			return nil, a.activeFromBroker(ctx, group, "delete offsets of",
				fmt.Errorf("the broker refused to delete the offset of group %s for %s[%d]: %w", group, *tp.Topic, tp.Partition, tp.Error))
		}
	}
	return tps, nil
}
