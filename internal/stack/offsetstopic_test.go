package stack_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/offsetlab/offsetlab/internal/coordinator"
	"github.com/offsetlab/offsetlab/internal/offsetstopic"
	"github.com/offsetlab/offsetlab/internal/poll"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// offsetsLog reads the records of one partition of the stack's
// __consumer_offsets, from the start to its end.
func offsetsLog(t *testing.T, s *stack.Stack, partition int32) []offsetstopic.Record {
	t.Helper()
	end := s.Cluster().PartitionInfo(coordinator.Topic, partition).HighWatermark
	if end == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.BrokerAddr()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{coordinator.Topic: {partition: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []offsetstopic.Record
	for int64(len(recs)) < end {
		fs := cl.PollFetches(t.Context())
		if err := fs.Err0(); err != nil {
			t.Fatalf("read %s[%d]: %v", coordinator.Topic, partition, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			rec, err := offsetstopic.Decode(r.Key, r.Value)
			if err != nil {
				t.Fatalf("%s[%d] offset %d does not decode: %v", coordinator.Topic, partition, r.Offset, err)
			}
			recs = append(recs, rec)
		})
	}
	return recs
}

// waitLog waits until the partition holds n records and returns them.
func waitLog(t *testing.T, s *stack.Stack, partition int32, n int) []offsetstopic.Record {
	t.Helper()
	var end int64
	poll.Until(t, 5*time.Second, fmt.Sprintf("%d records in %s[%d]", n, coordinator.Topic, partition), func() bool {
		end = s.Cluster().PartitionInfo(coordinator.Topic, partition).HighWatermark
		return end >= int64(n)
	}, func() string { return fmt.Sprintf("%d records", end) })
	return offsetsLog(t, s, partition)
}

// summary is a record on one short line: "commit users/0=7",
// "deleted users/0", "metadata gen 1", "group deleted".
func summary(r offsetstopic.Record) string {
	switch r.Kind {
	case offsetstopic.KindOffsetCommit:
		return fmt.Sprintf("commit %s/%d=%d", r.Commit.Topic, r.Commit.Partition, *r.Commit.Offset)
	case offsetstopic.KindOffsetDeleted:
		return fmt.Sprintf("deleted %s/%d", r.Commit.Topic, r.Commit.Partition)
	case offsetstopic.KindGroupMetadata:
		return fmt.Sprintf("metadata gen %d", r.Metadata.Generation)
	case offsetstopic.KindGroupDeleted:
		return "group deleted"
	}
	return string(r.Kind)
}

func summaries(rs []offsetstopic.Record) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = summary(r)
	}
	return strings.Join(s, "; ")
}

// expectLog waits until the group's partition holds as many records as
// want names and checks they are those, in that order.
func expectLog(t *testing.T, s *stack.Stack, group string, want ...string) {
	t.Helper()
	p := coordinator.Partition(group, coordinator.DefaultPartitions)
	if got := summaries(waitLog(t, s, p, len(want))); got != strings.Join(want, "; ") {
		t.Fatalf("%s[%d] holds %q, want %q", coordinator.Topic, p, got, strings.Join(want, "; "))
	}
}

// usersStack starts a stack of the test's own with a topic "users" of 3
// partitions, and a client of it.
func usersStack(t *testing.T, edit ...func(*stack.Options)) (*stack.Stack, *kgo.Client) {
	t.Helper()
	t.Parallel()
	s := stacktest.Start(t, edit...)
	createTopic(t, s.BrokerAddr(), "users", 3)
	return s, client(t, s)
}

// client is a franz-go client that speaks as Kafka 3.8 does (OffsetCommit
// naming topics, not topic ids), closed when the test ends.
func client(t *testing.T, s *stack.Stack) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.BrokerAddr()), kgo.MaxVersions(kversion.V3_8_0()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// commitRequest is an OffsetCommit of offsets in topic, with no leader
// epoch.
func commitRequest(group string, generation int32, topic string, offsets map[int32]int64) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.Generation = group, generation
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	for p, o := range offsets {
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = p, o, -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	return req
}

// commit sends one OffsetCommit as a consumer that assigned itself its
// partitions would (generation -1, no member), or with the given
// generation, and returns the error of each partition.
func commit(t *testing.T, cl *kgo.Client, group string, generation int32, topic string, offsets map[int32]int64) map[int32]error {
	t.Helper()
	resp, err := commitRequest(group, generation, topic, offsets).RequestWith(t.Context(), cl)
	if err != nil {
		t.Fatalf("offset commit for %s: %v", group, err)
	}
	errs := map[int32]error{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			errs[rp.Partition] = kerr.ErrorForCode(rp.ErrorCode)
		}
	}
	return errs
}

