package stack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/offsetlab/offsetlab/internal/coordinator"
)

// kfake keeps committed offsets and groups in memory (or its data dir), not
// in a __consumer_offsets topic. offsetsTopic gives the embedded broker that
// topic, written as Kafka's group coordinator writes it: an offset commit
// record (key v1, value v3) for each partition a successful commit stored,
// a classic group's metadata (key v2, value v3) when a rebalance completes
// or the group empties, and tombstones when offsets or groups are deleted or
// expire, each in partition coordinator.Partition(group) of a compacted
// topic marked internal, encoded with kmsg.
//
// kfake tells no one what it answered, so the topic is a mirror of kfake's
// group state, read with Cluster.GroupInfo and compared with what was last
// written. What makes it exact is when it reads:
//
//   - A control on every request that can change a group (OffsetCommit,
//     TxnOffsetCommit, EndTxn, OffsetDelete, DeleteGroups, JoinGroup,
//     SyncGroup, LeaveGroup) reads the groups touched since the last such
//     request, before kfake handles this one. kfake handles requests one at
//     a time, so every commit's effect is read on its own, after its handler
//     and before the next: a failed or fenced commit changes nothing and
//     writes nothing, two commits of one partition write two records, in
//     the order kfake applied them.
//   - An observing fault's When runs inside kfake's handler of those
//     requests; it wakes a reader whose GroupInfo is served only once the
//     handler is done, so a commit's record follows its answer within
//     milliseconds even when no request comes after it.
//   - A tick reads every known group, for what timers change: offsets
//     expiring, a member's session running out.
//
// It writes records with a franz-go client of the broker, as any producer
// would; they reach the log after the commit's answer, never before.
type offsetsTopic struct {
	c          *kfake.Cluster
	cl         *kgo.Client
	partitions int32
	closeOnce  sync.Once

	mu     sync.Mutex
	groups map[string]*groupState // what the topic says of each group
	dirty  map[string]bool        // groups a request may have changed since the last control read
	txns   map[string][]string    // transactional id -> groups its open transaction commits for

	// queue holds records for the writer, in order. Handing them over
	// never blocks: a read can run while kfake waits for a control, and
	// the client's Produce blocks when its buffer is full until kfake
	// takes records again.
	qmu    sync.Mutex
	queue  []*kgo.Record
	queued chan struct{}

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// offsetsTick is how often every known group is read for the changes kfake
// makes on timers (expiry, session timeouts).
const offsetsTick = 100 * time.Millisecond

// groupState is a group as last written to the topic.
type groupState struct {
	commits map[commitKey]kfake.GroupCommit
	// classic is set once a JoinGroup was seen: only classic groups have
	// GroupMetadata records (a KIP-848 group's records have no kmsg types).
	classic  bool
	state    string
	epoch    int32
	members  []string
	joins    map[string]*kmsg.JoinGroupRequest // member id (or instance id) -> its last JoinGroup
	sync     *kmsg.SyncGroupRequest            // the leader's last SyncGroup
	metadata bool                              // a GroupMetadata record was written
}

type commitKey struct {
	topic     string
	partition int32
}

// offsetsTopicKeys are the requests after which a group may have changed.
var offsetsTopicKeys = []kmsg.Key{kmsg.OffsetCommit, kmsg.TxnOffsetCommit, kmsg.EndTxn, kmsg.OffsetDelete, kmsg.DeleteGroups, kmsg.JoinGroup, kmsg.SyncGroup, kmsg.LeaveGroup}

// startOffsetsTopic creates the topic unless the data dir brought it back,
// learns the groups the broker already has, and starts mirroring.
func startOffsetsTopic(c *kfake.Cluster, partitions int, secrets *Secrets) (*offsetsTopic, error) {
	if c.TopicInfo(coordinator.Topic) == nil {
		cfg := map[string]string{"cleanup.policy": "compact", "kfake.is_internal": "true"}
		if err := c.CreateTopic(coordinator.Topic, int32(partitions), cfg); err != nil {
			return nil, fmt.Errorf("unable to create %s: %w", coordinator.Topic, err)
		}
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ProducerLinger(0),
		// Kafka's offsets.topic.compression.codec is none; franz-go's
		// default, snappy, would also shut out readers without it (KafkaJS).
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ClientID("offsetlab-group-coordinator"),
	}
	if secrets != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(secrets.CAPEM)
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}),
			kgo.SASL(plain.Auth{User: secrets.User, Pass: secrets.Password}.AsMechanism()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("unable to create the %s writer: %w", coordinator.Topic, err)
	}
	t := &offsetsTopic{
		c: c, cl: cl,
		partitions: int32(len(c.PartitionInfos(coordinator.Topic))),
		groups:     map[string]*groupState{},
		dirty:      map[string]bool{},
		txns:       map[string][]string{},
		queued:     make(chan struct{}, 1),
		wake:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		done:       make(chan struct{}, 2),
	}
	if err := t.learnGroups(); err != nil {
		cl.Close()
		return nil, err
	}
	for _, k := range offsetsTopicKeys {
		c.ControlKey(int16(k), t.control)
	}
	c.Fault(kfake.Fault{Keys: offsetsTopicKeys, Observe: true, Count: -1, When: t.handling})
	go t.run()
	go t.writer()
	return t, nil
}

