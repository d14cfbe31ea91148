package groups

// The embedded broker (franz-go's kfake) is not Apache Kafka. Each test in
// this file pins one difference that can change what offsetlab measures:
// its comment says what Kafka does, and the test asserts what kfake does,
// so that it fails when kfake changes. Each is listed in the README's
// "The embedded broker is not Apache Kafka"; update both together.

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/groups/groupstest"
	"github.com/offsetlab/offsetlab/internal/poll"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// openAdmin is offsetlab's admin client on bootstrap, closed when the test
// ends.
func openAdmin(t *testing.T, bootstrap string) *Admin {
	t.Helper()
	conn := &config.Connection{Bootstrap: bootstrap, Timeout: 5 * time.Second}
	if err := conn.Load(); err != nil {
		t.Fatal(err)
	}
	admin, err := Open(t.Context(), conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	return admin
}

// withOrders starts an embedded stack (edited as stacktest.Start's edit
// functions say) with a topic orders of the given partitions.
func withOrders(t *testing.T, partitions int, edit ...func(*stack.Options)) (*stack.Stack, *groupstest.Kafka) {
	t.Helper()
	s := stacktest.Start(t, edit...)
	k := groupstest.New(t, s.BrokerAddr())
	k.CreateTopic("orders", partitions)
	return s, k
}

// committed is the group's committed offsets as offsetlab reads them.
func committed(t *testing.T, admin *Admin, group string) map[TP]Committed {
	t.Helper()
	c, err := admin.CommittedOffsets(t.Context(), group)
	if err != nil {
		t.Fatalf("committed offsets of %s: %v", group, err)
	}
	return c
}

// waitNothingCommitted waits until the group has no committed offset left.
func waitNothingCommitted(t *testing.T, admin *Admin, group, what string) {
	t.Helper()
	var c map[TP]Committed
	poll.Until(t, groupstest.Wait, what, func() bool {
		c = committed(t, admin, group)
		return len(c) == 0
	}, func() string { return fmt.Sprint(c) })
}

// kfake difference: OffsetFetch for a group the broker has never seen
// answers GROUP_ID_NOT_FOUND; Kafka answers each partition with offset -1
// and no error. The AdminClient's ListConsumerGroupOffsets then fails on
// kfake, and a consumer that Assign()s partitions with a new group gets
// "The group id does not exist" instead of its auto.offset.reset policy.
// offsetlab reads the answer as "nothing committed", which is what both
// mean.
func TestKfakeOffsetFetchForAnUnknownGroupIsGroupIDNotFound(t *testing.T) {
	t.Parallel()
	s, _ := withOrders(t, 1)
	admin := openAdmin(t, s.BrokerAddr())
	topic := "orders"
	res, err := admin.ac.ListConsumerGroupOffsets(t.Context(), []kafka.ConsumerGroupTopicPartitions{{
		Group: "never-seen", Partitions: []kafka.TopicPartition{{Topic: &topic, Partition: 0}},
	}})
	notFound := isGroupNotFound(err)
	for _, g := range res.ConsumerGroupsTopicPartitions {
		for _, tp := range g.Partitions {
			notFound = notFound || isGroupNotFound(tp.Error)
		}
	}
	if !notFound {
		t.Fatalf("OffsetFetch for an unknown group: %v, %+v; kfake answered GROUP_ID_NOT_FOUND when this was pinned (Kafka: offset -1, no error): update the README's list of differences", err, res)
	}
	if c := committed(t, admin, "never-seen"); len(c) != 0 {
		t.Fatalf("offsetlab reads an unknown group as %v, want nothing committed", c)
	}
}

// kfake difference: ListGroups filtered by group type compares the type
// case-sensitively with its own lower-case "classic"/"consumer", and
// librdkafka sends "Classic"/"Consumer", so a typed listing finds nothing;
// Kafka compares case-insensitively and finds the group. offsetlab lists
// without a type filter.
func TestKfakeListGroupsByTypeFindsNothing(t *testing.T) {
	t.Parallel()
	s, k := withOrders(t, 1)
	k.Join("app", "c1", "orders")
	admin := openAdmin(t, s.BrokerAddr())
	if ids, err := admin.ListGroupIDs(t.Context()); err != nil || !slices.Contains(ids, "app") {
		t.Fatalf("unfiltered listing: %v, %v; want app", ids, err)
	}
	res, err := admin.ac.ListConsumerGroups(t.Context(),
		kafka.SetAdminMatchConsumerGroupTypes([]kafka.ConsumerGroupType{kafka.ConsumerGroupTypeClassic}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Valid) != 0 {
		t.Fatalf("a listing filtered by type Classic found %+v; kfake found nothing when this was pinned (Kafka: app): update the README's list of differences", res.Valid)
	}
}

// kfake difference: a member's host is the connection's remote address
// with its port ("127.0.0.1:54321"); Apache Kafka reports the client's
// address as Java prints an InetAddress, without a port ("/127.0.0.1").
// offsetlab shows what the broker says.
func TestKfakeMemberHostIncludesThePort(t *testing.T) {
	t.Parallel()
	s, k := withOrders(t, 1)
	k.Join("app", "c1", "orders")
	gs, err := openAdmin(t, s.BrokerAddr()).Describe(t.Context(), []string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	host := gs[0].Partitions[0].Host
	if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(host) {
		t.Fatalf("member host %q: kfake used to report 127.0.0.1:PORT (Kafka: /127.0.0.1); if this changed, update the README's list of differences", host)
	}
}

// kfake difference: ConsumerGroupDescribe (KIP-848 groups) answers each
// member's assignment with topic ids and no topic names; Apache Kafka gives
// both. librdkafka passes the empty names on, so offsetlab counts those
// partitions as assigned but cannot say which they are; the group, its
// state and members are still described.
func TestKfakeConsumerProtocolAssignmentHasNoTopicNames(t *testing.T) {
	t.Parallel()
	s, k := withOrders(t, 2)
	k.Commit("kip848", map[string]map[int32]int64{"orders": {0: 0}})
	k.JoinConsumerProtocol("kip848", "c1", "orders")
	gs, err := openAdmin(t, s.BrokerAddr()).Describe(t.Context(), []string{"kip848"})
	if err != nil {
		t.Fatalf("describe a KIP-848 group: %v", err)
	}
	g := gs[0]
	if g.Type != "Consumer" || g.Members != 1 {
		t.Fatalf("group: type %s, %d members", g.Type, g.Members)
	}
	m := g.MemberList[0]
	if len(m.Assigned) != 0 || m.Unnamed != 2 {
		t.Fatalf("member assignment: named %v, unnamed %d; kfake used to give 2 partitions without topic names (Kafka names them): update the README if this changed", m.Assigned, m.Unnamed)
	}
	if len(g.Partitions) != 1 || g.Partitions[0].Committed == nil {
		t.Fatalf("partitions: %+v, want the committed orders[0]", g.Partitions)
	}
}

// kfake difference: the offsets of an empty consumer group expire
// offsets.retention.minutes after max(the group became empty, the offset's
// last commit); Kafka counts from when the group became empty only (its
// currentStateTimestamp), whenever the offset was committed. So a commit
// made while the group is empty (offsets reset --execute, or a consumer
// that Assign()s its partitions) extends the retention on kfake only: on
// Kafka it expires with the others.
//
// orders[0] is committed by a member before the group empties; orders[1]
// by an admin commit half a retention later. Kafka would expire both at the
// same check; kfake expires orders[1] half a retention after orders[0].
func TestKfakeOffsetExpiryCountsFromTheLastCommit(t *testing.T) {
	t.Parallel()
	const retention = 3 * time.Second
	s, k := withOrders(t, 2, func(o *stack.Options) {
		o.BrokerConfigs = map[string]string{
			"offset.retention.ms":                 "3000",
			"offsets.retention.check.interval.ms": "100",
		}
	})
	k.Produce("orders", 0, 2, time.Time{})
	m := k.Join("app", "c1", "orders")
	m.CommitRead(m.Read(2))
	m.Close() // a dynamic member leaves: the group is empty from here
	// A pause, not an assertion: the later commit must come measurably
	// after the group emptied.
	time.Sleep(retention / 2)
	k.Commit("app", map[string]map[int32]int64{"orders": {1: 0}})

	admin := openAdmin(t, s.BrokerAddr())
	p0, p1 := TP{Topic: "orders", Partition: 0}, TP{Topic: "orders", Partition: 1}
	var c map[TP]Committed
	poll.Until(t, groupstest.Wait, "orders[0]'s offset to expire", func() bool {
		c = committed(t, admin, "app") // one OffsetFetch: both partitions at one instant
		_, ok := c[p0]
		return !ok
	}, func() string { return fmt.Sprint(c) })
	if _, ok := c[p1]; !ok {
		t.Fatal("orders[1], committed half a retention after the group emptied, expired together with orders[0]: kfake now counts from when the group became empty, as Kafka does; update the README's list of differences")
	}
	waitNothingCommitted(t, admin, "app", "orders[1]'s offset to expire half a retention later")
}

// kfake difference: a static member (group.instance.id) that rejoins a
// stable group under a new member id skips the rebalance only if its join
// metadata is byte for byte what it sent before. Kafka skips it whenever
// the rejoin leaves the group's selected protocol unchanged (KIP-345;
// GroupCoordinator's updateStaticMemberAndRebalance), whatever else the
// metadata says. So a static consumer restarted with one more topic, another
// client.rack or other user data keeps its partitions without a rebalance
// on Kafka, and causes a rebalance on kfake.
//
// The test speaks the protocol itself, as one static member that is also
// the group's leader: join, sync, then two restarts' joins.
func TestKfakeStaticRejoinNeedsIdenticalMetadata(t *testing.T) {
	t.Parallel()
	s, _ := withOrders(t, 1)
	cl := stacktest.Client(t, s.BrokerAddr())
	subscription := func(topics ...string) []byte {
		m := kmsg.NewConsumerMemberMetadata()
		m.Topics = topics
		return m.AppendTo(nil)
	}
	join := func(metadata []byte) *kmsg.JoinGroupResponse {
		t.Helper()
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.InstanceID, req.ProtocolType = "static", kmsg.StringPtr("s1"), "consumer"
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 30000, 10000
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = "range", metadata
		req.Protocols = append(req.Protocols, p)
		resp, err := req.RequestWith(t.Context(), cl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err != nil {
			t.Fatalf("join: %v", err)
		}
		return resp
	}
	first := join(subscription("orders"))
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.Generation, sync.MemberID, sync.InstanceID = "static", first.Generation, first.MemberID, kmsg.StringPtr("s1")
	sync.ProtocolType, sync.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
	assignment := kmsg.NewConsumerMemberAssignment()
	assignment.Topics = []kmsg.ConsumerMemberAssignmentTopic{{Topic: "orders", Partitions: []int32{0}}}
	sync.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: first.MemberID, MemberAssignment: assignment.AppendTo(nil)}}
	if resp, err := sync.RequestWith(t.Context(), cl); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("sync: %v, %v", err, resp)
	}

	// A restart with the same configuration: no rebalance, on both.
	if same := join(subscription("orders")); same.Generation != first.Generation {
		t.Fatalf("an identical static rejoin moved the group from generation %d to %d", first.Generation, same.Generation)
	}
	// A restart that also subscribes to payments: same protocol ("range"),
	// other metadata. Kafka keeps generation 1; kfake rebalances.
	if changed := join(subscription("orders", "payments")); changed.Generation == first.Generation {
		t.Fatalf("a static rejoin with changed metadata kept generation %d: kfake now skips the rebalance as Kafka does; update the README's list of differences", first.Generation)
	}
}

// kfake difference: offset.retention.ms is a broker config of kfake's own
// (its test extension), in milliseconds, and kfake changes any broker
// config at run time. Kafka has no offset.retention.ms: its retention is
// offsets.retention.minutes, read-only like the other group coordinator
// configs (offsets.retention.check.interval.ms, group.min.session.timeout.ms),
// so changing it needs a broker restart and IncrementalAlterConfigs is
// refused. The scenario offsets-expire depends on this, which is why it
// runs on the embedded stack only.
func TestKfakeOffsetRetentionMsAndRunTimeGroupConfigs(t *testing.T) {
	t.Parallel()
	s, k := withOrders(t, 1, func(o *stack.Options) {
		o.BrokerConfigs = map[string]string{"offsets.retention.check.interval.ms": "100"}
	})
	k.Commit("app", map[string]map[int32]int64{"orders": {0: 1}})
	admin := openAdmin(t, s.BrokerAddr())
	for _, c := range []struct{ name, value string }{
		{"offsets.retention.minutes", "10080"},
		{"offsets.retention.check.interval.ms", "100"},
		{"group.min.session.timeout.ms", "100"},
		{"offset.retention.ms", "500"}, // last: from here the commit expires
	} {
		if err := admin.SetBrokerConfig(t.Context(), c.name, c.value); err != nil {
			t.Fatalf("set %s=%s at run time: %v; kfake accepted it when this was pinned (Kafka refuses): update the README's list of differences", c.name, c.value, err)
		}
	}
	waitNothingCommitted(t, admin, "app", "the commit to expire after offset.retention.ms=500 (offsets.retention.minutes is 7 days)")
}

// kfake difference: kfake has no initial rebalance delay. Kafka's
// coordinator holds the first rebalance of an empty group for
// group.initial.rebalance.delay.ms (3000 by default) so that consumers
// started together share generation 1; kfake rebalances at the first join,
// whatever the config says, and the members that join next cause another
// rebalance. kfake still reports the config it was given.
//
// Here the delay is 60 s: Kafka would answer the first JoinGroup after 60 s,
// past the bound a Join waits (15 s).
func TestKfakeIgnoresTheInitialRebalanceDelay(t *testing.T) {
	t.Parallel()
	s, k := withOrders(t, 1, func(o *stack.Options) {
		o.BrokerConfigs = map[string]string{"group.initial.rebalance.delay.ms": "60000"}
	})
	if got := stacktest.BrokerConfigs(t, s.BrokerAddr())["group.initial.rebalance.delay.ms"]; got != "60000" {
		t.Fatalf("DescribeConfigs reports group.initial.rebalance.delay.ms=%q, want the 60000 it was given", got)
	}
	k.Join("app", "c1", "orders") // fails the test if the assignment takes 15 s
}

// kfake difference: KIP-848 session timeouts have no bounds on kfake.
// Kafka keeps group.consumer.session.timeout.ms (45 s) between
// group.consumer.min.session.timeout.ms (45 s) and
// group.consumer.max.session.timeout.ms (60 s), the heartbeat interval
// between group.consumer.min/max.heartbeat.interval.ms (5 s, 15 s), and
// refuses a per-group consumer.session.timeout.ms outside them
// (INVALID_CONFIG). kfake reports none of the four bounds and takes any
// value, so a story's timings that pass on kfake may be refused by a
// cluster with Kafka's defaults.
func TestKfakeHasNoConsumerGroupSessionBounds(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t)
	cfgs := stacktest.BrokerConfigs(t, s.BrokerAddr())
	if cfgs["group.consumer.session.timeout.ms"] != "45000" {
		t.Errorf("group.consumer.session.timeout.ms = %q, want Kafka's default 45000", cfgs["group.consumer.session.timeout.ms"])
	}
	for _, name := range []string{
		"group.consumer.min.session.timeout.ms", "group.consumer.max.session.timeout.ms",
		"group.consumer.min.heartbeat.interval.ms", "group.consumer.max.heartbeat.interval.ms",
	} {
		if v, ok := cfgs[name]; ok {
			t.Errorf("kfake now reports %s=%s: update the README's list of differences", name, v)
		}
	}
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeGroupConfig, "app"
	c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	c.Name, c.Value, c.Op = "consumer.session.timeout.ms", kmsg.StringPtr("1000"), kmsg.IncrementalAlterConfigOpSet
	r.Configs = append(r.Configs, c)
	req.Resources = append(req.Resources, r)
	resp, err := req.RequestWith(t.Context(), stacktest.Client(t, s.BrokerAddr()))
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.Resources[0].ErrorCode); err != nil {
		t.Fatalf("a per-group consumer.session.timeout.ms of 1000 (below Kafka's 45000 floor): %v; kfake accepted it when this was pinned: update the README's list of differences", err)
	}
}

