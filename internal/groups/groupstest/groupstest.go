// Package groupstest drives a broker the way a test of offsetlab's group
// tooling needs: topics, records, commits and group members made with plain
// confluent-kafka-go clients, each wait bounded and named.
package groupstest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/poll"
)

// Wait bounds every wait in this package.
const Wait = 15 * time.Second

// Kafka is a test's handle on one broker.
type Kafka struct {
	tb        testing.TB
	Bootstrap string
}

// New returns a handle on the broker at bootstrap.
func New(tb testing.TB, bootstrap string) *Kafka {
	return &Kafka{tb: tb, Bootstrap: bootstrap}
}

// config is a test client's configuration: quick to connect, quick to join
// a group, quiet.
func (k *Kafka) config(extra kafka.ConfigMap) *kafka.ConfigMap {
	cm := kafka.ConfigMap{
		"bootstrap.servers":                  k.Bootstrap,
		"socket.connection.setup.timeout.ms": 2000,
		"reconnect.backoff.ms":               10,
		"reconnect.backoff.max.ms":           200,
		"topic.metadata.refresh.interval.ms": 1000,
		"log_level":                          0,
		"log.connection.close":               false,
	}
	for key, v := range extra {
		cm[key] = v
	}
	return &cm
}

// consumerConfig is a group consumer that joins fast and commits only when
// told to.
func (k *Kafka) consumerConfig(group string, extra kafka.ConfigMap) *kafka.ConfigMap {
	cm := kafka.ConfigMap{
		"group.id":              group,
		"enable.auto.commit":    false,
		"auto.offset.reset":     "earliest",
		"session.timeout.ms":    1000,
		"heartbeat.interval.ms": 100,
		"fetch.wait.max.ms":     50,
	}
	for key, v := range extra {
		cm[key] = v
	}
	return k.config(cm)
}

// within runs a call that has no deadline of its own (librdkafka's
// synchronous commit) and fails the test if it takes longer than Wait.
func within(tb testing.TB, what string, call func() error) error {
	tb.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	var err error
	poll.Until(tb, Wait, what, poll.Received(done, &err))
	return err
}