func mustCommit(t *testing.T, cl *kgo.Client, group, topic string, offsets map[int32]int64) {
	t.Helper()
	for p, err := range commit(t, cl, group, -1, topic, offsets) {
		if err != nil {
			t.Fatalf("commit %s[%d] for %s: %v", topic, p, group, err)
		}
	}
}

// Kafka's coordinator appends a record for each partition a commit stored,
// in the order it stored them, and nothing for a commit it refused.
func TestOffsetsTopicHoldsEachSuccessfulCommitInOrder(t *testing.T) {
	s, cl := usersStack(t)
	const group = "metadata_group"
	p := coordinator.Partition(group, coordinator.DefaultPartitions)

	mustCommit(t, cl, group, "users", map[int32]int64{0: 5})
	mustCommit(t, cl, group, "users", map[int32]int64{0: 7})
	// An empty group takes only commits without a generation.
	if errs := commit(t, cl, group, 3, "users", map[int32]int64{0: 99}); errs[0] == nil {
		t.Fatalf("a commit with generation 3 to an empty group succeeded; want ILLEGAL_GENERATION")
	}
	if errs := commit(t, cl, group, -1, "no-such-topic", map[int32]int64{0: 1}); errs[0] == nil {
		t.Fatalf("a commit for a topic that does not exist succeeded")
	}
	mustCommit(t, cl, group, "users", map[int32]int64{1: 2})

	// The records of one group are written in order, so a record of the
	// refused commits would come before the last one.
	expectLog(t, s, group, "commit users/0=5", "commit users/0=7", "commit users/1=2")
	for q := range int32(coordinator.DefaultPartitions) {
		if n := s.Cluster().PartitionInfo(coordinator.Topic, q).HighWatermark; q != p && n != 0 {
			t.Errorf("partition %d of %s holds %d records; only %d should", q, coordinator.Topic, n, p)
		}
	}
	recs := offsetsLog(t, s, p)
	if r := recs[0]; r.KeyVersion != 1 || r.ValueVersion == nil || *r.ValueVersion != 3 || r.Group != group || r.Commit.CommitTime == nil {
		t.Fatalf("first record: %+v, want key v1, value v3, group %s, a commit time", r, group)
	}
}

// A deleted offset and a deleted group leave tombstones, as on Kafka.
func TestOffsetsTopicTombstones(t *testing.T) {
	s, cl := usersStack(t)
	const group = "metadata_group2"
	mustCommit(t, cl, group, "users", map[int32]int64{0: 4, 1: 6})

	del := kmsg.NewPtrOffsetDeleteRequest()
	del.Group = group
	dt := kmsg.NewOffsetDeleteRequestTopic()
	dt.Topic = "users"
	dp := kmsg.NewOffsetDeleteRequestTopicPartition()
	dp.Partition = 0
	dt.Partitions = append(dt.Partitions, dp)
	del.Topics = append(del.Topics, dt)
	if resp, err := del.RequestWith(t.Context(), cl); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("offset delete: %v %v", err, resp)
	}
	dg := kmsg.NewPtrDeleteGroupsRequest()
	dg.Groups = []string{group}
	if resp, err := dg.RequestWith(t.Context(), cl); err != nil || resp.Groups[0].ErrorCode != 0 {
		t.Fatalf("delete group: %v %v", err, resp)
	}
	expectLog(t, s, group, "commit users/0=4", "commit users/1=6", "deleted users/0", "deleted users/1")
}

// A transaction's offsets are recorded when it commits, never when it
// aborts.
func TestOffsetsTopicRecordsCommittedTransactionsOnly(t *testing.T) {
	s, cl := usersStack(t)
	const group = "txn-group"

	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = kmsg.StringPtr("t1"), 30000
	ir, err := init.RequestWith(t.Context(), cl)
	if err != nil || ir.ErrorCode != 0 {
		t.Fatalf("init producer id: %v %+v", err, ir)
	}
	pid, epoch := ir.ProducerID, ir.ProducerEpoch
	txn := func(offset int64, commit bool) {
		t.Helper()
		add := kmsg.NewPtrAddOffsetsToTxnRequest()
		add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = "t1", pid, epoch, group
		if r, err := add.RequestWith(t.Context(), cl); err != nil || r.ErrorCode != 0 {
			t.Fatalf("add offsets to txn: %v %+v", err, r)
		}
		oc := kmsg.NewPtrTxnOffsetCommitRequest()
		oc.TransactionalID, oc.Group, oc.ProducerID, oc.ProducerEpoch, oc.Generation = "t1", group, pid, epoch, -1
		rt := kmsg.NewTxnOffsetCommitRequestTopic()
		rt.Topic = "users"
		rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = 0, offset, -1
		rt.Partitions = append(rt.Partitions, rp)
		oc.Topics = append(oc.Topics, rt)
		if r, err := oc.RequestWith(t.Context(), cl); err != nil || r.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("txn offset commit: %v %+v", err, r)
		}
		end := kmsg.NewPtrEndTxnRequest()
		end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = "t1", pid, epoch, commit
		r, err := end.RequestWith(t.Context(), cl)
		if err != nil || r.ErrorCode != 0 {
			t.Fatalf("end txn: %v %+v", err, r)
		}
		if end.Version >= 5 {
			epoch = r.ProducerEpoch // KIP-890 bumps the epoch each transaction
		}
	}
	txn(10, false)
	txn(20, true)
	mustCommit(t, cl, group, "users", map[int32]int64{1: 1})
	expectLog(t, s, group, "commit users/0=20", "commit users/1=1")
}

