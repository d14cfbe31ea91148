package offsets

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/groups"
	"github.com/offsetlab/offsetlab/internal/out"
)

// describeOptions are the flags of describe and watch.
type describeOptions struct {
	common
	groups    listFlag
	allGroups bool
	members   bool
	state     bool
}

// describeFlags registers the flags describe and watch share.
func (o *describeOptions) flags(name, about string) *flag.FlagSet {
	fs := newFlagSet(name, "--group G [--group G2 ...] | --all-groups [flags]", about, &o.common)
	fs.Var(&o.groups, "group", "consumer group `id` (repeatable, or comma-separated)")
	fs.BoolVar(&o.allGroups, "all-groups", false, "every group the broker knows")
	fs.BoolVar(&o.members, "members", false, "show the members and their assignments instead of offsets")
	fs.BoolVar(&o.state, "state", false, "show the groups' state, type, assignor and coordinator instead of offsets")
	return fs
}

func (o *describeOptions) validate() error {
	switch {
	case len(o.groups) == 0 && !o.allGroups:
		return cli.Usagef("--group or --all-groups is required")
	case len(o.groups) > 0 && o.allGroups:
		return cli.Usagef("--group and --all-groups exclude each other: give one")
	case o.members && o.state:
		return cli.Usagef("--members and --state are different views: give at most one")
	}
	return nil
}

func runDescribe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := &describeOptions{}
	fs := o.flags("describe", "Per partition: the committed offset (the next one the group reads), the log's\nstart and end, and the lag (log end - committed). \"-\" means nothing committed.\nPartitions with commits but no owner show \"-\" as member.")
	if err := o.parse(fs, args, stderr); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
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
	if err := o.print(stdout, gs); err != nil {
		return err
	}
	return tellUnknown(ctx, stderr, admin, gs)
}

// fetch describes the groups the flags name.
func (o *describeOptions) fetch(ctx context.Context, admin *groups.Admin) ([]*groups.Group, error) {
	ids := []string(o.groups)
	if o.allGroups {
		var err error
		if ids, err = admin.ListGroupIDs(ctx); err != nil {
			return nil, err
		}
	}
	if o.state {
		return admin.DescribeGroups(ctx, ids)
	}
	return admin.Describe(ctx, ids)
}

func (o *describeOptions) print(w io.Writer, gs []*groups.Group) error {
	switch {
	case o.members:
		return printMembers(w, o.format, gs)
	case o.state:
		return printStates(w, o.format, gs)
	}
	return printOffsets(w, o.format, gs)
}

// printOffsets is describe's default view.
func printOffsets(w io.Writer, format string, gs []*groups.Group) error {
	if format == out.JSON {
		if gs == nil {
			gs = []*groups.Group{}
		}
		return out.WriteJSON(w, struct {
			Groups []*groups.Group `json:"groups"`
		}{gs})
	}
	if len(gs) == 0 {
		fmt.Fprintln(w, "no consumer groups")
		return nil
	}
	for i, g := range gs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, summary(g))
		if len(g.Partitions) == 0 {
			continue
		}
		t := out.NewTable(w, "topic", "partition", "committed", "log-start", "log-end", "lag", "member", "client-id", "host")
		for _, p := range g.Partitions {
			t.Row(p.Topic, p.Partition, opt(p.Committed), opt(p.LogStart), opt(p.LogEnd), opt(p.Lag), p.Member, p.ClientID, p.Host)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// summary is a group's one line: state, members, total lag.
func summary(g *groups.Group) string {
	lag := out.None
	for _, p := range g.Partitions {
		if p.Lag != nil {
			lag = fmt.Sprint(g.TotalLag)
			break
		}
	}
	s := fmt.Sprintf("group %s: state %s, %d %s, total lag %s", g.Group, g.State, g.Members, plural(g.Members, "member", "members"), lag)
	if !g.Exists {
		s += " (the broker does not know this group: nothing committed)"
	}
	return s
}

// printMembers is describe --members.
func printMembers(w io.Writer, format string, gs []*groups.Group) error {
	type assigned struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
	}
	type member struct {
		Group string `json:"group"`
		groups.Member
		Partitions int        `json:"partitions"`
		Assignment []assigned `json:"assignment"`
	}
	var ms []member
	for _, g := range gs {
		for _, m := range g.MemberList {
			mm := member{Group: g.Group, Member: m, Partitions: len(m.Assigned) + m.Unnamed, Assignment: []assigned{}}
			for _, tp := range m.Assigned {
				mm.Assignment = append(mm.Assignment, assigned{tp.Topic, tp.Partition})
			}
			ms = append(ms, mm)
		}
	}
	if format == out.JSON {
		if ms == nil {
			ms = []member{}
		}
		return out.WriteJSON(w, struct {
			Members []member `json:"members"`
		}{ms})
	}
	for _, g := range gs {
		if len(g.MemberList) == 0 {
			fmt.Fprintf(w, "group %s has no members (state %s)\n", g.Group, g.State)
		}
	}
	if len(ms) == 0 {
		return nil
	}
	t := out.NewTable(w, "group", "member", "client-id", "host", "instance-id", "partitions", "assignment")
	for _, m := range ms {
		a := assignment(m.Member.Assigned)
		if m.Unnamed > 0 {
			a = strings.TrimSpace(fmt.Sprintf("%s (%d of unnamed topics: the broker gave only topic ids)", a, m.Unnamed))
		}
		t.Row(m.Group, m.ID, m.ClientID, m.Host, m.InstanceID, m.Partitions, a)
	}
	return t.Flush()
}

// printStates is describe --state, and the groups subcommand.
func printStates(w io.Writer, format string, gs []*groups.Group) error {
	type state struct {
		Group       string `json:"group"`
		State       string `json:"state"`
		Type        string `json:"type"`
		Assignor    string `json:"assignor"`
		Coordinator string `json:"coordinator"`
		Members     int    `json:"members"`
	}
	ss := []state{}
	for _, g := range gs {
		ss = append(ss, state{g.Group, g.State, g.Type, g.Assignor, g.Coordinator, g.Members})
	}
	if format == out.JSON {
		return out.WriteJSON(w, struct {
			Groups []state `json:"groups"`
		}{ss})
	}
	if len(ss) == 0 {
		fmt.Fprintln(w, "no consumer groups")
		return nil
	}
	t := out.NewTable(w, "group", "state", "type", "assignor", "coordinator", "members")
	for _, s := range ss {
		t.Row(s.Group, s.State, s.Type, s.Assignor, s.Coordinator, s.Members)
	}
	return t.Flush()
}

// assignment shows partitions compactly: orders[0,1] pageviews[2].
func assignment(tps []groups.TP) string {
	var parts []string
	for i := 0; i < len(tps); {
		j := i
		var ps []string
		for ; j < len(tps) && tps[j].Topic == tps[i].Topic; j++ {
			ps = append(ps, fmt.Sprint(tps[j].Partition))
		}
		parts = append(parts, fmt.Sprintf("%s[%s]", tps[i].Topic, strings.Join(ps, ",")))
		i = j
	}
	return strings.Join(parts, " ")
}

// opt prints an optional number, "-" for none.
func opt(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
