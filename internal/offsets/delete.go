package offsets

import (
	"context"
	"fmt"
	"io"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/out"
)

const deleteAbout = `Deletes a group (its committed offsets and its metadata), or with --topic only the
group's committed offsets for those partitions: afterwards its consumers start
there by their auto.offset.reset policy. A group with members is refused: stop its
consumers first. There is no dry run: describe the group first.`

func runDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		c      common
		group  string
		topics topicFlag
	)
	fs := newFlagSet("delete", "--group G [--topic T[:P,...] ...] [flags]", deleteAbout, &c)
	fs.StringVar(&group, "group", "", "consumer group `id` (required)")
	fs.Var(&topics, "topic", "delete only the offsets of `T` (every partition the group committed for) or T:P,P,... (repeatable)")
	if err := c.parse(fs, args, stderr); err != nil {
		return err
	}
	if group == "" {
		return cli.Usagef("--group is required")
	}
	admin, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer admin.Close()

	if len(topics) == 0 {
		if err := admin.DeleteGroup(ctx, group); err != nil {
			return err
		}
		if c.format == out.JSON {
			return out.WriteJSON(stdout, map[string]any{"group": group, "deleted": "group"})
		}
		fmt.Fprintf(stdout, "deleted group %s\n", group)
		return nil
	}
	deleted, err := admin.DeleteOffsets(ctx, group, topics)
	if err != nil {
		return err
	}
	type partition struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
	}
	ps := []partition{}
	for _, tp := range deleted {
		ps = append(ps, partition{tp.Topic, tp.Partition})
	}
	if c.format == out.JSON {
		return out.WriteJSON(stdout, map[string]any{"group": group, "deleted": "offsets", "partitions": ps})
	}
	fmt.Fprintf(stdout, "deleted the committed offsets of group %s for %d %s:\n", group, len(ps), plural(len(ps), "partition", "partitions"))
	t := out.NewTable(stdout, "topic", "partition")
	for _, p := range ps {
		t.Row(p.Topic, p.Partition)
	}
	return t.Flush()
}