// The topic and what it holds survive a broker restart from the data dir,
// and the restarted broker writes each new commit once, after them.
func TestOffsetsTopicSurvivesARestart(t *testing.T) {
	s, _ := usersStack(t, func(o *stack.Options) { o.DataDir = t.TempDir() })
	const group = "metadata_group"
	p := coordinator.Partition(group, coordinator.DefaultPartitions)
	mustCommit(t, client(t, s), group, "users", map[int32]int64{0: 3})
	waitLog(t, s, p, 1)
	if err := s.RestartBroker(); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, client(t, s), group, "users", map[int32]int64{2: 8})
	expectLog(t, s, group, "commit users/0=3", "commit users/2=8")
}

// The topic is marked internal in Metadata, as Kafka marks it, and is
// compacted; its batches are not compressed (Kafka's
// offsets.topic.compression.codec is none), which KafkaJS needs.
func TestOffsetsTopicIsInternalAndCompacted(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t, func(o *stack.Options) { o.OffsetsPartitions = 7 })
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(t.Context(), client(t, s))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tp := range resp.Topics {
		if tp.Topic != nil && *tp.Topic == coordinator.Topic {
			found = true
			if !tp.IsInternal || len(tp.Partitions) != 7 {
				t.Fatalf("%s: internal %v, %d partitions; want internal, 7", coordinator.Topic, tp.IsInternal, len(tp.Partitions))
			}
		}
	}
	if !found {
		t.Fatalf("Metadata has no %s", coordinator.Topic)
	}
	// DescribeConfigs shows kfake's own config that marks it, which Kafka
	// has no such thing as.
	dc := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, coordinator.Topic
	dc.Resources = append(dc.Resources, res)
	dr, err := dc.RequestWith(t.Context(), client(t, s))
	if err != nil {
		t.Fatal(err)
	}
	cfgs := map[string]string{}
	for _, c := range dr.Resources[0].Configs {
		if c.Value != nil {
			cfgs[c.Name] = *c.Value
		}
	}
	if cfgs["cleanup.policy"] != "compact" || cfgs["kfake.is_internal"] != "true" {
		t.Fatalf("%s's configs: cleanup.policy=%q kfake.is_internal=%q, want compact and true", coordinator.Topic, cfgs["cleanup.policy"], cfgs["kfake.is_internal"])
	}

	// One commit of 100 partitions: a batch that compression would shrink.
	createTopic(t, s.BrokerAddr(), "users", 100)
	offsets := map[int32]int64{}
	for q := range int32(100) {
		offsets[q] = 1
	}
	const group = "app"
	mustCommit(t, client(t, s), group, "users", offsets)
	p := coordinator.Partition(group, 7)
	waitLog(t, s, p, 100)
	fetch := kmsg.NewPtrFetchRequest()
	fetch.MaxBytes = 1 << 20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic, ft.TopicID = coordinator.Topic, s.Cluster().TopicInfo(coordinator.Topic).TopicID
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition, fp.PartitionMaxBytes = p, 1<<20
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)
	fr, err := fetch.RequestWith(t.Context(), client(t, s))
	if err != nil {
		t.Fatal(err)
	}
	for b := fr.Topics[0].Partitions[0].RecordBatches; len(b) > 0; {
		var batch kmsg.RecordBatch
		if err := batch.ReadFrom(b); err != nil {
			t.Fatalf("fetch %s[%d]: %v", coordinator.Topic, p, err)
		}
		if codec := batch.Attributes & 0x07; codec != 0 {
			t.Fatalf("%s[%d] has a batch of %d records with compression codec %d, want 0 (none)", coordinator.Topic, p, batch.NumRecords, codec)
		}
		b = b[12+batch.Length:]
	}
}

