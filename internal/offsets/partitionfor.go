package offsets

import (
	"context"
	"io"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/coordinator"
	"github.com/offsetlab/offsetlab/internal/out"
)

const partitionForAbout = `Which partition of __consumer_offsets holds a group's commits and metadata, as
Kafka computes it: abs(groupId.hashCode()) % offsets.topic.num.partitions, with
Java's String.hashCode and Integer.MIN_VALUE counted as 0. The broker leading that
partition is the group's coordinator. Needs no broker. A group id that is not
valid UTF-8 is hashed as the broker decodes it: each invalid sequence becomes one
U+FFFD, as Java's decoder replaces it.`

func runPartitionFor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		ids        listFlag
		partitions int
		format     string
	)
	fs := newFlagSet("partition-for", "--group G [--group G2 ...] [--partitions 50] [flags]", partitionForAbout, nil)
	fs.Var(&ids, "group", "consumer group `id` (repeatable, or comma-separated)")
	fs.IntVar(&partitions, "partitions", coordinator.DefaultPartitions, "the cluster's offsets.topic.num.partitions")
	fs.StringVar(&format, "format", out.Text, "output: text or json")
	if err := cli.Parse(fs, args, stderr); err != nil {
		return err
	}
	if err := out.CheckFormat(format); err != nil {
		return err
	}
	switch {
	case len(ids) == 0:
		return cli.Usagef("--group is required")
	case partitions < 1:
		return cli.Usagef("--partitions must be at least 1, got %d", partitions)
	}
	type result struct {
		Group     string `json:"group"`
		HashCode  int32  `json:"hash_code"`
		Partition int32  `json:"partition"`
	}
	rs := make([]result, 0, len(ids))
	for _, g := range ids {
		rs = append(rs, result{g, coordinator.JavaHashCode(g), coordinator.Partition(g, partitions)})
	}
	if format == out.JSON {
		return out.WriteJSON(stdout, struct {
			Partitions int      `json:"partitions"`
			Groups     []result `json:"groups"`
		}{partitions, rs})
	}
	t := out.NewTable(stdout, "group", "hashcode", "partition")
	for _, r := range rs {
		t.Row(r.Group, r.HashCode, r.Partition)
	}
	return t.Flush()
}