// kfake difference: a group that a KIP-848 consumer (group.protocol=consumer)
// used stays a consumer group. Kafka converts an empty consumer group to a
// classic one when a classic member joins (conversions of empty groups are
// always enabled, whatever group.consumer.migration.policy says), and the
// member commits as usual. On kfake the classic member gets its partitions
// and resumes at the committed offsets, but every commit it makes fails with
// UNKNOWN_MEMBER_ID: a story that switches a group from --protocol consumer
// to classic loses its commits on kfake only.
func TestKfakeClassicMemberCannotCommitInAFormerConsumerGroup(t *testing.T) {
	t.Parallel()
	_, k := withOrders(t, 1)
	k.Produce("orders", 0, 4, time.Time{})
	m := k.JoinConsumerProtocol("app", "c1", "orders")
	m.CommitRead(m.Read(2))
	m.Close()
	c := k.Join("app", "c2", "orders")
	if first := c.FirstOffsets("orders", 0); first[0] != 2 {
		t.Fatalf("the classic member resumed at %d, want the committed 2", first[0])
	}
	err := c.TryCommitRead(c.Read(1))
	var refused kafka.Error
	if !errors.As(err, &refused) || refused.Code() != kafka.ErrUnknownMemberID {
		t.Fatalf("a classic member's commit in a former KIP-848 group: %v; kfake refused it with UNKNOWN_MEMBER_ID when this was pinned (Kafka converts the group and accepts it): update the README's list of differences", err)
	}
}

