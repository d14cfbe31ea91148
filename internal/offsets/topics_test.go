package offsets

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/offsetlab/offsetlab/internal/coordinator"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

func TestTopicsListsInternalTopicsOnlyWhenAsked(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("users", 3)
	e.Produce("users", 1, 5, time.Time{})

	stdout := e.must("topics")
	if strings.Contains(stdout, coordinator.Topic) {
		t.Fatalf("offsets topics listed an internal topic:\n%s", stdout)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "TOPIC PARTITION LOG-START LOG-END" ||
		strings.Join(strings.Fields(lines[2]), " ") != "users 1 0 5" {
		t.Fatalf("offsets topics:\n%s", stdout)
	}

	var got topicsJSON
	e.jsonOf(&got, "topics", "--include-internal")
	if len(got.Topics) != 2 || got.Topics[0].Topic != coordinator.Topic || !got.Topics[0].Internal ||
		len(got.Topics[0].Partitions) != coordinator.DefaultPartitions || got.Topics[1].Internal {
		t.Fatalf("offsets topics --include-internal: %+v", got)
	}
	if p := got.Topics[1].Partitions[1]; *p.LogStart != 0 || *p.LogEnd != 5 {
		t.Fatalf("users[1]: %+v", p)
	}
	if !strings.Contains(e.must("topics", "--include-internal"), "__consumer_offsets  0          0          0        yes") {
		t.Fatalf("offsets topics --include-internal shows no INTERNAL column")
	}
}

// confluent-kafka-go v2.15.0 declares TopicDescription.IsInternal but never
// fills it: it is false for __consumer_offsets, which the broker's Metadata
// answer marks internal. offsetlab goes by the topic's name, as Kafka does.
func TestConfluentDescribeTopicsLeavesIsInternalFalse(t *testing.T) {
	e := newEnv(t)
	md, err := kmsg.NewPtrMetadataRequest().RequestWith(t.Context(), stacktest.Client(t, e.s.BrokerAddr()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range md.Topics {
		if tp.Topic != nil && *tp.Topic == coordinator.Topic && !tp.IsInternal {
			t.Fatalf("the broker does not mark %s internal", coordinator.Topic)
		}
	}
	ac, err := kafka.NewAdminClient(&kafka.ConfigMap{"bootstrap.servers": e.s.BrokerAddr()})
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	res, err := ac.DescribeTopics(ctx, kafka.NewTopicCollectionOfTopicNames([]string{coordinator.Topic}))
	if err != nil {
		t.Fatal(err)
	}
	if d := res.TopicDescriptions[0]; d.IsInternal {
		t.Fatalf("confluent-kafka-go now reports %s as internal: groups.Topics can use TopicDescription.IsInternal", d.Name)
	}
}
