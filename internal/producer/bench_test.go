package producer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/datagen"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/median"
	"github.com/offsetlab/offsetlab/internal/serde"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// benchRounds is how many times each producer runs (median.Race).
const benchRounds = 5

// BenchmarkProducerVsPlain races, against one embedded broker, the
// producer (datagen, Avro encoding, headers, idempotence, delivery
// reports) and a baseline that sends the same records with none of the
// Avro work: the same values pre-encoded in the wire format, the same
// offsetlab.run and offsetlab.seq headers, no key for either, and the
// producer's own client settings (acks=all, idempotence, murmur2_random,
// message.timeout.ms). b.N is the record count of each run: use -benchtime
// Nx. Reports the median records/s of each, the median of the per-round
// ratios, and each spread as min and max.
func BenchmarkProducerVsPlain(b *testing.B) {
	s := stacktest.Start(b)
	values := orderValues(b, b.N)
	args := func(topic string) []string {
		return []string{"--bootstrap", s.BrokerAddr(), "--registry", s.RegistryURL(), "--topic", topic,
			"--count", strconv.Itoa(b.N), "--progress=false", "--format", "json", "--run-id", "bench"}
	}
	b.ResetTimer()
	median.Race(b, benchRounds, "avro-rec/s",
		func(round int) float64 { return avroProduce(b, args(fmt.Sprint("bench-avro-", round))) },
		func(round int) float64 {
			return plainProduce(b, s.BrokerAddr(), fmt.Sprint("bench-plain-", round), values)
		})
}

// avroProduce runs the producer; it times itself from its first record to
// its last acknowledgement, leaving out the registry and topic set-up.
func avroProduce(b *testing.B, args []string) float64 {
	var stdout bytes.Buffer
	if err := Run(context.Background(), args, &stdout, io.Discard); err != nil {
		b.Fatal(err)
	}
	var sum summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		b.Fatal(err)
	}
	return float64(sum.Acked) / sum.Elapsed.Seconds()
}

// orderValues is what the producer sends with --quickstart orders --seed 1:
// n wire-format values (schema id 1, the first the registry gives).
func orderValues(b *testing.B, n int) [][]byte {
	schema, err := datagen.Quickstart("orders")
	if err != nil {
		b.Fatal(err)
	}
	gen, err := datagen.New(schema, 1)
	if err != nil {
		b.Fatal(err)
	}
	values := make([][]byte, n)
	for i := range values {
		rec, err := gen.Next()
		if err != nil {
			b.Fatal(err)
		}
		if values[i], err = gen.Codec().BinaryFromNative(serde.AppendHeader(nil, 1), rec); err != nil {
			b.Fatal(err)
		}
	}
	return values
}

// plainProduce sends values as the producer sends records, minus the Avro
// work, and times the first send to the last acknowledgement.
func plainProduce(b *testing.B, bootstrap, topic string, values [][]byte) float64 {
	p, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": true,
		"partitioner": "murmur2_random", "message.timeout.ms": 30000, "log_level": 4})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	n := len(values)
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
	run := []byte("bench")
	start := time.Now()
	for i, v := range values {
		msg := &kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny}, Value: v,
			Headers: []kafka.Header{{Key: ledger.HeaderRun, Value: run}, {Key: ledger.HeaderSeq, Value: strconv.AppendInt(nil, int64(i), 10)}},
			Opaque:  int64(i)}
		for {
			err := p.Produce(msg, nil)
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
