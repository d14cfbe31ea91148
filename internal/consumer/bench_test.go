package consumer

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/median"
	"github.com/offsetlab/offsetlab/internal/serde"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// benchRounds is how many times each consumer reads the topic, each time
// in a new group (median.Race).
const benchRounds = 5

// BenchmarkConsumerVsPlain measures, against one embedded broker and the
// same b.N Avro records, the consumer's records/s with Avro decoding and
// the ledger on, and a plain confluent-kafka-go consumer that only polls.
// Both are timed from the first record to the last, so the group join is
// not counted. Use -benchtime Nx. Reports the median records/s of each, the
// median of the per-round ratios, and each spread as min and max.
func BenchmarkConsumerVsPlain(b *testing.B) {
	s := stacktest.Start(b)
	fill(b, s.BrokerAddr(), s.RegistryURL(), "bench", b.N)
	b.ResetTimer()
	median.Race(b, benchRounds, "offsetlab-rec/s",
		func(round int) float64 {
			return offsetlabConsume(b, s.BrokerAddr(), s.RegistryURL(), fmt.Sprint("bench-offsetlab-", round))
		},
		func(round int) float64 {
			return plainConsume(b, s.BrokerAddr(), "bench", fmt.Sprint("bench-plain-", round), b.N)
		})
}

// offsetlabConsume reads the topic with the consumer and times it by its
// ledger, from the first record consumed to the last processed.
func offsetlabConsume(b *testing.B, bootstrap, registry, group string) float64 {
	path := filepath.Join(b.TempDir(), group+".jsonl")
	args := []string{"--bootstrap", bootstrap, "--registry", registry, "--group", group,
		"--topic", "bench", "--reset", "earliest", "--quiet", "--ledger", path, "--max-messages", fmt.Sprint(b.N)}
	if err := Run(context.Background(), args, io.Discard, io.Discard); err != nil {
		b.Fatal(err)
	}
	events, err := ledger.Read(path)
	if err != nil {
		b.Fatal(err)
	}
	var first, last time.Time
	for _, e := range events {
		if e.Type == ledger.Consumed && first.IsZero() {
			first = e.TS
		}
		if e.Type == ledger.Processed {
			last = e.TS
		}
	}
	return float64(b.N-1) / last.Sub(first).Seconds()
}

// fill writes n Avro records in the wire format with a plain producer,
// stamped with the offsetlab.run header "bench" and sequence 0..n-1.
func fill(b testing.TB, bootstrap, registry, topic string, n int) {
	conn := config.Connection{Registry: registry, Timeout: 10 * time.Second}
	rc := conn.RegistryClient()
	ser, err := serde.NewSerializer(rc, serde.Subject(topic),
		`{"type":"record","name":"R","fields":[{"name":"id","type":"long"},{"name":"item","type":"string"},{"name":"units","type":"double"}]}`)
	if err != nil {
		b.Fatal(err)
	}
	p, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": bootstrap, "go.delivery.reports": false})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < n; i++ {
		v, err := ser.Encode(map[string]any{"id": int64(i), "item": fmt.Sprintf("Item_%d", i%97), "units": float64(i) / 7})
		if err != nil {
			b.Fatal(err)
		}
		for p.Produce(&kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny}, Value: v,
			Headers: []kafka.Header{{Key: ledger.HeaderRun, Value: []byte("bench")}, {Key: ledger.HeaderSeq, Value: fmt.Append(nil, i)}}}, nil) != nil {
			p.Flush(10)
		}
	}
	if left := p.Flush(30_000); left > 0 {
		b.Fatalf("%d records not acknowledged within 30s", left)
	}
}

func plainConsume(b *testing.B, bootstrap, topic, group string, n int) float64 {
	c, err := kafka.NewConsumer(&kafka.ConfigMap{"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Subscribe(topic, nil); err != nil {
		b.Fatal(err)
	}
	var first time.Time
	deadline := time.Now().Add(2 * time.Minute)
	for got := 0; got < n; {
		if time.Now().After(deadline) {
			b.Fatalf("plain consumer read %d of %d records in 2 minutes", got, n)
		}
		if m, ok := c.Poll(100).(*kafka.Message); ok && m.TopicPartition.Error == nil {
			if got++; got == 1 {
				first = time.Now()
			}
		}
	}
	return float64(n-1) / time.Since(first).Seconds()
}
