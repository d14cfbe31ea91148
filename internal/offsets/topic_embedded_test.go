package offsets

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/consumer"
	"github.com/offsetlab/offsetlab/internal/coordinator"
	"github.com/offsetlab/offsetlab/internal/poll"
	"github.com/offsetlab/offsetlab/internal/producer"
)

// kcatPath is kcat, which CI installs (.ci/run); a machine without it skips
// the tests that need it, saying so.
func kcatPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed (apt-get install kcat): this test commits with kcat -G and reads with kcat")
	}
	return path
}

// topicEntry is one line of `offsets topic --format json`.
type topicEntry struct {
	Partition int32  `json:"partition"`
	Kind      string `json:"kind"`
	Group     string `json:"group"`
	Commit    *struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		Offset    *int64 `json:"offset"`
	} `json:"commit"`
}

// topicEntries runs `offsets topic --from-beginning --format json` with
// extra flags and returns its lines and stderr.
func (e *env) topicEntries(extra ...string) ([]topicEntry, string) {
	e.t.Helper()
	stdout, stderr, err := e.offsets(append([]string{"topic", "--from-beginning", "--format", "json"}, extra...)...)
	if err != nil {
		e.t.Fatalf("offsets topic: %v\n%s", err, stderr)
	}
	var es []topicEntry
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if l == "" {
			continue
		}
		var x topicEntry
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			e.t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		es = append(es, x)
	}
	return es, stderr
}

// replay applies the offset records of group in order, as the coordinator
// does when it loads the topic: what each partition's commit is now.
func replay(es []topicEntry, group string) map[string]int64 {
	now := map[string]int64{}
	for _, x := range es {
		if x.Group != group || x.Commit == nil {
			continue
		}
		k := fmt.Sprintf("%s[%d]", x.Commit.Topic, x.Commit.Partition)
		if x.Commit.Offset == nil {
			delete(now, k)
		} else {
			now[k] = *x.Commit.Offset
		}
	}
	return now
}

// fetched is what OffsetFetch answers for group (through `offsets describe`).
func (e *env) fetched(group string) map[string]int64 {
	e.t.Helper()
	var d describeJSON
	e.jsonOf(&d, "describe", "--group", group)
	now := map[string]int64{}
	for _, g := range d.Groups {
		for _, p := range g.Partitions {
			if p.Committed != nil {
				now[fmt.Sprintf("%s[%d]", p.Topic, p.Partition)] = *p.Committed
			}
		}
	}
	return now
}

