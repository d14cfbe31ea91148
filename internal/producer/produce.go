package producer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/datagen"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/out"
	"github.com/offsetlab/offsetlab/internal/serde"
)

type producer struct {
	o      *options
	gen    *datagen.Generator
	ser    *serde.Serializer
	kp     *kafka.Producer
	ledger *ledger.Writer
	bar    *progressbar.ProgressBar

	sum     summary
	mu      sync.Mutex // guards sum against the delivery goroutine
	pending sync.WaitGroup
	reports chan struct{}
}

// newProducer validates everything it can before sending a record: the
// schema and key field, the ledger path, the registry and the broker.
func newProducer(ctx context.Context, o *options, stderr io.Writer) (*producer, error) {
	schema, err := loadSchema(o)
	if err != nil {
		return nil, err
	}
	gen, err := datagen.New(schema, o.seed)
	if err != nil {
		return nil, cli.Usagef("%s: %v", schemaName(o), err)
	}
	if o.keyField != "" {
		if err := gen.ValidateKeyField(o.keyField); err != nil {
			return nil, cli.Usagef("--key-field: %v", err)
		}
	}
	if o.runID == "" {
		o.runID = newRunID()
	}
	if err := o.conn.CheckRegistry(ctx); err != nil {
		return nil, err
	}
	if err := o.conn.CheckBroker(ctx); err != nil {
		return nil, err
	}
	ser, err := serde.NewSerializer(o.conn.RegistryClient(), serde.Subject(o.topic), gen.Schema())
	if err != nil {
		return nil, err
	}
	if err := ensureTopic(ctx, o); err != nil {
		return nil, err
	}
	p := &producer{o: o, gen: gen, ser: ser, reports: make(chan struct{})}
	p.sum = summary{Topic: o.topic, RunID: o.runID, SchemaID: ser.ID(), Partitions: map[int32]*partitionSummary{}}
	if o.ledger != "" {
		if p.ledger, err = ledger.Create(o.ledger); err != nil {
			return nil, cli.Usagef("--ledger: %v", err)
		}
	}
	cm := o.conn.ConfigMap(kafka.ConfigMap{
		"acks":               "all",
		"enable.idempotence": true,
		// The Java client's partitioner, so keys land where a Java producer puts them.
		"partitioner":        "murmur2_random",
		"message.timeout.ms": int(o.deliveryTimeout / time.Millisecond),
	})
	if p.kp, err = kafka.NewProducer(&cm); err != nil {
		return nil, config.ClientError("producer", err)
	}
	go config.DiscardLogs(p.kp.Logs())
	go p.deliveries()
	if o.progress && out.IsTerminal(stderr) && o.count >= 1000 {
		p.bar = progressbar.NewOptions64(o.count, progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("producing "+o.topic), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("rec"), progressbar.OptionClearOnFinish())
	}
	return p, nil
}

func loadSchema(o *options) (string, error) {
	if o.schemaFile == "" {
		s, err := datagen.Quickstart(o.quickstart)
		if err != nil {
			return "", cli.Usagef("--quickstart: %v", err)
		}
		return s, nil
	}
	b, err := os.ReadFile(o.schemaFile)
	if err != nil {
		return "", cli.Usagef("--schema: %v", err)
	}
	return string(b), nil
}

func schemaName(o *options) string {
	if o.schemaFile != "" {
		return "--schema " + o.schemaFile
	}
	return "--quickstart " + o.quickstart
}

func newRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ensureTopic creates the topic with --partitions unless it exists.
func ensureTopic(ctx context.Context, o *options) error {
	cm := o.conn.ConfigMap(nil)
	admin, err := kafka.NewAdminClient(&cm)
	if err != nil {
		return config.ClientError("admin client", err)
	}
	defer admin.Close()
	go config.DiscardLogs(admin.Logs())
	ctx, cancel := context.WithTimeout(ctx, o.conn.Timeout)
	defer cancel()
	res, err := admin.CreateTopics(ctx, []kafka.TopicSpecification{{
		Topic: o.topic, NumPartitions: o.partitions, ReplicationFactor: -1,
	}})
	if err != nil {
		return fmt.Errorf("unable to create topic %q (waited up to %s): %w", o.topic, o.conn.Timeout, err)
	}
	if code := res[0].Error.Code(); code != kafka.ErrNoError && code != kafka.ErrTopicAlreadyExists {
		return fmt.Errorf("unable to create topic %q: %w", o.topic, res[0].Error)
	}
	return nil
}

