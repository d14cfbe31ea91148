package scenario

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/kballard/go-shellquote"

	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/logread"
)

// A program under test is any consumer process a story starts with
// `start NAME --exec 'COMMAND ARGS...'`: a Go service, a Python worker, a
// Node app, kcat. It joins the story's group like offsetlab's own consumer
// and is killed, stopped and restarted the same way. Its environment
// carries the contract:
//
//	OFFSETLAB_BOOTSTRAP, OFFSETLAB_REGISTRY   where the broker and the registry are
//	OFFSETLAB_TOPIC, OFFSETLAB_GROUP          what to consume, in which group
//	OFFSETLAB_INSTANCE                        the story's name for it (c1)
//	OFFSETLAB_CONFIG                          a librdkafka properties file: the connection, security included
//	OFFSETLAB_OUTPUT                          a topic it may forward what it processed to
//
// offsetlab learns what it processed in one of three ways (--observe):
//
//	lines   it prints "offsetlab processed TOPIC PARTITION OFFSET" on stdout once
//	        it has finished with a record (the default)
//	output  it forwards each processed record to $OFFSETLAB_OUTPUT with the
//	        offsetlab.run and offsetlab.seq headers; offsetlab reads that topic
//	        (read_committed) and matches records by run and sequence
//	broker  nothing: offsetlab judges from the committed offsets alone
//
// The runner writes the program's ledger for it: a started event, and for
// each protocol line a consumed and a processed event (for a program, a
// record counts as read when it reports it processed).
const (
	observeLines  = "lines"
	observeOutput = "output"
	observeBroker = "broker"
)

// contract names the program's environment, in the order of its doc.
var contract = []string{"OFFSETLAB_BOOTSTRAP", "OFFSETLAB_REGISTRY", "OFFSETLAB_TOPIC", "OFFSETLAB_GROUP",
	"OFFSETLAB_INSTANCE", "OFFSETLAB_CONFIG", "OFFSETLAB_OUTPUT"}

// protocolPrefix starts every line of the protocol.
const protocolPrefix = "offsetlab "

// execFlags are the flags start takes with --exec: the program has its own
// settings; these say how to run and observe it.
type execFlags struct {
	command string
	observe string
	group   string
}

func parseExecFlags(args []string) (*execFlags, error) {
	f := &execFlags{}
	fs := flag.NewFlagSet("start --exec", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.command, "exec", "", "")
	fs.StringVar(&f.observe, "observe", observeLines, "")
	fs.StringVar(&f.group, "group", "", "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return nil, badUsage("with --exec, the program takes its settings from its own command line; accepted: --exec 'COMMAND ARGS...', --observe lines|output|broker, --group GROUP")
	}
	switch f.observe {
	case observeLines, observeOutput, observeBroker:
	default:
		return nil, fmt.Errorf("--observe %q is not a way to observe a program; accepted: lines, output, broker", f.observe)
	}
	argv, err := shellquote.Split(placeholders([]string{f.command})[0])
	if err != nil || len(argv) == 0 {
		return nil, fmt.Errorf("--exec %q is not a command line (%v)", f.command, err)
	}
	return f, nil
}

// program is the runner's side of one run of a program under test.
type program struct {
	name    string
	observe string
	w       *ledger.Writer

	mu    sync.Mutex
	lines int   // protocol lines seen
	err   error // the first malformed protocol line
}

