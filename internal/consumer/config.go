package consumer

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/out"
)

// options are the consumer's flags: the knobs a workshop turns, typed.
type options struct {
	conn              config.Connection
	name              string
	group             string
	topics            []string
	reset             string
	commit            mode
	autoCommitEvery   time.Duration
	maxMessages       int64
	idleExit          time.Duration
	processDelay      time.Duration
	stallAt           int64         // --stall N:D: the Nth record handed over ...
	stall             time.Duration // ... takes D to process
	maxPollInterval   time.Duration
	staticID          string
	protocol          string
	assignor          string
	sessionTimeout    time.Duration
	heartbeatInterval time.Duration
	statsInterval     time.Duration
	ledger            string
	onBadRecord       string
	close             string // closePauseFirst or closePlain (close.go)

	// --commit transactional (consume-transform-produce).
	output          string        // the topic each record is produced to
	transactionalID string        // the producer's transactional.id
	txnRecords      int           // commit the transaction after this many records
	txnInterval     time.Duration // or after it has been open this long
	nameSet         bool          // --name was given: the default transactional.id is stable
	format          string
	quiet           bool
	waitForTopic    bool
}

// resetPolicies maps what users may type to librdkafka's auto.offset.reset.
// librdkafka rejects `none`, the Java client's word for "fail instead of
// guessing"; its own word is `error`. Both mean the same to offsetlab.
var resetPolicies = map[string]string{
	"earliest": "earliest", "smallest": "earliest", "beginning": "earliest",
	"latest": "latest", "largest": "latest", "end": "latest",
	"none": "error", "error": "error",
}

// Group protocols and their assignors. The classic protocol's assignor runs
// in the group leader (partition.assignment.strategy); KIP-848's runs in the
// broker (group.remote.assignor).
var assignors = map[string][]string{
	"classic":  {"range", "roundrobin", "cooperative-sticky"},
	"consumer": {"uniform", "range"},
}

// parse is how Run reads its flags: parsed and checked (parseFlags), then
// the connection settings loaded.
func parse(args []string, stderr io.Writer) (*options, error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return nil, err
	}
	return o, o.conn.Load()
}

