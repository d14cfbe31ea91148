package consumer

import (
	"errors"
	"fmt"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/serde"
)

// What the consumer does with a record it cannot decode (--on-bad-record).
const (
	// badSkip reports the record (partition, offset, why), records a
	// bad-record ledger event, counts it and goes on: the record counts as
	// processed, so the commit moves past it like any other.
	badSkip = "skip"
	// badStop reports and records it the same way, then stops without
	// committing past it, in every commit mode: the group's committed offset
	// for that partition is the bad record's own offset at most, so a
	// restart (after the record is dealt with, or with skip) reads it again.
	badStop = "stop"
)

// ExitBadRecord is the exit code of a consumer that stopped at a bad record
// under --on-bad-record stop: sysexits' EX_DATAERR, "the input data was
// incorrect in some way".
const ExitBadRecord = 65

// BadRecordError says the consumer stopped at a record it could not decode.
type BadRecordError struct {
	Topic     string
	Partition int32
	Offset    int64
	Err       error
}

func (e *BadRecordError) Error() string {
	return fmt.Sprintf("bad record at %s[%d]@%d: %v: stopped (--on-bad-record stop), the group's commit for %s[%d] stays at or before offset %d",
		e.Topic, e.Partition, e.Offset, e.Err, e.Topic, e.Partition, e.Offset)
}

func (e *BadRecordError) Unwrap() error { return e.Err }

// ExitCode makes cli.Code map the error to ExitBadRecord.
func (e *BadRecordError) ExitCode() int { return ExitBadRecord }

// RegistryDownError says the consumer stopped at a record whose schema the
// registry could not give (it did not answer, or failed). The record may be
// fine, so it is neither processed nor skipped: the consumer stops short of
// it, whatever --on-bad-record says, and a restart once the registry is
// back reads it again. Records whose schema is cached decode without the
// registry, so a consumer only stops when it meets a schema id it has not
// seen before.
type RegistryDownError struct {
	Topic     string
	Partition int32
	Offset    int64
	Err       error
}

func (e *RegistryDownError) Error() string {
	return fmt.Sprintf("record at %s[%d]@%d: %v: stopped without committing past it; restart once the registry answers",
		e.Topic, e.Partition, e.Offset, e.Err)
}

func (e *RegistryDownError) Unwrap() error { return e.Err }

// ExitCode is 69, as for a registry that did not answer at the start.
func (e *RegistryDownError) ExitCode() int { return cli.ExitUnavailable }

// badReason names the kind of a decode failure for the ledger: not-wire-format,
// unknown-schema or undecodable.
func badReason(err error) string {
	var unknown *serde.UnknownSchemaError
	switch {
	case errors.Is(err, serde.ErrNotWireFormat):
		return "not-wire-format"
	case errors.As(err, &unknown):
		return "unknown-schema"
	}
	return "undecodable"
}

// badRecord handles a record that did not decode: it is reported and
// recorded; under --on-bad-record stop the consumer then stops short of it.
// It returns the error that ends the run, or nil to go on.
func (c *consumer) badRecord(m *kafka.Message, rec *ledger.Record, err error) error {
	if errors.Is(err, serde.ErrRegistry) {
		fmt.Fprintf(c.stderr, "record at %s: %v (stopping: the registry is needed)\n", where(m), err)
		_ = c.ledger.Write(ledger.Event{Type: ledger.Error, Record: rec, Error: err.Error(), Detail: map[string]string{"reason": "registry"}})
		c.stopShortOf(m)
		return &RegistryDownError{Topic: *m.TopicPartition.Topic, Partition: m.TopicPartition.Partition,
			Offset: int64(m.TopicPartition.Offset), Err: err}
	}
	c.stats.Bad++
	action := "skipped"
	if c.o.onBadRecord == badStop {
		action = "stopping"
	}
	fmt.Fprintf(c.stderr, "bad record at %s: %v (%s)\n", where(m), err, action)
	if lerr := c.ledger.Write(ledger.Event{Type: ledger.BadRecord, Record: rec, Error: err.Error(),
		Detail: map[string]string{"reason": badReason(err), "action": c.o.onBadRecord}}); lerr != nil {
		return fmt.Errorf("stopping: %w", lerr)
	}
	if c.o.onBadRecord != badStop {
		return nil
	}
	c.stopShortOf(m)
	return &BadRecordError{Topic: *m.TopicPartition.Topic, Partition: m.TopicPartition.Partition,
		Offset: int64(m.TopicPartition.Offset), Err: err}
}

// stopShortOf makes sure no commit covers m. Nothing processed it, so the
// modes that commit processed records (sync, async, store-after-process,
// transactional) never name its offset+1; commit-before-process decodes
// before it commits. The auto mode would: librdkafka stores offset+1 when
// Poll hands a record over, and neither Seek nor StoreOffsets takes that
// back (StoreOffsets is refused while enable.auto.offset.store is true;
// measured: after a Seek back to m, the close still committed m+1). So under
// --on-bad-record stop the auto mode stores by hand instead, at the same
// moment (autoMode.storeByHand), and simply never stores m. The partitions are
// paused, so nothing more is fetched or handed over before the close.
func (c *consumer) stopShortOf(*kafka.Message) {
	if parts, err := c.c.Assignment(); err == nil && len(parts) > 0 {
		_ = c.c.Pause(parts)
	}
}
