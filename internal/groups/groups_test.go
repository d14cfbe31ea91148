package groups

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/groups/groupstest"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
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
	got, err := ReadResetFile(strings.NewReader("orders,0,5\n\norders, 1, 7\napp,payments,2,9\nother,payments,2,1\n"), "f.csv", "app")
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

// kfake difference: a member's host is the connection's remote address
// with its port ("127.0.0.1:54321"); Apache Kafka reports the client's
// address as Java prints an InetAddress, without a port ("/127.0.0.1").
// offsetlab shows what the broker says.
func TestKfakeMemberHostIncludesThePort(t *testing.T) {
	t.Parallel()
	s := stacktest.Start(t)
	k := groupstest.New(t, s.BrokerAddr())
	k.CreateTopic("orders", 1)
	k.Join("app", "c1", "orders")
	conn := &config.Connection{Bootstrap: s.BrokerAddr(), Timeout: 5 * time.Second}
	if err := conn.Load(); err != nil {
		t.Fatal(err)
	}
	admin, err := Open(t.Context(), conn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	gs, err := admin.Describe(t.Context(), []string{"app"})
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
	s := stacktest.Start(t)
	k := groupstest.New(t, s.BrokerAddr())
	k.CreateTopic("orders", 2)
	k.Commit("kip848", map[string]map[int32]int64{"orders": {0: 0}})
	k.JoinConsumerProtocol("kip848", "c1", "orders")
	conn := &config.Connection{Bootstrap: s.BrokerAddr(), Timeout: 5 * time.Second}
	if err := conn.Load(); err != nil {
		t.Fatal(err)
	}
	admin, err := Open(t.Context(), conn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	gs, err := admin.Describe(t.Context(), []string{"kip848"})
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
