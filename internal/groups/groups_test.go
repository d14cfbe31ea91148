package groups

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/groups/groupstest"
	"github.com/offsetlab/offsetlab/internal/poll"
)

func TestParseTopicScope(t *testing.T) {
	cases := []struct {
		in      string
		want    TopicScope
		wantErr string
	}{
		{"orders", TopicScope{Topic: "orders"}, ""},
		{"orders:2,0,2", TopicScope{Topic: "orders", Partitions: []int32{0, 2}}, ""},
		{" orders : 1 ", TopicScope{Topic: "orders", Partitions: []int32{1}}, ""},
		{"", TopicScope{}, "names no topic"},
		{":0", TopicScope{}, "names no topic"},
		{"orders:", TopicScope{}, `"" is not a partition number`},
		{"orders:-1", TopicScope{}, `"-1" is not a partition number`},
		{"orders:a", TopicScope{}, `"a" is not a partition number`},
	}
	for _, c := range cases {
		got, err := ParseTopicScope(c.in)
		if c.wantErr != "" {
			if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseTopicScope(%q): %v, want usage error %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseTopicScope(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestReadResetFile(t *testing.T) {
	// The byte order mark Excel writes is skipped.
	got, err := ReadResetFile(strings.NewReader("\ufefforders,0,5\n\norders, 1, 7\napp,payments,2,9\nother,payments,2,1\n"), "f.csv", "app")
	want := []FileEntry{{TP{Topic: "orders", Partition: 0}, 5}, {TP{Topic: "orders", Partition: 1}, 7}, {TP{Topic: "payments", Partition: 2}, 9}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	for in, wantErr := range map[string]string{
		"":                         "holds no offsets",
		"other,orders,0,1\n":       "offsets for other groups only, none for app",
		"orders,0\n":               "line 1: 2 fields",
		"orders,0,5\norders,x,1\n": "line 2: partition \"x\"",
		"orders,0,-3\n":            "line 1: offset \"-3\" is not an offset",
		"orders,0,5\norders,0,6\n": "line 2: orders[0] already given on line 1",
		",0,5\n":                   "line 1: empty topic",
		"\"orders,0,5\n":           "--from-file f.csv",
		// A stray fourth field is not another group's line.
		"orders,0,5,extra\n": `line 1 (4 fields: group,topic,partition,offset): offset "extra" is not an offset (0 or more)`,
	} {
		_, err := ReadResetFile(strings.NewReader(in), "f.csv", "app")
		if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ReadResetFile(%q): %v, want usage error %q", in, err, wantErr)
		}
	}
}

// Round trip: what WriteResetFile writes, ReadResetFile reads back.
func TestResetFileRoundTrip(t *testing.T) {
	plan := &Plan{Rows: []PlanRow{{Topic: "a,b", Partition: 0, New: 3}, {Topic: "orders", Partition: 11, New: 0}}}
	var b strings.Builder
	if err := WriteResetFile(&b, plan); err != nil {
		t.Fatal(err)
	}
	got, err := ReadResetFile(strings.NewReader(b.String()), "x", "g")
	want := []FileEntry{{TP{Topic: "a,b", Partition: 0}, 3}, {TP{Topic: "orders", Partition: 11}, 0}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip of %q: %+v, %v", b.String(), got, err)
	}
}

// A clean Close() leaves the group only for a dynamic member. A static
// member (group.instance.id, the consumer's --static-id) sends no
// LeaveGroup (KIP-345; librdkafka leaves only when group.instance.id is
// unset): it stays in the group with its partitions until its session times
// out, so a restart within the session gets them back, and `offsets reset`
// refuses the group until then. Under group.protocol=consumer a dynamic
// member leaves (member epoch -1); a static one sends the static leave
// (epoch -2), which keeps its place (see
// TestKfakeKeepsTheStaticMemberThatLeftForever for how kfake differs).
func TestCloseLeavesTheGroupOnlyForADynamicMember(t *testing.T) {
	t.Parallel()
	s, k := withOrders(t, 2)
	admin := openAdmin(t, s.BrokerAddr())
	describe := func(group string) *Group {
		t.Helper()
		gs, err := admin.DescribeGroups(t.Context(), []string{group})
		if err != nil {
			t.Fatal(err)
		}
		return gs[0]
	}
	for _, c := range []struct {
		group string
		extra kafka.ConfigMap
		stays bool
	}{
		{"dynamic", kafka.ConfigMap{"session.timeout.ms": 3000}, false},
		{"static", kafka.ConfigMap{"session.timeout.ms": 3000, "group.instance.id": "s1"}, true},
		{"dynamic-consumer-protocol", kafka.ConfigMap{"group.protocol": "consumer"}, false},
	} {
		k.JoinConfig(c.group, "c1", c.extra, "orders").Close()
		g := describe(c.group)
		if g.Active() != c.stays {
			t.Fatalf("%s member right after Close(): group %s, %d members; want it still a member: %v", c.group, g.State, g.Members, c.stays)
		}
		if c.stays {
			poll.Until(t, groupstest.Wait, "the "+c.group+" member's session to time out", func() bool {
				g = describe(c.group)
				return !g.Active()
			}, func() string { return fmt.Sprintf("group %s, %d members", g.State, g.Members) })
		}
	}
}

// A one-line error once named 100,000 topics in 789 KB.
func TestSomeOfBoundsAList(t *testing.T) {
	names := make([]string, 100000)
	for i := range names {
		names[i] = "t" + strconv.Itoa(i)
	}
	if got, want := someOf(names), "t0, t1, t2, t3, t4 and 99995 more"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := someOf(names[:6]); got != "t0, t1, t2, t3, t4, t5" {
		t.Fatalf("six names: %q", got)
	}
}
