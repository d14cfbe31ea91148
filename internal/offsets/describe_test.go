package offsets

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/poll"
)

// row is a describe row as a string, for compact comparisons:
// topic/partition committed log-start log-end lag client-id.
func rows(d describeJSON, group int) []string {
	var rs []string
	for _, p := range d.Groups[group].Partitions {
		rs = append(rs, fmt.Sprintf("%s/%d committed=%s start=%s end=%s lag=%s client=%s",
			p.Topic, p.Partition, ptrString(p.Committed), ptrString(p.LogStart), ptrString(p.LogEnd), ptrString(p.Lag), p.ClientID))
	}
	return rs
}

func TestDescribeUnknownGroupShowsNothingCommitted(t *testing.T) {
	e := newEnv(t)
	var d describeJSON
	e.jsonOf(&d, "describe", "--group", "never-seen")
	if len(d.Groups) != 1 {
		t.Fatalf("got %d groups, want 1", len(d.Groups))
	}
	g := d.Groups[0]
	if g.Group != "never-seen" || g.Members != 0 || g.TotalLag != 0 || len(g.Partitions) != 0 {
		t.Fatalf("unknown group described as %+v, want no members, no partitions, total lag 0", g)
	}
	text := e.must("describe", "--group", "never-seen")
	if !strings.Contains(text, "group never-seen: state "+g.State+", 0 members, total lag -") ||
		!strings.Contains(text, "nothing committed") {
		t.Fatalf("summary of an unknown group:\n%s", text)
	}
}

// A group the broker does not know comes with the groups it knows, closest
// first (on stderr, so that stdout stays the description).
func TestDescribeUnknownGroupListsKnownOnes(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("orders", 1)
	e.Produce("orders", 0, 3, time.Time{})
	_, stderr, err := e.offsets("describe", "--group", "worksop")
	if err != nil || stderr != "group worksop is unknown to the broker; known groups, closest first: none\n" {
		t.Fatalf("no groups at all: %v, stderr %q", err, stderr)
	}
	for _, g := range []string{"payments", "workshop", "demo-031200"} {
		e.Commit(g, map[string]map[int32]int64{"orders": {0: 1}})
	}
	_, stderr, err = e.offsets("describe", "--group", "worksop", "--group", "workshop")
	if want := "group worksop is unknown to the broker; known groups, closest first: workshop, payments, demo-031200\n"; err != nil || stderr != want {
		t.Errorf("stderr %q (%v), want %q", stderr, err, want)
	}
}

