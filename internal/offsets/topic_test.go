package offsets

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/coordinator"
)

func TestTopicOnEmbeddedBrokerSaysThereIsNone(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.offsets("topic", "--from-beginning")
	var none *NoOffsetsTopicError
	if !errors.As(err, &none) || cli.Code(err) != cli.ExitFailed {
		t.Fatalf("offsets topic on kfake: %v (exit %d), want NoOffsetsTopicError, exit 1", err, cli.Code(err))
	}
	if msg := err.Error(); !strings.Contains(msg, "has no __consumer_offsets topic") || strings.Contains(msg, "\n") {
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

// The embedded broker has no __consumer_offsets, but nothing stops a test
// from creating a plain topic of that name and writing records to it as
// Kafka would: the reader and the --group partition choice then run end to
// end.
func TestTopicReadsAndDecodesRecords(t *testing.T) {
	e := newEnv(t)
	const n = 5
	e.CreateTopic("__consumer_offsets", n)
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

	stdout, stderr, err := e.offsets("topic", "--from-beginning", "--format", "json")
	if err != nil {
		t.Fatalf("topic: %v\n%s", err, stderr)
	}
	type line struct {
		Partition int32  `json:"partition"`
		Kind      string `json:"kind"`
		Group     string `json:"group"`
		Commit    *struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
			Offset    *int64 `json:"offset"`
		} `json:"commit"`
	}
	var got []line
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var x line
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		got = append(got, x)
	}
	if len(got) != 5 {
		t.Fatalf("read %d records, want 5 (one undecodable):\n%s", len(got), stdout)
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

	stdout, stderr, err = e.offsets("topic", "--from-beginning", "--group", "app")
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