// produce sends --count records at --rate, then waits for every
// acknowledgement. An interrupt stops sending and still waits for what is
// in flight.
func (p *producer) produce(ctx context.Context) (*summary, error) {
	limit := limiter(p.o.rate)
	start := time.Now()
	partition := kafka.PartitionAny
	if p.o.partition >= 0 {
		partition = int32(p.o.partition)
	}
	ahead := p.prepare()
	var sendErr error
	for {
		r, more := ahead.next(ctx)
		if !more {
			break
		}
		if r.err != nil {
			sendErr = r.err
			break
		}
		if err := limit.Wait(ctx); err != nil {
			sendErr = ctx.Err()
			break
		}
		msg := &kafka.Message{
			TopicPartition: kafka.TopicPartition{Topic: &p.o.topic, Partition: partition},
			Value:          r.value,
			Key:            r.key,
			Headers: []kafka.Header{
				{Key: ledger.HeaderRun, Value: []byte(p.o.runID)},
				{Key: ledger.HeaderSeq, Value: strconv.AppendInt(nil, r.seq, 10)},
			},
			Opaque: r.seq,
		}
		if err := p.send(ctx, msg); err != nil {
			sendErr = err
			break
		}
	}
	ahead.stop()
	p.flush()
	p.sum.Elapsed = time.Since(start)
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	if sendErr == nil && p.sum.Failed > 0 {
		sendErr = fmt.Errorf("%d of %d records were not acknowledged (first error: %s)", p.sum.Failed, p.sum.Sent, p.sum.FirstError)
	}
	return &p.sum, sendErr
}

// limiter holds --rate (0: no limit). Its bucket holds 10 ms of records:
// with room for one record only, every record waited for a timer, and
// timers overshoot, so --rate 5000 gave 1985 records/s. A burst absorbs the
// overshoot, and the average holds.
func limiter(perSecond float64) *rate.Limiter {
	if perSecond == 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	return rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond/100)))
}

// prepared is one record ready to send, or why it could not be made.
type prepared struct {
	seq        int64
	value, key []byte
	err        error
}

// aheadBytes bounds the encoded records made but not yet sent (one record
// may go past it: a record can be as large).
const aheadBytes = 64 << 20

// pipeline makes the --count records in its own goroutine, in order, ahead
// of the sending loop: the Avro work (datagen and encoding, about half of
// the producer's own CPU in the profile) then overlaps librdkafka's.
type pipeline struct {
	records chan prepared
	ahead   *semaphore.Weighted // bytes of records made and not yet taken
	cancel  context.CancelFunc
}

func (p *producer) prepare() *pipeline {
	ctx, cancel := context.WithCancel(context.Background())
	pl := &pipeline{records: make(chan prepared, 4096), ahead: semaphore.NewWeighted(aheadBytes), cancel: cancel}
	go func() {
		defer close(pl.records)
		for seq := int64(0); seq < p.o.count; seq++ {
			r := p.record(seq)
			if pl.ahead.Acquire(ctx, weight(r)) != nil {
				return
			}
			select {
			case pl.records <- r:
			case <-ctx.Done():
				return
			}
			if r.err != nil {
				return
			}
		}
	}()
	return pl
}

// next is the next record, or ctx's error as a record's: a signal stops
// the loop even while a large record is being made. false: all were taken.
func (pl *pipeline) next(ctx context.Context) (prepared, bool) {
	select {
	case r, ok := <-pl.records:
		pl.ahead.Release(weight(r))
		return r, ok
	case <-ctx.Done():
		return prepared{err: ctx.Err()}, true
	}
}

// stop ends the goroutine and waits for it.
func (pl *pipeline) stop() {
	pl.cancel()
	for range pl.records {
	}
}

func weight(r prepared) int64 { return min(int64(len(r.value)), aheadBytes) }

// record generates record seq, encodes it and takes its key.
func (p *producer) record(seq int64) prepared {
	rec, err := p.gen.Next()
	if err != nil {
		return prepared{err: cli.Usagef("record %d: %v", seq, err)}
	}
	value, err := p.ser.Encode(rec)
	if err != nil {
		return prepared{err: cli.Usagef("%s: record %d: %v", schemaName(p.o), seq, err)}
	}
	r := prepared{seq: seq, value: value}
	if p.o.keyField != "" {
		k, err := p.gen.KeyOf(rec, p.o.keyField)
		if err != nil {
			return prepared{err: cli.Usagef("--key-field: %v", err)}
		}
		r.key = []byte(k)
	}
	return r
}

