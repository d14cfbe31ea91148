package stack

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// Run is the stack command: it serves the stack on the docker-compose ports
// (or the flags') until ctx ends, printing one ready line and, at the end,
// "stopped".
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts := Defaults()
	fs := flag.NewFlagSet("stack", flag.ContinueOnError)
	fs.StringVar(&opts.BrokerAddr, "broker", opts.BrokerAddr, "broker listen `host:port`")
	fs.StringVar(&opts.RegistryAddr, "registry", opts.RegistryAddr, "schema registry listen `host:port`")
	fs.IntVar(&opts.Partitions, "partitions", opts.Partitions, "partitions of auto-created topics")
	fs.IntVar(&opts.OffsetsPartitions, "offsets-partitions", opts.OffsetsPartitions, "partitions of __consumer_offsets when it is created (Kafka's offsets.topic.num.partitions)")
	fs.StringVar(&opts.DataDir, "data-dir", "", "persist topics, offsets, groups and the registry's schemas in `DIR` across restarts (default: in memory)")
	fs.DurationVar(&opts.MinSessionTimeout, "min-session-timeout", opts.MinSessionTimeout, "group.min.session.timeout.ms floor (Kafka's default is 6s)")
	secure := fs.Bool("secure", false, "serve the broker with SASL over TLS and the registry with basic auth over TLS, with a throwaway CA and credentials, and write a ready client.properties")
	secureDir := fs.String("secure-dir", "", "where --secure writes ca.pem and client.properties (default: a new temporary `DIR`, removed on stop)")
	mechanism := fs.String("sasl-mechanism", DefaultMechanism, "sasl.mechanisms client.properties names with --secure (the broker accepts PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512)")
	profile := fs.String("profile", Profiles[0], "group settings: fast (session timeouts from 100ms) or kafka-defaults (as Apache Kafka ships: 6s classic floor, 45s KIP-848 session)")
	retention := fs.Duration("offsets-retention", 0, "how long an empty group's committed offsets are kept, from the group emptying or their last commit, whichever is later (kfake's offset.retention.ms; Kafka's offsets.retention.minutes is 7 days)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: stack [flags]\n\nRuns the embedded broker and schema registry until SIGINT or SIGTERM.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, stderr); err != nil {
		return err
	}
	if *retention > 0 {
		opts.BrokerConfigs = map[string]string{
			"offset.retention.ms":                 fmt.Sprint(retention.Milliseconds()),
			"offsets.retention.check.interval.ms": fmt.Sprint(max(retention.Milliseconds()/4, 100)),
		}
	}
	if err := Profile(&opts, *profile); err != nil {
		return err
	}
	if !*secure && *secureDir != "" {
		return cli.Usagef("--secure-dir needs --secure")
	}
	if *secure {
		dir := *secureDir
		if dir == "" {
			tmp, err := os.MkdirTemp("", "offsetlab-secure-")
			if err != nil {
				return fmt.Errorf("unable to create the --secure-dir: %w", err)
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		}
		opts.Secure = &SecureOptions{Dir: dir, Mechanism: *mechanism}
	}
	s, err := Start(opts)
	if err != nil {
		return err
	}
	if sec := s.Secrets(); sec != nil {
		// Never the passwords: they are in the file, readable by its owner only.
		fmt.Fprintf(stdout, "ready: broker %s (SASL_SSL, %s), schema registry %s (basic auth), client properties %s\n",
			s.BrokerAddr(), sec.Mechanism, s.RegistryURL(), sec.PropertiesFile)
	} else {
		fmt.Fprintf(stdout, "ready: broker %s, schema registry %s\n", s.BrokerAddr(), s.RegistryURL())
	}
	<-ctx.Done()
	s.Close()
	fmt.Fprintln(stdout, "stopped")
	return nil
}
