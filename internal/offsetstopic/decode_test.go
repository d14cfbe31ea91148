package offsetstopic

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

var commitTime = time.Date(2025, 3, 14, 15, 9, 26, 535e6, time.UTC)

func commitKey(version int16) []byte {
	k := kmsg.NewOffsetCommitKey()
	k.Version, k.Group, k.Topic, k.Partition = version, "app", "orders", 7
	return k.AppendTo(nil)
}

func commitValue(version int16) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version = version
	v.Offset = 42
	v.LeaderEpoch = 5
	v.Metadata = "processed by c1"
	v.CommitTimestamp = commitTime.UnixMilli()
	v.ExpireTimestamp = commitTime.Add(24 * time.Hour).UnixMilli()
	return v.AppendTo(nil)
}

func groupKey() []byte {
	k := kmsg.NewGroupMetadataKey()
	k.Version, k.Group = 2, "app"
	return k.AppendTo(nil)
}

func groupValue(version int16, protocolType string) []byte {
	sub := kmsg.NewConsumerMemberMetadata()
	sub.Version, sub.Topics = 0, []string{"orders", "payments"}
	asg := kmsg.NewConsumerMemberAssignment()
	asg.Version = 0
	asg.Topics = []kmsg.ConsumerMemberAssignmentTopic{{Topic: "orders", Partitions: []int32{0, 2}}, {Topic: "payments", Partitions: []int32{1}}}
	m := kmsg.NewGroupMetadataValueMember()
	m.MemberID, m.ClientID, m.ClientHost = "c1-1234", "c1", "/10.0.0.7"
	instance := "static-1"
	m.InstanceID = &instance
	m.RebalanceTimeoutMillis, m.SessionTimeoutMillis = 300000, 45000
	m.Subscription, m.Assignment = sub.AppendTo(nil), asg.AppendTo(nil)

	v := kmsg.NewGroupMetadataValue()
	v.Version = version
	v.ProtocolType, v.Generation = protocolType, 3
	protocol, leader := "range", "c1-1234"
	v.Protocol, v.Leader = &protocol, &leader
	v.CurrentStateTimestamp = commitTime.UnixMilli()
	v.Members = []kmsg.GroupMetadataValueMember{m}
	return v.AppendTo(nil)
}

func TestDecodeOffsetCommitEveryVersion(t *testing.T) {
	for _, kv := range []int16{0, 1} {
		for vv := int16(0); vv <= 4; vv++ {
			r, err := Decode(commitKey(kv), commitValue(vv))
			if err != nil {
				t.Fatalf("key v%d value v%d: %v", kv, vv, err)
			}
			if r.Kind != KindOffsetCommit || r.KeyVersion != kv || *r.ValueVersion != vv || r.Group != "app" {
				t.Fatalf("key v%d value v%d: %+v", kv, vv, r)
			}
			c := r.Commit
			if c.Topic != "orders" || c.Partition != 7 || *c.Offset != 42 || *c.Metadata != "processed by c1" || !c.CommitTime.Time().Equal(commitTime) {
				t.Errorf("key v%d value v%d: commit %+v", kv, vv, c)
			}
			// The leader epoch exists from v3 (KIP-320); the expire time
			// only in v1 (KIP-211 dropped it).
			if got := c.LeaderEpoch != nil && *c.LeaderEpoch == 5; got != (vv >= 3) {
				t.Errorf("value v%d: leader epoch %v", vv, c.LeaderEpoch)
			}
			if got := c.ExpireTime != nil && c.ExpireTime.Time().Equal(commitTime.Add(24*time.Hour)); got != (vv == 1) {
				t.Errorf("value v%d: expire time %v", vv, c.ExpireTime)
			}
		}
	}
}

