package consumer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/poll"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
	"github.com/offsetlab/offsetlab/internal/supervisor"
)

// TestMain lets the supervisor re-run this test binary as the consumer, so
// that a test can SIGKILL a real consumer process.
func TestMain(m *testing.M) {
	if supervisor.Dispatch(map[string]supervisor.Command{"consumer": Run}, func(name string, cmd supervisor.Command) { cli.Main(name, cmd) }) {
		return
	}
	os.Exit(m.Run())
}

func TestTransactionalFlags(t *testing.T) {
	base := []string{"--group", "g", "--topic", "in", "--name", "t1"}
	for _, tc := range []struct {
		args []string
		want string // in the usage error; "" for none
	}{
		{[]string{"--commit", "transactional"}, "--commit transactional needs --output TOPIC"},
		{[]string{"--output", "out"}, "--output goes with --commit transactional"},
		{[]string{"--commit", "sync", "--txn-records", "5"}, "--txn-records goes with --commit transactional"},
		{[]string{"--transactional-id", "x"}, "--transactional-id goes with --commit transactional"},
		{[]string{"--commit", "transactional", "--output", "in"}, "--output in is also an input topic"},
		{[]string{"--commit", "transactional", "--output", "out", "--txn-records", "0"}, "--txn-records must be 1 or more"},
		{[]string{"--commit", "transactional", "--output", "out", "--txn-interval", "0s"}, "--txn-interval must be positive"},
		{[]string{"--commit", "transactional", "--output", "out", "-X", "enable.auto.commit=true"}, "cannot go with --commit transactional"},
		{[]string{"--commit", "transactional", "--output", "out"}, ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			o, err := parse(append(append([]string{}, base...), tc.args...), io.Discard)
			var usage *cli.UsageError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && !errors.As(err, &usage):
				t.Fatalf("want a usage error containing %q, got %v", tc.want, err)
			case tc.want != "" && (!strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n")):
				t.Fatalf("want one line containing %q, got %q", tc.want, err)
			}
			if tc.want != "" {
				return
			}
			cm := o.configMap()
			for k, v := range map[string]any{"enable.auto.commit": false, "isolation.level": "read_committed"} {
				if cm[k] != v {
					t.Errorf("consumer %s = %v, want %v", k, cm[k], v)
				}
			}
			// The default transactional.id survives a restart with the same --name.
			if pm := o.producerConfigMap(); pm["transactional.id"] != "offsetlab-g-t1" {
				t.Errorf("transactional.id = %v, want offsetlab-g-t1", pm["transactional.id"])
			}
		})
	}
}

