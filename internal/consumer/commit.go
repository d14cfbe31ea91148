package consumer

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/ledger"
)

// commitMode is a commit mode's name: the value of --commit, and what the
// ledger and the scenarios call it. What the mode does is its type (mode).
type commitMode string

// The commit modes' names. Each mode's type below says what it does and
// what survives a kill -9.
const (
	commitAuto              commitMode = "auto"                  // autoMode
	commitStoreAfterProcess commitMode = "store-after-process"   // storeAfterProcessMode
	commitSync              commitMode = "sync"                  // syncMode
	commitAsync             commitMode = "async"                 // asyncMode
	commitBeforeProcess     commitMode = "commit-before-process" // beforeProcessMode
	commitTransactional     commitMode = "transactional"         // transactionalMode
)

// mode is a commit mode: when the consumer's progress reaches the broker.
// Each mode is a type, as each of kgo's group balancers is a GroupBalancer:
// the librdkafka properties a mode sets and what it does at each point of
// the consumer's life are its methods, not a case in a switch on its name
// at each of those points.
//
// A committed offset is the next offset to read: after processing offset
// 41, the commit that covers it says 42. Each mode's doc says, for a
// consumer killed with SIGKILL while processing offset 42 of a partition,
// what a restarted consumer reads first.
//
// validate builds the mode from the options (commitModes) and checks its
// flags; newConsumer binds it to the consumer with start; its hooks then run
// on the poll loop's goroutine, rebalance callbacks included.
type mode interface {
	// name is the mode's --commit value.
	name() commitMode
	// check validates the flags that go with the mode, and refuses those
	// that go with another mode only.
	check(o *options, set map[string]bool) error
	// settings are the librdkafka properties the mode sets (-X overrides
	// come later).
	settings() kafka.ConfigMap
	// describe adds what identifies the mode's run to the ledger's first
	// event.
	describe(detail map[string]string)
	// start binds the mode to the consumer, before it subscribes.
	start(cm *committer) error
	// beforeProcess runs once Poll handed m over and m decoded, before
	// processing.
	beforeProcess(m *kafka.Message)
	// process is the mode's part of processing m. It reports false when m
	// was not processed and comes again.
	process(m *kafka.Message) (ok bool, err error)
	// afterProcess runs once m is processed. The error it returns ends the
	// run: a mode whose commit failures are not fatal reports them and
	// returns nil.
	afterProcess(m *kafka.Message) error
	// idle runs when Poll had nothing to hand over.
	idle() error
	// failed is the error that stops the run before the next Poll, if the
	// mode has one.
	failed() error
	// revoke runs before partitions leave this member; lost says the group
	// has already given them to another member (see consumer.rebalanced).
	revoke(revoked []kafka.TopicPartition, lost bool)
	// close makes a clean close's final commit, before the consumer closes.
	close()
	// release closes what the mode owns beside the consumer, once the
	// consumer is closed.
	release()
	// summary adds the mode's own lines to the closing summary.
	summary(w io.Writer)
}

// commitModes builds each mode, by name, from the options it needs.
var commitModes = map[commitMode]func(*options) mode{
	commitAuto: func(o *options) mode {
		return &autoMode{autoCommit: autoCommit{every: o.autoCommitEvery}, storeByHand: o.onBadRecord == badStop}
	},
	commitStoreAfterProcess: func(o *options) mode {
		return &storeAfterProcessMode{autoCommit{every: o.autoCommitEvery}}
	},
	commitSync:          func(*options) mode { return &syncMode{} },
	commitAsync:         func(*options) mode { return &asyncMode{} },
	commitBeforeProcess: func(*options) mode { return &beforeProcessMode{} },
	commitTransactional: func(o *options) mode { return &transactionalMode{o: o} },
}

