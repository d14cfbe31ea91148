package offsetstopic

import (
	"context"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/coordinator"
	"github.com/offsetlab/offsetlab/internal/logread"
)

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
// each record decoded and bad for each record that does not decode. It
// shows the offset commits of open transactions too (read_uncommitted).
func Read(ctx context.Context, conn *config.Connection, opts ReadOptions, emit func(Entry) error, bad func(Entry, error)) error {
	lopts := logread.Options{Partitions: opts.Partitions, FromBeginning: opts.FromBeginning, Follow: opts.Follow, Idle: opts.Idle}
	return logread.Read(ctx, conn, coordinator.Topic, lopts, func(m *kafka.Message) error {
		entry := Entry{Partition: m.TopicPartition.Partition, Offset: int64(m.TopicPartition.Offset), Timestamp: m.Timestamp.UTC()}
		var err error
		entry.Record, err = Decode(m.Key, m.Value)
		if err != nil {
			bad(entry, err)
			return nil
		}
		if opts.Group != "" && entry.Group != opts.Group {
			return nil
		}
		return emit(entry)
	})
}
