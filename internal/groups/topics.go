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

// requestBatch bounds the topics or partitions of one admin request.
// librdkafka's work on a request grows faster than its size: describing
// 100,000 topics at once spent 24 s of CPU, well past --timeout, and
// closing the client waited for it, deaf to SIGTERM. Batches keep each
// request short and let an interrupt or the timeout land between them.
const requestBatch = 1000

// partitionCounts describes topics; a topic that does not exist counts -1.
func (a *Admin) partitionCounts(ctx context.Context, topics []string) (map[string]int, error) {
	counts := map[string]int{}
	if len(topics) == 0 {
		return counts, nil
	}
	var descs []kafka.TopicDescription
	for batch := range slices.Chunk(topics, requestBatch) {
		var res kafka.DescribeTopicsResult
		err := a.call(ctx, "the description of topics "+someOf(batch), func(ctx context.Context, timeout time.Duration) error {
			var err error
			res, err = a.ac.DescribeTopics(ctx, kafka.NewTopicCollectionOfTopicNames(batch), kafka.SetAdminRequestTimeout(timeout))
			return err
		})
		if err != nil {
			return nil, err
		}
		descs = append(descs, res.TopicDescriptions...)
	}
	for _, d := range descs {
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

// someOf lists names for a message, the first few of many: a one-line
// error once named 100,000 topics in 789 KB.
func someOf(names []string) string {
	const shown = 5
	if len(names) <= shown+1 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:shown], ", "), len(names)-shown)
}

// Expand turns topic scopes into partitions, checking each named partition
// exists.
func (a *Admin) Expand(ctx context.Context, scopes []TopicScope) ([]TP, error) {
	var topics []string
	named := map[string]bool{} // a --from-file line is a scope: 100,000 of them took 23 s with slices.Contains
	for _, s := range scopes {
		if !named[s.Topic] {
			named[s.Topic] = true
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