// kfake difference: a KIP-848 consumer cannot join a classic group that has
// members. Kafka 4 upgrades the group online (group.consumer.migration.policy
// is bidirectional by default) and the new member shares the partitions
// with the classic ones; kfake answers its ConsumerGroupHeartbeat with
// GROUP_ID_NOT_FOUND, so the group stays with the classic members alone.
func TestKfakeConsumerProtocolCannotJoinAClassicGroupWithMembers(t *testing.T) {
	t.Parallel()
	s, k := withOrders(t, 2)
	k.Join("app", "c1", "orders")
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Group, req.MemberID, req.MemberEpoch = "app", "pinned-member", 0
	req.RebalanceTimeoutMillis = 10000
	req.SubscribedTopicNames = []string{"orders"}
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{} // empty on a join
	resp, err := req.RequestWith(t.Context(), stacktest.Client(t, s.BrokerAddr()))
	if err != nil {
		t.Fatal(err)
	}
	if got := kerr.ErrorForCode(resp.ErrorCode); got != kerr.GroupIDNotFound {
		t.Fatalf("a KIP-848 join into a classic group with a member: %v; kfake answered GROUP_ID_NOT_FOUND when this was pinned (Kafka 4 upgrades the group): update the README's list of differences", got)
	}
}

// kfake difference: a KIP-848 static member that stopped cleanly (the
// static leave, member epoch -2) stays in the group for good, and its
// partitions stay reserved for it. Kafka keeps it only until its session
// times out (group.consumer.session.timeout.ms, 45 s by default), then
// fences it and gives its partitions to the other members. On kfake no
// other member ever gets them, and the group always has a member, so
// `offsets reset` refuses it, until the static member comes back or the
// broker restarts. Here the session is 1 s and the test watches for five.
func TestKfakeKeepsTheStaticMemberThatLeftForever(t *testing.T) {
	t.Parallel()
	const session = time.Second
	s, k := withOrders(t, 2, func(o *stack.Options) {
		o.BrokerConfigs = map[string]string{
			"group.consumer.session.timeout.ms":    "1000",
			"group.consumer.heartbeat.interval.ms": "250",
		}
	})
	k.JoinConfig("app", "c1", kafka.ConfigMap{"group.protocol": "consumer", "group.instance.id": "s1"}, "orders").Close()
	c2, err := kafka.NewConsumer(&kafka.ConfigMap{"bootstrap.servers": s.BrokerAddr(), "group.id": "app",
		"group.protocol": "consumer", "log_level": 0})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.SubscribeTopics([]string{"orders"}, nil); err != nil {
		t.Fatal(err)
	}
	admin := openAdmin(t, s.BrokerAddr())
	for end := time.Now().Add(5 * session); time.Now().Before(end); {
		c2.Poll(100)
		if a, err := c2.Assignment(); err != nil || len(a) > 0 {
			t.Fatalf("a new member got %v (%v) %s after the static member left: kfake now fences it when its session expires, as Kafka does; update the README's list of differences", a, err, session)
		}
	}
	gs, err := admin.Describe(t.Context(), []string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(gs[0].MemberList, func(m Member) bool { return m.InstanceID == "s1" }) || !gs[0].Active() {
		t.Fatalf("five session timeouts after its static leave, the group is %s with members %+v; kfake kept s1 when this was pinned", gs[0].State, gs[0].MemberList)
	}
}
