package offsetstopic

import (
	"context"
	"fmt"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/config"
)

// Topic is the internal topic this package reads.
const Topic = "__consumer_offsets"

// ReadOptions say what to read.
type ReadOptions struct {
	// Partitions of __consumer_offsets to read.
	Partitions []int32
	// Group, when set, keeps only this group's records.
	Group string
	// FromBeginning starts at the log start, else at the log end.
	FromBeginning bool
	// Follow keeps reading new records until ctx ends; otherwise the read
	// stops once every partition has reached its end.
	Follow bool
	// Idle bounds how long, when not following, the read may wait without
	// a record or the end of a partition before it gives up.
	Idle time.Duration
}

// Entry is one record read, with where it was.
type Entry struct {
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Timestamp time.Time `json:"timestamp"`
	Record
}

// Read reads __consumer_offsets with a consumer that assigns itself the
// partitions (it joins no group and commits nothing) and calls emit for
// each record decoded and bad for each record that does not decode.
func Read(ctx context.Context, conn *config.Connection, opts ReadOptions, emit func(Entry) error, bad func(Entry, error)) error {
	cm := conn.ConfigMap(kafka.ConfigMap{
		// librdkafka wants a group id even for a consumer that only
		// assigns; it is never joined and nothing is committed to it.
		"group.id":             "offsetlab-offsets-topic-reader",
		"enable.auto.commit":   false,
		"enable.partition.eof": true,
		// Show offset commits of open transactions too.
		"isolation.level": "read_uncommitted",
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
	topic := Topic
	tps := make([]kafka.TopicPartition, len(opts.Partitions))
	for i, p := range opts.Partitions {
		tps[i] = kafka.TopicPartition{Topic: &topic, Partition: p, Offset: start}
	}
	if err := c.Assign(tps); err != nil {
		return fmt.Errorf("unable to assign %s partitions %v: %w", Topic, opts.Partitions, err)
	}
	stopAtEnd := opts.FromBeginning && !opts.Follow
	atEnd := map[int32]bool{}
	last := time.Now()
	for ctx.Err() == nil {
		if stopAtEnd && len(atEnd) == len(opts.Partitions) {
			return nil
		}
		if stopAtEnd && time.Since(last) > opts.Idle {
			return fmt.Errorf("waited %s for %s partitions %v to reach their end; %d of %d did", opts.Idle, Topic, opts.Partitions, len(atEnd), len(opts.Partitions))
		}
		switch e := c.Poll(100).(type) {
		case *kafka.Message:
			last = time.Now()
			if e.TopicPartition.Error != nil {
				return fmt.Errorf("reading %s: %w", Topic, e.TopicPartition.Error)
			}
			entry := Entry{Partition: e.TopicPartition.Partition, Offset: int64(e.TopicPartition.Offset), Timestamp: e.Timestamp.UTC()}
			entry.Record, err = Decode(e.Key, e.Value)
			if err != nil {
				bad(entry, err)
				continue
			}
			if opts.Group != "" && entry.Group != opts.Group {
				continue
			}
			if err := emit(entry); err != nil {
				return err
			}
		case kafka.PartitionEOF:
			last = time.Now()
			atEnd[e.Partition] = true
		case kafka.Error:
			if e.IsFatal() || e.Code() == kafka.ErrTopicAuthorizationFailed || e.Code() == kafka.ErrGroupAuthorizationFailed {
				return fmt.Errorf("reading %s: %w", Topic, e)
			}
		}
	}
	if !stopAtEnd {
		return nil // following ends when the user stops it
	}
	return ctx.Err()
}