// parseFlags parses and checks the flags, without loading the connection
// settings: it reads no file and connects nowhere. Only -h writes, the
// usage, to stderr.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	var topics, commit string
	fs := flag.NewFlagSet("consumer", flag.ContinueOnError)
	o.conn.RegisterFlags(fs)
	host, _ := os.Hostname()
	fs.StringVar(&o.name, "name", fmt.Sprintf("%s-%d", host, os.Getpid()), "this instance's name, its client.id and the prefix of its output")
	fs.StringVar(&o.group, "group", "", "consumer group id (required)")
	fs.StringVar(&topics, "topic", "", "topic, or comma-separated topics, to subscribe to (required)")
	fs.StringVar(&o.reset, "reset", "latest", "auto.offset.reset when a partition has no valid committed offset: earliest, latest or none")
	fs.StringVar(&commit, "commit", string(commitAuto), "commit mode: "+commitModeNames())
	fs.DurationVar(&o.autoCommitEvery, "auto-commit-interval", 5*time.Second, "auto.commit.interval.ms, in the auto modes")
	fs.Int64Var(&o.maxMessages, "max-messages", 0, "stop cleanly after processing this many records (0: no limit)")
	fs.DurationVar(&o.idleExit, "idle-exit", 0, "stop cleanly after this long without a record, counted from the last record or assignment (0: never)")
	fs.DurationVar(&o.processDelay, "process-delay", 0, "time each record takes to process (simulated work)")
	var stall string
	fs.StringVar(&stall, "stall", "", "`N[:DURATION]`: the Nth record this run is handed takes DURATION to process instead of --process-delay, as a slow call would (default: twice --max-poll-interval, so librdkafka leaves the group in the meantime)")
	fs.DurationVar(&o.maxPollInterval, "max-poll-interval", 0, "max.poll.interval.ms: the longest the application may take between polls before librdkafka leaves the group for it (default librdkafka's 5m)")
	fs.BoolVar(&o.waitForTopic, "wait-for-topic", false, "wait for a --topic that does not exist yet to be created, instead of stopping with the list of topics")
	fs.StringVar(&o.staticID, "static-id", "", "group.instance.id: static membership, so a restart within the session timeout keeps its partitions")
	fs.StringVar(&o.protocol, "protocol", "classic", "group protocol: classic, or consumer (KIP-848)")
	fs.StringVar(&o.assignor, "assignor", "", "partition assignor: range, roundrobin or cooperative-sticky (classic); uniform or range (consumer)")
	fs.DurationVar(&o.sessionTimeout, "session-timeout", 0, "session.timeout.ms, classic protocol (default librdkafka's 45s)")
	fs.DurationVar(&o.heartbeatInterval, "heartbeat-interval", 0, "heartbeat.interval.ms, classic protocol (default librdkafka's 3s)")
	fs.DurationVar(&o.statsInterval, "stats-interval", 250*time.Millisecond, "how often librdkafka reports fetch positions (ledger 'fetching' events)")
	fs.StringVar(&o.ledger, "ledger", "", "write the ledger of everything the consumer did to `FILE` (scenarios ledger FILE prints it as JSON lines)")
	fs.StringVar(&o.onBadRecord, "on-bad-record", badSkip, "a record that does not decode (not wire format, unknown schema id, bad Avro): skip (report, record in the ledger, go on) or stop (exit 65 without committing past it)")
	fs.StringVar(&o.close, "close", closePauseFirst, "how SIGTERM closes: pause-first (pause the assignment, then Close(): commits what was processed) or plain (Close() alone, as a plain confluent-kafka-go app: in --commit auto it also commits records it polls away unprocessed)")
	fs.StringVar(&o.format, "format", out.Text, "record output: text or json")
	fs.BoolVar(&o.quiet, "quiet", false, "do not print records, only the summary (nor that it waits for records)")
	fs.StringVar(&o.output, "output", "", "with --commit transactional: the `TOPIC` each record is produced to, in the transaction that commits its offset")
	fs.StringVar(&o.transactionalID, "transactional-id", "", "with --commit transactional: the producer's transactional.id (default offsetlab-GROUP-NAME); a restart with the same id fences its killed predecessor and aborts its open transaction")
	fs.IntVar(&o.txnRecords, "txn-records", 100, "with --commit transactional: commit the transaction after this many records (and whenever the input runs dry)")
	fs.DurationVar(&o.txnInterval, "txn-interval", 5*time.Second, "with --commit transactional: commit the transaction once it has been open this long, whatever its size")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: consumer --group G --topic T [flags]\n\nConsumes in a group and records what it did. SIGTERM or SIGINT closes cleanly:\nthe assignment paused (see --close), the final commit, then Close(), which\nleaves the group (a --static-id member does not). SIGUSR1 prints Position()\nand Committed().\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, stderr); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.nameSet = set["name"]
	for _, t := range strings.Split(topics, ",") {
		if t = strings.TrimSpace(t); t != "" {
			o.topics = append(o.topics, t)
		}
	}
	if err := o.parseStall(stall); err != nil {
		return nil, err
	}
	if err := o.validate(commit, set); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *options) validate(commit string, set map[string]bool) error {
	switch {
	case o.group == "" && !set["group"]:
		return cli.Usagef("--group is required")
	case strings.TrimSpace(o.group) == "":
		// librdkafka takes a blank group.id, SubscribeTopics then fails,
		// and Close() used to wait for a group it never joined.
		return cli.Usagef("--group %q is not a group id (accepted: a name with a character that is not whitespace, e.g. --group orders-app)", o.group)
	case len(o.topics) == 0:
		return cli.Usagef("--topic is required")
	case o.maxMessages < 0:
		return cli.Usagef("--max-messages must be 0 (no limit) or more, got %d", o.maxMessages)
	}
	if o.close != closePauseFirst && o.close != closePlain {
		return cli.Usagef("--close %q is not a way to close (accepted: %s, %s)", o.close, closePauseFirst, closePlain)
	}
	if o.onBadRecord != badSkip && o.onBadRecord != badStop {
		return cli.Usagef("--on-bad-record %q is not an action (accepted: skip, stop)", o.onBadRecord)
	}
	if _, ok := resetPolicies[o.reset]; !ok {
		return cli.Usagef("--reset %q is not a reset policy (accepted: earliest, latest, none; or librdkafka's smallest, beginning, largest, end, error)", o.reset)
	}
	newMode, ok := commitModes[commitMode(commit)]
	if !ok {
		return cli.Usagef("--commit %q is not a commit mode (accepted: %s)", commit, commitModeNames())
	}
	o.commit = newMode(o)
	known, ok := assignors[o.protocol]
	if !ok {
		return cli.Usagef("--protocol %q is not a group protocol (accepted: classic, consumer)", o.protocol)
	}
	if o.assignor != "" && !slices.Contains(known, o.assignor) {
		return cli.Usagef("--assignor %q does not go with --protocol %s (accepted: %s)", o.assignor, o.protocol, strings.Join(known, ", "))
	}
	if o.protocol == "consumer" && (o.sessionTimeout > 0 || o.heartbeatInterval > 0) {
		return cli.Usagef("--session-timeout and --heartbeat-interval belong to the classic protocol; with --protocol consumer the broker sets them (group.consumer.session.timeout.ms)")
	}
	if err := o.checkTimings(); err != nil {
		return err
	}
	if err := o.commit.check(o, set); err != nil {
		return err
	}
	if err := out.CheckFormat(o.format); err != nil {
		return err
	}
	return nil
}

// librdkafka's defaults for the classic protocol's group timings.
const (
	defaultSessionTimeout    = 45 * time.Second
	defaultHeartbeatInterval = 3 * time.Second
)