func TestDescribeActiveMemberBeforeAnyCommit(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("orders", 2)
	e.Produce("orders", 0, 5, time.Time{})
	e.Produce("orders", 1, 3, time.Time{})
	e.Join("app", "c1", "orders")

	var d describeJSON
	e.jsonOf(&d, "describe", "--group", "app")
	g := d.Groups[0]
	if g.State != "Stable" || g.Members != 1 || g.TotalLag != 0 {
		t.Fatalf("group: state %s, %d members, total lag %d; want Stable, 1, 0", g.State, g.Members, g.TotalLag)
	}
	want := []string{
		"orders/0 committed=null start=0 end=5 lag=null client=c1",
		"orders/1 committed=null start=0 end=3 lag=null client=c1",
	}
	if got := rows(d, 0); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, p := range g.Partitions {
		if p.Member == "" || p.Host == "" {
			t.Fatalf("assigned partition %s[%d] has member %q host %q, want both set", p.Topic, p.Partition, p.Member, p.Host)
		}
	}

	text := e.must("describe", "--group", "app")
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if lines[0] != "group app: state Stable, 1 member, total lag -" {
		t.Errorf("summary line: %q", lines[0])
	}
	if got := strings.Fields(lines[1]); !slices.Equal(got, []string{"TOPIC", "PARTITION", "COMMITTED", "LOG-START", "LOG-END", "LAG", "MEMBER", "CLIENT-ID", "HOST"}) {
		t.Errorf("header: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); len(f) != 9 || f[0] != "orders" || f[2] != "-" || f[5] != "-" || f[7] != "c1" {
		t.Errorf("row without a commit: %q, want committed and lag '-'", lines[2])
	}
}

func TestDescribeAfterPartialConsumption(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("orders", 1)
	e.CreateTopic("old", 2)
	e.Produce("orders", 0, 10, time.Time{})
	e.Produce("old", 1, 7, time.Time{})
	// The group once consumed "old"; it no longer does, but its commits stay.
	e.Commit("app", map[string]map[int32]int64{"old": {1: 2}})
	m := e.Join("app", "c1", "orders")
	m.CommitRead(m.Read(4))
	m.Close()

	var d describeJSON
	e.jsonOf(&d, "describe", "--group", "app")
	g := d.Groups[0]
	if g.State != "Empty" || g.Members != 0 || g.TotalLag != 6+5 {
		t.Log(rows(d, 0))
		t.Fatalf("group: state %s, %d members, total lag %d; want Empty, 0, 11", g.State, g.Members, g.TotalLag)
	}
	want := []string{
		"old/1 committed=2 start=0 end=7 lag=5 client=",
		"orders/0 committed=4 start=0 end=10 lag=6 client=",
	}
	if got := rows(d, 0); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	text := e.must("describe", "--group", "app")
	if !strings.HasPrefix(text, "group app: state Empty, 0 members, total lag 11\n") {
		t.Errorf("summary:\n%s", text)
	}
}

func TestDescribeActiveGroupTwoMembers(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("orders", 2)
	e.Produce("orders", 0, 8, time.Time{})
	e.Produce("orders", 1, 8, time.Time{})
	e.Commit("app", map[string]map[int32]int64{"orders": {0: 3}})
	e.Join("app", "c1", "orders")
	e.Join("app", "c2", "orders")

	// The second join rebalances the group; wait until both hold one partition.
	var d describeJSON
	poll.Until(t, 15*time.Second, "two members with one partition each", func() bool {
		d = describeJSON{}
		e.jsonOf(&d, "describe", "--group", "app")
		g := d.Groups[0]
		return g.State == "Stable" && g.Members == 2 && len(g.Partitions) == 2 &&
			g.Partitions[0].ClientID != "" && g.Partitions[1].ClientID != "" && g.Partitions[0].ClientID != g.Partitions[1].ClientID
	}, func() string { return fmt.Sprintf("%+v", d.Groups[0]) })
	p := d.Groups[0].Partitions
	if ptrString(p[0].Committed) != "3" || ptrString(p[0].Lag) != "5" || p[1].Committed != nil || p[1].Lag != nil {
		t.Fatalf("partitions: %s", rows(d, 0))
	}
	if d.Groups[0].TotalLag != 5 {
		t.Fatalf("total lag %d, want 5", d.Groups[0].TotalLag)
	}

	var members struct {
		Members []struct {
			Group      string `json:"group"`
			MemberID   string `json:"member_id"`
			InstanceID string `json:"instance_id"`
			ClientID   string `json:"client_id"`
			Host       string `json:"host"`
			Partitions int    `json:"partitions"`
			Assignment []struct {
				Topic     string `json:"topic"`
				Partition int32  `json:"partition"`
			} `json:"assignment"`
		} `json:"members"`
	}
	e.jsonOf(&members, "describe", "--group", "app", "--members")
	if len(members.Members) != 2 || members.Members[0].ClientID != "c1" || members.Members[1].ClientID != "c2" ||
		members.Members[0].Partitions != 1 || members.Members[1].Partitions != 1 {
		t.Fatalf("--members: %+v", members)
	}

	var states struct {
		Groups []struct {
			Group       string `json:"group"`
			State       string `json:"state"`
			Type        string `json:"type"`
			Assignor    string `json:"assignor"`
			Coordinator string `json:"coordinator"`
			Members     int    `json:"members"`
		} `json:"groups"`
	}
	e.jsonOf(&states, "describe", "--group", "app", "--state")
	if s := states.Groups[0]; s.State != "Stable" || s.Members != 2 || s.Assignor == "" {
		t.Fatalf("--state: %+v", states)
	}
	text := e.must("describe", "--group", "app", "--members")
	if !strings.Contains(text, "orders[") || !strings.Contains(text, "CLIENT-ID") {
		t.Fatalf("--members text:\n%s", text)
	}
}

// The describe JSON keeps exactly the contract's keys.
func TestDescribeJSONKeys(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("t", 1)
	e.Produce("t", 0, 3, time.Time{})
	e.Commit("g", map[string]map[int32]int64{"t": {0: 1}})
	var raw map[string][]map[string]json.RawMessage
	if err := json.Unmarshal([]byte(e.must("describe", "--group", "g", "--format", "json")), &raw); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]json.RawMessage) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	g := raw["groups"][0]
	if got := keys(g); !slices.Equal(got, []string{"group", "members", "partitions", "state", "total_lag"}) {
		t.Fatalf("group keys: %v", got)
	}
	var ps []map[string]json.RawMessage
	if err := json.Unmarshal(g["partitions"], &ps); err != nil {
		t.Fatal(err)
	}
	if got := keys(ps[0]); !slices.Equal(got, []string{"client_id", "committed", "host", "lag", "log_end", "log_start", "member", "partition", "topic"}) {
		t.Fatalf("partition keys: %v", got)
	}
}

func TestGroupsListsEveryGroup(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("t", 1)
	e.Commit("b-empty", map[string]map[int32]int64{"t": {0: 0}})
	e.Join("a-active", "c1", "t")
	var got struct {
		Groups []struct {
			Group       string `json:"group"`
			State       string `json:"state"`
			Type        string `json:"type"`
			Assignor    string `json:"assignor"`
			Coordinator string `json:"coordinator"`
			Members     int    `json:"members"`
		} `json:"groups"`
	}
	e.jsonOf(&got, "groups")
	if len(got.Groups) != 2 || got.Groups[0].Group != "a-active" || got.Groups[0].State != "Stable" || got.Groups[0].Members != 1 ||
		got.Groups[1].Group != "b-empty" || got.Groups[1].State != "Empty" || got.Groups[1].Members != 0 {
		t.Fatalf("groups: %+v", got.Groups)
	}
	text := e.must("groups")
	if !strings.Contains(text, "GROUP") || !strings.Contains(text, "a-active") {
		t.Fatalf("groups text:\n%s", text)
	}

	var all describeJSON
	e.jsonOf(&all, "describe", "--all-groups")
	if len(all.Groups) != 2 {
		t.Fatalf("describe --all-groups: %d groups, want 2", len(all.Groups))
	}
}