func commitModeNames() string {
	names := make([]string, 0, len(commitModes))
	for n := range commitModes {
		names = append(names, string(n))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// modeBase is what a mode does at the points where it has nothing of its
// own to do, and the committer it commits through. Every mode embeds it.
type modeBase struct{ cm *committer }

// transactionalFlags are the flags of --commit transactional, the only mode
// with flags of its own.
var transactionalFlags = []string{"output", "transactional-id", "txn-records", "txn-interval"}

// check refuses the transactional mode's flags: given to another mode they
// would silently do nothing.
func (*modeBase) check(o *options, set map[string]bool) error {
	for _, f := range transactionalFlags {
		if set[f] {
			return cli.Usagef("--%s goes with --commit transactional (consume-transform-produce), not --commit %s", f, o.commit.name())
		}
	}
	return nil
}

func (b *modeBase) start(cm *committer) error {
	b.cm = cm
	return nil
}

func (*modeBase) describe(map[string]string)           {}
func (*modeBase) beforeProcess(*kafka.Message)         {}
func (*modeBase) process(*kafka.Message) (bool, error) { return true, nil }
func (*modeBase) afterProcess(*kafka.Message) error    { return nil }
func (*modeBase) idle() error                          { return nil }
func (*modeBase) failed() error                        { return nil }
func (*modeBase) revoke([]kafka.TopicPartition, bool)  {}
func (*modeBase) close()                               {}
func (*modeBase) release()                             {}
func (*modeBase) summary(io.Writer)                    {}

// manualSettings are the properties of the modes that commit by hand: no
// background commit, and no offset stored at hand-over.
func manualSettings() kafka.ConfigMap {
	return kafka.ConfigMap{"enable.auto.commit": false, "enable.auto.offset.store": false}
}

// autoCommit is what the two auto modes share: librdkafka's background
// timer commits the stored offsets every auto.commit.interval.ms, and on a
// revocation librdkafka commits them itself (see consumer.rebalanced for
// why offsetlab must not).
type autoCommit struct {
	modeBase
	every time.Duration // --auto-commit-interval
}

func (a *autoCommit) autoSettings(storeOnHandOver bool) kafka.ConfigMap {
	return kafka.ConfigMap{
		"enable.auto.commit":       true,
		"enable.auto.offset.store": storeOnHandOver,
		"auto.commit.interval.ms":  int(a.every / time.Millisecond),
	}
}

// close commits the stored offsets now, so the ledger sees the final
// commit (Close would otherwise make it silently).
func (a *autoCommit) close() {
	committed, err := a.cm.c.Commit()
	var kerr kafka.Error
	if errors.As(err, &kerr) && kerr.Code() == kafka.ErrNoOffset {
		return // nothing stored since the last commit
	}
	a.cm.record(committed, err, "close")
}

// autoMode is librdkafka's default: enable.auto.commit=true and
// enable.auto.offset.store=true. A record's offset is stored when Poll
// hands it to the application, and a background timer commits the stored
// offsets every auto.commit.interval.ms. Killed while processing 42: if
// the last auto-commit ran before 42 was handed over, the restart reads
// from the commit (say 30) and replays 30..42; if it ran after, the commit
// says 43 and 42 is lost although it was never processed.
type autoMode struct {
	autoCommit
	// storeByHand is set under --on-bad-record stop: the mode then runs
	// with enable.auto.offset.store=false and stores each record's offset
	// itself as soon as the record decodes, before processing: what
	// librdkafka does at hand-over, minus the bad record, which must stay
	// uncommitted (see stopShortOf).
	storeByHand bool
}

func (*autoMode) name() commitMode { return commitAuto }

func (a *autoMode) settings() kafka.ConfigMap { return a.autoSettings(!a.storeByHand) }

func (a *autoMode) beforeProcess(m *kafka.Message) {
	if !a.storeByHand {
		return
	}
	if _, err := a.cm.c.StoreMessage(m); err != nil {
		_ = a.cm.logError("store", err)
	}
}

// storeAfterProcessMode is at-least-once with auto-commit:
// enable.auto.offset.store=false, and StoreMessage after processing, so the
// timer only ever commits processed records. Killed while processing 42:
// the commit is at most 42; the restart replays from it, nothing lost.
type storeAfterProcessMode struct{ autoCommit }

func (*storeAfterProcessMode) name() commitMode { return commitStoreAfterProcess }

func (s *storeAfterProcessMode) settings() kafka.ConfigMap { return s.autoSettings(false) }

func (s *storeAfterProcessMode) afterProcess(m *kafka.Message) error {
	stored, err := s.cm.c.StoreMessage(m)
	if err != nil {
		s.cm.warn("after", m, s.cm.logError("store", err))
		return nil
	}
	for _, tp := range stored {
		_ = s.cm.ledger.Write(ledger.Event{Type: ledger.Stored, Partitions: []ledger.Offset{offsetOf(tp)}})
	}
	return nil
}

// syncMode commits each record synchronously after processing it
// (CommitOffsets). Killed while processing 42: the commit says 42, the
// restart reads 42 again, at most one record per partition replayed.
type syncMode struct{ modeBase }

func (*syncMode) name() commitMode { return commitSync }

func (*syncMode) settings() kafka.ConfigMap { return manualSettings() }

func (s *syncMode) afterProcess(m *kafka.Message) error {
	err := s.cm.commitNext(m, "sync")
	if fatal(err) {
		return fmt.Errorf("fatal consumer error: %w", err)
	}
	if err != nil {
		s.cm.warn("after", m, err)
	}
	return nil
}

// fatal reports whether err ends the consumer for good. A fenced static
// member's commit fails with FENCED_INSTANCE_ID, librdkafka raises a fatal
// error, and every commit after it fails with "Local: Fatal error":
// processing on would only make records the next owner processes again
// (measured before this check: 92 records on one partition).
func fatal(err error) bool {
	var kerr kafka.Error
	if !errors.As(err, &kerr) {
		return false
	}
	switch kerr.Code() {
	case kafka.ErrFatal, kafka.ErrFencedInstanceID:
		return true
	}
	return kerr.IsFatal()
}

// asyncMode commits after processing without waiting for the result; a
// committer goroutine sends the newest processed offset per partition.
// Killed while processing 42: the commit is 42 or a little behind (commits
// in flight), so a few records may replay; nothing lost.
type asyncMode struct {
	modeBase
	mu   sync.Mutex
	next map[partitionKey]kafka.TopicPartition // the newest processed offset per partition, not yet sent
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

func (*asyncMode) name() commitMode { return commitAsync }

func (*asyncMode) settings() kafka.ConfigMap { return manualSettings() }

func (a *asyncMode) start(cm *committer) error {
	a.cm = cm
	a.next = map[partitionKey]kafka.TopicPartition{}
	a.wake = make(chan struct{}, 1)
	a.stop = make(chan struct{})
	a.done = make(chan struct{})
	go a.loop()
	return nil
}

func (a *asyncMode) afterProcess(m *kafka.Message) error {
	tp := nextOffset(m)
	a.mu.Lock()
	a.next[partitionKey{*tp.Topic, tp.Partition}] = tp
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return nil
}

// revoke commits what is pending before a clean handover, so the next
// owner starts where this member stopped.
func (a *asyncMode) revoke(_ []kafka.TopicPartition, lost bool) {
	if !lost {
		a.flush("revoke")
	}
}

// close stops the committer goroutine, then commits what is pending.
func (a *asyncMode) close() {
	close(a.stop)
	<-a.done
	a.flush("close")
}

func (a *asyncMode) loop() {
	defer close(a.done)
	for {
		select {
		case <-a.stop:
			return
		case <-a.wake:
		}
		a.flush("async")
	}
}

// flush commits the pending offsets, if any.
func (a *asyncMode) flush(source string) {
	a.mu.Lock()
	offsets := make([]kafka.TopicPartition, 0, len(a.next))
	for _, tp := range a.next {
		offsets = append(offsets, tp)
	}
	clear(a.next)
	a.mu.Unlock()
	if len(offsets) > 0 {
		_ = a.cm.commit(offsets, source)
	}
}

// beforeProcessMode is at-most-once: the record is committed (offset 43)
// before it is processed. Killed while processing 42: the restart reads 43
// and record 42 is never processed. Nothing is replayed.
type beforeProcessMode struct{ modeBase }

func (*beforeProcessMode) name() commitMode { return commitBeforeProcess }

func (*beforeProcessMode) settings() kafka.ConfigMap { return manualSettings() }

func (b *beforeProcessMode) beforeProcess(m *kafka.Message) {
	if err := b.cm.commitNext(m, "before-process"); err != nil {
		b.cm.warn("before", m, err)
	}
}

// transactionalMode is consume-transform-produce, exactly once: each record
// is produced to --output inside a transaction, and the transaction also
// carries the input offsets (SendOffsetsToTransaction with the consumer's
// group metadata), so the output records and the commit become visible
// together or not at all. The input is read with enable.auto.commit=false
// and isolation.level=read_committed. The transactor does the work.
//
// Killed while processing 42, with the open transaction holding 30..42
// (the last one committed 30): the output records 30..41 are on the broker
// but belong to a transaction that never committed, and the group's
// committed offset is still 30. The restart, with the same
// transactional.id, calls InitTransactions, which fences the dead instance
// and aborts its transaction; it then reads 30..42 again and produces them
// again. The transformer replays 30..41 (as at-least-once would), but a
// read_committed reader of the output never sees the aborted copies: each
// input record appears there exactly once. A read_uncommitted reader sees
// both.
type transactionalMode struct {
	modeBase
	o   *options
	txn *transactor
}

func (*transactionalMode) name() commitMode { return commitTransactional }

func (*transactionalMode) settings() kafka.ConfigMap {
	s := manualSettings()
	s["isolation.level"] = "read_committed"
	return s
}

// check validates the transactional flags.
func (*transactionalMode) check(o *options, _ map[string]bool) error {
	switch {
	case o.output == "":
		return cli.Usagef("--commit transactional needs --output TOPIC: the topic each consumed record is produced to, in the transaction that commits its offset")
	case slices.Contains(o.topics, o.output):
		return cli.Usagef("--output %s is also an input topic: the transformer would consume its own output", o.output)
	case o.txnRecords < 1:
		return cli.Usagef("--txn-records must be 1 or more, got %d", o.txnRecords)
	case o.txnInterval <= 0:
		return cli.Usagef("--txn-interval must be positive, got %s", o.txnInterval)
	}
	for _, kv := range o.conn.Overrides {
		if kv[0] == "enable.auto.commit" && kv[1] != "false" {
			return cli.Usagef("-X enable.auto.commit=%s cannot go with --commit transactional: the offsets are committed by the transaction (SendOffsetsToTransaction), never by the consumer", kv[1])
		}
	}
	return nil
}

func (t *transactionalMode) describe(detail map[string]string) {
	detail["transactional.id"], detail["output"] = t.o.txnID(), t.o.output
}

// start creates the transactional producer and initializes transactions,
// before the consumer subscribes (see newTransactor).
func (t *transactionalMode) start(cm *committer) error {
	t.cm = cm
	if !t.o.nameSet && t.o.transactionalID == "" {
		fmt.Fprintf(cm.stderr, "note: transactional.id %s comes from the default --name, which changes with the process: a restart will not fence this instance; give --name or --transactional-id\n", t.o.txnID())
	}
	var err error
	t.txn, err = newTransactor(t.o, cm.c, cm.ledger, cm.stats, cm.stderr)
	return err
}

// process produces m into the open transaction.
func (t *transactionalMode) process(m *kafka.Message) (bool, error) { return t.txn.produce(m) }

// afterProcess commits the transaction when it is full or old enough; its
// error is fatal (an abortable failure was aborted and rewound).
func (t *transactionalMode) afterProcess(*kafka.Message) error { return t.txn.processed() }

// idle commits what the transaction holds, so the output does not wait for
// more input.
func (t *transactionalMode) idle() error { return t.txn.commit("idle") }

// failed is the transactional producer's fatal error (fenced by a newer
// instance, say).
func (t *transactionalMode) failed() error { return t.txn.fatal }

// revoke ends the open transaction while the partitions are still this
// member's: committed on a clean revocation, aborted when the assignment
// was lost.
func (t *transactionalMode) revoke(revoked []kafka.TopicPartition, lost bool) {
	t.txn.revoke(revoked, lost)
}

func (t *transactionalMode) close() { _ = t.txn.commit("close") }

func (t *transactionalMode) release() { t.txn.close() }

func (t *transactionalMode) summary(w io.Writer) {
	fmt.Fprintf(w, "transactions committed %d, aborted %d\n", t.cm.stats.Transactions, t.cm.stats.Aborted)
}

// committer is what every mode commits through: the consumer, and the
// ledger, counters and stderr each commit is reported to.
type committer struct {
	c      *kafka.Consumer
	ledger *ledger.Writer
	stats  *stats
	stderr io.Writer
}

type partitionKey struct {
	topic     string
	partition int32
}

// commitNext commits the offset after m, now.
func (cm *committer) commitNext(m *kafka.Message, source string) error {
	return cm.commit([]kafka.TopicPartition{nextOffset(m)}, source)
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

// warn reports a commit (or store) that failed before or after processing
// m. The consumer goes on.
func (cm *committer) warn(when string, m *kafka.Message, err error) {
	fmt.Fprintf(cm.stderr, "commit %s processing %s failed: %v\n", when, where(m), err)
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
