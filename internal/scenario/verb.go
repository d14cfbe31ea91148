package scenario

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/verify"
)

// step is one parsed line of a story, its arguments checked and typed,
// ready to run.
type step interface {
	run(r *run) error
}

// verb is one word of the scenario language: its usage, which is its
// documentation, and how its arguments become a step. Each verb registers
// itself from the file that holds its code (verb_*.go).
type verb struct {
	name  string
	usage string
	parse func(p *parser, args []string) (step, error)
}

var verbs = map[string]verb{}

func register(v verb) { verbs[v.name] = v }

func verbNames() string {
	names := make([]string, 0, len(verbs))
	for n := range verbs {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Usage lists every verb and check, for `scenarios explain`.
func Usage() string {
	var b strings.Builder
	for _, n := range strings.Split(verbNames(), ", ") {
		fmt.Fprintf(&b, "  %s\n", verbs[n].usage)
	}
	b.WriteString("\nConditions (wait NAME ...):\n")
	for _, n := range conditionNames() {
		fmt.Fprintf(&b, "  wait NAME %s\n", conditions[n].usage)
	}
	b.WriteString("\nChecks (expect ...):\n")
	for _, n := range checkNames() {
		fmt.Fprintf(&b, "  expect %s\n", checks[n].usage)
	}
	b.WriteString("\nA step written [classic] LINE or [consumer] LINE runs only when the story runs under that group protocol (scenarios run --protocol).\n")
	b.WriteString("\nVariables: $TOPIC, $GROUP (unique to each run), $DIR (the run's results directory),\n$CONSUMER (the command `scenarios run --consumer` names; a story that uses it is skipped\nwithout it), $SESSION and $CONSUMER_SESSION (the session timeout of the\ngroup protocol the story runs under, and KIP-848's); a wait's bound may add them: within $SESSION+10s; in a program's --exec command line also $" + strings.Join(contract, ", $") + ".\n")
	return b.String()
}

// variables are the names a story may use as $NAME; the runner gives them
// their values (see Run). A program's command line may also use the
// contract's OFFSETLAB_* variables (see program.go).
var variables = append([]string{"TOPIC", "GROUP", "DIR", "CONSUMER", "SESSION", "CONSUMER_SESSION"}, contract...)

// parser holds what the lines read so far have set up, so that a
// reference to something that does not exist yet is refused at its line.
type parser struct {
	sc        *Scenario
	consumers map[string]int  // consumer name -> starts so far
	producers map[string]bool // background producer names
	snapshots map[string]bool
	faults    map[string]bool // fault names (fault ... as NAME, or the request)
	// observed says how each consumer is observed: "" for offsetlab's own
	// consumer (its ledger), else a program's --observe.
	observed map[string]string
	// explained is set when the line before was narration or the line has a
	// trailing comment: a sleep must say why it waits.
	explained bool
	// protocol is the line's [condition]: the only group protocol it runs
	// under, or "" for both.
	protocol string
}

func newParser(sc *Scenario) *parser {
	return &parser{sc: sc, consumers: map[string]int{}, producers: map[string]bool{}, snapshots: map[string]bool{}, faults: map[string]bool{}, observed: map[string]string{}}
}

// parse turns one line's words into a step.
func (p *parser) parse(args []string) (step, error) {
	v, ok := verbs[args[0]]
	if !ok {
		return nil, fmt.Errorf("unknown verb %q; accepted: %s", args[0], verbNames())
	}
	for _, a := range args[1:] {
		if err := checkVariables(a); err != nil {
			return nil, err
		}
		if usesVariable(a, "CONSUMER") {
			p.sc.NeedsConsumer = true
		}
	}
	st, err := v.parse(p, args[1:])
	if err != nil {
		var u *usageErr
		if errors.As(err, &u) {
			return nil, fmt.Errorf("%s: %s; usage: %s", args[0], u.msg, v.usage)
		}
		return nil, fmt.Errorf("%s: %w", args[0], err)
	}
	return st, nil
}

// usageErr is a verb's arguments in the wrong shape: the message gets the
// verb's usage appended.
type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

func badUsage(format string, args ...any) error {
	return &usageErr{msg: fmt.Sprintf(format, args...)}
}

// usesVariable reports whether s names $name (not a longer name that
// begins with it, as $CONSUMER_SESSION begins with $CONSUMER).
func usesVariable(s, name string) bool {
	used := false
	os.Expand(s, func(k string) string {
		used = used || k == name
		return ""
	})
	return used
}

// checkVariables refuses a $NAME the runner does not define.
func checkVariables(s string) error {
	var err error
	os.Expand(s, func(k string) string {
		if !slices.Contains(variables, k) && err == nil {
			err = fmt.Errorf("unknown variable $%s; accepted: $%s", k, strings.Join(variables, ", $"))
		}
		return ""
	})
	return err
}

// consumer refuses a name no earlier line started as a consumer.
func (p *parser) consumer(name string) error {
	if p.consumers[name] == 0 {
		return fmt.Errorf("no consumer %q was started before this line%s", name, known("started", p.consumers))
	}
	return nil
}

// own refuses a program under test where a check needs what only
// offsetlab's consumer records (its assignments, commits, positions).
func (p *parser) own(name, what string) error {
	if err := p.consumer(name); err != nil {
		return err
	}
	if o := p.observed[name]; o != "" {
		return fmt.Errorf("%s needs offsetlab's own consumer (its ledger records assignments, commits and positions); %s is a program under test (--observe %s)", what, name, o)
	}
	return nil
}

// sees refuses a consumer whose processed records the story cannot see:
// a program observed through the broker alone, or, where lines are needed
// (when and in what order it read), through its output.
func (p *parser) sees(name, what string, modes ...string) error {
	if err := p.consumer(name); err != nil {
		return err
	}
	if o := p.observed[name]; o != "" && !slices.Contains(modes, o) {
		return fmt.Errorf("%s needs to see what %s processed; with --observe %s it cannot (accepted: --observe %s)", what, name, o, strings.Join(modes, ", "))
	}
	return nil
}

// process refuses a name no earlier line started, consumer or producer.
func (p *parser) process(name string) error {
	if p.consumers[name] == 0 && !p.producers[name] && !p.faults[name] {
		all := map[string]int{}
		for n := range p.producers {
			all[n] = 1
		}
		for n := range p.faults {
			all[n] = 1
		}
		for n, k := range p.consumers {
			all[n] = k
		}
		return fmt.Errorf("no process %q was started before this line%s", name, known("started", all))
	}
	return nil
}

func (p *parser) snapshot(label string) error {
	if !p.snapshots[label] {
		return fmt.Errorf("no snapshot %q was taken before this line%s", label, known("taken", p.snapshots))
	}
	return nil
}

// known lists the names of a set for a message: "; started: c1, c2".
func known[V any](what string, m map[string]V) string {
	if len(m) == 0 {
		return ""
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return fmt.Sprintf("; %s: %s", what, strings.Join(names, ", "))
}

// count reads a non-negative number of records, rounds, ...
func count(s, what string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a %s (a whole number, 0 or more)", s, what)
	}
	return n, nil
}

func partition(s string) (int32, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a partition number", s)
	}
	return int32(n), nil
}

func duration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration (e.g. 500ms, 2s, 1m)", s)
	}
	return d, nil
}

// bound reads the OP N of a check.
func bound(op, n string) (verify.Op, int64, error) {
	o, err := verify.ParseOp(op)
	if err != nil {
		return "", 0, err
	}
	b, err := count(n, "count")
	return o, b, err
}

// placeholders expands a story's variables to stand-in values, so flags can
// be checked at parse time as the command would check them at run time.
// placeholderLimits are Kafka's defaults, which placeholders' $SESSION and
// $CONSUMER_SESSION agree with.
var placeholderLimits = Limits{ClassicMin: 6 * time.Second, ClassicMax: 30 * time.Minute, ConsumerSession: 45 * time.Second}

func placeholders(args []string) []string {
	vals := map[string]string{"TOPIC": "topic", "GROUP": "group", "DIR": os.TempDir(), "CONSUMER": "consumer",
		"SESSION": "6s", "CONSUMER_SESSION": "45s", "OFFSETLAB_BOOTSTRAP": "127.0.0.1:9092"}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = os.Expand(a, func(k string) string { return vals[k] })
	}
	return out
}