func render(m map[string]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// On the embedded stack, commits by offsetlab's consumer and by kcat -G are
// records of __consumer_offsets, which decode to what OffsetFetch answers,
// in the partition Kafka would put them in; deleting offsets writes
// tombstones; and the course's kcat command prints them.
func TestTopicOnTheEmbeddedStack(t *testing.T) {
	kcat := kcatPath(t)
	e := newEnv(t)
	bootstrap, registry := e.s.BrokerAddr(), e.s.RegistryURL()
	ctx := t.Context()
	var out bytes.Buffer
	if err := producer.Run(ctx, []string{"--bootstrap", bootstrap, "--registry", registry, "--topic", "users", "--quickstart", "users", "--count", "30", "--seed", "1"}, &out, &out); err != nil {
		t.Fatalf("producer: %v\n%s", err, out.String())
	}
	if err := consumer.Run(ctx, []string{"--bootstrap", bootstrap, "--registry", registry, "--group", "metadata_group", "--topic", "users",
		"--reset", "earliest", "--commit", "sync", "--max-messages", "20"}, &out, &out); err != nil {
		t.Fatalf("consumer: %v\n%s", err, out.String())
	}
	kctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(kctx, kcat, "-b", bootstrap, "-G", "metadata_group2", "users", "-e", "-q",
		"-X", "auto.offset.reset=earliest", "-X", "auto.commit.interval.ms=100")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -G: %v\n%s", err, b)
	}

	for _, group := range []string{"metadata_group", "metadata_group2"} {
		want := e.fetched(group)
		if len(want) == 0 {
			t.Fatalf("group %s committed nothing", group)
		}
		var got map[string]int64
		poll.Until(t, 5*time.Second, "the records of group "+group+" to equal OffsetFetch ("+render(want)+")", func() bool {
			es, _ := e.topicEntries()
			got = replay(es, group)
			return maps.Equal(got, want)
		}, func() string { return render(got) })
	}

	es, stderr := e.topicEntries("--group", "metadata_group")
	if !strings.Contains(stderr, "group metadata_group is in __consumer_offsets partition 39 of 50") {
		t.Fatalf("stderr: %s", stderr)
	}
	kinds := map[string]int{}
	for _, x := range es {
		if x.Partition != 39 || x.Group != "metadata_group" {
			t.Fatalf("--group metadata_group printed a record of partition %d, group %s", x.Partition, x.Group)
		}
		kinds[x.Kind]++
	}
	if kinds["offset-commit"] < 3 || kinds["group-metadata"] < 2 {
		t.Fatalf("metadata_group's records: %v; want offset commits and group metadata (a rebalance, then empty)", kinds)
	}

	// The course's command, verbatim: the key shows the group and topic.
	kctx2, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	b, err := exec.CommandContext(kctx2, kcat, "-b", bootstrap, "-t", "__consumer_offsets", "-C", "-o", "beginning", "-c", "10",
		"-f", `Partition=%p Offset=%o Key=%k Value=%s\n`).Output()
	if err != nil {
		t.Fatalf("kcat -C: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), "metadata_group") || !strings.Contains(string(b), "users") {
		t.Fatalf("kcat printed no record keyed by the group and topic:\n%q", b)
	}

	// Delete the offset of a partition the group committed (20 records of
	// 30 need not have touched every partition).
	var deleted int32 = -1
	for _, x := range es {
		if x.Kind == "offset-commit" {
			deleted = x.Commit.Partition
		}
	}
	e.must("delete", "--group", "metadata_group", "--topic", fmt.Sprintf("users:%d", deleted))
	var last topicEntry
	poll.Until(t, 5*time.Second, fmt.Sprintf("a tombstone of metadata_group's users[%d]", deleted), func() bool {
		es, _ := e.topicEntries("--group", "metadata_group")
		last = es[len(es)-1]
		return last.Kind == "offset-deleted" && last.Commit.Topic == "users" && last.Commit.Partition == deleted
	}, func() string { return fmt.Sprintf("last record %+v", last) })
	es, _ = e.topicEntries("--group", "metadata_group2")
	if len(es) == 0 || es[0].Partition != coordinator.Partition("metadata_group2", coordinator.DefaultPartitions) || es[0].Partition != 15 {
		t.Fatalf("kcat's group metadata_group2: %+v, want its records in partition 15", es)
	}
}

// A KIP-848 group's commits are records too; its group records (Kafka 4's
// ConsumerGroup* types) are not written.
func TestTopicHoldsConsumerProtocolCommits(t *testing.T) {
	e := newEnv(t)
	e.CreateTopic("users", 3)
	e.Produce("users", 0, 5, time.Time{})
	m := e.JoinConsumerProtocol("g848", "c1", "users")
	m.CommitRead(m.Read(5))
	want := e.fetched("g848")
	var es []topicEntry
	poll.Until(t, 5*time.Second, "the records of group g848 to equal OffsetFetch ("+render(want)+")", func() bool {
		es, _ = e.topicEntries("--group", "g848")
		return maps.Equal(replay(es, "g848"), want)
	}, func() string { return render(replay(es, "g848")) })
	for _, x := range es {
		if x.Kind != "offset-commit" {
			t.Fatalf("a KIP-848 group's record of kind %s", x.Kind)
		}
	}
}
