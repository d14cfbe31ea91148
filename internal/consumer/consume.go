package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/offset"
	"github.com/offsetlab/offsetlab/internal/out"
	"github.com/offsetlab/offsetlab/internal/serde"
)

type consumer struct {
	o      *options
	c      *kafka.Consumer
	de     *serde.Deserializer
	ledger *ledger.Writer
	// committer records the auto modes' background commits; the mode,
	// o.commit, commits through it.
	committer *committer
	stdout    io.Writer
	stderr    io.Writer

	stats    stats
	assigned map[partitionKey]bool
	fetching map[partitionKey]bool // partitions whose current fetch position was logged
	lastWork time.Time
	// saidWaiting: the consumer said it is waiting for records (sayWaiting).
	saidWaiting bool
	closeOnce   sync.Once
}

// stats counts what the consumer did, for the summary.
type stats struct {
	mu            sync.Mutex
	Consumed      int64 `json:"consumed"`
	Processed     int64 `json:"processed"`
	Bad           int64 `json:"bad_records"`
	Commits       int64 `json:"commits"`
	CommitsFailed int64 `json:"commits_failed"`
	// --commit transactional: transactions committed and aborted.
	Transactions int64 `json:"transactions,omitempty"`
	Aborted      int64 `json:"transactions_aborted,omitempty"`
}

func (s *stats) commit(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Commits++
	if err != nil {
		s.CommitsFailed++
	}
}

// newConsumer checks the registry and the broker within --timeout, opens the
// ledger, then creates the consumer and subscribes.
func newConsumer(ctx context.Context, o *options, stdout, stderr io.Writer) (*consumer, error) {
	cm := o.configMap()
	// -X comes last and may replace --group, which validate checked.
	if g, _ := cm["group.id"].(string); strings.TrimSpace(g) == "" {
		return nil, cli.Usagef("-X group.id=%q is not a group id (accepted: a name with a character that is not whitespace, e.g. --group orders-app)", g)
	}
	if err := o.conn.CheckRegistry(ctx); err != nil {
		return nil, err
	}
	if err := o.conn.CheckBroker(ctx); err != nil {
		return nil, err
	}
	c := &consumer{o: o, stdout: stdout, stderr: stderr,
		assigned: map[partitionKey]bool{}, fetching: map[partitionKey]bool{}}
	if o.ledger != "" {
		var err error
		if c.ledger, err = ledger.Create(o.ledger); err != nil {
			return nil, cli.Usagef("--ledger: %v", err)
		}
	}
	// The first ledger line is written before anything is consumed: a
	// ledger that cannot be written (a full disk) stops the consumer now,
	// not after it has consumed records it cannot account for.
	if err := c.ledger.Write(ledger.Event{Type: ledger.Started, Detail: startedDetail(o, cm)}); err != nil {
		_ = c.ledger.Close()
		return nil, fmt.Errorf("--ledger %s: %w; nothing consumed", o.ledger, err)
	}
	kc, err := kafka.NewConsumer(&cm)
	if err != nil {
		_ = c.ledger.Close()
		return nil, config.ClientError("consumer", err)
	}
	if _, debug := cm["debug"]; debug {
		go config.PrintLogs(kc.Logs(), stderr)
	} else {
		go config.DiscardLogs(kc.Logs())
	}
	c.c = kc
	c.de = serde.NewDeserializer(o.conn.RegistryClient())
	c.committer = &committer{c: kc, ledger: c.ledger, stats: &c.stats, stderr: stderr}
	if err := o.commit.start(c.committer); err != nil {
		_ = closeWithin(o.closeBound(), o.group, kc.Close)
		_ = c.ledger.Close()
		return nil, err
	}
	if err := c.checkTopics(); err != nil {
		_ = closeWithin(o.closeBound(), o.group, kc.Close)
		_ = c.ledger.Close()
		return nil, err
	}
	if err := kc.SubscribeTopics(o.topics, c.rebalanced); err != nil {
		err = fmt.Errorf("unable to subscribe to %v: %w", o.topics, err)
		if cerr := c.close(err); cerr != nil {
			err = fmt.Errorf("%w; then %w", err, cerr)
		}
		return nil, err
	}
	return c, nil
}

// startedDetail is the ledger's started event: the consumer's name, close
// and commit settings, and every property of cm that is not a secret
// (config.IsSecret). The ledger is an ordinary file, kept as an artifact:
// secrets never reach it.
func startedDetail(o *options, cm kafka.ConfigMap) map[string]string {
	detail := map[string]string{"name": o.name, "close": o.close}
	o.commit.describe(detail)
	for k, v := range cm {
		if !config.IsSecret(k) {
			detail[k] = fmt.Sprint(v)
		}
	}
	return detail
}

