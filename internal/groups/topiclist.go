package groups

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/coordinator"
)

// Topic is one topic as the broker describes it.
type Topic struct {
	Name       string
	Internal   bool
	Partitions int
}

// internalTopics are the topics Kafka treats as internal (its Topic.isInternal),
// the ones its Metadata answers mark IsInternal. confluent-kafka-go v2.15.0
// never fills TopicDescription.IsInternal (it is always false), so offsetlab
// goes by the name, as the broker does.
var internalTopics = []string{coordinator.Topic, "__transaction_state", "__share_group_state"}

// Topics lists the broker's topics, sorted by name; internal ones
// (__consumer_offsets, __transaction_state) only when includeInternal is
// set, as Kafka's ListTopics does.
func (a *Admin) Topics(ctx context.Context, includeInternal bool) ([]Topic, error) {
	var md *kafka.Metadata
	err := a.call(ctx, "the list of topics", func(ctx context.Context, timeout time.Duration) error {
		var err error
		md, err = a.ac.GetMetadata(nil, true, int(timeout.Milliseconds()))
		return err
	})
	if err != nil {
		return nil, err
	}
	var names []string
	for name := range md.Topics {
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, nil
	}
	slices.Sort(names)
	var res kafka.DescribeTopicsResult
	err = a.call(ctx, "the description of topics "+strings.Join(names, ", "), func(ctx context.Context, timeout time.Duration) error {
		var err error
		res, err = a.ac.DescribeTopics(ctx, kafka.NewTopicCollectionOfTopicNames(names), kafka.SetAdminRequestTimeout(timeout))
		return err
	})
	if err != nil {
		return nil, err
	}
	var topics []Topic
	for _, d := range res.TopicDescriptions {
		switch d.Error.Code() {
		case kafka.ErrNoError:
		case kafka.ErrUnknownTopicOrPart, kafka.ErrUnknownTopic:
			continue // deleted since the listing
		default:
			return nil, fmt.Errorf("describing topic %s: %w", d.Name, d.Error)
		}
		internal := slices.Contains(internalTopics, d.Name)
		if internal && !includeInternal {
			continue
		}
		topics = append(topics, Topic{Name: d.Name, Internal: internal, Partitions: len(d.Partitions)})
	}
	slices.SortFunc(topics, func(x, y Topic) int { return strings.Compare(x.Name, y.Name) })
	return topics, nil
}