// learnGroups takes the groups a restarted broker has as already written:
// the topic came back from the data dir with them.
func (t *offsetsTopic) learnGroups() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := kmsg.NewPtrListGroupsRequest().RequestWith(ctx, t.cl)
	if err != nil {
		return fmt.Errorf("unable to list the broker's groups: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, g := range resp.Groups {
		t.baseline(g.Group)
	}
	return nil
}

// baseline takes a group's current state as written, writing nothing.
func (t *offsetsTopic) baseline(group string) {
	if _, ok := t.groups[group]; ok {
		return
	}
	g := &groupState{commits: map[commitKey]kfake.GroupCommit{}, joins: map[string]*kmsg.JoinGroupRequest{}}
	if info := t.c.GroupInfo(group); info != nil {
		g.commits = flatten(info.Commits)
		g.state, g.epoch, g.members = info.State, info.Epoch, memberIDs(info)
	}
	t.groups[group] = g
}

// control runs before kfake handles a request that can change a group:
// it writes what the requests before it changed, then notes what this one
// may change. It never answers the request.
func (t *offsetsTopic) control(req kmsg.Request) (kmsg.Response, error, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.read(slices.Collect(maps.Keys(t.dirty)))
	clear(t.dirty)
	for _, group := range t.note(req) {
		t.baseline(group)
		t.dirty[group] = true
	}
	return nil, nil, false
}

// note keeps what a request tells that GroupInfo does not (join and sync
// details, a transaction's groups) and returns the groups it may change.
func (t *offsetsTopic) note(req kmsg.Request) []string {
	switch r := req.(type) {
	case *kmsg.OffsetCommitRequest:
		return []string{r.Group}
	case *kmsg.TxnOffsetCommitRequest:
		t.addTxnGroup(r.TransactionalID, r.Group)
	case *kmsg.EndTxnRequest:
		groups := t.txns[r.TransactionalID]
		delete(t.txns, r.TransactionalID)
		return groups
	case *kmsg.OffsetDeleteRequest:
		return []string{r.Group}
	case *kmsg.DeleteGroupsRequest:
		return r.Groups
	case *kmsg.JoinGroupRequest:
		t.baseline(r.Group)
		g := t.groups[r.Group]
		g.classic = true
		if r.MemberID != "" {
			g.joins[r.MemberID] = r
		}
		if r.InstanceID != nil {
			g.joins[*r.InstanceID] = r
		}
		return []string{r.Group}
	case *kmsg.SyncGroupRequest:
		if len(r.GroupAssignment) > 0 {
			t.baseline(r.Group)
			t.groups[r.Group].sync = r
		}
		return []string{r.Group}
	case *kmsg.LeaveGroupRequest:
		return []string{r.Group}
	}
	return nil
}

func (t *offsetsTopic) addTxnGroup(txnID, group string) {
	if !slices.Contains(t.txns[txnID], group) {
		t.txns[txnID] = append(t.txns[txnID], group)
	}
}

// handling runs on kfake's goroutine inside the handler of a request that
// can change a group: it wakes the reader, whose read kfake serves once the
// handler is done. It faults nothing.
func (t *offsetsTopic) handling(kmsg.Request) bool {
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return false
}

func (t *offsetsTopic) run() {
	defer func() { t.done <- struct{}{} }()
	tick := time.NewTicker(offsetsTick)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-t.wake:
			t.mu.Lock()
			t.read(slices.Collect(maps.Keys(t.dirty)))
			t.mu.Unlock()
		case <-tick.C:
			t.mu.Lock()
			t.read(slices.Collect(maps.Keys(t.groups)))
			t.mu.Unlock()
		}
	}
}

