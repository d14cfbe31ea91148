package groups

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// TopicScope is one --topic value: a topic, and the partitions of it to
// touch (nil: all of them).
type TopicScope struct {
	Topic      string
	Partitions []int32
}

// ParseTopicScope reads "topic" or "topic:0,1,2", as kafka-consumer-groups
// takes --topic.
func ParseTopicScope(s string) (TopicScope, error) {
	topic, parts, hasParts := strings.Cut(s, ":")
	ts := TopicScope{Topic: strings.TrimSpace(topic)}
	if ts.Topic == "" {
		return ts, cli.Usagef("--topic %q names no topic (accepted: TOPIC or TOPIC:P[,P...])", s)
	}
	if !hasParts {
		return ts, nil
	}
	for _, p := range strings.Split(parts, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		if err != nil || n < 0 {
			return ts, cli.Usagef("--topic %q: %q is not a partition number (accepted: TOPIC or TOPIC:P[,P...])", s, p)
		}
		if !slices.Contains(ts.Partitions, int32(n)) {
			ts.Partitions = append(ts.Partitions, int32(n))
		}
	}
	slices.Sort(ts.Partitions)
	return ts, nil
}

// PartitionCounts asks the broker how many partitions each topic has. A
// topic that does not exist is a usage error naming it; asking does not
// create it.
func (a *Admin) PartitionCounts(ctx context.Context, topics []string) (map[string]int, error) {
	counts, err := a.partitionCounts(ctx, topics)
	if err != nil {
		return nil, err
	}
	for _, t := range topics {
		if counts[t] < 0 {
			return nil, cli.Usagef("topic %q does not exist (see the topics with `offsets describe --all-groups`, or create it first)", t)
		}
	}
	return counts, nil
}

// TopicPartitions returns a topic's partition count, and whether the topic
// exists at all.
func (a *Admin) TopicPartitions(ctx context.Context, topic string) (int, bool, error) {
	counts, err := a.partitionCounts(ctx, []string{topic})
	if err != nil {
		return 0, false, err
	}
	n := counts[topic]
	return max(n, 0), n >= 0, nil
}

// partitionCounts describes topics; a topic that does not exist counts -1.
func (a *Admin) partitionCounts(ctx context.Context, topics []string) (map[string]int, error) {
	counts := map[string]int{}
	if len(topics) == 0 {
		return counts, nil
	}
	var res kafka.DescribeTopicsResult
	err := a.call(ctx, "the description of topics "+strings.Join(topics, ", "), func(ctx context.Context, timeout time.Duration) error {
		var err error
		res, err = a.ac.DescribeTopics(ctx, kafka.NewTopicCollectionOfTopicNames(topics), kafka.SetAdminRequestTimeout(timeout))
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, d := range res.TopicDescriptions {
		switch d.Error.Code() {
		case kafka.ErrNoError:
			counts[d.Name] = len(d.Partitions)
		case kafka.ErrUnknownTopicOrPart, kafka.ErrUnknownTopic:
			counts[d.Name] = -1
		default:
			return nil, fmt.Errorf("describing topic %s: %w", d.Name, d.Error)
		}
	}
	for _, t := range topics {
		if _, ok := counts[t]; !ok {
			counts[t] = -1
		}
	}
	return counts, nil
}

// Expand turns topic scopes into partitions, checking each named partition
// exists.
func (a *Admin) Expand(ctx context.Context, scopes []TopicScope) ([]TP, error) {
	var topics []string
	for _, s := range scopes {
		if !slices.Contains(topics, s.Topic) {
			topics = append(topics, s.Topic)
		}
	}
	counts, err := a.PartitionCounts(ctx, topics)
	if err != nil {
		return nil, err
	}
	seen := map[TP]bool{}
	var tps []TP
	add := func(tp TP) {
		if !seen[tp] {
			seen[tp] = true
			tps = append(tps, tp)
		}
	}
	for _, s := range scopes {
		n := counts[s.Topic]
		if s.Partitions == nil {
			for p := range int32(n) {
				add(TP{Topic: s.Topic, Partition: p})
			}
			continue
		}
		for _, p := range s.Partitions {
			if int(p) >= n {
				return nil, cli.Usagef("topic %s has no partition %d (it has %d: 0..%d)", s.Topic, p, n, n-1)
			}
			add(TP{Topic: s.Topic, Partition: p})
		}
	}
	SortTPs(tps)
	return tps, nil
}
