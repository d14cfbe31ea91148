// Package logread reads partitions of a topic the way an inspector does:
// with a consumer that assigns itself the partitions, joins no group and
// commits nothing, from the log start (or end) to the end of each partition
// (or on, following). `offsets topic` reads __consumer_offsets with it; the
// scenario runner reads the output topic a program under test forwards to.
package logread

import (
	"context"
	"fmt"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/config"
)

// Options say what to read.
type Options struct {
	Partitions []int32
	// FromBeginning starts at the log start, else at the log end.
	FromBeginning bool
	// Follow keeps reading new records until ctx ends; otherwise the read
	// stops once every partition has reached its end.
	Follow bool
	// Idle bounds how long, when not following, the read may wait without
	// a record or the end of a partition before it gives up.
	Idle time.Duration
	// ReadCommitted skips the records of open and aborted transactions
	// (isolation.level=read_committed); otherwise every record is read.
	ReadCommitted bool
}

// Read calls emit for each record of topic's partitions, in the order the
// consumer hands them over.
func Read(ctx context.Context, conn *config.Connection, topic string, opts Options, emit func(*kafka.Message) error) error {
	isolation := "read_uncommitted"
	if opts.ReadCommitted {
		isolation = "read_committed"
	}
	cm := conn.ConfigMap(kafka.ConfigMap{
		// librdkafka wants a group id even for a consumer that only
		// assigns; it is never joined and nothing is committed to it.
		"group.id":             "offsetlab-reader",
		"enable.auto.commit":   false,
		"enable.partition.eof": true,
		"isolation.level":      isolation,
		// An inspector wants the end of the log soon, not big batches.
		"fetch.wait.max.ms": 100,
	})
	c, err := kafka.NewConsumer(&cm)
	if err != nil {
		return config.ClientError("consumer", err)
	}
	go config.DiscardLogs(c.Logs())
	defer c.Close()

	start := kafka.OffsetEnd
	if opts.FromBeginning {
		start = kafka.OffsetBeginning
	}
	tps := make([]kafka.TopicPartition, len(opts.Partitions))
	for i, p := range opts.Partitions {
		tps[i] = kafka.TopicPartition{Topic: &topic, Partition: p, Offset: start}
	}
	if err := c.Assign(tps); err != nil {
		return fmt.Errorf("unable to assign %s partitions %v: %w", topic, opts.Partitions, err)
	}
	stopAtEnd := opts.FromBeginning && !opts.Follow
	atEnd := map[int32]bool{}
	last := time.Now()
	for ctx.Err() == nil {
		if stopAtEnd && len(atEnd) == len(opts.Partitions) {
			return nil
		}
		if stopAtEnd && time.Since(last) > opts.Idle {
			return fmt.Errorf("waited %s for %s partitions %v to reach their end; %d of %d did", opts.Idle, topic, opts.Partitions, len(atEnd), len(opts.Partitions))
		}
		switch e := c.Poll(100).(type) {
		case *kafka.Message:
			last = time.Now()
			if e.TopicPartition.Error != nil {
				return fmt.Errorf("reading %s: %w", topic, e.TopicPartition.Error)
			}
			delete(atEnd, e.TopicPartition.Partition)
			if err := emit(e); err != nil {
				return err
			}
		case kafka.PartitionEOF:
			last = time.Now()
			atEnd[e.Partition] = true
		case kafka.Error:
			if e.IsFatal() || e.Code() == kafka.ErrTopicAuthorizationFailed || e.Code() == kafka.ErrGroupAuthorizationFailed {
				return fmt.Errorf("reading %s: %w", topic, e)
			}
		}
	}
	if !stopAtEnd {
		return nil // following ends when the user stops it
	}
	return ctx.Err()
}