func TestDecodeGroupMetadataEveryVersion(t *testing.T) {
	for vv := int16(0); vv <= 4; vv++ {
		r, err := Decode(groupKey(), groupValue(vv, "consumer"))
		if err != nil {
			t.Fatalf("value v%d: %v", vv, err)
		}
		if r.Kind != KindGroupMetadata || r.KeyVersion != 2 || *r.ValueVersion != vv || r.Group != "app" {
			t.Fatalf("value v%d: %+v", vv, r)
		}
		g := r.Metadata
		if g.ProtocolType != "consumer" || g.Generation != 3 || *g.Protocol != "range" || *g.Leader != "c1-1234" || len(g.Members) != 1 {
			t.Fatalf("value v%d: %+v", vv, g)
		}
		if got := g.StateTime != nil && g.StateTime.Time().Equal(commitTime); got != (vv >= 2) {
			t.Errorf("value v%d: state time %v (from v2)", vv, g.StateTime)
		}
		m := g.Members[0]
		if m.MemberID != "c1-1234" || m.ClientID != "c1" || m.ClientHost != "/10.0.0.7" || m.SessionTimeoutMs != 45000 {
			t.Errorf("value v%d: member %+v", vv, m)
		}
		if got := m.InstanceID != nil && *m.InstanceID == "static-1"; got != (vv >= 3) {
			t.Errorf("value v%d: instance id %v (from v3)", vv, m.InstanceID)
		}
		wantRebalance := int32(-1)
		if vv >= 1 {
			wantRebalance = 300000
		}
		if m.RebalanceTimeoutMs != wantRebalance {
			t.Errorf("value v%d: rebalance timeout %d, want %d", vv, m.RebalanceTimeoutMs, wantRebalance)
		}
		if !reflect.DeepEqual(m.Subscription, []string{"orders", "payments"}) ||
			!reflect.DeepEqual(m.Assignment, map[string][]int32{"orders": {0, 2}, "payments": {1}}) {
			t.Errorf("value v%d: subscription %v assignment %v", vv, m.Subscription, m.Assignment)
		}
	}
}

func TestDecodeOtherProtocolKeepsBytesOpaque(t *testing.T) {
	r, err := Decode(groupKey(), groupValue(3, "connect"))
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metadata.Members[0]
	if m.Subscription != nil || m.Assignment != nil || m.RawBytes == 0 {
		t.Fatalf("a connect group's member: %+v, want its bytes counted, not decoded", m)
	}
}

func TestDecodeTombstones(t *testing.T) {
	for _, value := range [][]byte{nil, {}} {
		r, err := Decode(commitKey(1), value)
		if err != nil || r.Kind != KindOffsetDeleted || r.ValueVersion != nil || r.Commit.Offset != nil ||
			r.Commit.Topic != "orders" || r.Commit.Partition != 7 || r.Group != "app" {
			t.Fatalf("offset tombstone (value %v): %+v, %v", value, r, err)
		}
		r, err = Decode(groupKey(), value)
		if err != nil || r.Kind != KindGroupDeleted || r.Group != "app" || r.Metadata != nil {
			t.Fatalf("group tombstone (value %v): %+v, %v", value, r, err)
		}
	}
}

func TestDecodeUnknownRecordTypes(t *testing.T) {
	// KIP-848's member metadata key: type 5, then group id and member id.
	key := appendString([]byte{0, 5}, "app")
	key = appendString(key, "member-1")
	for _, c := range []struct {
		key  []byte
		want string
	}{
		{key, "ConsumerGroupMemberMetadata (KIP-848)"},
		{appendString([]byte{0, 12}, "share-app"), "a share group record (KIP-932)"},
		{appendString([]byte{0, 17}, "streams-app"), "StreamsGroupMetadata (KIP-1071)"},
		{[]byte{0x7f, 0xff}, "a record type offsetlab does not know (a newer Kafka's?)"},
	} {
		r, err := Decode(c.key, []byte{0, 0, 1, 2, 3})
		if err != nil || r.Kind != KindUnknown || r.RecordType != c.want {
			t.Errorf("key %x: %+v, %v; want unknown %q", c.key, r, err, c.want)
		}
		if !strings.Contains(r.String(), "not decoded") {
			t.Errorf("key %x: %s", c.key, r)
		}
	}
	r, _ := Decode(key, nil)
	if r.Group != "app" {
		t.Errorf("unknown record's group %q, want app", r.Group)
	}
}

func appendString(b []byte, s string) []byte {
	b = append(b, byte(len(s)>>8), byte(len(s)))
	return append(b, s...)
}

func TestDecodeErrors(t *testing.T) {
	full := commitValue(3)
	cases := []struct {
		name       string
		key, value []byte
	}{
		{"empty key", nil, full},
		{"one-byte key", []byte{0}, full},
		{"negative record type", []byte{0xff, 0xff}, full},
		{"truncated commit key", commitKey(1)[:6], full},
		{"one-byte value", commitKey(1), []byte{0}},
		{"truncated commit value", commitKey(1), full[:len(full)-3]},
		{"commit value v5", commitKey(1), append([]byte{0, 5}, full[2:]...)},
		{"truncated group value", groupKey(), groupValue(3, "consumer")[:20]},
		{"group value v9", groupKey(), append([]byte{0, 9}, groupValue(3, "consumer")[2:]...)},
	}
	for _, c := range cases {
		if r, err := Decode(c.key, c.value); err == nil {
			t.Errorf("%s: decoded as %+v, want an error", c.name, r)
		}
	}
	if _, err := Decode([]byte{1}, nil); !errors.Is(err, ErrTooShort) {
		t.Errorf("short key: %v, want ErrTooShort", err)
	}
}