// Commits that reach the broker back to back, from many connections at
// once, faster than anything could poll kfake's state, still get a record
// each.
func TestOffsetsTopicRecordsBackToBackCommitsSeparately(t *testing.T) {
	s, _ := usersStack(t)
	const group, n = "back-to-back", 40
	p := coordinator.Partition(group, coordinator.DefaultPartitions)
	clients := make([]*kgo.Client, n)
	for i := range clients {
		clients[i] = client(t, s)
		if err := clients[i].Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, n)
	for i, cl := range clients {
		go func() {
			resp, err := commitRequest(group, -1, "users", map[int32]int64{0: int64(i + 1)}).RequestWith(t.Context(), cl)
			if err == nil {
				err = kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	recs := waitLog(t, s, p, n)
	seen := map[int64]bool{}
	for _, r := range recs {
		seen[*r.Commit.Offset] = true
	}
	if len(recs) != n || len(seen) != n {
		t.Fatalf("%d commits wrote %d records of %d offsets: %s", n, len(recs), len(seen), summaries(recs))
	}
}

// BenchmarkCommitToRecord measures how long after a commit's answer its
// record is in __consumer_offsets (the partition's log end has moved):
// Kafka appends the record before it answers, the embedded stack after.
// It reports the mean and the largest delay.
func BenchmarkCommitToRecord(b *testing.B) {
	s := stacktest.Start(b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.BrokerAddr()), kgo.MaxVersions(kversion.V3_8_0()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "users", 1, 1
	req.Topics = append(req.Topics, rt)
	if _, err := req.RequestWith(b.Context(), cl); err != nil {
		b.Fatal(err)
	}
	const group = "metadata_group"
	p := coordinator.Partition(group, coordinator.DefaultPartitions)
	var total, longest time.Duration
	var i int64
	for b.Loop() {
		i++
		if _, err := commitRequest(group, -1, "users", map[int32]int64{0: i}).RequestWith(b.Context(), cl); err != nil {
			b.Fatal(err)
		}
		answered := time.Now()
		for s.Cluster().PartitionInfo(coordinator.Topic, p).HighWatermark < i {
			if time.Since(answered) > 5*time.Second {
				b.Fatalf("commit %d has no record after 5s", i)
			}
		}
		d := time.Since(answered)
		total += d
		longest = max(longest, d)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(i)/1000, "ms-mean-delay")
	b.ReportMetric(float64(longest.Microseconds())/1000, "ms-max-delay")
}

// Offsets that expire leave tombstones, as Kafka's expiry writes them.
func TestOffsetsTopicTombstonesExpiredOffsets(t *testing.T) {
	s, _ := usersStack(t, func(o *stack.Options) {
		o.BrokerConfigs = map[string]string{"offset.retention.ms": "300", "offsets.retention.check.interval.ms": "100"}
	})
	const group = "expiring"
	mustCommit(t, client(t, s), group, "users", map[int32]int64{2: 11})
	expectLog(t, s, group, "commit users/2=11", "deleted users/2")
}

// A classic group's metadata is stored when a rebalance completes, with
// the protocol, the leader and each member's subscription and assignment,
// and again, empty and a generation later, when its last member leaves.
func TestOffsetsTopicStoresClassicGroupMetadata(t *testing.T) {
	s, _ := usersStack(t)
	const group = "classic"
	p := coordinator.Partition(group, coordinator.DefaultPartitions)
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.BrokerAddr()), kgo.ConsumerGroup(group), kgo.ConsumeTopics("users"),
		kgo.Balancers(kgo.RangeBalancer()), kgo.ClientID("member-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cluster().WaitGroupStable(t.Context(), group, 1); err != nil {
		t.Fatal(err)
	}
	recs := waitLog(t, s, p, 1)
	m := recs[0].Metadata
	if recs[0].Kind != offsetstopic.KindGroupMetadata || m.ProtocolType != "consumer" || m.Protocol == nil || *m.Protocol != "range" ||
		m.Leader == nil || len(m.Members) != 1 || *m.Leader != m.Members[0].MemberID || m.Members[0].ClientID != "member-1" ||
		len(m.Members[0].Assignment["users"]) != 3 || m.Members[0].SessionTimeoutMs != 45000 {
		t.Fatalf("group metadata after the first rebalance: %+v", recs[0])
	}
	cl.Close() // leaves the group
	recs = waitLog(t, s, p, 2)
	if m := recs[1].Metadata; recs[1].Kind != offsetstopic.KindGroupMetadata || m.Generation != recs[0].Metadata.Generation+1 || len(m.Members) != 0 || m.Protocol != nil {
		t.Fatalf("group metadata after the last member left: %+v", recs[1])
	}
}
