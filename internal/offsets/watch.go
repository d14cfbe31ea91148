package offsets

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/groups"
	"github.com/offsetlab/offsetlab/internal/out"
)

const watchAbout = `The describe table, refreshed every --interval until stopped (Ctrl-C): watch
commits move while consumers run, stop and get killed. On a terminal the table is
redrawn in place; otherwise each refresh is appended (--format json: one JSON
object per line, as describe --format json prints it). A refresh that fails is
reported and retried at the next interval.`

func runWatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := &describeOptions{}
	var (
		interval time.Duration
		count    int
	)
	fs := o.flags("watch", watchAbout)
	fs.DurationVar(&interval, "interval", time.Second, "time between refreshes")
	fs.IntVar(&count, "count", 0, "stop after this many refreshes (0: until stopped)")
	if err := o.parse(fs, args, stderr); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	switch {
	case interval <= 0:
		return cli.Usagef("--interval must be positive, got %s", interval)
	case count < 0:
		return cli.Usagef("--count must be 0 (until stopped) or more, got %d", count)
	}
	admin, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if admin != nil {
			admin.Close()
		}
	}()

	redraw := out.IsTerminal(stdout) && o.format == out.Text
	tick := time.NewTicker(interval)
	defer tick.Stop()
	failing := "" // the failure last reported, until a refresh succeeds
	for n := 1; ; n++ {
		var frame bytes.Buffer
		var gs []*groups.Group
		if admin == nil {
			admin, err = o.open(ctx)
		}
		if admin != nil {
			if gs, err = o.fetch(ctx, admin); err != nil {
				// librdkafka aborts the process (rdkafka_queue.h
				// 'eonce->refcnt > 0', librdkafka#4605) when a group
				// request that timed out while the broker was down is
				// answered or expires later: 4 of 4 watches died after
				// an outage longer than --timeout. A client that failed
				// is closed before that can happen, and a new one is
				// opened once the broker answers a metadata request.
				admin.Close()
				admin = nil
			}
		}
		if err == nil && failing != "" {
			fmt.Fprintf(stderr, "%s the broker at %s answers again\n", time.Now().Format("15:04:05"), o.conn.Bootstrap)
			failing = ""
		}
		switch {
		case ctx.Err() != nil:
			return nil // stopped by the user
		case err != nil:
			// Each failure once, not every --interval: an outage is one
			// line, or a few as its cause changes.
			if err.Error() != failing {
				fmt.Fprintf(stderr, "%s refresh failed (retrying every %s with a new client, once the broker at %s answers a metadata request): %v\n",
					time.Now().Format("15:04:05"), interval, o.conn.Bootstrap, err)
				failing = err.Error()
			}
		case o.format == out.JSON:
			// describe's JSON, one object per line.
			var indented bytes.Buffer
			if err := o.print(&indented, gs); err != nil {
				return err
			}
			if err := json.Compact(&frame, indented.Bytes()); err != nil {
				return err
			}
			frame.WriteByte('\n')
		default:
			if redraw {
				frame.WriteString("\x1b[H\x1b[2J") // home, clear screen
			} else if n > 1 {
				frame.WriteString("\n")
			}
			fmt.Fprintf(&frame, "%s  every %s, Ctrl-C to stop\n", time.Now().Format("15:04:05"), interval)
			if err := o.print(&frame, gs); err != nil {
				return err
			}
		}
		if _, err := stdout.Write(frame.Bytes()); err != nil {
			return err
		}
		if count > 0 && n >= count {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
