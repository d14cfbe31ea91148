package offsets

import (
	"context"
	"io"
)

func runGroups(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := &describeOptions{allGroups: true, state: true}
	fs := newFlagSet("groups", "[flags]", "Every group the broker knows, with its state, type (Classic or Consumer),\nassignor, coordinator and member count.", &o.common)
	if err := o.parse(fs, args, stderr); err != nil {
		return err
	}
	admin, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer admin.Close()
	gs, err := o.fetch(ctx, admin)
	if err != nil {
		return err
	}
	return printStates(stdout, o.format, gs)
}
