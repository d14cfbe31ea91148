package scenario

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(verb{"fault", "fault REQUEST ERROR [count N|until-healed] [group G] [topic T] [partition P] [as NAME]: the embedded broker answers the next N (default 1) REQUESTs of $GROUP, or of $TOPIC, with ERROR (needs require embedded; see docs/faults.md)", parseFault})
	register(verb{"heal", "heal [NAME]: remove the fault named NAME (as NAME, or its REQUEST), or every fault", parseHeal})
	conditions["hits"] = condition{"hits N: fault NAME has answered N requests", parseHits}
}

// faultRequests are the requests a story may fault: the consumer's path
// from finding its coordinator to committing, and the producer's. Each
// names the selector its requests carry, so a default scope can be chosen.
var faultRequests = map[string]struct {
	key    kmsg.Key
	scoped string // "group" or "topic": what $GROUP or $TOPIC scopes it to by default
}{
	"FindCoordinator":        {kmsg.FindCoordinator, "group"},
	"JoinGroup":              {kmsg.JoinGroup, "group"},
	"SyncGroup":              {kmsg.SyncGroup, "group"},
	"Heartbeat":              {kmsg.Heartbeat, "group"},
	"LeaveGroup":             {kmsg.LeaveGroup, "group"},
	"ConsumerGroupHeartbeat": {kmsg.ConsumerGroupHeartbeat, "group"},
	"OffsetFetch":            {kmsg.OffsetFetch, "group"},
	"OffsetCommit":           {kmsg.OffsetCommit, "group"},
	"TxnOffsetCommit":        {kmsg.TxnOffsetCommit, "group"},
	"Fetch":                  {kmsg.Fetch, "topic"},
	"ListOffsets":            {kmsg.ListOffsets, "topic"},
	"Produce":                {kmsg.Produce, "topic"},
}

// faultErrors are the errors a story may answer with: those a broker gives
// on the commit path, each with a documented client reaction.
var faultErrors = func() map[string]*kerr.Error {
	m := map[string]*kerr.Error{}
	for _, e := range []*kerr.Error{
		kerr.RequestTimedOut, kerr.CoordinatorNotAvailable, kerr.NotCoordinator, kerr.CoordinatorLoadInProgress,
		kerr.RebalanceInProgress, kerr.IllegalGeneration, kerr.UnknownMemberID, kerr.FencedInstanceID,
		kerr.FencedMemberEpoch, kerr.StaleMemberEpoch, kerr.UnknownTopicOrPartition, kerr.NotLeaderForPartition,
		kerr.KafkaStorageError, kerr.OffsetOutOfRange, kerr.UnknownServerError, kerr.OffsetMetadataTooLarge, kerr.GroupAuthorizationFailed,
	} {
		m[e.Message] = e
	}
	// Kafka renamed NOT_LEADER_FOR_PARTITION (code 6) in 2.6 (KIP-392); kerr
	// keeps the old name. Stories use the name Kafka prints today.
	m["NOT_LEADER_OR_FOLLOWER"] = kerr.NotLeaderForPartition
	delete(m, kerr.NotLeaderForPartition.Message)
	return m
}()

// faultStep installs a fault on the embedded broker (kfake's Fault).
type faultStep struct {
	name      string
	request   string
	errName   string // as the story spells it
	err       *kerr.Error
	count     int // -1: until healed
	group     string
	topic     string
	partition int32 // -1: every partition
}

