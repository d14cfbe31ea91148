package offsets

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/groups"
	"github.com/offsetlab/offsetlab/internal/out"
)

// common are the flags every subcommand that talks to the broker takes.
type common struct {
	conn   config.Connection
	format string
}

// newFlagSet builds a subcommand's flag set with the connection flags and
// --format, and its -h text.
func newFlagSet(name, synopsis, about string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet("offsets "+name, flag.ContinueOnError)
	if c != nil {
		c.conn.RegisterFlags(fs)
		fs.StringVar(&c.format, "format", out.Text, "output: text or json")
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: offsets %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses the flags, then checks --format and loads the connection.
func (c *common) parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	if err := cli.Parse(fs, args, stderr); err != nil {
		return err
	}
	if err := out.CheckFormat(c.format); err != nil {
		return err
	}
	return c.conn.Load()
}

// open connects to the broker, within --timeout.
func (c *common) open(ctx context.Context) (*groups.Admin, error) {
	return groups.Open(ctx, &c.conn)
}

// listFlag is a repeatable flag whose values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}
