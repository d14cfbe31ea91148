package offsets

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/groups"
)

func TestDeleteGroup(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("orders", 2)
	e.Produce("orders", 0, 5, time.Time{})
	e.Commit("app", map[string]map[int32]int64{"orders": {0: 3, 1: 0}})
	e.Commit("keep", map[string]map[int32]int64{"orders": {0: 1}})

	if out := e.must("delete", "--group", "app"); out != "deleted group app\n" {
		t.Fatalf("delete output %q", out)
	}
	var d describeJSON
	e.jsonOf(&d, "describe", "--group", "app")
	if len(d.Groups[0].Partitions) != 0 {
		t.Fatalf("deleted group still has offsets: %v", rows(d, 0))
	}
	if got := e.committed("keep"); !reflect.DeepEqual(got, []string{"orders/0=1"}) {
		t.Fatalf("another group's offsets changed: %v", got)
	}
	// Deleting it again: the broker does not know it any more.
	_, _, err := e.offsets("delete", "--group", "app")
	var nf *groups.NotFoundError
	if !errors.As(err, &nf) || cli.Code(err) != cli.ExitFailed {
		t.Fatalf("second delete: %v, want NotFoundError, exit 1", err)
	}
}

func TestDeleteOffsetsOfSomePartitions(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("orders", 3)
	e.CreateTopic("other", 1)
	e.Commit("app", map[string]map[int32]int64{"orders": {0: 1, 1: 2, 2: 3}, "other": {0: 4}})

	out := e.must("delete", "--group", "app", "--topic", "orders:0,2")
	if !strings.HasPrefix(out, "deleted the committed offsets of group app for 2 partitions:") {
		t.Fatalf("output:\n%s", out)
	}
	if got, want := e.committed("app"), []string{"orders/1=2", "other/0=4"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after deleting orders:0,2: %v, want %v", got, want)
	}
	var res struct {
		Group      string `json:"group"`
		Deleted    string `json:"deleted"`
		Partitions []struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
		} `json:"partitions"`
	}
	e.jsonOf(&res, "delete", "--group", "app", "--topic", "other")
	if res.Deleted != "offsets" || len(res.Partitions) != 1 || res.Partitions[0].Topic != "other" {
		t.Fatalf("delete --topic other: %+v", res)
	}
	if got, want := e.committed("app"), []string{"orders/1=2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after deleting other: %v, want %v", got, want)
	}
	_, _, err := e.offsets("delete", "--group", "app", "--topic", "other")
	if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), "no committed offsets for topic other") {
		t.Fatalf("deleting offsets that are gone: %v", err)
	}
}

func TestDeleteRefusesActiveGroup(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("orders", 1)
	e.CreateTopic("other", 1)
	e.Commit("app", map[string]map[int32]int64{"orders": {0: 1}, "other": {0: 1}})
	e.Join("app", "c1", "orders")
	for _, args := range [][]string{
		{"delete", "--group", "app"},
		{"delete", "--group", "app", "--topic", "other"},
	} {
		_, _, err := e.offsets(args...)
		var active *groups.ActiveGroupError
		if !errors.As(err, &active) || cli.Code(err) != cli.ExitFailed || !strings.Contains(err.Error(), "Stop its consumers") {
			t.Fatalf("%v on an active group: %v, want an ActiveGroupError", args, err)
		}
	}
	if got, want := e.committed("app"), []string{"orders/0=1", "other/0=1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("refused deletes changed the commits: %v, want %v", got, want)
	}
}
