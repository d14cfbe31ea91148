package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/ledger"
)

// transactor carries out --commit transactional, the consume-transform-
// produce loop of librdkafka's transactions example (KIP-447): a
// transactional producer whose transactions hold the records produced to
// --output and the input offsets they came from.
//
// What survives a kill -9 is exactly what the broker committed: a
// transaction is all or nothing. The dead instance's open transaction stays
// open on the broker, holding back read_committed readers of the output
// (the last stable offset stops at its first record), until the restarted
// instance's InitTransactions, with the same transactional.id, aborts it,
// or the broker aborts it after transaction.timeout.ms (librdkafka's
// default 60 s) if nothing restarts. Its records stay in the log, marked
// aborted: read_uncommitted readers see them, read_committed readers skip
// them. The group's committed offsets are those of the last committed
// transaction, so the restart reads the aborted records' input again.
//
// Each transaction is begun at the first record after the previous one
// ended, so none is open while there is nothing to put in it. It is
// committed after --txn-records records, after --txn-interval, when Poll
// has nothing more to hand over, before partitions are revoked and at a
// clean close (SIGTERM).
type transactor struct {
	p        *kafka.Producer
	c        *kafka.Consumer
	ledger   *ledger.Writer
	stats    *stats
	stderr   io.Writer
	output   string
	every    int
	interval time.Duration
	timeout  time.Duration

	open    bool
	began   time.Time
	records int
	// spans are, per input partition in the open transaction, the first
	// offset it holds (where to rewind if it aborts) and the next offset
	// after the last one it holds (what it commits).
	spans map[partitionKey]*span
	// revoking are the partitions being revoked, during a revocation: an
	// abort does not rewind them.
	revoking []kafka.TopicPartition
	// fatal is the error that ends the run: the producer cannot go on.
	fatal error
}

type span struct{ first, next kafka.Offset }

// newTransactor creates the transactional producer and initializes
// transactions. Call it before subscribing: InitTransactions is what fences
// an earlier instance with the same transactional.id and aborts the
// transaction it left open, and the consumer should fetch its committed
// offsets only once that is done.
func newTransactor(o *options, c *kafka.Consumer, l *ledger.Writer, s *stats, stderr io.Writer) (*transactor, error) {
	cm := o.producerConfigMap()
	p, err := kafka.NewProducer(&cm)
	if err != nil {
		return nil, config.ClientError("transactional producer", err)
	}
	go config.DiscardLogs(p.Logs())
	t := &transactor{p: p, c: c, ledger: l, stats: s, stderr: stderr, output: o.output,
		every: o.txnRecords, interval: o.txnInterval, timeout: o.conn.Timeout, spans: map[partitionKey]*span{}}
	go t.events()
	start := time.Now()
	if err := t.retry(p.InitTransactions); err != nil {
		p.Close()
		return nil, fmt.Errorf("unable to initialize transactions for transactional.id %s: %w", o.txnID(), err)
	}
	fmt.Fprintf(stderr, "transactional.id %s initialized in %s (InitTransactions fenced any earlier instance with this id and aborted the transaction it left open)\n",
		o.txnID(), time.Since(start).Round(time.Millisecond))
	return t, nil
}

// events drains the producer's events. With delivery reports off they are
// errors only; a fatal one also comes back from the next transactional call.
func (t *transactor) events() {
	for ev := range t.p.Events() {
		if err, ok := ev.(kafka.Error); ok {
			_ = t.ledger.Write(ledger.Event{Type: ledger.Error, Error: err.Error(), Code: int(err.Code()),
				Detail: map[string]string{"during": "produce"}})
		}
	}
}

// produce puts m's transformed copy into the open transaction, beginning
// one if none is open. The copy keeps m's key, value and headers, so the
// output record carries the input record's offsetlab.run and offsetlab.seq:
// its identity. It reports false when m could not be produced: the
// transaction was aborted and the input rewound, so m comes again.
func (t *transactor) produce(m *kafka.Message) (bool, error) {
	if t.fatal != nil {
		return false, t.fatal
	}
	if !t.open {
		if err := t.p.BeginTransaction(); err != nil {
			return false, t.fail("begin transaction", err)
		}
		t.open, t.began, t.records = true, time.Now(), 0
	}
	k := partitionKey{*m.TopicPartition.Topic, m.TopicPartition.Partition}
	sp, ok := t.spans[k]
	if !ok {
		sp = &span{first: m.TopicPartition.Offset, next: kafka.OffsetInvalid}
		t.spans[k] = sp
	}
	out := &kafka.Message{
		TopicPartition: kafka.TopicPartition{Topic: &t.output, Partition: kafka.PartitionAny},
		Key:            m.Key,
		Value:          m.Value,
		Headers:        slices.Clone(m.Headers),
	}
	for {
		err := t.p.Produce(out, nil)
		var kerr kafka.Error
		if errors.As(err, &kerr) && kerr.Code() == kafka.ErrQueueFull {
			t.p.Flush(100) // wait for room
			continue
		}
		if err != nil {
			// A local refusal: this transaction cannot hold m. Undo it all.
			if aerr := t.abort(fmt.Sprintf("producing %s failed: %v", where(m), err)); aerr != nil {
				return false, aerr
			}
			return false, nil
		}
		break
	}
	sp.next = m.TopicPartition.Offset + 1
	t.records++
	return true, nil
}

// processed runs after m's processed event: the transaction commits when it
// is full or old enough.
func (t *transactor) processed() error {
	if t.open && (t.records >= t.every || time.Since(t.began) >= t.interval) {
		return t.commit("records")
	}
	return t.fatal
}

