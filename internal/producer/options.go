// Package producer writes datagen-style Avro records to a topic: the schema
// is registered under <topic>-value, each record is in the Confluent wire
// format, and each carries a run id and a sequence number in its headers
// (offsetlab.run, offsetlab.seq) so that consumers' ledgers can count
// duplicates and losses whatever the schema holds.
package producer

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/datagen"
	"github.com/offsetlab/offsetlab/internal/out"
)

// options are the producer's flags.
type options struct {
	conn            config.Connection
	topic           string
	quickstart      string
	schemaFile      string
	keyField        string
	partition       int
	seed            int64
	count           int64
	rate            float64
	partitions      int
	runID           string
	ledger          string
	format          string
	deliveryTimeout time.Duration
	progress        bool
}

// parse is how Run reads its flags: parsed and checked (parseFlags), then
// the connection settings loaded.
func parse(args []string, stderr io.Writer) (*options, error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return nil, err
	}
	return o, o.conn.Load()
}

// parseFlags parses and checks the flags, without loading the connection
// settings: it reads no file and connects nowhere. Only -h writes, the
// usage, to stderr.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("producer", flag.ContinueOnError)
	o.conn.RegisterFlags(fs)
	fs.StringVar(&o.topic, "topic", "", "topic to write to (default: the quickstart's name)")
	fs.StringVar(&o.quickstart, "quickstart", "orders", "built-in schema: "+strings.Join(datagen.QuickstartNames(), ", "))
	fs.StringVar(&o.schemaFile, "schema", "", "Avro schema `FILE` (.avsc) with datagen arg.properties, instead of a quickstart")
	fs.StringVar(&o.keyField, "key-field", "", "top-level field whose value is the record key (default: no key)")
	fs.IntVar(&o.partition, "partition", -1, "write every record to this partition (default: the partitioner chooses)")
	fs.Int64Var(&o.seed, "seed", 1, "random seed: the same seed and schema give the same records")
	fs.Int64Var(&o.count, "count", 100, "records to send")
	fs.Float64Var(&o.rate, "rate", 0, "records per second (0: as fast as possible)")
	fs.IntVar(&o.partitions, "partitions", 3, "partitions when the topic has to be created")
	fs.StringVar(&o.runID, "run-id", "", "run id stamped in every record's offsetlab.run header (default: random)")
	fs.StringVar(&o.ledger, "ledger", "", "write an event per acknowledged record to the ledger `FILE` (scenarios ledger FILE prints it as JSON lines)")
	fs.StringVar(&o.format, "format", out.Text, "summary format: text or json")
	fs.DurationVar(&o.deliveryTimeout, "delivery-timeout", 30*time.Second, "how long a record may wait for its acknowledgement (message.timeout.ms)")
	fs.BoolVar(&o.progress, "progress", true, "show a progress bar when stderr is a terminal")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: producer [flags]\n\nProduces datagen-style Avro records through the schema registry.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, stderr); err != nil {
		return nil, err
	}
	switch {
	case o.count < 0:
		return nil, cli.Usagef("--count must be 0 or more, got %d", o.count)
	case !(o.rate >= 0) || math.IsInf(o.rate, 1): // NaN too
		return nil, cli.Usagef("--rate must be 0 (as fast as possible) or more, got %g", o.rate)
	case o.partitions < 1:
		return nil, cli.Usagef("--partitions must be at least 1, got %d", o.partitions)
	case o.partition < -1:
		return nil, cli.Usagef("--partition must be a partition number, got %d", o.partition)
	case o.deliveryTimeout <= 0:
		return nil, cli.Usagef("--delivery-timeout must be positive, got %s", o.deliveryTimeout)
	case o.deliveryTimeout < time.Millisecond || o.deliveryTimeout > math.MaxInt32*time.Millisecond:
		// message.timeout.ms counts whole milliseconds up to 2^31-1, and
		// librdkafka reads 0 as no limit at all.
		return nil, cli.Usagef("--delivery-timeout must be from 1ms to %s (message.timeout.ms), got %s", math.MaxInt32*time.Millisecond, o.deliveryTimeout)
	}
	if err := out.CheckFormat(o.format); err != nil {
		return nil, err
	}
	if o.topic == "" {
		o.topic = o.quickstart
		if o.schemaFile != "" {
			return nil, cli.Usagef("--topic is required with --schema")
		}
	}
	return o, nil
}

// Run is the producer command: flags in args, the summary out.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	p, err := newProducer(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer p.close()
	sum, err := p.produce(ctx)
	if perr := sum.print(stdout, o.format); err == nil {
		err = perr
	}
	return err
}

// Check parses and checks a producer's flags as Run does, with Run's
// messages (a bad flag is a cli.UsageError), but loads no connection
// settings (no properties file, no -X key lookup, no network) and prints
// nothing (-h gives flag.ErrHelp, the usage unprinted): the scenario runner
// checks a story's produce lines with it before anything runs. What only
// loading or the run can tell (a bad --timeout, --config file or -X key; the
// --schema file, --quickstart name and --key-field) is left to Run.
func Check(args []string) error {
	_, err := parseFlags(args, io.Discard)
	return err
}
