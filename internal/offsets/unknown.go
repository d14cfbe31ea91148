package offsets

import (
	"context"
	"fmt"
	"io"

	"github.com/offsetlab/offsetlab/internal/groups"
	"github.com/offsetlab/offsetlab/internal/suggest"
)

// tellUnknown says, for each group the broker does not know, which groups
// it does know, closest first: a typo in --group shows at once, instead of
// an empty description that looks like a group with nothing committed.
func tellUnknown(ctx context.Context, w io.Writer, admin *groups.Admin, gs []*groups.Group) error {
	var known []string
	listed := false
	for _, g := range gs {
		if g.Exists {
			continue
		}
		if !listed {
			ids, err := admin.ListGroupIDs(ctx)
			if err != nil {
				return err
			}
			known, listed = ids, true
		}
		fmt.Fprintf(w, "group %s is unknown to the broker; known groups, closest first: %s\n", g.Group, suggest.List(g.Group, known, 8))
	}
	return nil
}
