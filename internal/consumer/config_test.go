package consumer

import (
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli/clitest"
)

// TestConfigMap: the whole librdkafka configuration Run builds, for every
// commit mode under every reset policy a user may type: each mode's
// enable.auto.commit, enable.auto.offset.store, auto.commit.interval.ms and
// isolation.level, and `none` sent as librdkafka's `error`.
func TestConfigMap(t *testing.T) {
	t.Setenv("OFFSETLAB_CONFIG", "") // no properties file: the map holds the flags' properties only
	resets := []struct{ flag, want string }{
		{"", "latest"}, // --reset not given
		{"earliest", "earliest"}, {"smallest", "earliest"}, {"beginning", "earliest"},
		{"latest", "latest"}, {"largest", "latest"}, {"end", "latest"},
		{"none", "error"}, {"error", "error"},
	}
	auto := func(store bool, interval int) kafka.ConfigMap {
		return kafka.ConfigMap{"enable.auto.commit": true, "enable.auto.offset.store": store, "auto.commit.interval.ms": interval}
	}
	manual := kafka.ConfigMap{"enable.auto.commit": false, "enable.auto.offset.store": false}
	modes := []struct {
		mode commitMode
		args []string
		want kafka.ConfigMap // what the mode sets
	}{
		{commitAuto, nil, auto(true, 5000)},
		{commitAuto, []string{"--auto-commit-interval", "100ms"}, auto(true, 100)},
		// The auto mode stores by hand under --on-bad-record stop, so that
		// the bad record's offset is never stored.
		{commitAuto, []string{"--on-bad-record", "stop"}, auto(false, 5000)},
		{commitStoreAfterProcess, nil, auto(false, 5000)},
		{commitStoreAfterProcess, []string{"--on-bad-record", "stop"}, auto(false, 5000)},
		{commitSync, nil, manual},
		{commitSync, []string{"--on-bad-record", "stop"}, manual},
		{commitAsync, nil, manual},
		{commitBeforeProcess, nil, manual},
		{commitTransactional, []string{"--output", "out"},
			kafka.ConfigMap{"enable.auto.commit": false, "enable.auto.offset.store": false, "isolation.level": "read_committed"}},
	}
	covered := map[commitMode]bool{}
	for _, m := range modes {
		covered[m.mode] = true
		for _, r := range resets {
			args := append([]string{"--commit", string(m.mode)}, m.args...)
			if r.flag != "" {
				args = append(args, "--reset", r.flag)
			}
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				o, err := parse(append([]string{"--bootstrap", "b:9092", "--group", "g", "--topic", "t", "--name", "c1"}, args...), io.Discard)
				if err != nil {
					t.Fatal(err)
				}
				want := kafka.ConfigMap{
					"bootstrap.servers": "b:9092", "go.logs.channel.enable": true,
					"group.id": "g", "client.id": "c1", "group.protocol": "classic", "statistics.interval.ms": 250,
					"auto.offset.reset": r.want,
				}
				maps.Copy(want, m.want)
				if got := o.configMap(); !maps.Equal(got, want) {
					t.Errorf("configMap()\n got %v\nwant %v", got, want)
				}
			})
		}
	}
	for name := range commitModes {
		if !covered[name] {
			t.Errorf("commit mode %s has no row: say what it sets", name)
		}
	}
}

// TestCheck: Check accepts what Run accepts and refuses what Run refuses,
// with Run's one-line usage error, without loading the connection settings.
func TestCheck(t *testing.T) {
	base := []string{"--group", "g", "--topic", "t"}
	refuse := func(args []string, want string) clitest.Refusal {
		return clitest.Refusal{Args: slices.Concat(base, args), Want: want}
	}
	clitest.CheckLikeRun(t, Check, func(args []string) error { _, err := parse(args, io.Discard); return err },
		slices.Concat(base, []string{"--commit", "store-after-process", "--reset", "none", "--auto-commit-interval", "1s", "--session-timeout", "6s", "--heartbeat-interval", "2s", "--max-poll-interval", "6s", "--stall", "5"}),
		[]clitest.Refusal{
			refuse([]string{"--commit", "often"}, `--commit "often" is not a commit mode (accepted: async, auto, commit-before-process, store-after-process, sync, transactional)`),
			refuse([]string{"--colour", "red"}, "flag provided but not defined: -colour (see -h)"),
			refuse([]string{"--reset", "oldest"}, `--reset "oldest" is not a reset policy (accepted: earliest, latest, none; or librdkafka's smallest, beginning, largest, end, error)`),
			refuse([]string{"--topic", ""}, "--topic is required"),
			refuse([]string{"--group", " "}, `--group " " is not a group id (accepted: a name with a character that is not whitespace, e.g. --group orders-app)`),
			refuse([]string{"--group", ""}, `--group "" is not a group id (accepted: a name with a character that is not whitespace, e.g. --group orders-app)`),
			refuse([]string{"--group", "\t\n"}, `--group "\t\n" is not a group id (accepted: a name with a character that is not whitespace, e.g. --group orders-app)`),
			refuse([]string{"--heartbeat-interval", "10s", "--session-timeout", "1s"}, "--heartbeat-interval 10s must be lower than --session-timeout 1s: heartbeat.interval.ms < session.timeout.ms, as Kafka requires (typically no more than a third of it), or the coordinator drops the member between heartbeats"),
			refuse([]string{"--heartbeat-interval", "5s", "--session-timeout", "5s"}, "--heartbeat-interval 5s must be lower than --session-timeout 5s: heartbeat.interval.ms < session.timeout.ms, as Kafka requires (typically no more than a third of it), or the coordinator drops the member between heartbeats"),
			refuse([]string{"--heartbeat-interval", "1m"}, "--heartbeat-interval 1m0s must be lower than the default session timeout 45s: heartbeat.interval.ms < session.timeout.ms, as Kafka requires (typically no more than a third of it), or the coordinator drops the member between heartbeats"),
			refuse([]string{"--session-timeout", "2s"}, "the default heartbeat interval 3s must be lower than --session-timeout 2s: heartbeat.interval.ms < session.timeout.ms, as Kafka requires (typically no more than a third of it), or the coordinator drops the member between heartbeats"),
			refuse([]string{"--close", "paused"}, `--close "paused" is not a way to close (accepted: pause-first, plain)`),
			refuse([]string{"--commit", "sync", "--output", "out"}, "--output goes with --commit transactional (consume-transform-produce), not --commit sync"),
			refuse([]string{"--commit", "transactional"}, "--commit transactional needs --output TOPIC: the topic each consumed record is produced to, in the transaction that commits its offset"),
			refuse([]string{"--max-poll-interval", "-1s"}, "--max-poll-interval -1s is not an interval (accepted: 1ms or more; 0 for librdkafka's default 5m)"),
			refuse([]string{"--max-poll-interval", "10s"}, "--max-poll-interval 10s must be no lower than the default session timeout 45s: librdkafka refuses max.poll.interval.ms < session.timeout.ms"),
			refuse([]string{"--stall", "0:1s"}, `--stall "0:1s" is not N[:DURATION] (accepted: the record's number from 1 and a positive duration, e.g. --stall 50:8s)`),
			refuse([]string{"--stall", "3:-1s"}, `--stall "3:-1s" is not N[:DURATION] (accepted: the record's number from 1 and a positive duration, e.g. --stall 50:8s)`),
		})
}
