package producer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/datagen"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// BenchmarkProducerVsPlain measures, against one embedded broker, the
// producer's Avro records/s (datagen, registry, wire format, headers,
// idempotence) and a plain confluent-kafka-go producer sending byte values
// of the same size with the same acks and idempotence. b.N is the record
// count of each run; use -benchtime Nx.
func BenchmarkProducerVsPlain(b *testing.B) {
	s := stacktest.Start(b)
	args := []string{"--bootstrap", s.BrokerAddr(), "--registry", s.RegistryURL(), "--topic", "bench-avro",
		"--count", fmt.Sprint(b.N), "--progress=false", "--format", "json"}
	b.ResetTimer()
	var stdout bytes.Buffer
	if err := Run(context.Background(), args, &stdout, io.Discard); err != nil {
		b.Fatal(err)
	}
	// The producer times itself from its first record to its last
	// acknowledgement, leaving out the registry and topic set-up.
	var sum summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		b.Fatal(err)
	}
	avro := float64(b.N) / sum.Elapsed.Seconds()

	// The plain producer sends values the size of an orders record.
	size := orderSize(b)
	plain := plainProduce(b, s.BrokerAddr(), "bench-plain", b.N, size)
	b.StopTimer()
	b.ReportMetric(avro, "avro-rec/s")
	b.ReportMetric(plain, "plain-rec/s")
	b.ReportMetric(avro/plain, "ratio")
	b.ReportMetric(float64(size), "value-bytes")
}

func orderSize(b *testing.B) int {
	o := &options{quickstart: "orders", seed: 1}
	schema, err := loadSchema(o)
	if err != nil {
		b.Fatal(err)
	}
	gen, err := datagen.New(schema, 1)
	if err != nil {
		b.Fatal(err)
	}
	rec, err := gen.Next()
	if err != nil {
		b.Fatal(err)
	}
	v, err := gen.Codec().BinaryFromNative(nil, rec)
	if err != nil {
		b.Fatal(err)
	}
	return len(v) + 5
}

func plainProduce(b *testing.B, bootstrap, topic string, n, size int) float64 {
	p, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": true})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	value := make([]byte, size)
	start := time.Now()
	done := make(chan struct{})
	go func() {
		acked := 0
		for ev := range p.Events() {
			if m, ok := ev.(*kafka.Message); ok && m.TopicPartition.Error == nil {
				if acked++; acked == n {
					close(done)
					return
				}
			}
		}
	}()
	for i := 0; i < n; i++ {
		for {
			err := p.Produce(&kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny}, Value: value}, nil)
			if err == nil {
				break
			}
			if kerr, ok := err.(kafka.Error); !ok || kerr.Code() != kafka.ErrQueueFull {
				b.Fatal(err)
			}
			p.Flush(10)
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatal("plain producer: not all records acknowledged within a minute")
	}
	return float64(n) / time.Since(start).Seconds()
}