func parseFault(p *parser, args []string) (step, error) {
	if len(args) < 2 {
		return nil, badUsage("takes a request and an error")
	}
	req, ok := faultRequests[args[0]]
	if !ok {
		return nil, badUsage("%q is not a request offsetlab faults; accepted: %s", args[0], strings.Join(slices.Sorted(maps.Keys(faultRequests)), ", "))
	}
	e, ok := faultErrors[args[1]]
	if !ok {
		return nil, badUsage("%q is not an error offsetlab injects; accepted: %s", args[1], strings.Join(slices.Sorted(maps.Keys(faultErrors)), ", "))
	}
	if !p.sc.Embedded {
		return nil, fmt.Errorf("needs the embedded stack: put `require embedded` before it")
	}
	st := &faultStep{name: args[0], request: args[0], errName: args[1], err: e, count: 1, partition: -1}
	switch req.scoped {
	case "group":
		st.group = "$GROUP"
	case "topic":
		st.topic = "$TOPIC"
	}
	for rest := args[2:]; len(rest) > 0; {
		opt := rest[0]
		if opt == "until-healed" {
			st.count, rest = -1, rest[1:]
			continue
		}
		if len(rest) < 2 {
			return nil, badUsage("%q needs a value, or is not an option (accepted: count N, until-healed, group G, topic T, partition P, as NAME)", opt)
		}
		val := rest[1]
		rest = rest[2:]
		switch opt {
		case "count":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return nil, badUsage("count %q is not a number of requests (1 or more; until-healed for no limit)", val)
			}
			st.count = n
		case "group":
			if req.scoped != "group" {
				return nil, badUsage("%s carries no group (it is scoped by topic)", st.request)
			}
			st.group = val
		case "topic":
			st.topic = val
		case "partition":
			n, err := strconv.ParseInt(val, 10, 32)
			if err != nil || n < 0 {
				return nil, badUsage("partition %q is not a partition number", val)
			}
			st.partition = int32(n)
		case "as":
			st.name = val
		default:
			return nil, badUsage("unknown option %q (accepted: count N, until-healed, group G, topic T, partition P, as NAME)", opt)
		}
	}
	if st.partition >= 0 && st.topic == "" {
		st.topic = "$TOPIC" // a partition is a partition of a topic
	}
	if p.consumers[st.name] > 0 || p.producers[st.name] {
		return nil, fmt.Errorf("%q is the name of a process; name the fault with `as NAME`", st.name)
	}
	p.faults[st.name] = true
	return st, nil
}

func (s *faultStep) run(r *run) error {
	if r.env.Embedded == nil {
		return fmt.Errorf("fault needs the embedded stack")
	}
	f := kfake.Fault{Keys: []kmsg.Key{faultRequests[s.request].key}, Group: r.expand(s.group), Topic: r.expand(s.topic), Err: s.err, Count: s.count}
	if s.partition >= 0 {
		f.Partitions = []int32{s.partition}
	}
	if old, ok := r.faults[s.name]; ok {
		old.Remove()
	}
	r.faults[s.name] = r.env.Embedded.Cluster().Fault(f)
	scope := "group " + f.Group
	if f.Group == "" {
		scope = "topic " + f.Topic
		if s.partition >= 0 {
			scope = fmt.Sprintf("%s[%d]", f.Topic, s.partition)
		}
	}
	which := fmt.Sprintf("the next %d %s requests", s.count, s.request)
	switch s.count {
	case -1:
		which = fmt.Sprintf("every %s request, until healed,", s.request)
	case 1:
		which = fmt.Sprintf("the next %s request", s.request)
	}
	fmt.Fprintf(r.out, "    %s: %s of %s get %s\n", s.name, which, scope, s.errName)
	return nil
}

// healStep removes one fault, or all.
type healStep struct{ name string }

func parseHeal(p *parser, args []string) (step, error) {
	switch {
	case len(args) == 0:
		return &healStep{}, nil
	case len(args) > 1:
		return nil, badUsage("takes at most one fault name")
	case !p.faults[args[0]]:
		return nil, fmt.Errorf("no fault %q was set before this line%s", args[0], known("set", p.faults))
	}
	return &healStep{name: args[0]}, nil
}

func (s *healStep) run(r *run) error {
	for _, name := range slices.Sorted(maps.Keys(r.faults)) {
		if s.name == "" || s.name == name {
			h := r.faults[name]
			h.Remove()
			fmt.Fprintf(r.out, "    %s answered %d requests\n", name, h.Hits())
		}
	}
	return nil
}

// healAll removes every fault the story set, when it ends: the embedded
// stack outlives the story.
func (r *run) healAll() {
	for _, h := range r.faults {
		h.Remove()
	}
}

// hitsCond waits for a fault to have answered n requests.
type hitsCond struct{ n int }

func parseHits(p *parser, name string, args []string) (awaited, error) {
	if !p.faults[name] {
		return nil, fmt.Errorf("%s is not a fault", name)
	}
	if len(args) != 1 {
		return nil, fmt.Errorf("takes one count")
	}
	n, err := count(args[0], "count")
	return &hitsCond{n: int(n)}, err
}

func (c *hitsCond) String() string { return fmt.Sprintf("hits >= %d", c.n) }
func (c *hitsCond) ledger() bool   { return false }

func (c *hitsCond) probe(r *run, name string) (func() (bool, string, error), error) {
	h, ok := r.faults[name]
	if !ok {
		return nil, fmt.Errorf("fault %s was not set", name)
	}
	return func() (bool, string, error) {
		return h.Hits() >= c.n, fmt.Sprintf("%d hits", h.Hits()), nil
	}, nil
}
