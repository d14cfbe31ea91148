// Package consumer is offsetlab's configurable consumer: a confluent-kafka-go
// (librdkafka) consumer whose reset policy, commit mode, processing time and
// group membership are flags, which decodes Avro through the schema registry
// and writes a ledger of everything it did, so that what it
// committed can be checked against what it processed.
package consumer

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Run is the consumer command: flags in args, records and the summary out.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	c, err := newConsumer(ctx, o, stdout, stderr)
	if err != nil {
		return err
	}
	// SIGUSR1 asks for a position/committed snapshot without stopping.
	snap := make(chan os.Signal, 1)
	signal.Notify(snap, syscall.SIGUSR1)
	defer signal.Stop(snap)
	err = c.consume(ctx, snap)
	if cerr := c.close(err); err == nil {
		err = cerr
	}
	if err == nil && ctx.Err() != nil {
		fmt.Fprintln(stderr, "consumer: stopped by signal after a clean close")
	}
	return err
}

// Check parses and checks a consumer's flags as Run does, with Run's
// messages (a bad flag is a cli.UsageError), but loads no connection
// settings (no properties file, no -X key lookup, no network) and prints
// nothing (-h gives flag.ErrHelp, the usage unprinted): the scenario runner
// checks a story's start lines with it before anything runs. What only
// loading can tell (a bad --timeout, --config file or -X key) is left to
// Run.
func Check(args []string) error {
	_, err := parseFlags(args, io.Discard)
	return err
}
