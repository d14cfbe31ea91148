package offsets

import (
	"errors"
	"strings"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/coordinator"
	"github.com/offsetlab/offsetlab/internal/stack"
)

// Kafka creates __consumer_offsets when a group first looks for its
// coordinator; until then there is nothing to read.
func TestTopicOnABrokerWithoutTheTopicYet(t *testing.T) {
	e := newEnv(t)
	if err := e.s.Cluster().DeleteTopic(coordinator.Topic); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.offsets("topic", "--from-beginning")
	var none *NoOffsetsTopicError
	if !errors.As(err, &none) || cli.Code(err) != cli.ExitFailed {
		t.Fatalf("offsets topic on kfake: %v (exit %d), want NoOffsetsTopicError, exit 1", err, cli.Code(err))
	}
	if msg := err.Error(); !strings.Contains(msg, "has no __consumer_offsets topic yet") || strings.Contains(msg, "\n") {
		t.Fatalf("message: %q", msg)
	}
}

// commitRecord is an offset commit as Kafka writes it to __consumer_offsets.
func commitRecord(group, topic string, partition int32, offset int64) *kafka.Message {
	k := kmsg.NewOffsetCommitKey()
	k.Version, k.Group, k.Topic, k.Partition = 1, group, topic, partition
	v := kmsg.NewOffsetCommitValue()
	v.Version, v.Offset, v.LeaderEpoch, v.CommitTimestamp = 3, offset, 0, 1700000000000
	return &kafka.Message{Key: k.AppendTo(nil), Value: v.AppendTo(nil)}
}

// The embedded broker lets a client write to __consumer_offsets (Kafka
// does not: TestKfakeAcceptsClientWritesToConsumerOffsets), so a test can
// write records there as Kafka would, odd ones included: the reader and the
// --group partition choice then run end to end.
func TestTopicReadsAndDecodesRecords(t *testing.T) {
	const n = 5
	e := newEnv(t, func(o *stack.Options) { o.OffsetsPartitions = n })
	app := coordinator.Partition("app", n)
	other := coordinator.Partition("billing", n)
	if app == other {
		t.Fatalf("pick groups in different partitions (both in %d)", app)
	}
	gk := kmsg.NewGroupMetadataKey()
	gk.Version, gk.Group = 2, "app"
	e.ProduceMessages("__consumer_offsets", app,
		commitRecord("app", "orders", 0, 12),
		commitRecord("app", "orders", 1, 30),
		&kafka.Message{Key: commitRecord("app", "orders", 1, 0).Key}, // tombstone
		&kafka.Message{Key: gk.AppendTo(nil)},                        // group tombstone
		&kafka.Message{Key: []byte{0, 1, 0}, Value: []byte{0}},       // garbage
	)
	e.ProduceMessages("__consumer_offsets", other, commitRecord("billing", "payments", 2, 7))

	got, stderr := e.topicEntries()
	if len(got) != 5 {
		t.Fatalf("read %d records, want 5 (one undecodable): %+v", len(got), got)
	}
	kinds := map[string]int{}
	for _, x := range got {
		kinds[x.Kind]++
	}
	if kinds["offset-commit"] != 3 || kinds["offset-deleted"] != 1 || kinds["group-deleted"] != 1 {
		t.Fatalf("kinds %v", kinds)
	}
	if !strings.Contains(stderr, "undecodable record at __consumer_offsets partition") || !strings.Contains(stderr, "5 records decoded, 1 undecodable") {
		t.Fatalf("stderr:\n%s", stderr)
	}

	stdout, stderr, err := e.offsets("topic", "--from-beginning", "--group", "app")
	if err != nil {
		t.Fatalf("topic --group app: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 || strings.Contains(stdout, "billing") {
		t.Fatalf("--group app printed:\n%s", stdout)
	}
	if !strings.Contains(lines[0], "offset-commit   group=app topic=orders partition=0 offset=12 leader-epoch=0") ||
		!strings.Contains(lines[2], "offset-deleted  group=app topic=orders partition=1 (key v1, tombstone)") {
		t.Fatalf("--group app printed:\n%s", stdout)
	}
	if !strings.Contains(stderr, "group app is in __consumer_offsets partition") {
		t.Fatalf("stderr:\n%s", stderr)
	}
}
