package offsets

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/offsetlab/offsetlab/internal/coordinator"
	"github.com/offsetlab/offsetlab/internal/offsetstopic"
	"github.com/offsetlab/offsetlab/internal/out"
)

const topicAbout = `Reads Kafka's internal __consumer_offsets topic and decodes each record with
franz-go's kmsg types: offset commits (group, topic, partition, offset, leader
epoch, metadata, commit time), group metadata (protocol, generation, leader,
members and their assignments), tombstones (deleted offsets and groups), and
record types it cannot decode, named. With --group it reads only the partition
that holds the group (see partition-for) and keeps only its records.

Without --from-beginning it starts at the end and follows new records until
stopped; with it, it reads from the start and stops at the end (or follows with
--follow). --format json prints one JSON object per line.

The embedded stack keeps a __consumer_offsets topic as Kafka does (see the
README for what differs). Kafka creates the topic when a group first looks for
its coordinator: before that this exits 1 and says so.`

// NoOffsetsTopicError says the broker has no __consumer_offsets topic.
type NoOffsetsTopicError struct{ Broker string }

func (e *NoOffsetsTopicError) Error() string {
	return fmt.Sprintf("the broker at %s has no %s topic yet: Kafka creates it when a consumer group first looks for its coordinator "+
		"(start a consumer with a group, then try again)", e.Broker, coordinator.Topic)
}

func runTopic(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		c             common
		group         string
		fromBeginning bool
		follow        bool
	)
	fs := newFlagSet("topic", "[--group G] [--from-beginning [--follow]] [flags]", topicAbout, &c)
	fs.StringVar(&group, "group", "", "only this group's records, from the partition that holds it")
	fs.BoolVar(&fromBeginning, "from-beginning", false, "read from the log start and stop at the end (default: from the end, following)")
	fs.BoolVar(&follow, "follow", false, "with --from-beginning, keep reading new records until stopped")
	if err := c.parse(fs, args, stderr); err != nil {
		return err
	}
	admin, err := c.open(ctx)
	if err != nil {
		return err
	}
	n, exists, err := admin.TopicPartitions(ctx, coordinator.Topic)
	admin.Close()
	if err != nil {
		return err
	}
	if !exists || n == 0 {
		return &NoOffsetsTopicError{Broker: c.conn.Bootstrap}
	}
	opts := offsetstopic.ReadOptions{Group: group, FromBeginning: fromBeginning, Follow: follow || !fromBeginning, Idle: c.conn.Timeout}
	if group != "" {
		p := coordinator.Partition(group, n)
		opts.Partitions = []int32{p}
		fmt.Fprintf(stderr, "group %s is in %s partition %d of %d\n", group, coordinator.Topic, p, n)
	} else {
		for p := range int32(n) {
			opts.Partitions = append(opts.Partitions, p)
		}
	}
	var read, bad int
	lines := json.NewEncoder(stdout) // JSON lines: one record per line
	emit := func(e offsetstopic.Entry) error {
		read++
		if c.format == out.JSON {
			return lines.Encode(e)
		}
		_, err := fmt.Fprintf(stdout, "%d/%d %s %s\n", e.Partition, e.Offset, e.Timestamp.Format("2006-01-02T15:04:05.000Z07:00"), e.Record)
		return err
	}
	report := func(e offsetstopic.Entry, err error) {
		bad++
		fmt.Fprintf(stderr, "undecodable record at %s partition %d offset %d: %v\n", coordinator.Topic, e.Partition, e.Offset, err)
	}
	err = offsetstopic.Read(ctx, &c.conn, opts, emit, report)
	if !opts.Follow || err != nil {
		fmt.Fprintf(stderr, "%d %s decoded, %d undecodable\n", read, plural(read, "record", "records"), bad)
	}
	return err
}