// TestTransactionalKill is the exactly-once claim, measured: a transformer
// killed with SIGKILL in the middle of a transaction leaves nothing of that
// transaction visible to read_committed readers, and once restarted under
// the same transactional.id, every input record is in the output exactly
// once for read_committed readers, while read_uncommitted readers also see
// the aborted copies.
func TestTransactionalKill(t *testing.T) {
	s := stacktest.Start(t)
	const n = 2000
	fill(t, s.BrokerAddr(), s.RegistryURL(), "in", n)
	dir := t.TempDir()
	sup, err := supervisor.New(dir, stacktest.Env(s), newLogWriter(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sup.Close)
	transformer := func(run int, extra ...string) string {
		t.Helper()
		path := filepath.Join(dir, fmt.Sprintf("t1.%d.jsonl", run))
		args := append([]string{"--group", "etl", "--topic", "in", "--name", "t1", "--quiet", "--ledger", path,
			"--reset", "earliest", "--commit", "transactional", "--output", "out", "--txn-records", "100",
			"--session-timeout", "1s", "--heartbeat-interval", "100ms"}, extra...)
		if _, err := sup.Start("t1", "consumer", args); err != nil {
			t.Fatal(err)
		}
		return path
	}

	first := transformer(1, "--process-delay", "2ms")
	// Transactions hold 100 records: at 550 the sixth is half full.
	waitLedger(t, first, "2 transactions committed and 550 records processed", func(events []ledger.Event) bool {
		return commits(events) >= 2 && count(events, ledger.Processed) >= 550
	})
	if _, err := sup.Kill(t.Context(), "t1"); err != nil {
		t.Fatal(err)
	}
	events := readLedger(t, first)
	committed, open := splitAtLastCommit(events)
	if len(open) == 0 {
		t.Fatal("the kill came between two transactions; the test needs one open")
	}

	// What survives the kill: the committed transactions, and not a record
	// of the open one, for as long as it stays open.
	visible := readOutput(t, s.BrokerAddr(), "read_committed", len(committed))
	if err := exactly(visible, committed); err != nil {
		t.Fatalf("read_committed after the kill: %v", err)
	}

	// The restart runs until it has processed every record the committed
	// transactions did not cover, then stops cleanly. (An --idle-exit could
	// fire while the group waits out the dead member's session.)
	second := transformer(2)
	waitLedger(t, second, fmt.Sprintf("%d distinct records processed (those the committed transactions did not cover)", n-len(committed)),
		func(events []ledger.Event) bool { return len(processedIDs(events)) >= n-len(committed) })
	stop(t, sup, "t1")
	if rerun := processedIDs(readLedger(t, second)); !containsAll(rerun, open) {
		t.Fatalf("the restart did not process again the %d records of the aborted transaction", len(open))
	}

	all := map[string]int{}
	for i := range n {
		all[fmt.Sprintf("bench/%d", i)] = 1
	}
	rc := readOutput(t, s.BrokerAddr(), "read_committed", n)
	if err := exactly(rc, all); err != nil {
		t.Fatalf("read_committed after the restart: %v", err)
	}
	ru := readOutput(t, s.BrokerAddr(), "read_uncommitted", n)
	dups := total(ru) - len(ru)
	if missing := missingFrom(ru, all); missing > 0 {
		t.Fatalf("read_uncommitted misses %d input records", missing)
	}
	// The aborted records that reached the broker before the kill; the
	// rest of the open transaction was still in the dead producer's queue.
	if dups == 0 || dups > len(open) {
		t.Fatalf("read_uncommitted saw %d duplicates, want 1..%d (the aborted transaction's records)", dups, len(open))
	}
	t.Logf("%d input records; killed with %d committed and %d in the open transaction; "+
		"read_committed: %d records, %d duplicates; read_uncommitted: %d records, %d duplicates (aborted copies)",
		n, len(committed), len(open), total(rc), total(rc)-len(rc), total(ru), dups)
}

// TestTransactionalStopCommits: SIGTERM is a clean close, and a clean close
// commits the open transaction: what was processed is what the output holds
// and what the group committed, with nothing replayed by the next instance.
func TestTransactionalStopCommits(t *testing.T) {
	s := stacktest.Start(t)
	const n = 1000
	fill(t, s.BrokerAddr(), s.RegistryURL(), "in", n)
	dir := t.TempDir()
	sup, err := supervisor.New(dir, stacktest.Env(s), newLogWriter(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sup.Close)
	path := filepath.Join(dir, "t1.jsonl")
	if _, err := sup.Start("t1", "consumer", []string{"--group", "etl", "--topic", "in", "--name", "t1", "--quiet",
		"--ledger", path, "--reset", "earliest", "--commit", "transactional", "--output", "out",
		"--txn-records", "100", "--process-delay", "2ms"}); err != nil {
		t.Fatal(err)
	}
	waitLedger(t, path, "250 records processed", func(events []ledger.Event) bool { return count(events, ledger.Processed) >= 250 })
	stop(t, sup, "t1")
	events := readLedger(t, path)
	processed := processedIDs(events)
	last := lastCommit(events)
	if last == nil || last.Detail["trigger"] != "close" {
		t.Fatalf("the last transaction was not committed by the close: %+v", last)
	}
	out := readOutput(t, s.BrokerAddr(), "read_committed", len(processed))
	if err := exactly(out, processed); err != nil {
		t.Fatalf("read_committed after SIGTERM: %v", err)
	}
	if got := committedTotal(t, s, "etl", "in"); got != int64(len(processed)) {
		t.Fatalf("the group committed %d records' worth of offsets, processed %d", got, len(processed))
	}
	t.Logf("SIGTERM after %d records: %d committed in the close's transaction (%s records)",
		len(processed), len(processed), last.Detail["records"])
}

// logWriter sends output to the test log a line at a time.
type logWriter struct {
	t   *testing.T
	mu  sync.Mutex
	buf []byte
}

func newLogWriter(t *testing.T) *logWriter { return &logWriter{t: t} }

func (w *logWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		w.t.Log(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// waitLedger polls the ledger at path until cond holds, failing after 30s
// with what it waited for.
func waitLedger(t *testing.T, path, what string, cond func([]ledger.Event) bool) {
	t.Helper()
	var events []ledger.Event
	poll.Until(t, 30*time.Second, what+" in "+filepath.Base(path), func() bool {
		events, _ = ledger.Read(path)
		return cond(events)
	}, func() string { return fmt.Sprintf("%d events", len(events)) })
}

// stop sends SIGTERM and expects a clean close.
func stop(t *testing.T, sup *supervisor.Supervisor, name string) {
	t.Helper()
	p, err := sup.Stop(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	if p.ExitCode() != 0 {
		t.Fatalf("%s exited with code %d after SIGTERM, want 0", name, p.ExitCode())
	}
}

func readLedger(t *testing.T, path string) []ledger.Event {
	t.Helper()
	events, err := ledger.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func count(events []ledger.Event, typ string) int {
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// commits counts the successful transaction commits.
func commits(events []ledger.Event) int {
	n := 0
	for _, e := range events {
		if e.Type == ledger.Committed && e.Source == "transaction" && e.Error == "" {
			n++
		}
	}
	return n
}

func lastCommit(events []ledger.Event) *ledger.Event {
	for i := len(events) - 1; i >= 0; i-- {
		if e := events[i]; e.Type == ledger.Committed && e.Error == "" {
			return &e
		}
	}
	return nil
}

// splitAtLastCommit sorts a killed transformer's processed records into
// those its last successful commit covered and those of the transaction it
// left open.
func splitAtLastCommit(events []ledger.Event) (committed, open map[string]int) {
	committed, open = map[string]int{}, map[string]int{}
	for _, e := range events {
		switch {
		case e.Type == ledger.Processed:
			open[e.Record.ID()]++
		case e.Type == ledger.Committed && e.Error == "":
			for id, k := range open {
				committed[id] += k
			}
			clear(open)
		}
	}
	return committed, open
}

func processedIDs(events []ledger.Event) map[string]int {
	ids := map[string]int{}
	for _, e := range events {
		if e.Type == ledger.Processed {
			ids[e.Record.ID()]++
		}
	}
	return ids
}

// testConsumer is a plain consumer for checking what the broker holds,
// closed when the test ends, its librdkafka log lines dropped.
func testConsumer(t *testing.T, cm kafka.ConfigMap) *kafka.Consumer {
	t.Helper()
	cm["go.logs.channel.enable"] = true
	c, err := kafka.NewConsumer(&cm)
	if err != nil {
		t.Fatal(err)
	}
	go config.DiscardLogs(c.Logs())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readOutput reads topic "out" from the start in a new group, with the
// isolation level given, until it has at least want records and then
// nothing more for a second. It returns how often it saw each record id.
func readOutput(t *testing.T, bootstrap, isolation string, want int) map[string]int {
	t.Helper()
	c := testConsumer(t, kafka.ConfigMap{"bootstrap.servers": bootstrap, "group.id": "reader-" + isolation + fmt.Sprint(time.Now().UnixNano()),
		"auto.offset.reset": "earliest", "enable.auto.commit": false, "isolation.level": isolation})
	defer c.Unsubscribe()
	if err := c.Subscribe("out", nil); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	got := 0
	last := time.Now()
	poll.Until(t, 30*time.Second, fmt.Sprintf("a %s reader of out to read at least %d records, then nothing more for a second", isolation, want), func() bool {
		for ev := c.Poll(0); ev != nil; ev = c.Poll(0) {
			if m, ok := ev.(*kafka.Message); ok && m.TopicPartition.Error == nil {
				got++
				last = time.Now()
				seen[ledger.RecordOf(m).ID()]++
			}
		}
		return got >= want && time.Since(last) >= time.Second
	}, func() string { return fmt.Sprintf("%d records", got) })
	return seen
}

// exactly checks that got holds each id of want once, and nothing else.
func exactly(got, want map[string]int) error {
	var extra, dup int
	for id, k := range got {
		if _, ok := want[id]; !ok {
			extra++
		}
		if k > 1 {
			dup += k - 1
		}
	}
	if missing := missingFrom(got, want); missing > 0 || extra > 0 || dup > 0 {
		return fmt.Errorf("%d records: %d missing, %d not expected, %d duplicates (want %d, each once)", total(got), missing, extra, dup, len(want))
	}
	return nil
}

func missingFrom(got, want map[string]int) int {
	n := 0
	for id := range want {
		if got[id] == 0 {
			n++
		}
	}
	return n
}

func containsAll(got, want map[string]int) bool { return missingFrom(got, want) == 0 }

func total(ids map[string]int) int {
	n := 0
	for _, k := range ids {
		n += k
	}
	return n
}

// committedTotal sums the group's committed offsets on topic, as the broker
// holds them: the records the group has finished with.
func committedTotal(t *testing.T, s *stack.Stack, group, topic string) int64 {
	t.Helper()
	c := testConsumer(t, kafka.ConfigMap{"bootstrap.servers": s.BrokerAddr(), "group.id": group})
	md, err := c.GetMetadata(&topic, false, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var parts []kafka.TopicPartition
	for _, p := range md.Topics[topic].Partitions {
		parts = append(parts, kafka.TopicPartition{Topic: &topic, Partition: p.ID})
	}
	committed, err := c.Committed(parts, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, tp := range committed {
		if tp.Offset >= 0 {
			sum += int64(tp.Offset)
		}
	}
	return sum
}

// TestTransactionalAbortRewinds: an abortable error aborts the transaction
// and rewinds the input to where it began, so its records are produced
// again in the next transaction. The broker is made to refuse the second
// transactional offset commit with ILLEGAL_GENERATION, which librdkafka
// makes abortable (as after a rebalance the producer did not see).
func TestTransactionalAbortRewinds(t *testing.T) {
	s := stacktest.Start(t)
	const n = 1000
	fill(t, s.BrokerAddr(), s.RegistryURL(), "in", n)
	calls := 0
	s.Cluster().ControlKey(kmsg.TxnOffsetCommit.Int16(), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		if calls++; calls != 2 {
			return nil, nil, false
		}
		req := kreq.(*kmsg.TxnOffsetCommitRequest)
		resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewTxnOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, kerr.IllegalGeneration.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	path := filepath.Join(t.TempDir(), "t1.jsonl")
	args := []string{"--bootstrap", s.BrokerAddr(), "--registry", s.RegistryURL(), "--group", "etl", "--topic", "in",
		"--name", "t1", "--quiet", "--ledger", path, "--reset", "earliest", "--commit", "transactional", "--output", "out",
		"--txn-records", "100"}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, args, io.Discard, newLogWriter(t)) }()
	waitLedger(t, path, fmt.Sprintf("all %d records processed", n), func(events []ledger.Event) bool { return len(processedIDs(events)) >= n })
	cancel() // as SIGTERM does: a clean close
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	events := readLedger(t, path)
	var aborted []ledger.Event
	for _, e := range events {
		if e.Type == ledger.Error && strings.HasPrefix(e.Error, "transaction aborted") {
			aborted = append(aborted, e)
		}
	}
	if len(aborted) != 1 {
		t.Fatalf("%d transactions aborted, want 1 (the refused offset commit)", len(aborted))
	}
	processed := processedIDs(events)
	replayed := total(processed) - len(processed)
	if want, _ := strconv.Atoi(aborted[0].Detail["aborted_records"]); replayed != want || want == 0 {
		t.Fatalf("%d records processed twice, want the %s records of the aborted transaction", replayed, aborted[0].Detail["aborted_records"])
	}
	all := map[string]int{}
	for i := range n {
		all[fmt.Sprintf("bench/%d", i)] = 1
	}
	if err := exactly(readOutput(t, s.BrokerAddr(), "read_committed", n), all); err != nil {
		t.Fatalf("read_committed: %v", err)
	}
	if got := committedTotal(t, s, "etl", "in"); got != n {
		t.Fatalf("the group committed %d records' worth of offsets, want %d", got, n)
	}
	t.Logf("one transaction aborted (%d records, rewound to %v); %d processed in all, read_committed sees each of %d once",
		replayed, aborted[0].Partitions, total(processed), n)
}

// TestTransactionalZombieFenced: a second instance with the same
// transactional.id, started while the first still runs (a "zombie" the
// group has not noticed yet), fences it. The zombie's next transactional
// call fails fatally and it exits; the output is still exactly once.
func TestTransactionalZombieFenced(t *testing.T) {
	s := stacktest.Start(t)
	const n = 3000
	fill(t, s.BrokerAddr(), s.RegistryURL(), "in", n)
	dir := t.TempDir()
	sup, err := supervisor.New(dir, stacktest.Env(s), newLogWriter(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sup.Close)
	start := func(proc string, extra ...string) string {
		t.Helper()
		path := filepath.Join(dir, proc+".jsonl")
		args := append([]string{"--group", "etl", "--topic", "in", "--name", "t1", "--quiet", "--ledger", path,
			"--reset", "earliest", "--commit", "transactional", "--output", "out", "--txn-records", "50",
			"--session-timeout", "1s", "--heartbeat-interval", "100ms"}, extra...)
		if _, err := sup.Start(proc, "consumer", args); err != nil {
			t.Fatal(err)
		}
		return path
	}
	zombie := start("zombie", "--process-delay", "5ms")
	waitLedger(t, zombie, "a transaction committed and 75 records processed", func(events []ledger.Event) bool {
		return commits(events) >= 1 && count(events, ledger.Processed) >= 75
	})
	successor := start("successor")
	z, _ := sup.Get("zombie")
	poll.Until(t, 30*time.Second, "the zombie to exit", func() bool { return !z.Running() })
	if z.ExitCode() == 0 {
		t.Fatal("the zombie exited 0; a fenced producer must end the run with an error")
	}
	fenced := false
	for _, e := range readLedger(t, zombie) {
		fenced = fenced || e.Type == ledger.Error && strings.Contains(e.Error, "fenced")
	}
	if !fenced {
		t.Fatal("the zombie's ledger has no fencing error")
	}
	byZombie, _ := splitAtLastCommit(readLedger(t, zombie))
	waitLedger(t, successor, fmt.Sprintf("%d distinct records processed (those the zombie did not commit)", n-len(byZombie)), func(events []ledger.Event) bool {
		return len(processedIDs(events)) >= n-len(byZombie)
	})
	stop(t, sup, "successor")
	all := map[string]int{}
	for i := range n {
		all[fmt.Sprintf("bench/%d", i)] = 1
	}
	if err := exactly(readOutput(t, s.BrokerAddr(), "read_committed", n), all); err != nil {
		t.Fatalf("read_committed: %v", err)
	}
}

// TestTransactionTimeoutAbortsOrphan: when nothing restarts a killed
// transformer, its open transaction blocks read_committed readers of the
// output (the last stable offset stays at its first record) until the
// broker aborts it after transaction.timeout.ms. Kafka looks for timed-out
// transactions every transaction.abort.timed.out.transaction.cleanup.interval.ms
// (10 s); kfake aborts at the timeout itself. The test bounds the wait so
// that both pass and logs the time measured.
func TestTransactionTimeoutAbortsOrphan(t *testing.T) {
	s := stacktest.Start(t)
	fill(t, s.BrokerAddr(), s.RegistryURL(), "in", 1000)
	dir := t.TempDir()
	sup, err := supervisor.New(dir, stacktest.Env(s), newLogWriter(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sup.Close)
	path := filepath.Join(dir, "t1.jsonl")
	if _, err := sup.Start("t1", "consumer", []string{"--group", "etl", "--topic", "in", "--name", "t1", "--quiet",
		"--ledger", path, "--reset", "earliest", "--commit", "transactional", "--output", "out", "--txn-records", "100",
		"--process-delay", "2ms", "-X", "transaction.timeout.ms=2000"}); err != nil {
		t.Fatal(err)
	}
	waitLedger(t, path, "a transaction committed and 150 records processed", func(events []ledger.Event) bool {
		return commits(events) >= 1 && count(events, ledger.Processed) >= 150
	})
	p, err := sup.Kill(t.Context(), "t1")
	if err != nil {
		t.Fatal(err)
	}
	committed, open := splitAtLastCommit(readLedger(t, path))
	bounds := outputBounds(t, s.BrokerAddr())
	stable, end := bounds()
	held := end - stable
	if held <= 0 {
		t.Fatalf("right after the kill the last stable offsets (%d in all) are not behind the log ends (%d): no transaction is open", stable, end)
	}
	poll.Until(t, 20*time.Second, "the broker to abort the orphaned transaction", func() bool {
		stable, end = bounds()
		return stable == end
	}, func() string { return fmt.Sprintf("last stable offsets %d, log ends %d", stable, end) })
	t.Logf("the orphaned transaction (%d records processed; the last stable offsets %d behind the log ends) was aborted %s after the kill (transaction.timeout.ms=2000)",
		len(open), held, time.Since(p.Exited()).Round(100*time.Millisecond))
	if err := exactly(readOutput(t, s.BrokerAddr(), "read_committed", len(committed)), committed); err != nil {
		t.Fatalf("read_committed after the abort: %v", err)
	}
}

// outputBounds returns a probe that sums, over the partitions of "out",
// the last stable offset (what a read_committed consumer's ListOffsets
// answers) and the log end (read_uncommitted's answer).
func outputBounds(t *testing.T, bootstrap string) func() (stable, end int64) {
	t.Helper()
	committed := testConsumer(t, kafka.ConfigMap{"bootstrap.servers": bootstrap, "group.id": "bounds", "isolation.level": "read_committed"})
	uncommitted := testConsumer(t, kafka.ConfigMap{"bootstrap.servers": bootstrap, "group.id": "bounds", "isolation.level": "read_uncommitted"})
	topic := "out"
	md, err := committed.GetMetadata(&topic, false, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	high := func(c *kafka.Consumer) int64 {
		var sum int64
		for _, p := range md.Topics[topic].Partitions {
			_, h, err := c.QueryWatermarkOffsets(topic, p.ID, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			sum += h
		}
		return sum
	}
	return func() (int64, int64) { return high(committed), high(uncommitted) }
}

// TestKfakeInitTransactionsAbortsInline pins a difference between kfake
// and Apache Kafka. When InitProducerId names a transactional.id whose
// transaction is open, Kafka starts aborting it and answers
// CONCURRENT_TRANSACTIONS, and librdkafka retries until the abort is done
// (two requests at least, the epoch bumped twice). kfake aborts inline and
// answers at once: one request. Both end in the same state, the old
// transaction aborted and the old producer fenced; on Kafka the restarted
// transformer's InitTransactions takes a retry backoff longer.
func TestKfakeInitTransactionsAbortsInline(t *testing.T) {
	s := stacktest.Start(t)
	producer := func() *kafka.Producer {
		t.Helper()
		p, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": s.BrokerAddr(), "transactional.id": "pinned",
			"go.delivery.reports": false, "go.logs.channel.enable": true})
		if err != nil {
			t.Fatal(err)
		}
		go config.DiscardLogs(p.Logs())
		t.Cleanup(p.Close)
		if err := p.InitTransactions(t.Context()); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := producer()
	if err := old.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	topic := "out"
	if err := old.Produce(&kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: 0}, Value: []byte("open")}, nil); err != nil {
		t.Fatal(err)
	}
	if left := old.Flush(10_000); left > 0 {
		t.Fatal("the open transaction's record did not reach the broker")
	}
	var mu sync.Mutex
	inits := 0
	s.Cluster().ControlKey(kmsg.InitProducerID.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		mu.Lock()
		inits++
		mu.Unlock()
		return nil, nil, false // count, and let the broker answer
	})
	producer() // the restart: fences old, aborts its transaction
	mu.Lock()
	defer mu.Unlock()
	if inits != 1 {
		t.Fatalf("InitTransactions over an open transaction took %d InitProducerId requests; kfake answered in 1 when this was pinned (Kafka: 2 or more, CONCURRENT_TRANSACTIONS first). Update the README's kfake differences", inits)
	}
	if err := old.CommitTransaction(t.Context()); err == nil {
		t.Fatal("the fenced producer committed its transaction")
	}
}
