package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/ledger"
)

// produce writes n orders to topic and returns the producer's acked ledger
// and its per-partition summary.
func (e *env) produce(topic string, n int, seed int64, ledgerName string) producerSummary {
	e.t.Helper()
	r := e.must("producer", "--topic", topic, "--count", fmt.Sprint(n), "--seed", fmt.Sprint(seed),
		"--ledger", e.path(ledgerName), "--format", "json")
	var s producerSummary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		e.t.Fatalf("producer summary: %v\n%s", err, r.stdout)
	}
	if s.Acked != int64(n) || s.Failed != 0 {
		e.t.Fatalf("producer acked %d, failed %d of %d", s.Acked, s.Failed, n)
	}
	return s
}

type producerSummary struct {
	Acked      int64 `json:"acked"`
	Failed     int64 `json:"failed"`
	Partitions map[int32]struct {
		Acked int64 `json:"acked"`
		Last  int64 `json:"last_offset"`
	} `json:"partitions"`
}

func consumerArgs(group, topic, reset, ledgerPath string, extra ...string) []string {
	return append([]string{"--group", group, "--topic", topic, "--reset", reset, "--ledger", ledgerPath,
		"--quiet", "--session-timeout", "1s", "--heartbeat-interval", "100ms"}, extra...)
}

// A new group with earliest reads the whole log; its graceful close commits
// exactly the log end of every partition.
func TestEarliestReadsAllAndCloseCommits(t *testing.T) {
	e := newEnv(t)
	sum := e.produce("orders", 1000, 1, "acked.jsonl")
	r := e.must("consumer", consumerArgs("g-earliest", "orders", "earliest", e.path("c.jsonl"), "--max-messages", "1000")...)
	events, err := ledger.Read(e.path("c.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(processed(events)); got != 1000 {
		t.Fatalf("processed %d distinct records, want 1000\n%s", got, r.stderr)
	}
	got := e.committed("g-earliest", "orders", 3)
	for p, ps := range sum.Partitions {
		if got[p] != ps.Acked {
			t.Errorf("partition %d: broker says committed %d, want %d (records produced there)", p, got[p], ps.Acked)
		}
	}
}

// A new group with latest reads nothing that was there before it joined,
// and exactly what was produced after.
func TestLatestReadsOnlyNewRecords(t *testing.T) {
	e := newEnv(t)
	old := e.produce("orders", 1000, 1, "old.jsonl")
	c := e.start("consumer", consumerArgs("g-latest", "orders", "latest", e.path("c.jsonl"), "--max-messages", "100")...)
	// Wait until librdkafka has resolved "latest" on every partition: only
	// then is a record produced "after it joined".
	e.waitLedger(e.path("c.jsonl"), 30*time.Second, "fetch positions of 3 partitions", func(ev []ledger.Event) bool {
		return count(ev, ledger.Fetching) >= 3
	})
	e.produce("orders", 100, 2, "new.jsonl")
	if err := e.waitExit(c, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	events, _ := ledger.Read(e.path("c.jsonl"))
	newAcked, _ := ledger.Read(e.path("new.jsonl"))
	got := processed(events)
	if len(got) != 100 {
		t.Fatalf("processed %d records, want exactly the 100 new ones", len(got))
	}
	for _, a := range newAcked {
		if _, ok := got[a.Record.ID()]; !ok {
			t.Errorf("new record %s at %s[%d]@%d not read", a.Record.ID(), a.Record.Topic, a.Record.Partition, a.Record.Offset)
		}
	}
	// latest is the log end when the consumer joined: one past the last
	// old record, or 0 on a partition the old records never reached.
	for _, ev := range events {
		if ev.Type != ledger.Fetching {
			continue
		}
		p := ev.Partitions[0]
		end := int64(0)
		if ps, ok := old.Partitions[p.Partition]; ok {
			end = ps.Last + 1
		}
		if p.Offset != end {
			t.Errorf("partition %d fetched from %d: latest should start at the log end, %d", p.Partition, p.Offset, end)
		}
	}
}

// A new group with none consumes nothing and exits with the reset error's
// own code, naming the partition.
func TestNoneRefusesToGuess(t *testing.T) {
	e := newEnv(t)
	e.produce("orders", 50, 1, "acked.jsonl")
	r := e.run(time.Minute, "consumer", consumerArgs("g-none", "orders", "none", e.path("c.jsonl"))...)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3 (reset error)\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "has no valid committed offset and --reset is none") {
		t.Errorf("stderr does not explain the reset error:\n%s", r.stderr)
	}
	events, _ := ledger.Read(e.path("c.jsonl"))
	if n := count(events, ledger.Consumed); n != 0 {
		t.Errorf("consumed %d records under --reset none", n)
	}
}

// A committed offset beats the reset policy: a restarted consumer resumes
// exactly there, whatever --reset says.
func TestRestartResumesAtCommitted(t *testing.T) {
	e := newEnv(t)
	e.produce("orders", 600, 1, "acked1.jsonl")
	e.must("consumer", consumerArgs("g-resume", "orders", "earliest", e.path("c1.jsonl"), "--max-messages", "600")...)
	e.produce("orders", 300, 2, "acked2.jsonl")
	// The same group restarts with latest, then earliest: both resume at
	// the committed offsets.
	for i, reset := range []string{"latest", "earliest"} {
		l := e.path(fmt.Sprintf("restart-%d.jsonl", i))
		start := e.committed("g-resume", "orders", 3)
		e.must("consumer", consumerArgs("g-resume", "orders", reset, l, "--max-messages", "30")...)
		events, _ := ledger.Read(l)
		first := map[int32]int64{}
		for _, ev := range events {
			if ev.Type == ledger.Consumed {
				if _, ok := first[ev.Record.Partition]; !ok {
					first[ev.Record.Partition] = ev.Record.Offset
				}
			}
		}
		for p, off := range first {
			if off != start[p] {
				t.Errorf("restart %d (--reset %s): partition %d resumed at %d, committed was %d", i, reset, p, off, start[p])
			}
		}
		if len(first) == 0 {
			t.Errorf("restart %d (--reset %s) consumed nothing", i, reset)
		}
		// The graceful close committed exactly what was processed: not less,
		// and not the records still queued in the client (see consumer.close).
		next := map[int32]int64{}
		for _, r := range processed(events) {
			next[r.Partition] = max(next[r.Partition], r.Offset+1)
		}
		after := e.committed("g-resume", "orders", 3)
		for p, want := range next {
			if after[p] != want {
				t.Errorf("restart %d: partition %d committed %d after a clean close, but processed up to %d", i, p, after[p], want-1)
			}
		}
	}
}