// read compares the groups with what the topic says of them and writes the
// difference. t.mu is held.
func (t *offsetsTopic) read(groups []string) {
	slices.Sort(groups)
	for _, name := range groups {
		g := t.groups[name]
		if g == nil {
			continue
		}
		info := t.c.GroupInfo(name)
		t.write(t.diff(name, g, info))
		if info == nil && g.gone() {
			delete(t.groups, name)
		}
	}
}

// gone says whether nothing of the group is left to write about.
func (g *groupState) gone() bool { return len(g.commits) == 0 && !g.metadata }

// diff returns the records that bring the topic from g to info, and makes
// g say what they say.
func (t *offsetsTopic) diff(group string, g *groupState, info *kfake.GroupInfo) []*kgo.Record {
	var recs []*kgo.Record
	now := time.Now()
	commits := map[commitKey]kfake.GroupCommit{}
	if info != nil {
		commits = flatten(info.Commits)
	}
	for _, k := range sortedKeys(g.commits) {
		if _, ok := commits[k]; !ok {
			recs = append(recs, t.record(group, offsetCommitKey(group, k), nil, now))
		}
	}
	for _, k := range sortedKeys(commits) {
		c := commits[k]
		if old, ok := g.commits[k]; ok && old.Offset == c.Offset && old.LeaderEpoch == c.LeaderEpoch && old.Metadata == c.Metadata && old.At.Equal(c.At) {
			continue
		}
		v := kmsg.NewOffsetCommitValue()
		v.Version = 3
		v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp = c.Offset, c.LeaderEpoch, c.Metadata, c.At.UnixMilli()
		recs = append(recs, t.record(group, offsetCommitKey(group, k), v.AppendTo(nil), c.At))
	}
	g.commits = commits

	if info == nil {
		if g.metadata {
			recs = append(recs, t.record(group, groupMetadataKey(group), nil, now))
			g.metadata = false
		}
		g.state, g.epoch, g.members = "", 0, nil
		return recs
	}
	members := memberIDs(info)
	changed := info.State != g.state || info.Epoch != g.epoch || !slices.Equal(members, g.members)
	g.state, g.epoch, g.members = info.State, info.Epoch, members
	// Kafka stores a classic group when a rebalance completes, and when
	// one leaves it empty: never a group that has not had members yet.
	if g.classic && changed && (info.State == "Stable" || info.State == "Empty" && g.metadata) {
		recs = append(recs, t.record(group, groupMetadataKey(group), g.metadataValue(info, now), now))
		g.metadata = true
		if info.State == "Stable" {
			g.forgetLeft(info)
		}
	}
	return recs
}

// metadataValue is the group's GroupMetadataValue v3, as Kafka's
// coordinator stores it after a rebalance: the protocol and leader from
// the leader's SyncGroup and the members' JoinGroups, the rest from kfake.
func (g *groupState) metadataValue(info *kfake.GroupInfo, now time.Time) []byte {
	v := kmsg.NewGroupMetadataValue()
	v.Version = 3
	v.ProtocolType = "consumer"
	v.Generation = info.Epoch
	v.CurrentStateTimestamp = now.UnixMilli()
	if info.State == "Empty" {
		for _, j := range g.joins {
			v.ProtocolType = j.ProtocolType
			break
		}
		return v.AppendTo(nil)
	}
	var leaderJoin *kmsg.JoinGroupRequest
	if g.sync != nil && g.sync.Generation == info.Epoch {
		v.Leader = kmsg.StringPtr(g.sync.MemberID)
		v.Protocol = g.sync.Protocol
		leaderJoin = g.joins[g.sync.MemberID]
	}
	if leaderJoin != nil {
		v.ProtocolType = leaderJoin.ProtocolType
		if v.Protocol == nil {
			v.Protocol = g.chosenProtocol(leaderJoin, info)
		}
	}
	for _, m := range info.Members {
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID, vm.InstanceID, vm.ClientID, vm.ClientHost = m.MemberID, m.InstanceID, m.ClientID, m.ClientHost
		vm.RebalanceTimeoutMillis, vm.SessionTimeoutMillis = -1, -1
		j := g.joins[m.MemberID]
		if j == nil && m.InstanceID != nil {
			j = g.joins[*m.InstanceID]
		}
		if j != nil {
			vm.RebalanceTimeoutMillis, vm.SessionTimeoutMillis = j.RebalanceTimeoutMillis, j.SessionTimeoutMillis
			for _, p := range j.Protocols {
				if v.Protocol != nil && p.Name == *v.Protocol {
					vm.Subscription = p.Metadata
				}
			}
		}
		if g.sync != nil && g.sync.Generation == info.Epoch {
			for _, a := range g.sync.GroupAssignment {
				if a.MemberID == m.MemberID {
					vm.Assignment = a.MemberAssignment
				}
			}
		}
		v.Members = append(v.Members, vm)
	}
	return v.AppendTo(nil)
}

