package consumer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/poll"
	"github.com/offsetlab/offsetlab/internal/serde"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// poison is a record a consumer cannot decode, of each kind a topic can hold.
type poison struct {
	kind   string // the ledger's reason
	value  func(good []byte) []byte
	reason string // in the message
}

var poisons = []poison{
	{"not-wire-format", func([]byte) []byte { return []byte("plain text, not avro") }, "not Confluent wire format: magic byte is 0x70"},
	{"unknown-schema", func([]byte) []byte { return serde.AppendHeader(nil, 999) }, "schema id 999 is unknown to the registry"},
	{"undecodable", func(good []byte) []byte { return good[:len(good)-3] }, "payload does not decode with schema id"},
}

// badOffset is where each test topic holds its poison record, on partition 0.
const badOffset = 5

// poisonTopic writes five good records, the poison record at offset 5 and
// three good records after it, all to partition 0 of topic.
func poisonTopic(t *testing.T, bootstrap, registry, topic string, p poison) {
	t.Helper()
	rc := (&config.Connection{Registry: registry, Timeout: 10 * time.Second}).RegistryClient()
	ser, err := serde.NewSerializer(rc, serde.Subject(topic), `{"type":"record","name":"R","fields":[{"name":"id","type":"long"},{"name":"item","type":"string"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": bootstrap, "go.logs.channel.enable": true})
	if err != nil {
		t.Fatal(err)
	}
	go config.DiscardLogs(pr.Logs())
	defer pr.Close()
	for i := range 9 {
		v, err := ser.Encode(map[string]any{"id": int64(i), "item": fmt.Sprintf("item-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if i == badOffset {
			v = p.value(v)
		}
		done := make(chan kafka.Event, 1)
		if err := pr.Produce(&kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: 0}, Value: v,
			Headers: []kafka.Header{{Key: ledger.HeaderRun, Value: []byte("poison")}, {Key: ledger.HeaderSeq, Value: fmt.Append(nil, i)}}}, done); err != nil {
			t.Fatal(err)
		}
		m := (<-done).(*kafka.Message)
		if m.TopicPartition.Error != nil || m.TopicPartition.Offset != kafka.Offset(i) {
			t.Fatalf("record %d landed at offset %v: %v", i, m.TopicPartition.Offset, m.TopicPartition.Error)
		}
	}
}

// committedAt is the group's committed offset for topic[0], from the broker.
func committedAt(t *testing.T, bootstrap, group, topic string) int64 {
	t.Helper()
	c := testConsumer(t, kafka.ConfigMap{"bootstrap.servers": bootstrap, "group.id": group})
	tps, err := c.Committed([]kafka.TopicPartition{{Topic: &topic, Partition: 0}}, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	return int64(tps[0].Offset)
}

// TestBadRecordStop: under --on-bad-record stop the consumer stops at the
// poison record, exits 65 naming topic[partition]@offset and why, and in
// every commit mode the group's committed offset on the broker is the
// poison record's own offset: the records before it are committed, the
// poison record is not. In the auto mode librdkafka stored offset+1 when
// Poll handed the record over; a 100 ms auto-commit interval gives its
// timer every chance to commit it.
func TestBadRecordStop(t *testing.T) {
	s := stacktest.Start(t)
	for i, p := range poisons {
		poisonTopic(t, s.BrokerAddr(), s.RegistryURL(), "poison-"+p.kind, poisons[i])
	}
	modes := []commitMode{commitAuto, commitStoreAfterProcess, commitSync, commitAsync, commitBeforeProcess, commitTransactional}
	for i, mode := range modes {
		p := poisons[i%len(poisons)]
		topic, group := "poison-"+p.kind, "stop-"+string(mode)
		t.Run(string(mode)+"/"+p.kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.jsonl")
			args := []string{"--group", group, "--topic", topic, "--reset", "earliest", "--commit", string(mode),
				"--quiet", "--ledger", path, "--on-bad-record", "stop", "--idle-exit", "20s",
				"--auto-commit-interval", "100ms", "--process-delay", "20ms",
				"--bootstrap", s.BrokerAddr(), "--registry", s.RegistryURL()}
			if mode == commitTransactional {
				args = append(args, "--output", "out-"+string(mode), "--name", "t1")
			} else if mode != commitAuto && mode != commitStoreAfterProcess {
				args = without(args, "--auto-commit-interval")
			}
			var stderr bytes.Buffer
			err := Run(t.Context(), args, io.Discard, &stderr)
			var bad *BadRecordError
			if !errors.As(err, &bad) {
				t.Fatalf("want a BadRecordError, got %v\n%s", err, stderr.String())
			}
			if bad.Topic != topic || bad.Partition != 0 || bad.Offset != badOffset || cli.Code(err) != ExitBadRecord {
				t.Fatalf("stopped at %s[%d]@%d with exit %d, want %s[0]@%d and %d", bad.Topic, bad.Partition, bad.Offset, cli.Code(err), topic, badOffset, ExitBadRecord)
			}
			if msg := err.Error(); !strings.Contains(msg, fmt.Sprintf("%s[0]@%d", topic, badOffset)) || !strings.Contains(msg, p.reason) || strings.Contains(msg, "\n") {
				t.Errorf("message %q does not name the record and %q on one line", msg, p.reason)
			}
			if got := committedAt(t, s.BrokerAddr(), group, topic); got != badOffset {
				t.Fatalf("committed offset of %s[0] = %d, want %d (the bad record's own offset)\n%s", topic, got, badOffset, stderr.String())
			}
			events := readLedger(t, path)
			if n := count(events, ledger.Processed); n != badOffset {
				t.Errorf("%d records processed, want the %d before the bad one", n, badOffset)
			}
			checkBadEvent(t, events, p.kind, badStop)
		})
	}
}

// TestBadRecordSkip: by default each poison record is reported, recorded
// with partition, offset and reason, counted, and the commit moves past it.
func TestBadRecordSkip(t *testing.T) {
	s := stacktest.Start(t)
	for i, p := range poisons {
		t.Run(p.kind, func(t *testing.T) {
			topic := "skip-" + p.kind
			poisonTopic(t, s.BrokerAddr(), s.RegistryURL(), topic, poisons[i])
			path := filepath.Join(t.TempDir(), "c.jsonl")
			var stderr bytes.Buffer
			err := Run(t.Context(), []string{"--group", "skip", "--topic", topic, "--reset", "earliest", "--commit", "sync",
				"--quiet", "--ledger", path, "--max-messages", "9",
				"--bootstrap", s.BrokerAddr(), "--registry", s.RegistryURL()}, io.Discard, &stderr)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			want := fmt.Sprintf("bad record at %s[0]@%d: %s", topic, badOffset, p.reason)
			if !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), "(skipped)") {
				t.Errorf("stderr does not say %q ... (skipped):\n%s", want, stderr.String())
			}
			if got := committedAt(t, s.BrokerAddr(), "skip", topic); got != 9 {
				t.Errorf("committed %d, want 9: past the skipped record", got)
			}
			checkBadEvent(t, readLedger(t, path), p.kind, badSkip)
		})
	}
}

func checkBadEvent(t *testing.T, events []ledger.Event, kind, action string) {
	t.Helper()
	for _, ev := range events {
		if ev.Type == ledger.BadRecord {
			if ev.Record == nil || ev.Record.Partition != 0 || ev.Record.Offset != badOffset ||
				ev.Detail["reason"] != kind || ev.Detail["action"] != action || ev.Error == "" {
				t.Errorf("bad-record event %+v (detail %v), want partition 0, offset %d, reason %s, action %s", ev.Record, ev.Detail, badOffset, kind, action)
			}
			return
		}
	}
	t.Error("no bad-record event in the ledger")
}

// without returns args without the flag name and its value.
func without(args []string, name string) []string {
	for i, a := range args {
		if a == name {
			return append(append([]string{}, args[:i]...), args[i+2:]...)
		}
	}
	return args
}

func TestOnBadRecordFlag(t *testing.T) {
	_, err := parse([]string{"--group", "g", "--topic", "t", "--on-bad-record", "ignore"}, io.Discard)
	var usage *cli.UsageError
	if !errors.As(err, &usage) || err.Error() != `--on-bad-record "ignore" is not an action (accepted: skip, stop)` {
		t.Fatalf("got %v", err)
	}
}

// TestRegistryDown: a consumer keeps decoding records whose schema it has
// cached after the registry goes away, and stops at the first record that
// needs a schema it has not fetched: exit 69, the record named, and not
// committed past (the records before it are).
func TestRegistryDown(t *testing.T) {
	s := stacktest.Start(t)
	reg := srfake.New()
	defer reg.Close()
	rc := (&config.Connection{Registry: reg.URL(), Timeout: 2 * time.Second}).RegistryClient()
	v1, err := serde.NewSerializer(rc, serde.Subject("rd"), `{"type":"record","name":"A","fields":[{"name":"id","type":"long"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := serde.NewSerializer(rc, serde.Subject("rd"), `{"type":"record","name":"B","fields":[{"name":"id","type":"long"},{"name":"more","type":"string","default":""}]}`)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": s.BrokerAddr(), "go.logs.channel.enable": true})
	if err != nil {
		t.Fatal(err)
	}
	go config.DiscardLogs(pr.Logs())
	defer pr.Close()
	topic := "rd"
	produce := func(ser *serde.Serializer, rec map[string]any) {
		t.Helper()
		v, err := ser.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan kafka.Event, 1)
		if err := pr.Produce(&kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: 0}, Value: v}, done); err != nil {
			t.Fatal(err)
		}
		if m := (<-done).(*kafka.Message); m.TopicPartition.Error != nil {
			t.Fatal(m.TopicPartition.Error)
		}
	}
	for i := range 5 {
		produce(v1, map[string]any{"id": int64(i)})
	}
	path := filepath.Join(t.TempDir(), "c.jsonl")
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Run(t.Context(), []string{"--group", "rd", "--topic", topic, "--reset", "earliest", "--commit", "sync",
			"--quiet", "--ledger", path, "--idle-exit", "20s", "--timeout", "2s",
			"--bootstrap", s.BrokerAddr(), "--registry", reg.URL()}, io.Discard, &stderr)
	}()
	waitLedger(t, path, "5 records processed", func(events []ledger.Event) bool { return count(events, ledger.Processed) >= 5 })
	reg.Close()
	for i := 5; i < 8; i++ { // schema id cached: decoded without the registry
		produce(v1, map[string]any{"id": int64(i)})
	}
	produce(v2, map[string]any{"id": int64(8), "more": "x"}) // offset 8: a schema id never fetched
	var err2 error
	poll.Until(t, 30*time.Second, "the consumer to stop at a record with an unfetched schema id", poll.Received(done, &err2))
	var down *RegistryDownError
	if !errors.As(err2, &down) || down.Offset != 8 || cli.Code(err2) != cli.ExitUnavailable {
		t.Fatalf("want a RegistryDownError at offset 8 and exit 69, got %v (exit %d)\n%s", err2, cli.Code(err2), stderr.String())
	}
	if msg := err2.Error(); !strings.Contains(msg, "rd[0]@8: unable to fetch schema id "+fmt.Sprint(v2.ID())) || strings.Contains(msg, "\n") {
		t.Errorf("message %q does not name the record and the schema id on one line", msg)
	}
	t.Logf("consumer: %v", err2)
	if n := count(readLedger(t, path), ledger.Processed); n != 8 {
		t.Errorf("processed %d, want 8: the cached schema decodes without the registry", n)
	}
	if got := committedAt(t, s.BrokerAddr(), "rd", topic); got != 8 {
		t.Errorf("committed %d, want 8: not past the record that needs the registry", got)
	}
}