// consume polls until the context ends, --max-messages or --idle-exit is
// reached, or a reset error under --reset none.
func (c *consumer) consume(ctx context.Context, snap <-chan os.Signal) error {
	c.lastWork = time.Now()
	for ctx.Err() == nil {
		select {
		case <-snap:
			c.snapshot(c.stderr)
		default:
		}
		if c.o.maxMessages > 0 && c.stats.Processed >= c.o.maxMessages {
			return nil
		}
		if c.o.idleExit > 0 && time.Since(c.lastWork) > c.o.idleExit {
			return nil
		}
		if err := c.o.commit.failed(); err != nil {
			return err
		}
		switch e := c.c.Poll(100).(type) {
		case nil:
			if err := c.o.commit.idle(); err != nil {
				return err
			}
			c.sayWaiting()
		case *kafka.Message:
			if err := c.handle(e); err != nil {
				return err
			}
		case kafka.Error:
			if err := c.onError(e, nil); err != nil {
				return err
			}
		case kafka.OffsetsCommitted:
			c.committer.record(e.Offsets, e.Error, "auto")
		case *kafka.Stats:
			c.onStats(e.String())
		}
	}
	return nil
}

// handle processes one record: ledger, decode, print, the commit mode's
// before and after steps around the simulated processing.
func (c *consumer) handle(m *kafka.Message) error {
	if m.TopicPartition.Error != nil {
		return c.onError(m.TopicPartition.Error, m)
	}
	c.lastWork, c.saidWaiting = time.Now(), false
	rec := ledger.RecordOf(m)
	c.stats.Consumed++
	_ = c.ledger.Write(ledger.Event{Type: ledger.Consumed, Record: &rec})
	// Decode first: under --on-bad-record stop a bad record must not be
	// committed, not even by commit-before-process.
	value, schemaID, derr := c.de.Decode(m.Value)
	if derr != nil {
		if err := c.badRecord(m, &rec, derr); err != nil {
			return err
		}
	}
	c.o.commit.beforeProcess(m)
	if derr == nil && !c.o.quiet {
		c.print(m, c.de.Printable(value, schemaID), schemaID)
	}
	// Simulated work. A SIGTERM meanwhile lets it finish, as a well-behaved
	// application does, so the close commits only processed records.
	delay := c.o.processDelay
	if c.stats.Consumed == c.o.stallAt {
		delay = c.o.stall
		fmt.Fprintf(c.stderr, "stalling %s on %s\n", delay, describe([]kafka.TopicPartition{m.TopicPartition}))
	}
	time.Sleep(delay)
	if ok, err := c.o.commit.process(m); err != nil || !ok {
		return err // not processed: the input was rewound, m comes again
	}
	c.stats.Processed++
	if err := c.ledger.Write(ledger.Event{Type: ledger.Processed, Record: &rec}); err != nil {
		return fmt.Errorf("stopping: %w", err)
	}
	return c.o.commit.afterProcess(m)
}

// onError handles a consumer error. A reset error under --reset none ends
// the run with its own exit code; fatal errors end it; the rest are logged
// and librdkafka retries.
func (c *consumer) onError(err error, m *kafka.Message) error {
	e := ledger.Event{Type: ledger.Error, Error: err.Error()}
	var kerr kafka.Error
	if errors.As(err, &kerr) {
		e.Code = int(kerr.Code())
	}
	if m != nil {
		e.Partitions = []ledger.Offset{offsetOf(m.TopicPartition)}
	}
	_ = c.ledger.Write(e)
	switch {
	case kerr.Code() == kafka.ErrAutoOffsetReset:
		re := &cli.ResetError{Err: err}
		if m != nil {
			re.Topic, re.Partition = *m.TopicPartition.Topic, m.TopicPartition.Partition
		}
		return re
	case fatal(err):
		return fmt.Errorf("fatal consumer error: %w", err)
	}
	fmt.Fprintf(c.stderr, "consumer error (librdkafka retries): %v\n", err)
	return nil
}