// commit sends the offsets after the records the transaction holds, with
// the consumer's current group metadata (its generation, so that a member
// the group has moved on from is fenced), and commits. On an abortable
// error it aborts and rewinds the input to where the transaction began;
// the error it returns is fatal only. trigger says why it commits now.
func (t *transactor) commit(trigger string) error {
	if t.fatal != nil || !t.open {
		return t.fatal
	}
	next := t.offsets(func(s *span) kafka.Offset { return s.next })
	md, err := t.c.GetConsumerGroupMetadata()
	if err != nil {
		return t.failed("group metadata", err, trigger)
	}
	if err := t.retry(func(ctx context.Context) error { return t.p.SendOffsetsToTransaction(ctx, next, md) }); err != nil {
		return t.failed("send offsets to transaction", err, trigger)
	}
	if err := t.retry(t.p.CommitTransaction); err != nil {
		return t.failed("commit transaction", err, trigger)
	}
	e := ledger.Event{Type: ledger.Committed, Source: "transaction", Partitions: offsets(next),
		Detail: map[string]string{"records": strconv.Itoa(t.records), "trigger": trigger}}
	t.stats.commit(nil)
	t.stats.Transactions++
	_ = t.ledger.Write(e)
	t.reset()
	return nil
}

// failed handles a failed step of a commit, as librdkafka's transactions
// example does: an abortable error aborts the transaction and rewinds the
// input; a fatal one (fenced, say) ends the run; so does any other, since
// the transaction's state is then unknown.
func (t *transactor) failed(step string, err error, trigger string) error {
	t.stats.commit(err)
	e := ledger.Event{Type: ledger.Committed, Source: "transaction", Partitions: offsets(t.offsets(func(s *span) kafka.Offset { return s.next })),
		Error: err.Error(), Detail: map[string]string{"during": step, "trigger": trigger}}
	var kerr kafka.Error
	if errors.As(err, &kerr) {
		e.Code = int(kerr.Code())
	}
	_ = t.ledger.Write(e)
	if errors.As(err, &kerr) && kerr.TxnRequiresAbort() {
		return t.abort(fmt.Sprintf("%s failed: %v", step, err))
	}
	return t.fail(step, err)
}

// revoke ends the open transaction before partitions leave this member,
// as librdkafka recommends: committed when the revocation is a clean
// handover, so the next owner starts after it; aborted when the assignment
// was lost (the session timed out), since the group has already given the
// partitions to another member and a commit with this generation would be
// fenced anyway.
func (t *transactor) revoke(revoked []kafka.TopicPartition, lost bool) {
	if !t.open || t.fatal != nil {
		return
	}
	t.revoking = revoked
	defer func() { t.revoking = nil }()
	if lost {
		_ = t.abort("the assignment was lost")
		return
	}
	_ = t.commit("revoke")
}

// abort aborts the open transaction and rewinds every partition it held,
// but those being revoked, to the first offset it held there: the offset
// its commit would have moved on from. The records come again and go into
// the next transaction.
func (t *transactor) abort(reason string) error {
	rewind := t.offsets(func(s *span) kafka.Offset { return s.first })
	records := t.records
	if err := t.retry(t.p.AbortTransaction); err != nil {
		return t.fail("abort transaction", err)
	}
	t.stats.Aborted++
	_ = t.ledger.Write(ledger.Event{Type: ledger.Error, Error: "transaction aborted: " + reason, Partitions: offsets(rewind),
		Detail: map[string]string{"during": "transaction", "aborted_records": strconv.Itoa(records)}})
	fmt.Fprintf(t.stderr, "transaction aborted (%d records): %s\n", records, reason)
	t.reset()
	rewind = slices.DeleteFunc(rewind, func(tp kafka.TopicPartition) bool {
		return slices.ContainsFunc(t.revoking, func(s kafka.TopicPartition) bool {
			return *s.Topic == *tp.Topic && s.Partition == tp.Partition
		})
	})
	if len(rewind) == 0 {
		return nil
	}
	if _, err := t.c.SeekPartitions(rewind); err != nil {
		return t.fail("rewind after abort", err)
	}
	return nil
}

// fail makes err the run's end.
func (t *transactor) fail(step string, err error) error {
	t.fatal = fmt.Errorf("transactional producer: %s: %w", step, err)
	_ = t.ledger.Write(ledger.Event{Type: ledger.Error, Error: t.fatal.Error(), Detail: map[string]string{"during": "transaction"}})
	return t.fatal
}

func (t *transactor) reset() {
	t.open, t.records = false, 0
	clear(t.spans)
}

// offsets lists each partition of the open transaction with the offset pick
// chooses, the partitions in order.
func (t *transactor) offsets(pick func(*span) kafka.Offset) []kafka.TopicPartition {
	tps := make([]kafka.TopicPartition, 0, len(t.spans))
	for k, s := range t.spans {
		topic := k.topic
		if o := pick(s); o >= 0 {
			tps = append(tps, kafka.TopicPartition{Topic: &topic, Partition: k.partition, Offset: o})
		}
	}
	slices.SortFunc(tps, func(a, b kafka.TopicPartition) int {
		if *a.Topic != *b.Topic {
			if *a.Topic < *b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
	return tps
}

// retry runs a transactional call until it succeeds, fails for good, or
// --timeout passes: librdkafka marks the failures worth retrying.
func (t *transactor) retry(call func(context.Context) error) error {
	deadline := time.Now().Add(t.timeout)
	for {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := call(ctx)
		cancel()
		var kerr kafka.Error
		if err == nil || !errors.As(err, &kerr) || !kerr.IsRetriable() || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// close closes the producer. The consumer's close has committed (or, after
// a fatal error, could not commit) the open transaction; one still open is
// aborted by the broker after transaction.timeout.ms, or by the next
// instance's InitTransactions.
func (t *transactor) close() {
	t.p.Close()
}