// parseStall reads --stall N:DURATION.
func (o *options) parseStall(s string) error {
	if s == "" {
		return nil
	}
	n, d, timed := strings.Cut(s, ":")
	var err error
	if o.stallAt, err = strconv.ParseInt(n, 10, 64); err == nil && timed {
		o.stall, err = time.ParseDuration(d)
	}
	if err != nil || o.stallAt < 1 || timed && o.stall <= 0 {
		return cli.Usagef("--stall %q is not N[:DURATION] (accepted: the record's number from 1 and a positive duration, e.g. --stall 50:8s)", s)
	}
	if !timed && o.maxPollInterval <= 0 {
		return cli.Usagef("--stall %s without a duration stalls for twice --max-poll-interval, and none was given (accepted: --stall N:DURATION, or --max-poll-interval D)", s)
	}
	if !timed {
		o.stall = 2 * o.maxPollInterval
	}
	return nil
}

// checkTimings refuses a heartbeat that is not more frequent than the
// session timeout, the rule Kafka states for heartbeat.interval.ms ("must
// be set lower than session.timeout.ms"). librdkafka does not enforce it:
// with --heartbeat-interval 10s --session-timeout 1s the coordinator drops
// the member between heartbeats, and every commit and record is redone
// after the rebalance that follows. A flag not given counts as librdkafka's
// default.
func (o *options) checkTimings() error {
	if o.maxPollInterval < 0 || o.maxPollInterval > 0 && o.maxPollInterval < time.Millisecond {
		return cli.Usagef("--max-poll-interval %s is not an interval (accepted: 1ms or more; 0 for librdkafka's default 5m)", o.maxPollInterval)
	}
	if o.protocol != "classic" {
		return nil
	}
	session := fmt.Sprintf("--session-timeout %s", o.sessionTimeout)
	if o.sessionTimeout <= 0 {
		session = fmt.Sprintf("the default session timeout %s", defaultSessionTimeout)
	}
	heartbeat := fmt.Sprintf("--heartbeat-interval %s", o.heartbeatInterval)
	if o.heartbeatInterval <= 0 {
		heartbeat = fmt.Sprintf("the default heartbeat interval %s", defaultHeartbeatInterval)
	}
	if o.maxPollInterval != 0 && o.maxPollInterval < cmp.Or(max(o.sessionTimeout, 0), defaultSessionTimeout) {
		return cli.Usagef("--max-poll-interval %s must be no lower than %s: librdkafka refuses max.poll.interval.ms < session.timeout.ms", o.maxPollInterval, session)
	}
	if cmp.Or(max(o.heartbeatInterval, 0), defaultHeartbeatInterval) < cmp.Or(max(o.sessionTimeout, 0), defaultSessionTimeout) {
		return nil
	}
	return cli.Usagef("%s must be lower than %s: heartbeat.interval.ms < session.timeout.ms, as Kafka requires (typically no more than a third of it), or the coordinator drops the member between heartbeats", heartbeat, session)
}

// txnID is the producer's transactional.id. The default is derived from the
// group and --name, so that a consumer restarted with the same name gets the
// same id: its InitTransactions then fences the killed instance and aborts
// the transaction it left open.
func (o *options) txnID() string {
	if o.transactionalID != "" {
		return o.transactionalID
	}
	return "offsetlab-" + o.group + "-" + o.name
}

// configMap states, once, how each typed knob becomes a librdkafka property.
func (o *options) configMap() kafka.ConfigMap {
	cm := kafka.ConfigMap{
		"group.id":               o.group,
		"client.id":              o.name,
		"auto.offset.reset":      resetPolicies[o.reset],
		"group.protocol":         o.protocol,
		"statistics.interval.ms": int(o.statsInterval / time.Millisecond),
	}
	for k, v := range o.commit.settings() {
		cm[k] = v
	}
	if o.staticID != "" {
		cm["group.instance.id"] = o.staticID
	}
	switch {
	case o.assignor != "" && o.protocol == "classic":
		cm["partition.assignment.strategy"] = o.assignor
	case o.assignor != "":
		cm["group.remote.assignor"] = o.assignor
	}
	if o.sessionTimeout > 0 {
		cm["session.timeout.ms"] = int(o.sessionTimeout / time.Millisecond)
	}
	if o.heartbeatInterval > 0 {
		cm["heartbeat.interval.ms"] = int(o.heartbeatInterval / time.Millisecond)
	}
	if o.maxPollInterval > 0 {
		cm["max.poll.interval.ms"] = int(o.maxPollInterval / time.Millisecond)
	}
	return o.conn.ConfigMap(cm)
}

// producerConfigMap is the transactional producer of --commit transactional.
// Delivery reports are off: CommitTransaction flushes and fails, abortably,
// if any record of the transaction was not delivered, which is the only
// outcome a transaction has.
func (o *options) producerConfigMap() kafka.ConfigMap {
	return o.conn.ConfigMap(kafka.ConfigMap{
		"client.id":           o.name,
		"transactional.id":    o.txnID(),
		"go.delivery.reports": false,
	})
}