// send hands a record to librdkafka, waiting for room when its queue is full.
func (p *producer) send(ctx context.Context, msg *kafka.Message) error {
	for {
		p.pending.Add(1)
		err := p.kp.Produce(msg, nil)
		if err == nil {
			p.mu.Lock()
			p.sum.Sent++
			p.mu.Unlock()
			return nil
		}
		p.pending.Done()
		var kerr kafka.Error
		if errors.As(err, &kerr) && kerr.Code() == kafka.ErrMsgSizeTooLarge {
			// librdkafka refuses it before sending: count it as failed,
			// or the summary said "failed 0" beside the error.
			p.mu.Lock()
			p.sum.Failed++
			if p.sum.FirstError == "" {
				p.sum.FirstError = err.Error()
			}
			p.mu.Unlock()
			return fmt.Errorf("unable to produce record %d: its %d-byte value is over the producer's message.max.bytes (raise it with -X message.max.bytes=N, and the topic's max.message.bytes): %w",
				msg.Opaque, len(msg.Value), err)
		}
		if !errors.As(err, &kerr) || kerr.Code() != kafka.ErrQueueFull {
			return fmt.Errorf("unable to produce: %w", err)
		}
		select {
		case <-p.reports: // a delivery report made room
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// flush waits for every record in flight to be acknowledged or to fail;
// message.timeout.ms bounds the wait.
func (p *producer) flush() {
	done := make(chan struct{})
	go func() { p.pending.Wait(); close(done) }()
	for {
		select {
		case <-done:
			return
		case <-time.After(100 * time.Millisecond):
			p.kp.Flush(100)
		}
	}
}

// deliveries reads delivery reports: each acknowledged record goes to the
// summary and the ledger.
func (p *producer) deliveries() {
	for ev := range p.kp.Events() {
		m, ok := ev.(*kafka.Message)
		if !ok {
			continue
		}
		p.mu.Lock()
		p.sum.record(m)
		p.mu.Unlock()
		if m.TopicPartition.Error == nil {
			seq, _ := m.Opaque.(int64)
			if err := p.ledger.Write(ledger.Event{Type: ledger.Acked, Record: &ledger.Record{
				Topic: *m.TopicPartition.Topic, Partition: m.TopicPartition.Partition,
				Offset: int64(m.TopicPartition.Offset), Run: p.o.runID, Seq: seq,
			}}); err != nil {
				p.mu.Lock()
				p.sum.LedgerError = err.Error()
				p.mu.Unlock()
			}
		}
		if p.bar != nil {
			_ = p.bar.Add(1)
		}
		select {
		case p.reports <- struct{}{}:
		default:
		}
		p.pending.Done()
	}
}

func (p *producer) close() {
	p.kp.Close()
	_ = p.ledger.Close()
}

// summary is what the producer reports at the end.
type summary struct {
	Topic       string                      `json:"topic"`
	RunID       string                      `json:"run_id"`
	SchemaID    int                         `json:"schema_id"`
	Sent        int64                       `json:"sent"`
	Acked       int64                       `json:"acked"`
	Failed      int64                       `json:"failed"`
	FirstError  string                      `json:"first_error,omitempty"`
	LedgerError string                      `json:"ledger_error,omitempty"`
	Elapsed     time.Duration               `json:"elapsed_ns"`
	Partitions  map[int32]*partitionSummary `json:"partitions"`
}

type partitionSummary struct {
	Acked int64 `json:"acked"`
	First int64 `json:"first_offset"`
	Last  int64 `json:"last_offset"`
}

func (s *summary) record(m *kafka.Message) {
	if err := m.TopicPartition.Error; err != nil {
		s.Failed++
		if s.FirstError == "" {
			s.FirstError = err.Error()
		}
		return
	}
	s.Acked++
	off := int64(m.TopicPartition.Offset)
	ps, ok := s.Partitions[m.TopicPartition.Partition]
	if !ok {
		ps = &partitionSummary{First: off, Last: off}
		s.Partitions[m.TopicPartition.Partition] = ps
	}
	ps.Acked++
	ps.First = min(ps.First, off)
	ps.Last = max(ps.Last, off)
}

func (s *summary) print(w io.Writer, format string) error {
	if format == out.JSON {
		return out.WriteJSON(w, s)
	}
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Acked) / s.Elapsed.Seconds()
	}
	fmt.Fprintf(w, "sent %d, acked %d, failed %d to %s in %s (%.0f records/s; run %s, schema id %d)\n",
		s.Sent, s.Acked, s.Failed, s.Topic, s.Elapsed.Round(time.Millisecond), rate, s.RunID, s.SchemaID)
	if s.LedgerError != "" {
		fmt.Fprintf(w, "ledger incomplete: %s\n", s.LedgerError)
	}
	parts := make([]int32, 0, len(s.Partitions))
	for p := range s.Partitions {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	t := out.NewTable(w, "partition", "acked", "first-offset", "last-offset")
	for _, p := range parts {
		ps := s.Partitions[p]
		t.Row(p, ps.Acked, ps.First, ps.Last)
	}
	return t.Flush()
}