// rebalanced logs assignments and revocations; confluent-kafka-go applies
// them after this returns. Before a revocation the mode's revoke runs: the
// async mode flushes what it holds, so the next owner starts where this
// member stopped; the auto modes leave it to librdkafka, which commits the
// stored offsets on revocation itself. They must not commit here: during
// Close(), confluent-kafka-go polls away the records still queued, which
// stores their offsets, and a Commit() in this callback would then commit
// records the application never saw (measured: 409 committed for 258
// processed). The transactional mode ends its open transaction here, while
// the partitions are still this member's: committed on a clean revocation,
// aborted when the assignment was lost.
func (c *consumer) rebalanced(kc *kafka.Consumer, ev kafka.Event) error {
	switch e := ev.(type) {
	case kafka.AssignedPartitions:
		for _, tp := range e.Partitions {
			c.assigned[partitionKey{*tp.Topic, tp.Partition}] = true
		}
		c.lastWork = time.Now() // --idle-exit counts from the assignment
		_ = c.ledger.Write(ledger.Event{Type: ledger.Assigned, Partitions: offsets(e.Partitions)})
		fmt.Fprintf(c.stderr, "assigned %s\n", describe(e.Partitions))
	case kafka.RevokedPartitions:
		lost := kc.AssignmentLost()
		c.o.commit.revoke(e.Partitions, lost)
		for _, tp := range e.Partitions {
			k := partitionKey{*tp.Topic, tp.Partition}
			delete(c.assigned, k)
			delete(c.fetching, k)
		}
		_ = c.ledger.Write(ledger.Event{Type: ledger.Revoked, Lost: lost, Partitions: offsets(e.Partitions)})
		fmt.Fprintf(c.stderr, "revoked %s\n", describe(e.Partitions))
	}
	return nil
}

// onStats turns librdkafka's statistics into "fetching" ledger events: the
// moment a partition's fetcher is active, and the offset it fetches from.
// That is where a reset policy or a committed offset put the consumer, which
// Position() cannot say until a record has been consumed.
func (c *consumer) onStats(js string) {
	var st struct {
		Topics map[string]struct {
			Partitions map[string]struct {
				FetchState string `json:"fetch_state"`
				NextOffset int64  `json:"next_offset"`
			} `json:"partitions"`
		} `json:"topics"`
	}
	if json.Unmarshal([]byte(js), &st) != nil {
		return
	}
	for topic, t := range st.Topics {
		for p, ps := range t.Partitions {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 {
				continue // -1 is librdkafka's internal UA partition
			}
			k := partitionKey{topic, int32(n)}
			if ps.FetchState != "active" {
				// Not fetching (yet, or again: an out-of-range offset
				// being reset): the next activation is logged anew.
				c.fetching[k] = false
				continue
			}
			if !c.assigned[k] || c.fetching[k] {
				continue
			}
			c.fetching[k] = true
			_ = c.ledger.Write(ledger.Event{Type: ledger.Fetching, Partitions: []ledger.Offset{{Topic: topic, Partition: int32(n), Offset: ps.NextOffset}}})
		}
	}
}

// print writes one record line, or one JSON object with --format json.
func (c *consumer) print(m *kafka.Message, value any, schemaID int) {
	if c.o.format == out.JSON {
		_ = json.NewEncoder(c.stdout).Encode(map[string]any{
			"topic": *m.TopicPartition.Topic, "partition": m.TopicPartition.Partition,
			"offset": int64(m.TopicPartition.Offset), "key": string(m.Key),
			"schema_id": schemaID, "value": value,
		})
		return
	}
	v, _ := json.Marshal(value)
	fmt.Fprintf(c.stdout, "%s key=%s %s\n", where(m), orNone(string(m.Key)), v)
}

// snapshot prints and records Position() and Committed() per assigned
// partition.
func (c *consumer) snapshot(w io.Writer) {
	parts, err := c.c.Assignment()
	if err != nil || len(parts) == 0 {
		fmt.Fprintln(w, "no partitions assigned: Position() and Committed() have nothing to report")
		return
	}
	pos, perr := c.c.Position(parts)
	com, cerr := c.c.Committed(parts, int(c.o.conn.Timeout/time.Millisecond))
	if perr != nil || cerr != nil {
		fmt.Fprintf(w, "unable to read positions: %v\n", errors.Join(perr, cerr))
		return
	}
	e := ledger.Event{Type: ledger.Snapshot}
	t := out.NewTable(w, "topic", "partition", "position", "committed")
	for i := range pos {
		committed := int64(com[i].Offset)
		o := offsetOf(pos[i])
		o.Committed = &committed
		e.Partitions = append(e.Partitions, o)
		t.Row(*pos[i].Topic, pos[i].Partition, offset.String(int64(pos[i].Offset)), offset.String(committed))
	}
	_ = t.Flush()
	fmt.Fprintln(w, "position: the next offset this consumer will hand to the application; committed: where the group resumes after a restart")
	_ = c.ledger.Write(e)
}

func offsets(tps []kafka.TopicPartition) []ledger.Offset {
	o := make([]ledger.Offset, len(tps))
	for i, tp := range tps {
		o[i] = offsetOf(tp)
	}
	return o
}

func where(m *kafka.Message) string {
	return fmt.Sprintf("%s[%d]@%d", *m.TopicPartition.Topic, m.TopicPartition.Partition, m.TopicPartition.Offset)
}

func describe(tps []kafka.TopicPartition) string {
	s := ""
	for i, tp := range tps {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s[%d]", *tp.Topic, tp.Partition)
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return out.None
	}
	return s
}
