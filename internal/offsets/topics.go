package offsets

import (
	"context"
	"io"

	"github.com/offsetlab/offsetlab/internal/groups"
	"github.com/offsetlab/offsetlab/internal/out"
)

const topicsAbout = `Lists the broker's topics, one row per partition with its log start and log end
(the next offset to be written), as kafka-topics --describe and rpk topic list do.
Internal topics (__consumer_offsets, where commits are records) are listed only
with --include-internal, as kafka-topics --list --include-internal and
rpk topic list -i show them.`

// topicsJSON is the contract of `offsets topics --format json`.
type topicsJSON struct {
	Topics []topicJSON `json:"topics"`
}

type topicJSON struct {
	Topic      string          `json:"topic"`
	Internal   bool            `json:"internal"`
	Partitions []partitionJSON `json:"partitions"`
}

type partitionJSON struct {
	Partition int32  `json:"partition"`
	LogStart  *int64 `json:"log_start"`
	LogEnd    *int64 `json:"log_end"`
}

func runTopics(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		c        common
		internal bool
	)
	fs := newFlagSet("topics", "[--include-internal] [flags]", topicsAbout, &c)
	fs.BoolVar(&internal, "include-internal", false, "list internal topics too (__consumer_offsets)")
	if err := c.parse(fs, args, stderr); err != nil {
		return err
	}
	admin, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer admin.Close()
	topics, err := admin.Topics(ctx, internal)
	if err != nil {
		return err
	}
	var tps []groups.TP
	for _, t := range topics {
		for p := range int32(t.Partitions) {
			tps = append(tps, groups.TP{Topic: t.Name, Partition: p})
		}
	}
	marks, err := admin.Watermarks(ctx, tps)
	if err != nil {
		return err
	}
	res := topicsJSON{Topics: []topicJSON{}}
	for _, t := range topics {
		tj := topicJSON{Topic: t.Name, Internal: t.Internal, Partitions: []partitionJSON{}}
		for p := range int32(t.Partitions) {
			pj := partitionJSON{Partition: p}
			if m := marks[groups.TP{Topic: t.Name, Partition: p}]; m.Err == nil {
				pj.LogStart, pj.LogEnd = &m.Start, &m.End
			}
			tj.Partitions = append(tj.Partitions, pj)
		}
		res.Topics = append(res.Topics, tj)
	}
	if c.format == out.JSON {
		return out.WriteJSON(stdout, res)
	}
	headers := []string{"topic", "partition", "log-start", "log-end"}
	if internal {
		headers = append(headers, "internal")
	}
	t := out.NewTable(stdout, headers...)
	for _, tj := range res.Topics {
		for _, p := range tj.Partitions {
			row := []any{tj.Topic, p.Partition, opt(p.LogStart), opt(p.LogEnd)}
			if internal {
				row = append(row, yesNo(tj.Internal))
			}
			t.Row(row...)
		}
	}
	return t.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