func TestRecordString(t *testing.T) {
	r, _ := Decode(commitKey(1), commitValue(3))
	want := `offset-commit   group=app topic=orders partition=7 offset=42 leader-epoch=5 metadata="processed by c1" committed=2025-03-14T15:09:26.535Z (key v1, value v3)`
	if got := r.String(); got != want {
		t.Errorf("commit:\n got %s\nwant %s", got, want)
	}
	r, _ = Decode(groupKey(), groupValue(3, "consumer"))
	want = `group-metadata  group=app protocol-type=consumer protocol=range generation=3 leader=c1-1234 since=2025-03-14T15:09:26.535Z members=1 [c1-1234 client=c1 host=/10.0.0.7 instance=static-1 session=45000ms subscribed=orders,payments assigned=orders[0,2],payments[1]] (key v2, value v3)`
	if got := r.String(); got != want {
		t.Errorf("group:\n got %s\nwant %s", got, want)
	}
	r, _ = Decode(commitKey(1), nil)
	if got := r.String(); got != "offset-deleted  group=app topic=orders partition=7 (key v1, tombstone)" {
		t.Errorf("tombstone: %s", got)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(commitKey(0), commitValue(0))
	f.Add(commitKey(1), commitValue(1))
	f.Add(commitKey(1), commitValue(3))
	f.Add(commitKey(1), commitValue(4))
	f.Add(groupKey(), groupValue(0, "consumer"))
	f.Add(groupKey(), groupValue(4, "consumer"))
	f.Add(groupKey(), groupValue(3, "connect"))
	f.Add(groupKey(), []byte(nil))
	f.Add(appendString([]byte{0, 5}, "app"), []byte{0, 0})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		r, err := Decode(key, value)
		if err != nil {
			return
		}
		_ = r.String()
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("decoded record does not marshal: %v", err)
		}
		if (r.Commit != nil) != (r.KeyVersion == 0 || r.KeyVersion == 1) {
			t.Fatalf("key v%d decoded with commit %v", r.KeyVersion, r.Commit)
		}
	})
}

// Flexible values carry tagged fields; the guard against corrupt tag counts
// must let real ones through.
func TestDecodeFlexibleValuesWithTags(t *testing.T) {
	v := kmsg.NewOffsetCommitValue()
	v.Version, v.Offset, v.Metadata = 4, 9, "m"
	v.TopicID = [16]byte{1, 2, 3}
	v.UnknownTags.Set(7, []byte("future field"))
	r, err := Decode(commitKey(1), v.AppendTo(nil))
	if err != nil || *r.Commit.Offset != 9 {
		t.Fatalf("v4 commit with tags: %+v, %v", r, err)
	}
	g := kmsg.NewGroupMetadataValue()
	if err := g.ReadFrom(groupValue(4, "consumer")); err != nil {
		t.Fatal(err)
	}
	g.UnknownTags.Set(3, []byte{1, 2})
	g.Members[0].UnknownTags.Set(1, []byte("x"))
	r, err = Decode(groupKey(), g.AppendTo(nil))
	if err != nil || len(r.Metadata.Members) != 1 {
		t.Fatalf("v4 group metadata with tags: %+v, %v", r, err)
	}
}

// kmsg loops once per claimed tagged field; a count of 2^32-1 in a few
// bytes must be an error, not seconds of spinning.
func TestDecodeRejectsHugeTagCount(t *testing.T) {
	v := kmsg.NewOffsetCommitValue()
	v.Version = 4
	b := v.AppendTo(nil)
	b = append(b[:len(b)-1], 0xff, 0xff, 0xff, 0xff, 0x0f) // tag count uvarint 2^32-1
	if _, err := Decode(commitKey(1), b); err == nil || !strings.Contains(err.Error(), "tagged field count") {
		t.Fatalf("huge tag count: %v", err)
	}
	g := kmsg.NewGroupMetadataValue()
	g.Version = 4
	b = g.AppendTo(nil)
	b = append(b[:len(b)-1], 0xff, 0xff, 0xff, 0xff, 0x0f)
	if _, err := Decode(groupKey(), b); err == nil {
		t.Fatalf("huge group tag count decoded")
	}
}
