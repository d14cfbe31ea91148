// Package offsetstopic decodes the records of Kafka's internal
// __consumer_offsets topic with franz-go's kmsg types: offset commits,
// group metadata, and the tombstones that delete them.
//
// Every record's key starts with an int16 that says what the record is:
//
//	0, 1  an offset commit: key (group, topic, partition), value
//	      OffsetCommitValue v0-v4 (offset, leader epoch, metadata, commit
//	      time, expire time in v1); a null value deletes the offset
//	2     a classic group's metadata: key (group), value GroupMetadataValue
//	      v0-v4 (protocol type, generation, protocol, leader, members); a
//	      null value deletes the group
//	3-8, 16      KIP-848 consumer group records
//	9-15         KIP-932 share group records
//	17, 18, ...  KIP-1071 streams group records, and anything newer
//
// kmsg has no types for the records from 3 on; they are reported as such,
// with the group id every one of their keys starts with.
package offsetstopic

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kind is what a record says.
type Kind string

// The kinds of record.
const (
	KindOffsetCommit  Kind = "offset-commit"
	KindOffsetDeleted Kind = "offset-deleted" // tombstone of an offset commit
	KindGroupMetadata Kind = "group-metadata"
	KindGroupDeleted  Kind = "group-deleted" // tombstone of a group
	KindUnknown       Kind = "unknown"       // a record type kmsg has no type for
)

// Record is one decoded __consumer_offsets record.
type Record struct {
	Kind Kind `json:"kind"`
	// KeyVersion is the key's leading int16: the record type.
	KeyVersion int16 `json:"key_version"`
	// ValueVersion is the value's leading int16; nil for a tombstone.
	ValueVersion *int16 `json:"value_version"`
	Group        string `json:"group"`

	Commit   *Commit        `json:"commit,omitempty"`
	Metadata *GroupMetadata `json:"group_metadata,omitempty"`
	// RecordType names a record kmsg cannot decode, as Kafka names it.
	RecordType string `json:"record_type,omitempty"`
}

// Commit is an offset commit, or (Offset nil) the deletion of one.
type Commit struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Offset is the next offset the group reads in the partition.
	Offset *int64 `json:"offset,omitempty"`
	// LeaderEpoch is the leader epoch of the committed record (v3+; -1:
	// not known).
	LeaderEpoch *int32     `json:"leader_epoch,omitempty"`
	Metadata    *string    `json:"metadata,omitempty"`
	CommitTime  *Timestamp `json:"commit_time,omitempty"`
	// ExpireTime is when the offset expires (v1 only; KIP-211 moved
	// expiry to the broker).
	ExpireTime *Timestamp `json:"expire_time,omitempty"`
}

// GroupMetadata is a classic group's state as its coordinator stored it.
type GroupMetadata struct {
	ProtocolType string `json:"protocol_type"`
	Generation   int32  `json:"generation"`
	// Protocol is the assignor the members agreed on (range, roundrobin,
	// cooperative-sticky for consumers).
	Protocol *string `json:"protocol"`
	Leader   *string `json:"leader"`
	// StateTime is when the group entered this state (v2+).
	StateTime *Timestamp `json:"state_time,omitempty"`
	Members   []Member   `json:"members"`
}

// Member is one member in a group's metadata.
type Member struct {
	MemberID           string  `json:"member_id"`
	InstanceID         *string `json:"instance_id,omitempty"` // v3+, static membership
	ClientID           string  `json:"client_id"`
	ClientHost         string  `json:"client_host"`
	RebalanceTimeoutMs int32   `json:"rebalance_timeout_ms"` // v1+; -1 before
	SessionTimeoutMs   int32   `json:"session_timeout_ms"`
	// Subscription and Assignment are decoded for protocol type
	// "consumer"; other protocols' bytes are only counted.
	Subscription []string           `json:"subscription,omitempty"`
	Assignment   map[string][]int32 `json:"assignment,omitempty"`
	RawBytes     int                `json:"raw_bytes,omitempty"`
}

