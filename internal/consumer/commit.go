package consumer

import (
	"errors"
	"sort"
	"strings"
	"sync"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// commitMode names when the consumer's progress reaches the broker. A
// committed offset is the next offset to read: after processing offset 41,
// the commit that covers it says 42. Each mode says, for a consumer killed
// with SIGKILL while processing offset 42 of a partition, what a restarted
// consumer reads first.
type commitMode string

const (
	// commitAuto is librdkafka's default: enable.auto.commit=true and
	// enable.auto.offset.store=true. A record's offset is stored when Poll
	// hands it to the application, and a background timer commits the
	// stored offsets every auto.commit.interval.ms. Killed while processing
	// 42: if the last auto-commit ran before 42 was handed over, the restart
	// reads from the commit (say 30) and replays 30..42; if it ran after,
	// the commit says 43 and 42 is lost although it was never processed.
	commitAuto commitMode = "auto"
	// commitStoreAfterProcess is at-least-once with auto-commit:
	// enable.auto.offset.store=false, and StoreMessage after processing, so
	// the timer only ever commits processed records. Killed while processing
	// 42: the commit is at most 42; the restart replays from it, nothing lost.
	commitStoreAfterProcess commitMode = "store-after-process"
	// commitSync commits each record synchronously after processing it
	// (CommitMessage). Killed while processing 42: the commit says 42, the
	// restart reads 42 again, at most one record per partition replayed.
	commitSync commitMode = "sync"
	// commitAsync commits after processing without waiting for the result;
	// a committer goroutine sends the newest processed offset per
	// partition. Killed while processing 42: the commit is 42 or a little
	// behind (commits in flight), so a few records may replay; nothing lost.
	commitAsync commitMode = "async"
	// commitBeforeProcess is at-most-once: the record is committed (offset
	// 43) before it is processed. Killed while processing 42: the restart
	// reads 43 and record 42 is never processed. Nothing is replayed.
	commitBeforeProcess commitMode = "commit-before-process"
	// commitTransactional is consume-transform-produce, exactly once:
	// each record is produced to --output inside a transaction, and the
	// transaction also carries the input offsets (SendOffsetsToTransaction
	// with the consumer's group metadata), so the output records and the
	// commit become visible together or not at all. The input is read with
	// enable.auto.commit=false and isolation.level=read_committed.
	//
	// Killed while processing 42, with the open transaction holding 30..42
	// (the last one committed 30): the output records 30..41 are on the
	// broker but belong to a transaction that never committed, and the
	// group's committed offset is still 30. The restart, with the same
	// transactional.id, calls InitTransactions, which fences the dead
	// instance and aborts its transaction; it then reads 30..42 again and
	// produces them again. The transformer replays 30..41 (as at-least-once
	// would), but a read_committed reader of the output never sees the
	// aborted copies: each input record appears there exactly once. A
	// read_uncommitted reader sees both.
	commitTransactional commitMode = "transactional"
)

// modeSpec is what a commit mode asks of librdkafka.
type modeSpec struct {
	name     commitMode
	settings kafka.ConfigMap
}

var commitModes = map[commitMode]modeSpec{
	commitAuto: {commitAuto, kafka.ConfigMap{"enable.auto.commit": true, "enable.auto.offset.store": true}},
	commitStoreAfterProcess: {commitStoreAfterProcess, kafka.ConfigMap{
		"enable.auto.commit": true, "enable.auto.offset.store": false}},
	commitSync:          {commitSync, kafka.ConfigMap{"enable.auto.commit": false, "enable.auto.offset.store": false}},
	commitAsync:         {commitAsync, kafka.ConfigMap{"enable.auto.commit": false, "enable.auto.offset.store": false}},
	commitBeforeProcess: {commitBeforeProcess, kafka.ConfigMap{"enable.auto.commit": false, "enable.auto.offset.store": false}},
	commitTransactional: {commitTransactional, kafka.ConfigMap{
		"enable.auto.commit": false, "enable.auto.offset.store": false, "isolation.level": "read_committed"}},
}

func commitModeNames() string {
	names := make([]string, 0, len(commitModes))
	for n := range commitModes {
		names = append(names, string(n))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// committer carries out a commit mode around the processing of each record.
type committer struct {
	mode   commitMode
	c      *kafka.Consumer
	ledger *ledger.Writer
	stats  *stats

	// transactional mode: the transaction that carries records and offsets.
	txn *transactor

	// async mode: the newest processed offset per partition, and a signal.
	mu   sync.Mutex
	next map[partitionKey]kafka.TopicPartition
	wake chan struct{}
	done chan struct{}
	stop chan struct{}
}

type partitionKey struct {
	topic     string
	partition int32
}

func newCommitter(mode commitMode, c *kafka.Consumer, l *ledger.Writer, s *stats) *committer {
	cm := &committer{mode: mode, c: c, ledger: l, stats: s}
	if mode == commitAsync {
		cm.next = map[partitionKey]kafka.TopicPartition{}
		cm.wake = make(chan struct{}, 1)
		cm.stop = make(chan struct{})
		cm.done = make(chan struct{})
		go cm.asyncLoop()
	}
	return cm
}

// process is the processing step of the transactional mode: it produces m
// into the open transaction, and reports false when it could not (the
// transaction was aborted and the input rewound, so m comes again). The
// other modes process nothing here.
func (cm *committer) process(m *kafka.Message) (bool, error) {
	if cm.txn == nil {
		return true, nil
	}
	return cm.txn.produce(m)
}

// idle runs when Poll had nothing to hand over: the transactional mode
// commits what it holds, so the output does not wait for more input.
func (cm *committer) idle() error {
	if cm.txn == nil {
		return nil
	}
	return cm.txn.commit("idle")
}

// failed is the error that stops the run, if the mode has one: the
// transactional producer's fatal error (fenced by a newer instance, say).
func (cm *committer) failed() error {
	if cm.txn == nil {
		return nil
	}
	return cm.txn.fatal
}

// beforeProcess runs after Poll handed m over and before processing it.
func (cm *committer) beforeProcess(m *kafka.Message) error {
	if cm.mode != commitBeforeProcess {
		return nil
	}
	return cm.commitSync(nextOffset(m), "before-process")
}

// afterProcess runs once m is processed.
func (cm *committer) afterProcess(m *kafka.Message) error {
	switch cm.mode {
	case commitStoreAfterProcess:
		stored, err := cm.c.StoreMessage(m)
		if err != nil {
			return cm.logError("store", err)
		}
		for _, tp := range stored {
			_ = cm.ledger.Write(ledger.Event{Type: ledger.Stored, Partitions: []ledger.Offset{offsetOf(tp)}})
		}
	case commitSync:
		return cm.commitSync(nextOffset(m), "sync")
	case commitTransactional:
		return cm.txn.processed()
	case commitAsync:
		tp := nextOffset(m)
		cm.mu.Lock()
		cm.next[partitionKey{*tp.Topic, tp.Partition}] = tp
		cm.mu.Unlock()
		select {
		case cm.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// flush makes sure what was processed is committed: before partitions are
// revoked and before the consumer closes. In the auto modes it commits the
// stored offsets now, so the ledger sees the final commit (Close would
// otherwise make it silently).
func (cm *committer) flush(source string) {
	switch cm.mode {
	case commitTransactional:
		_ = cm.txn.commit(source)
	case commitAsync:
		cm.mu.Lock()
		offsets := cm.drain()
		cm.mu.Unlock()
		if len(offsets) > 0 {
			_ = cm.commit(offsets, source)
		}
	case commitAuto, commitStoreAfterProcess:
		committed, err := cm.c.Commit()
		var kerr kafka.Error
		if errors.As(err, &kerr) && kerr.Code() == kafka.ErrNoOffset {
			return // nothing stored since the last commit
		}
		cm.record(committed, err, source)
	}
}

// close stops the async committer after a final flush.
func (cm *committer) close() {
	if cm.mode == commitAsync {
		close(cm.stop)
		<-cm.done
	}
	cm.flush("close")
}

// release closes what the mode owns beside the consumer, once the consumer
// is closed: the transactional producer.
func (cm *committer) release() {
	if cm.txn != nil {
		cm.txn.close()
	}
}

func (cm *committer) asyncLoop() {
	defer close(cm.done)
	for {
		select {
		case <-cm.stop:
			return
		case <-cm.wake:
		}
		cm.mu.Lock()
		offsets := cm.drain()
		cm.mu.Unlock()
		if len(offsets) > 0 {
			_ = cm.commit(offsets, "async")
		}
	}
}

// drain takes the pending async offsets; the caller holds mu.
func (cm *committer) drain() []kafka.TopicPartition {
	offsets := make([]kafka.TopicPartition, 0, len(cm.next))
	for _, tp := range cm.next {
		offsets = append(offsets, tp)
	}
	clear(cm.next)
	return offsets
}

func (cm *committer) commitSync(tp kafka.TopicPartition, source string) error {
	return cm.commit([]kafka.TopicPartition{tp}, source)
}

func (cm *committer) commit(offsets []kafka.TopicPartition, source string) error {
	committed, err := cm.c.CommitOffsets(offsets)
	if committed == nil {
		committed = offsets
	}
	cm.record(committed, err, source)
	return err
}

// record writes a finished commit to the ledger and the counters.
func (cm *committer) record(offsets []kafka.TopicPartition, err error, source string) {
	e := ledger.Event{Type: ledger.Committed, Source: source}
	for _, tp := range offsets {
		if tp.Offset >= 0 { // Commit() lists assigned partitions with nothing stored as -1001
			e.Partitions = append(e.Partitions, offsetOf(tp))
		}
	}
	cm.stats.commit(err)
	if err != nil {
		e.Error = err.Error()
		var kerr kafka.Error
		if errors.As(err, &kerr) {
			e.Code = int(kerr.Code())
		}
	}
	_ = cm.ledger.Write(e)
}

func (cm *committer) logError(what string, err error) error {
	_ = cm.ledger.Write(ledger.Event{Type: ledger.Error, Error: err.Error(), Detail: map[string]string{"during": what}})
	return err
}

// nextOffset is what committing m means: the offset after it.
func nextOffset(m *kafka.Message) kafka.TopicPartition {
	tp := m.TopicPartition
	tp.Offset++
	tp.Error = nil
	return tp
}

func offsetOf(tp kafka.TopicPartition) ledger.Offset {
	o := ledger.Offset{Topic: *tp.Topic, Partition: tp.Partition, Offset: int64(tp.Offset)}
	if tp.Error != nil {
		o.Error = tp.Error.Error()
	}
	return o
}