// forgetLeft drops the JoinGroups of members no longer in a stable group,
// so a group whose consumers come and go keeps only its members'.
func (g *groupState) forgetLeft(info *kfake.GroupInfo) {
	for id := range g.joins {
		if !slices.ContainsFunc(info.Members, func(m kfake.GroupMember) bool {
			return m.MemberID == id || m.InstanceID != nil && *m.InstanceID == id
		}) {
			delete(g.joins, id)
		}
	}
}

// chosenProtocol is the leader's most preferred protocol that every member
// supports: the one the members' votes pick when they list the same ones.
func (g *groupState) chosenProtocol(leader *kmsg.JoinGroupRequest, info *kfake.GroupInfo) *string {
	for _, p := range leader.Protocols {
		all := true
		for _, m := range info.Members {
			j := g.joins[m.MemberID]
			if j == nil || !slices.ContainsFunc(j.Protocols, func(q kmsg.JoinGroupRequestProtocol) bool { return q.Name == p.Name }) {
				all = false
			}
		}
		if all {
			return kmsg.StringPtr(p.Name)
		}
	}
	return nil
}

// record is one record of the group's partition; a nil value is a tombstone.
func (t *offsetsTopic) record(group string, key, value []byte, ts time.Time) *kgo.Record {
	return &kgo.Record{Topic: coordinator.Topic, Partition: coordinator.Partition(group, int(t.partitions)), Key: key, Value: value, Timestamp: ts}
}

// write queues records for the writer. It does not wait.
func (t *offsetsTopic) write(recs []*kgo.Record) {
	if len(recs) == 0 {
		return
	}
	t.qmu.Lock()
	t.queue = append(t.queue, recs...)
	t.qmu.Unlock()
	select {
	case t.queued <- struct{}{}:
	default:
	}
}

// writer hands the queued records to the client, which keeps their order
// per partition.
func (t *offsetsTopic) writer() {
	defer func() { t.done <- struct{}{} }()
	for {
		t.drain()
		select {
		case <-t.stop:
			t.drain()
			return
		case <-t.queued:
		}
	}
}

func (t *offsetsTopic) drain() {
	t.qmu.Lock()
	recs := t.queue
	t.queue = nil
	t.qmu.Unlock()
	for _, r := range recs {
		t.cl.Produce(context.Background(), r, nil)
	}
}

// close stops mirroring and waits, within a bound, for what was written to
// reach the log.
// It may be called again: a stopped broker's mirror is closed already when
// the stack closes.
func (t *offsetsTopic) close() {
	t.closeOnce.Do(func() {
		close(t.stop)
		<-t.done
		<-t.done
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = t.cl.Flush(ctx)
		t.cl.Close()
	})
}

func offsetCommitKey(group string, k commitKey) []byte {
	key := kmsg.NewOffsetCommitKey()
	key.Version, key.Group, key.Topic, key.Partition = 1, group, k.topic, k.partition
	return key.AppendTo(nil)
}

func groupMetadataKey(group string) []byte {
	key := kmsg.NewGroupMetadataKey()
	key.Version, key.Group = 2, group
	return key.AppendTo(nil)
}

func flatten(in map[string]map[int32]kfake.GroupCommit) map[commitKey]kfake.GroupCommit {
	out := map[commitKey]kfake.GroupCommit{}
	for topic, ps := range in {
		for p, c := range ps {
			out[commitKey{topic, p}] = c
		}
	}
	return out
}

func sortedKeys(m map[commitKey]kfake.GroupCommit) []commitKey {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b commitKey) int {
		if a.topic != b.topic {
			if a.topic < b.topic {
				return -1
			}
			return 1
		}
		return int(a.partition - b.partition)
	})
	return keys
}

func memberIDs(info *kfake.GroupInfo) []string {
	ids := make([]string, len(info.Members))
	for i, m := range info.Members {
		ids[i] = m.MemberID
	}
	return ids
}