// ErrTooShort is a key or value too short to hold its version.
var ErrTooShort = errors.New("shorter than the 2-byte version")

// Decode decodes one record of __consumer_offsets. A nil or empty value is
// a tombstone. It never panics, whatever the bytes.
func Decode(key, value []byte) (Record, error) {
	if len(key) < 2 {
		return Record{}, fmt.Errorf("key: %w", ErrTooShort)
	}
	r := Record{KeyVersion: int16(binary.BigEndian.Uint16(key))}
	tombstone := len(value) == 0
	if !tombstone {
		if len(value) < 2 {
			return r, fmt.Errorf("value: %w", ErrTooShort)
		}
		v := int16(binary.BigEndian.Uint16(value))
		r.ValueVersion = &v
	}
	switch r.KeyVersion {
	case 0, 1:
		return decodeOffsetCommit(r, key, value, tombstone)
	case 2:
		return decodeGroupMetadata(r, key, value, tombstone)
	}
	if r.KeyVersion < 0 {
		return r, fmt.Errorf("key version %d is not a record type", r.KeyVersion)
	}
	r.Kind = KindUnknown
	r.RecordType = recordType(r.KeyVersion)
	// Every coordinator record key since KIP-848 starts with the group id.
	var k kmsg.GroupMetadataKey
	if err := k.ReadFrom(key); err == nil {
		r.Group = k.Group
	}
	return r, nil
}

func decodeOffsetCommit(r Record, key, value []byte, tombstone bool) (Record, error) {
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(key); err != nil {
		return r, fmt.Errorf("offset commit key v%d: %w", r.KeyVersion, err)
	}
	r.Group = k.Group
	r.Commit = &Commit{Topic: k.Topic, Partition: k.Partition}
	if tombstone {
		r.Kind = KindOffsetDeleted
		return r, nil
	}
	r.Kind = KindOffsetCommit
	if *r.ValueVersion < 0 || *r.ValueVersion > 4 {
		return r, fmt.Errorf("offset commit value v%d: known versions are 0 to 4", *r.ValueVersion)
	}
	if *r.ValueVersion >= 4 {
		if err := checkTags(r.KeyVersion, value); err != nil {
			return r, fmt.Errorf("offset commit value v%d: %w", *r.ValueVersion, err)
		}
	}
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(value); err != nil {
		return r, fmt.Errorf("offset commit value v%d: %w", *r.ValueVersion, err)
	}
	c := r.Commit
	c.Offset = &v.Offset
	c.Metadata = &v.Metadata
	c.CommitTime = millis(v.CommitTimestamp)
	if v.Version >= 3 {
		c.LeaderEpoch = &v.LeaderEpoch
	}
	if v.Version == 1 {
		c.ExpireTime = millis(v.ExpireTimestamp)
	}
	return r, nil
}

func decodeGroupMetadata(r Record, key, value []byte, tombstone bool) (Record, error) {
	var k kmsg.GroupMetadataKey
	if err := k.ReadFrom(key); err != nil {
		return r, fmt.Errorf("group metadata key v%d: %w", r.KeyVersion, err)
	}
	r.Group = k.Group
	if tombstone {
		r.Kind = KindGroupDeleted
		return r, nil
	}
	r.Kind = KindGroupMetadata
	if *r.ValueVersion < 0 || *r.ValueVersion > 4 {
		return r, fmt.Errorf("group metadata value v%d: known versions are 0 to 4", *r.ValueVersion)
	}
	if *r.ValueVersion >= 4 {
		if err := checkTags(r.KeyVersion, value); err != nil {
			return r, fmt.Errorf("group metadata value v%d: %w", *r.ValueVersion, err)
		}
	}
	var v kmsg.GroupMetadataValue
	if err := v.ReadFrom(value); err != nil {
		return r, fmt.Errorf("group metadata value v%d: %w", *r.ValueVersion, err)
	}
	g := &GroupMetadata{ProtocolType: v.ProtocolType, Generation: v.Generation, Protocol: v.Protocol, Leader: v.Leader, Members: []Member{}}
	if v.Version >= 2 {
		g.StateTime = millis(v.CurrentStateTimestamp)
	}
	for _, m := range v.Members {
		mm := Member{MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, ClientHost: m.ClientHost,
			RebalanceTimeoutMs: m.RebalanceTimeoutMillis, SessionTimeoutMs: m.SessionTimeoutMillis}
		if v.ProtocolType == "consumer" && consumerProtocol(&mm, m.Subscription, m.Assignment) {
			g.Members = append(g.Members, mm)
			continue
		}
		mm.RawBytes = len(m.Subscription) + len(m.Assignment)
		g.Members = append(g.Members, mm)
	}
	r.Metadata = g
	return r, nil
}