// line takes the program's protocol lines (in lines mode) into its ledger;
// every other line is printed as the program's output.
func (p *program) line(s string) bool {
	if p.observe != observeLines || !strings.HasPrefix(s, protocolPrefix) {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines++
	rec, err := parseProtocol(s)
	if err != nil {
		if p.err == nil {
			p.err = fmt.Errorf("%s printed a malformed protocol line (its line %d of the protocol): %q: %v; want \"offsetlab processed TOPIC PARTITION OFFSET\"", p.name, p.lines, s, err)
		}
		return true
	}
	_ = p.w.Write(ledger.Event{Type: ledger.Consumed, Record: rec})
	_ = p.w.Write(ledger.Event{Type: ledger.Processed, Record: rec})
	return true
}

// failure is the first protocol mistake the program made, if any.
func (p *program) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// parseProtocol reads "offsetlab processed TOPIC PARTITION OFFSET".
func parseProtocol(s string) (*ledger.Record, error) {
	f := strings.Fields(s)
	if len(f) != 5 || f[1] != "processed" {
		return nil, fmt.Errorf("%d words", len(f))
	}
	part, err := strconv.ParseInt(f[3], 10, 32)
	if err != nil || part < 0 {
		return nil, fmt.Errorf("partition %q is not a number", f[3])
	}
	off, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil || off < 0 {
		return nil, fmt.Errorf("offset %q is not a number", f[4])
	}
	return &ledger.Record{Topic: f[2], Partition: int32(part), Offset: off}, nil
}

// startProgram starts a program under test as run n of name.
func (r *run) startProgram(s *startStep, path string) error {
	w, err := ledger.Create(path)
	if err != nil {
		return err
	}
	group, topic := r.groups[s.name], r.vars["TOPIC"]
	prog := &program{name: s.name, observe: s.exec.observe, w: w}
	r.closers = append(r.closers, w.Close)
	if err := w.Write(ledger.Event{Type: ledger.Started, Detail: map[string]string{
		"name": s.name, "group.id": group, "exec": s.exec.command, "observe": s.exec.observe}}); err != nil {
		return err
	}
	props, err := r.properties()
	if err != nil {
		return err
	}
	vals := map[string]string{
		"OFFSETLAB_BOOTSTRAP": r.env.Conn.Bootstrap, "OFFSETLAB_REGISTRY": r.env.Conn.Registry,
		"OFFSETLAB_TOPIC": topic, "OFFSETLAB_GROUP": group, "OFFSETLAB_INSTANCE": s.name,
		"OFFSETLAB_CONFIG": props, "OFFSETLAB_OUTPUT": r.outputTopic(),
	}
	var env []string
	for _, k := range contract {
		env = append(env, k+"="+vals[k])
	}
	// The story's variables and the contract's, as the program will see
	// them; $CONSUMER's command line may use them too.
	line := os.Expand(r.expand(s.exec.command), func(k string) string {
		if v, ok := vals[k]; ok {
			return v
		}
		return r.vars[k]
	})
	argv, err := shellquote.Split(line)
	if err != nil {
		return fmt.Errorf("--exec: %v", err)
	}
	if _, err := r.sup.StartExec(s.name, argv, env, prog.line); err != nil {
		return fmt.Errorf("%s: unable to start %q: %w", s.name, line, err)
	}
	r.programs[s.name] = prog
	return nil
}

// properties writes $OFFSETLAB_CONFIG once per run, outside the results
// directory: it holds the connection's secrets, and the results are kept.
func (r *run) properties() (string, error) {
	if r.props != "" {
		return r.props, nil
	}
	dir, err := os.MkdirTemp("", "offsetlab-config-")
	if err != nil {
		return "", err
	}
	r.closers = append(r.closers, func() error { return os.RemoveAll(dir) })
	path := filepath.Join(dir, "client.properties")
	if err := r.env.Conn.WriteProperties(path); err != nil {
		return "", fmt.Errorf("unable to write $OFFSETLAB_CONFIG: %w", err)
	}
	r.props = path
	return path, nil
}

// outputTopic is $OFFSETLAB_OUTPUT: $TOPIC-out.
func (r *run) outputTopic() string { return r.vars["TOPIC"] + "-out" }

// programFailure is the first protocol mistake of any program the story
// started.
func (r *run) programFailure() error {
	for _, name := range sortedKeys(r.programs) {
		if err := r.programs[name].failure(); err != nil {
			return err
		}
	}
	return nil
}

// outputReads reads what the programs observed through their output
// forwarded to $OFFSETLAB_OUTPUT, from its start to its end, read_committed,
// into a ledger in the run's directory (written anew each time), and
// returns its path with the groups it is an incarnation of: the records it
// holds, with the run and sequence the producer stamped, are what those
// groups processed. No group observes an output: "".
func (r *run) outputReads() (string, []string, error) {
	groups := map[string]bool{}
	for name, prog := range r.programs {
		if prog.observe == observeOutput {
			groups[r.groups[name]] = true
		}
	}
	if len(groups) == 0 {
		return "", nil, nil
	}
	topic := r.outputTopic()
	n, exists, err := r.admin.TopicPartitions(r.ctx, topic)
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(r.dir, "output.ledger")
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", nil, err
	}
	w, err := ledger.Create(path)
	if err != nil {
		return "", nil, err
	}
	if exists {
		parts := make([]int32, n)
		for i := range parts {
			parts[i] = int32(i)
		}
		opts := logread.Options{Partitions: parts, FromBeginning: true, Idle: r.env.Wait, ReadCommitted: true}
		err = logread.Read(r.ctx, &r.env.Conn, topic, opts, func(m *kafka.Message) error {
			rec := ledger.RecordOf(m)
			return w.Write(ledger.Event{Type: ledger.Processed, Record: &rec})
		})
		if err != nil {
			w.Close()
			return "", nil, fmt.Errorf("reading the output topic %s: %w", topic, err)
		}
	}
	if err := w.Close(); err != nil {
		return "", nil, err
	}
	return path, sortedKeys(groups), nil
}
