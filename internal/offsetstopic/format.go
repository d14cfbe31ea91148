package offsetstopic

import (
	"fmt"
	"slices"
	"strings"
)

// String is the record on one line, for people.
func (r Record) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-15s group=%s", r.Kind, quote(r.Group))
	switch {
	case r.Commit != nil:
		c := r.Commit
		fmt.Fprintf(&b, " topic=%s partition=%d", quote(c.Topic), c.Partition)
		if c.Offset != nil {
			fmt.Fprintf(&b, " offset=%d", *c.Offset)
		}
		if c.LeaderEpoch != nil {
			fmt.Fprintf(&b, " leader-epoch=%d", *c.LeaderEpoch)
		}
		if c.Metadata != nil {
			fmt.Fprintf(&b, " metadata=%q", *c.Metadata)
		}
		if c.CommitTime != nil {
			fmt.Fprintf(&b, " committed=%s", c.CommitTime)
		}
		if c.ExpireTime != nil {
			fmt.Fprintf(&b, " expires=%s", c.ExpireTime)
		}
	case r.Metadata != nil:
		g := r.Metadata
		fmt.Fprintf(&b, " protocol-type=%s protocol=%s generation=%d leader=%s", quote(g.ProtocolType), opt(g.Protocol), g.Generation, opt(g.Leader))
		if g.StateTime != nil {
			fmt.Fprintf(&b, " since=%s", g.StateTime)
		}
		fmt.Fprintf(&b, " members=%d", len(g.Members))
		for _, m := range g.Members {
			fmt.Fprintf(&b, " [%s client=%s host=%s", m.MemberID, quote(m.ClientID), quote(m.ClientHost))
			if m.InstanceID != nil {
				fmt.Fprintf(&b, " instance=%s", *m.InstanceID)
			}
			fmt.Fprintf(&b, " session=%dms", m.SessionTimeoutMs)
			if len(m.Subscription) > 0 {
				fmt.Fprintf(&b, " subscribed=%s", strings.Join(m.Subscription, ","))
			}
			if len(m.Assignment) > 0 {
				fmt.Fprintf(&b, " assigned=%s", assignment(m.Assignment))
			}
			b.WriteString("]")
		}
	case r.Kind == KindUnknown:
		fmt.Fprintf(&b, " record type %d: %s, not decoded", r.KeyVersion, r.RecordType)
	}
	fmt.Fprintf(&b, " (key v%d", r.KeyVersion)
	if r.ValueVersion != nil {
		fmt.Fprintf(&b, ", value v%d)", *r.ValueVersion)
	} else {
		b.WriteString(", tombstone)")
	}
	return b.String()
}

func assignment(a map[string][]int32) string {
	topics := make([]string, 0, len(a))
	for t := range a {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	parts := make([]string, len(topics))
	for i, t := range topics {
		ps := make([]string, len(a[t]))
		for j, p := range a[t] {
			ps[j] = fmt.Sprint(p)
		}
		parts[i] = fmt.Sprintf("%s[%s]", t, strings.Join(ps, ","))
	}
	return strings.Join(parts, ",")
}

func opt(s *string) string {
	if s == nil {
		return "-"
	}
	return quote(*s)
}

// quote shows a name as is when it is plain, quoted when it holds spaces,
// quotes or control characters, or is empty.
func quote(s string) string {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '"' || r == 0x7f || r == '\uFFFD' }) {
		return fmt.Sprintf("%q", s)
	}
	return s
}
