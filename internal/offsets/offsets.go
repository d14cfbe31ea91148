// Package offsets is the offsets command (Run): everything a consumer
// group's offsets are, from the broker: groups and their state, committed
// offsets against the log's bounds and the lag between them, resets (dry
// run first), deletes, which __consumer_offsets partition holds a group,
// and that topic decoded.
//
// Exit codes: 0 ok, 1 failed (including a refusal to change an active
// group, and `offsets topic` on a broker with no __consumer_offsets yet),
// 2 usage, 69 broker unreachable, 130 interrupted.
//
// Not internal/offset, which names librdkafka's logical offsets (-1001 and
// its kin).
package offsets

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// subcommand is one verb of the command.
type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var subcommands = []subcommand{
	{"groups", "list every group with its state, type and members", runGroups},
	{"describe", "committed offsets, log start/end and lag per partition of a group", runDescribe},
	{"watch", "the describe table, refreshed every second", runWatch},
	{"reset", "plan (dry run) or --execute a reset of a group's offsets", runReset},
	{"delete", "delete a group, or only its offsets for some partitions", runDelete},
	{"partition-for", "which __consumer_offsets partition holds a group", runPartitionFor},
	{"topics", "topics with their partitions' log start and end (--include-internal: __consumer_offsets too)", runTopics},
	{"topic", "read and decode __consumer_offsets", runTopic},
}

// Run is the offsets command: a subcommand and its flags in args.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return cli.Usagef("a subcommand is required (accepted: %s; see -h)", subcommandNames())
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stderr)
		return flag.ErrHelp
	}
	for _, c := range subcommands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	return cli.Usagef("unknown subcommand %q (accepted: %s; see -h)", args[0], subcommandNames())
}

func subcommandNames() string {
	names := make([]string, len(subcommands))
	for i, c := range subcommands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: offsets SUBCOMMAND [flags]\n\nA consumer group's offsets, from the broker.\n\nSubcommands:\n")
	for _, c := range subcommands {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun `offsets SUBCOMMAND -h` for its flags.\n\nExit codes: 0 ok, 1 failed (also: refused on an active group; no __consumer_offsets topic yet),\n2 usage, 69 broker unreachable, 130 interrupted.\n")
}