// CreateTopic creates a topic with the given partitions.
func (k *Kafka) CreateTopic(topic string, partitions int) {
	k.tb.Helper()
	admin, err := kafka.NewAdminClient(k.config(nil))
	if err != nil {
		k.tb.Fatalf("admin client: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(k.tb.Context(), Wait)
	defer cancel()
	res, err := admin.CreateTopics(ctx, []kafka.TopicSpecification{{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}})
	if err != nil {
		k.tb.Fatalf("create topic %s (waited at most %s): %v", topic, Wait, err)
	}
	for _, r := range res {
		if r.Error.Code() != kafka.ErrNoError {
			k.tb.Fatalf("create topic %s: %v", topic, r.Error)
		}
	}
}

// Produce writes n records to one partition and waits for them to be
// acknowledged. When ts is not zero, record i is stamped ts + i seconds.
func (k *Kafka) Produce(topic string, partition int32, n int, ts time.Time) {
	k.tb.Helper()
	var ms []*kafka.Message
	for i := range n {
		m := &kafka.Message{Value: fmt.Appendf(nil, "record %d", i)}
		if !ts.IsZero() {
			m.Timestamp = ts.Add(time.Duration(i) * time.Second)
		}
		ms = append(ms, m)
	}
	k.ProduceMessages(topic, partition, ms...)
}

// ProduceMessages writes the messages (their key, value and timestamp) to
// one partition, in order, and waits for them to be acknowledged.
func (k *Kafka) ProduceMessages(topic string, partition int32, ms ...*kafka.Message) {
	k.tb.Helper()
	n := len(ms)
	p, err := kafka.NewProducer(k.config(kafka.ConfigMap{"linger.ms": 5, "message.timeout.ms": int(Wait / time.Millisecond)}))
	if err != nil {
		k.tb.Fatalf("producer: %v", err)
	}
	defer p.Close()
	done := make(chan kafka.Event, n)
	for _, m := range ms {
		m.TopicPartition = kafka.TopicPartition{Topic: &topic, Partition: partition}
		if err := p.Produce(m, done); err != nil {
			k.tb.Fatalf("produce to %s[%d]: %v", topic, partition, err)
		}
	}
	acked := 0
	var failed error
	var e kafka.Event
	poll.Until(k.tb, Wait, fmt.Sprintf("%d acknowledgements from %s[%d]", n, topic, partition), func() bool {
		for failed == nil && acked < n && poll.Received(done, &e)() {
			acked++
			if m, ok := e.(*kafka.Message); ok {
				failed = m.TopicPartition.Error
			}
		}
		return failed != nil || acked == n
	}, func() string { return fmt.Sprintf("%d acknowledgements", acked) })
	if failed != nil {
		k.tb.Fatalf("produce to %s[%d]: %v", topic, partition, failed)
	}
}

// DeleteRecords moves a partition's log start to offset, as retention
// would.
func (k *Kafka) DeleteRecords(topic string, partition int32, offset int64) {
	k.tb.Helper()
	admin, err := kafka.NewAdminClient(k.config(nil))
	if err != nil {
		k.tb.Fatalf("admin client: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(k.tb.Context(), Wait)
	defer cancel()
	res, err := admin.DeleteRecords(ctx, []kafka.TopicPartition{{Topic: &topic, Partition: partition, Offset: kafka.Offset(offset)}})
	if err != nil {
		k.tb.Fatalf("delete records of %s[%d] before %d (waited at most %s): %v", topic, partition, offset, Wait, err)
	}
	for _, r := range res.DeleteRecordsResults {
		if r.TopicPartition.Error != nil {
			k.tb.Fatalf("delete records of %s[%d]: %v", topic, partition, r.TopicPartition.Error)
		}
	}
}

// Commit commits offsets for a group without joining it, as a consumer
// that assigned itself partitions would: offsets maps "topic" to partition
// to offset.
func (k *Kafka) Commit(group string, offsets map[string]map[int32]int64) {
	k.tb.Helper()
	c, err := kafka.NewConsumer(k.consumerConfig(group, nil))
	if err != nil {
		k.tb.Fatalf("consumer: %v", err)
	}
	defer c.Close()
	var tps []kafka.TopicPartition
	for topic, ps := range offsets {
		for p, o := range ps {
			tps = append(tps, kafka.TopicPartition{Topic: &topic, Partition: p, Offset: kafka.Offset(o)})
		}
	}
	var res []kafka.TopicPartition
	err = within(k.tb, fmt.Sprintf("group %s's commit to be acknowledged", group), func() (err error) {
		res, err = c.CommitOffsets(tps)
		return err
	})
	if err != nil {
		k.tb.Fatalf("commit %v for group %s: %v", tps, group, err)
	}
	for _, tp := range res {
		if tp.Error != nil {
			k.tb.Fatalf("commit %s[%d] for group %s: %v", *tp.Topic, tp.Partition, group, tp.Error)
		}
	}
}

// Member is a consumer that joined a group and holds an assignment. A
// goroutine polls it all the time, as an application would, so that it
// takes part in rebalances; the records it receives queue up for Read.
type Member struct {
	*kafka.Consumer
	tb       testing.TB
	ClientID string
	records  chan *kafka.Message
	stop     chan struct{}
	stopped  chan struct{}
	closed   bool
}

// Join starts a group member subscribed to topics and waits until it has
// an assignment. The test's cleanup closes it.
func (k *Kafka) Join(group, clientID string, topics ...string) *Member {
	k.tb.Helper()
	return k.join(k.consumerConfig(group, kafka.ConfigMap{"client.id": clientID}), group, clientID, topics)
}

// JoinConsumerProtocol is Join with the KIP-848 group protocol
// (group.protocol=consumer), where the broker assigns the partitions.
func (k *Kafka) JoinConsumerProtocol(group, clientID string, topics ...string) *Member {
	k.tb.Helper()
	return k.JoinConfig(group, clientID, kafka.ConfigMap{"group.protocol": "consumer"}, topics...)
}

// JoinConfig is Join with extra consumer configuration, applied last:
// group.instance.id for a static member, session.timeout.ms, or
// group.protocol=consumer (the session and heartbeat are then the
// broker's, so this drops the classic ones).
func (k *Kafka) JoinConfig(group, clientID string, extra kafka.ConfigMap, topics ...string) *Member {
	k.tb.Helper()
	cm := k.consumerConfig(group, kafka.ConfigMap{"client.id": clientID})
	for key, v := range extra {
		(*cm)[key] = v
	}
	if (*cm)["group.protocol"] == "consumer" {
		delete(*cm, "session.timeout.ms")
		delete(*cm, "heartbeat.interval.ms")
	}
	return k.join(cm, group, clientID, topics)
}

func (k *Kafka) join(cm *kafka.ConfigMap, group, clientID string, topics []string) *Member {
	k.tb.Helper()
	c, err := kafka.NewConsumer(cm)
	if err != nil {
		k.tb.Fatalf("consumer: %v", err)
	}
	m := &Member{Consumer: c, tb: k.tb, ClientID: clientID,
		records: make(chan *kafka.Message, 10000), stop: make(chan struct{}), stopped: make(chan struct{})}
	if err := c.SubscribeTopics(topics, nil); err != nil {
		_ = c.Close()
		k.tb.Fatalf("subscribe %v: %v", topics, err)
	}
	go m.pollLoop()
	k.tb.Cleanup(m.Close)
	var assigned []kafka.TopicPartition
	var assignErr error
	poll.Until(k.tb, Wait, fmt.Sprintf("%s to get an assignment in group %s", clientID, group), func() bool {
		assigned, assignErr = c.Assignment()
		return assignErr == nil && len(assigned) > 0
	}, func() string { return fmt.Sprintf("assignment %v, error %v", assigned, assignErr) })
	return m
}

func (m *Member) pollLoop() {
	defer close(m.stopped)
	for {
		select {
		case <-m.stop:
			return
		default:
		}
		if e, ok := m.Poll(20).(*kafka.Message); ok && e.TopicPartition.Error == nil {
			m.records <- e
		}
	}
}

// Read returns the next n records the member received.
func (m *Member) Read(n int) []*kafka.Message {
	m.tb.Helper()
	var got []*kafka.Message
	var r *kafka.Message
	poll.Until(m.tb, Wait, fmt.Sprintf("%s to read %d records", m.ClientID, n), func() bool {
		for len(got) < n && poll.Received(m.records, &r)() {
			got = append(got, r)
		}
		return len(got) == n
	}, func() string { return fmt.Sprintf("%d records", len(got)) })
	return got
}

// FirstOffsets reads until it has seen a record from each of the given
// partitions of topic and returns the first offset read from each: where a
// consumer of the group resumes.
func (m *Member) FirstOffsets(topic string, partitions ...int32) map[int32]int64 {
	m.tb.Helper()
	first := map[int32]int64{}
	var r *kafka.Message
	poll.Until(m.tb, Wait, fmt.Sprintf("%s to read a record from each of %s%v", m.ClientID, topic, partitions), func() bool {
		for len(first) < len(partitions) && poll.Received(m.records, &r)() {
			p := r.TopicPartition.Partition
			if _, seen := first[p]; !seen && *r.TopicPartition.Topic == topic && slices.Contains(partitions, p) {
				first[p] = int64(r.TopicPartition.Offset)
			}
		}
		return len(first) == len(partitions)
	}, func() string { return fmt.Sprintf("first offsets %v", first) })
	return first
}

// CommitRead commits what the member has read: per partition, the offset
// after the last record read.
func (m *Member) CommitRead(msgs []*kafka.Message) {
	m.tb.Helper()
	if err := m.TryCommitRead(msgs); err != nil {
		m.tb.Fatal(err)
	}
}

// TryCommitRead is CommitRead returning the broker's refusal instead of
// failing the test.
func (m *Member) TryCommitRead(msgs []*kafka.Message) error {
	m.tb.Helper()
	type key struct {
		topic     string
		partition int32
	}
	next := map[key]kafka.Offset{}
	for _, msg := range msgs {
		next[key{*msg.TopicPartition.Topic, msg.TopicPartition.Partition}] = msg.TopicPartition.Offset + 1
	}
	var tps []kafka.TopicPartition
	for k, o := range next {
		tps = append(tps, kafka.TopicPartition{Topic: &k.topic, Partition: k.partition, Offset: o})
	}
	var res []kafka.TopicPartition
	err := within(m.tb, m.ClientID+"'s commit to be acknowledged", func() (err error) {
		res, err = m.CommitOffsets(tps)
		return err
	})
	if err != nil {
		return fmt.Errorf("commit %v: %w", tps, err)
	}
	for _, tp := range res {
		if tp.Error != nil {
			return fmt.Errorf("commit %s[%d]: %w", *tp.Topic, tp.Partition, tp.Error)
		}
	}
	return nil
}

// Close closes the consumer. A dynamic member leaves the group; a static
// one (group.instance.id) sends no LeaveGroup and stays a member until its
// session times out.
func (m *Member) Close() {
	if m.closed {
		return
	}
	m.closed = true
	close(m.stop)
	<-m.stopped
	_ = m.Consumer.Close()
}