// consumerProtocol decodes a consumer group member's subscription and
// assignment (the consumer embedded protocol). It reports false, leaving
// m alone, when the bytes do not decode.
func consumerProtocol(m *Member, subscription, assignment []byte) bool {
	var s kmsg.ConsumerMemberMetadata
	var a kmsg.ConsumerMemberAssignment
	if len(subscription) > 0 && s.ReadFrom(subscription) != nil {
		return false
	}
	if len(assignment) > 0 && a.ReadFrom(assignment) != nil {
		return false
	}
	m.Subscription = s.Topics
	for _, t := range a.Topics {
		if m.Assignment == nil {
			m.Assignment = map[string][]int32{}
		}
		m.Assignment[t.Topic] = append(m.Assignment[t.Topic], t.Partitions...)
	}
	return true
}

// recordTypes are the names Kafka's group coordinator gives the record
// types kmsg has no type for (group-coordinator/src/main/resources/common/
// message/*Key.json).
var recordTypes = map[int16]string{
	3:  "ConsumerGroupMetadata (KIP-848)",
	4:  "ConsumerGroupPartitionMetadata (KIP-848)",
	5:  "ConsumerGroupMemberMetadata (KIP-848)",
	6:  "ConsumerGroupTargetAssignmentMetadata (KIP-848)",
	7:  "ConsumerGroupTargetAssignmentMember (KIP-848)",
	8:  "ConsumerGroupCurrentMemberAssignment (KIP-848)",
	10: "ShareGroupMemberMetadata (KIP-932)",
	11: "ShareGroupMetadata (KIP-932)",
	14: "ShareGroupCurrentMemberAssignment (KIP-932)",
	15: "ShareGroupStatePartitionMetadata (KIP-932)",
	16: "ConsumerGroupRegularExpression (KIP-848)",
	17: "StreamsGroupMetadata (KIP-1071)",
	18: "StreamsGroupTopology (KIP-1071)",
}

func recordType(v int16) string {
	if name, ok := recordTypes[v]; ok {
		return name
	}
	if v >= 9 && v <= 15 {
		return "a share group record (KIP-932)"
	}
	return "a record type offsetlab does not know (a newer Kafka's?)"
}

// Timestamp is a Kafka timestamp, milliseconds since the Unix epoch.
type Timestamp int64

// millis turns a Kafka timestamp into a Timestamp; -1 (none) into nil.
func millis(ms int64) *Timestamp {
	if ms < 0 {
		return nil
	}
	t := Timestamp(ms)
	return &t
}

// Time is the timestamp as a time, in UTC.
func (t Timestamp) Time() time.Time { return time.UnixMilli(int64(t)).UTC() }

// String is RFC 3339 with milliseconds, or the number of milliseconds when
// the year would be past 9999 (a corrupt or hand-made record).
func (t Timestamp) String() string {
	if tm := t.Time(); tm.Year() <= 9999 {
		return tm.Format("2006-01-02T15:04:05.000Z07:00")
	}
	return fmt.Sprintf("%dms", int64(t))
}

// MarshalJSON writes the String form.
func (t Timestamp) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }
