package stack_test

// The embedded stack's broker (kfake) and registry (srfake) are not Apache
// Kafka and Confluent Schema Registry. Each test in this file pins one
// difference that can change what offsetlab measures: its comment says what
// the real thing does, and the test asserts what the fake does, so that it
// fails when the fake changes. Each is listed in the README's "The embedded
// broker is not Apache Kafka"; update both together. The group-related
// differences are pinned in internal/groups.

import (
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/offsetlab/offsetlab/internal/poll"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// createTopic creates a topic on the broker at bootstrap.
func createTopic(t *testing.T, bootstrap, name string, partitions int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	topic := kmsg.NewCreateTopicsRequestTopic()
	topic.Topic, topic.NumPartitions, topic.ReplicationFactor = name, partitions, 1
	req.Topics = append(req.Topics, topic)
	resp, err := req.RequestWith(t.Context(), stacktest.Client(t, bootstrap))
	if err == nil {
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
}

// topics are the names of the topics the broker at bootstrap knows.
func topics(t *testing.T, bootstrap string) []string {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = nil // all
	resp, err := req.RequestWith(t.Context(), stacktest.Client(t, bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tp := range resp.Topics {
		if tp.Topic != nil {
			names = append(names, *tp.Topic)
		}
	}
	return names
}

// joinWithSession sends one JoinGroup with the given session timeout and
// returns the broker's error code for it, nil when it is accepted.
func joinWithSession(t *testing.T, bootstrap, group string, session int32) error {
	t.Helper()
	req := kmsg.NewPtrJoinGroupRequest()
	req.Group, req.InstanceID, req.ProtocolType = group, kmsg.StringPtr(group), "consumer"
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = session, 10000
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name = "range"
	req.Protocols = append(req.Protocols, p)
	resp, err := req.RequestWith(t.Context(), stacktest.Client(t, bootstrap))
	if err != nil {
		t.Fatalf("join %s: %v", group, err)
	}
	return kerr.ErrorForCode(resp.ErrorCode)
}

// kfake difference: kfake.GroupMinSessionTimeout lowers the session floor
// kfake enforces but not the group.min.session.timeout.ms its
// DescribeConfigs reports, which stays at Kafka's 6000; on Kafka the config
// is the floor. A tool that reads the cluster's limits to choose its session
// timeouts would be told 6000 on a broker that takes 100. The embedded stack
// therefore sets the floor as the broker config
// (TestStackReportsTheSessionFloorItEnforces).
func TestKfakeDescribeConfigsHidesTheSessionFloorOption(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100*time.Millisecond),
		kfake.ListenFn(func(string, string) (net.Listener, error) { return ln, nil }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addr := c.ListenAddrs()[0]
	if got := stacktest.BrokerConfigs(t, addr)["group.min.session.timeout.ms"]; got != "6000" {
		t.Fatalf("DescribeConfigs reports group.min.session.timeout.ms=%q under GroupMinSessionTimeout(100ms); kfake said 6000 when this was pinned: if it now says 100, the stack need not set the config", got)
	}
	if err := joinWithSession(t, addr, "g", 100); err != nil {
		t.Fatalf("a 100 ms session under GroupMinSessionTimeout(100ms): %v", err)
	}
}

// The embedded stack reports the session floor it enforces: a tool reading
// group.min.session.timeout.ms gets the --min-session-timeout the broker
// applies, and a JoinGroup just under it is refused as on Kafka.
func TestStackReportsTheSessionFloorItEnforces(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t, func(o *stack.Options) { o.MinSessionTimeout = 250 * time.Millisecond })
	if got := stacktest.BrokerConfigs(t, s.BrokerAddr())["group.min.session.timeout.ms"]; got != "250" {
		t.Fatalf("DescribeConfigs reports group.min.session.timeout.ms=%q, want the 250 the stack enforces", got)
	}
	if err := joinWithSession(t, s.BrokerAddr(), "at-floor", 250); err != nil {
		t.Fatalf("a session at the floor: %v", err)
	}
	if err := joinWithSession(t, s.BrokerAddr(), "under-floor", 249); err != kerr.InvalidSessionTimeout {
		t.Fatalf("a session under the floor: %v, want INVALID_SESSION_TIMEOUT", err)
	}
}

// kfake difference: kfake aborts a transaction that stays open for
// transaction.timeout.ms at that very moment, with a timer of its own.
// Kafka looks for timed-out transactions every
// transaction.abort.timed.out.transaction.cleanup.interval.ms (10 s by
// default), so an orphaned transaction holds read_committed readers (the
// last stable offset) up to that much longer. kfake does not know the
// config: here it is set to 2 minutes, and the transaction (timeout 1 s) is
// still aborted within the 15 s the test waits.
func TestKfakeAbortsATimedOutTransactionAtItsTimeout(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t, func(o *stack.Options) {
		o.BrokerConfigs = map[string]string{"transaction.abort.timed.out.transaction.cleanup.interval.ms": "120000"}
	})
	createTopic(t, s.BrokerAddr(), "out", 1)
	cl := stacktest.Client(t, s.BrokerAddr())
	orphan, err := kgo.NewClient(kgo.SeedBrokers(s.BrokerAddr()), kgo.TransactionalID("orphan"),
		kgo.TransactionTimeout(time.Second), kgo.DefaultProduceTopic("out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(orphan.Close)
	if err := orphan.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := orphan.ProduceSync(t.Context(), &kgo.Record{Value: []byte("never committed")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// From here nothing ends the transaction, as if its producer were killed.
	offset := func(isolation int8) int64 {
		req := kmsg.NewPtrListOffsetsRequest()
		req.IsolationLevel = isolation
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "out"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = 0, -1 // the end
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(t.Context(), cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0].Offset
	}
	var stable, end int64
	poll.Until(t, 15*time.Second, "the broker to abort the orphaned transaction (timeout 1 s, cleanup interval 2 min)", func() bool {
		stable, end = offset(1), offset(0)
		return end > 1 && stable == end // the record, then the abort marker
	}, func() string { return fmt.Sprintf("last stable offset %d, log end %d", stable, end) })
}

// srfake difference: srfake never rejects a schema as incompatible. It
// reports the compatibility level BACKWARD, as Confluent Schema Registry
// defaults to, but registers a new version that breaks it (here a new
// required field) and answers every compatibility check with true;
// Confluent answers 409 and is_compatible false. A producer that changes
// its schema is therefore never stopped by the embedded registry.
func TestSrfakeAcceptsAnIncompatibleSchema(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t)
	cl, err := sr.NewClient(sr.URLs(s.RegistryURL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if levels := cl.Compatibility(ctx); len(levels) != 1 || levels[0].Err != nil || levels[0].Level != sr.CompatBackward {
		t.Fatalf("global compatibility: %+v, want BACKWARD", levels)
	}
	v1 := sr.Schema{Schema: `{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}`}
	v2 := sr.Schema{Schema: `{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"customer","type":"string"}]}`}
	if _, err := cl.CreateSchema(ctx, "orders-value", v1); err != nil {
		t.Fatal(err)
	}
	check, err := cl.CheckCompatibility(ctx, "orders-value", -1, v2)
	if err != nil || !check.Is {
		t.Fatalf("compatibility check of a BACKWARD-incompatible schema: %+v, %v; srfake said compatible when this was pinned (Confluent: false)", check, err)
	}
	got, err := cl.CreateSchema(ctx, "orders-value", v2)
	if err != nil {
		t.Fatalf("register a BACKWARD-incompatible schema: %v; srfake accepted it when this was pinned (Confluent: 409): update the README's list of differences", err)
	}
	if got.Version != 2 {
		t.Fatalf("the incompatible schema got version %d, want 2", got.Version)
	}
}

// srfake keeps its schemas in memory only; a --data-dir stack saves them
// there and seeds them back with their ids (registry.go). Before, a
// restarted stack had an empty registry whose ids began at 1 again, and a
// schema registered anew took an id that records written before the
// restart carry for another schema. Confluent Schema Registry keeps its
// schemas in the _schemas topic and never reuses an id.
func TestRegistryPersistsWithTheDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	v1 := sr.Schema{Schema: `{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}`}
	v2 := sr.Schema{Schema: `{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}`}
	v3 := sr.Schema{Schema: `{"type":"record","name":"Page","fields":[{"name":"url","type":"string"}]}`}
	client := func(s *stack.Stack) *sr.Client {
		t.Helper()
		cl, err := sr.NewClient(sr.URLs(s.RegistryURL()))
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	register := func(s *stack.Stack, subject string, schema sr.Schema) int {
		t.Helper()
		got, err := client(s).CreateSchema(t.Context(), subject, schema)
		if err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	first := stacktest.Start(t, func(o *stack.Options) { o.DataDir = dir })
	createTopic(t, first.BrokerAddr(), "orders", 1)
	register(first, "orders-value", v1)
	if id := register(first, "users-value", v2); id != 2 {
		t.Fatalf("the second schema got id %d, want 2", id)
	}
	register(first, "archive-value", v1) // the same schema under another subject shares id 1
	first.Close()

	second := stacktest.Start(t, func(o *stack.Options) { o.DataDir = dir })
	if names := topics(t, second.BrokerAddr()); !slices.Contains(names, "orders") {
		t.Fatalf("the restarted broker lost topic orders: it knows %v", names)
	}
	got, err := client(second).SchemaByID(t.Context(), 1)
	if err != nil || got.Schema != v1.Schema {
		t.Fatalf("after the restart id 1 is %q, %v; want the Order schema", got.Schema, err)
	}
	for subject, want := range map[string]int{"orders-value": 1, "users-value": 2, "archive-value": 1} {
		if id := register(second, subject, map[int]sr.Schema{1: v1, 2: v2}[want]); id != want {
			t.Errorf("after the restart %s's schema has id %d, want %d", subject, id, want)
		}
	}
	if id := register(second, "pages-value", v3); id != 3 {
		t.Fatalf("a new schema after the restart got id %d, want 3 (ids are never reused)", id)
	}
}

// kfake difference: a broker restarted from its data directory counts its
// downtime against each member's session. A restored member keeps what was
// left of its session when the broker stopped, less the downtime; Kafka's
// coordinator starts every member's session timer afresh when it loads the
// group, so a member that heartbeats within its session timeout of the
// restart keeps its place. On kfake a consumer that reconnects more slowly
// than that finds its commits refused (UNKNOWN_MEMBER_ID) and rejoins, and
// replays what those commits covered: broker-restart-mid-run gives its
// members 6 s sessions for this.
func TestKfakeCountsARestartsDowntimeAgainstSessions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	start := func(ln net.Listener) *kfake.Cluster {
		t.Helper()
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100*time.Millisecond), kfake.DataDir(dir),
			kfake.ListenFn(func(string, string) (net.Listener, error) { return ln, nil }))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	restart := func(c *kfake.Cluster, downtime time.Duration) *kfake.Cluster {
		t.Helper()
		c.Close()
		time.Sleep(downtime) // the broker is down, not an assertion
		var ln net.Listener
		poll.Until(t, 5*time.Second, "the broker's port to be free again", func() bool {
			ln, err = net.Listen("tcp", addr)
			return err == nil
		}, func() string { return fmt.Sprint(err) })
		return start(ln)
	}
	c := start(ln)
	defer func() { c.Close() }()
	// A static member with a 1 s session, joined and synced.
	cl := stacktest.Client(t, addr)
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.InstanceID, join.ProtocolType = "g", kmsg.StringPtr("i1"), "consumer"
	join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = 1000, 1000
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
	joined, err := join.RequestWith(t.Context(), cl)
	if err == nil {
		err = kerr.ErrorForCode(joined.ErrorCode)
	}
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.Generation, sync.MemberID, sync.InstanceID = "g", joined.Generation, joined.MemberID, kmsg.StringPtr("i1")
	sync.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: joined.MemberID}}
	if resp, err := sync.RequestWith(t.Context(), cl); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("sync: %v, %v", err, resp)
	}
	heartbeat := func() error {
		t.Helper()
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.Generation, req.MemberID, req.InstanceID = "g", joined.Generation, joined.MemberID, kmsg.StringPtr("i1")
		resp, err := req.RequestWith(t.Context(), stacktest.Client(t, addr))
		if err != nil {
			t.Fatalf("heartbeat: %v", err)
		}
		return kerr.ErrorForCode(resp.ErrorCode)
	}
	// Restarted at once, the member is still there, on both.
	c = restart(c, 0)
	if err := heartbeat(); err != nil {
		t.Fatalf("heartbeat after an immediate restart: %v, want the member kept", err)
	}
	// Down for longer than the session: Kafka would keep the member (its
	// timer starts at the restart); kfake has dropped it.
	c = restart(c, 1500*time.Millisecond)
	if err := heartbeat(); err != kerr.UnknownMemberID {
		t.Fatalf("heartbeat after 1.5 s down with a 1 s session: %v; kfake answered UNKNOWN_MEMBER_ID when this was pinned: if it now keeps the member, as Kafka does, update the README's list of differences and broker-restart-mid-run", err)
	}
}

// Kafka refuses a client's write to an internal topic (INVALID_TOPIC_EXCEPTION,
// "Cannot append to internal topic __consumer_offsets"): only the group
// coordinator writes there. kfake takes it like any other topic, and so the
// embedded stack's own writer of __consumer_offsets is one client among
// others: a program that writes there changes what readers of the topic see
// (not the committed offsets, which kfake keeps apart).
func TestKfakeAcceptsClientWritesToConsumerOffsets(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t)
	cl := stacktest.Client(t, s.BrokerAddr())
	r := &kgo.Record{Topic: "__consumer_offsets", Partition: 0, Key: []byte{0, 1}, Value: []byte{0, 3}}
	if err := cl.ProduceSync(t.Context(), r).FirstErr(); err != nil {
		t.Fatalf("kfake refused a client's write to __consumer_offsets (%v): Kafka's behaviour; update the README", err)
	}
}
