// Package e2e runs offsetlab's commands as a user does: as processes,
// against an embedded stack started for each test on free ports, judged by
// their output, their ledgers, their exit codes and what the broker says.
// The processes are this test binary, run again under each command's name
// (see TestMain), so nothing is built but the test binary.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/consumer"
	"github.com/offsetlab/offsetlab/internal/ledger"
	"github.com/offsetlab/offsetlab/internal/offsets"
	"github.com/offsetlab/offsetlab/internal/poll"
	"github.com/offsetlab/offsetlab/internal/producer"
	"github.com/offsetlab/offsetlab/internal/scenarios"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
	"github.com/offsetlab/offsetlab/internal/supervisor"
)

// commands are the five commands, each the Run its main hands to cli.Main.
var commands = map[string]supervisor.Command{
	"producer":  producer.Run,
	"consumer":  consumer.Run,
	"stack":     stack.Run,
	"offsets":   offsets.Run,
	"scenarios": scenarios.Run,
}

// bin holds a link named after each command to this test binary: the
// tests run bin/NAME, the scripts find NAME on their PATH.
var bin string

// TestMain runs this binary as the command it is named for, when a test,
// a script or the scenarios command's supervisor ran it as one (see
// supervisor.Dispatch); otherwise it links the commands into bin and runs
// the tests.
func TestMain(m *testing.M) {
	if supervisor.Dispatch(commands, func(name string, cmd supervisor.Command) { cli.Main(name, cmd) }) {
		return
	}
	dir, err := os.MkdirTemp("", "offsetlab-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := supervisor.Link(dir, slices.Sorted(maps.Keys(commands))...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what a finished command left behind.
type result struct {
	stdout, stderr string
	code           int
}

// env is an embedded stack and the environment pointing commands at it.
type env struct {
	t     *testing.T
	stack *stack.Stack
	dir   string
	vars  []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := stacktest.Start(t)
	return &env{t: t, stack: s, dir: t.TempDir(), vars: append(os.Environ(), stacktest.Env(s)...)}
}

// run runs a command to completion, bounded by limit.
func (e *env) run(limit time.Duration, name string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
	cmd.Env, cmd.Dir = e.vars, e.dir
	// Past the limit: SIGTERM, so a consumer says where it was, then SIGKILL.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		e.t.Fatalf("%s %s did not finish within %s\nstderr:\n%s", name, strings.Join(args, " "), limit, stderr.String())
	}
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.code = exit.ExitCode()
	} else if err != nil {
		e.t.Fatalf("%s: %v", name, err)
	}
	return r
}

// must runs a command that has to succeed.
func (e *env) must(name string, args ...string) result {
	e.t.Helper()
	r := e.run(time.Minute, name, args...)
	if r.code != 0 {
		e.t.Fatalf("%s %s: exit %d\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// start runs a command in the background; the test ends it if it has not.
func (e *env) start(name string, args ...string) *exec.Cmd {
	e.t.Helper()
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Env, cmd.Dir = e.vars, e.dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if e.t.Failed() {
			e.t.Logf("%s output:\n%s", name, stderr.String())
		}
	})
	return cmd
}

// path is a file in the test's directory.
func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

// waitLedger polls a ledger until cond holds, failing after limit with what
// it waited for.
func (e *env) waitLedger(path string, limit time.Duration, what string, cond func([]ledger.Event) bool) []ledger.Event {
	e.t.Helper()
	var events []ledger.Event
	poll.Until(e.t, limit, what+" in "+filepath.Base(path), func() bool {
		events, _ = ledger.Read(path)
		return cond(events)
	}, func() string { return fmt.Sprintf("%d events", len(events)) })
	return events
}

// waitExit waits, bounded by limit, for a command begun with start to exit
// and returns how it ended.
func (e *env) waitExit(cmd *exec.Cmd, limit time.Duration) error {
	e.t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	poll.Until(e.t, limit, filepath.Base(cmd.Path)+" to exit", poll.Received(done, &err))
	return err
}

// count is the number of events of a type.
func count(events []ledger.Event, typ string) int {
	n := 0
	for _, ev := range events {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// processed returns the records a ledger says were processed, by identity.
func processed(events []ledger.Event) map[string]ledger.Record {
	m := map[string]ledger.Record{}
	for _, ev := range events {
		if ev.Type == ledger.Processed {
			m[ev.Record.ID()] = *ev.Record
		}
	}
	return m
}

// committed reads a group's committed offsets from the broker through the
// AdminClient: the source of truth, independent of any ledger.
func (e *env) committed(group, topic string, partitions int) map[int32]int64 {
	e.t.Helper()
	admin, err := kafka.NewAdminClient(&kafka.ConfigMap{"bootstrap.servers": e.stack.BrokerAddr()})
	if err != nil {
		e.t.Fatal(err)
	}
	defer admin.Close()
	tps := make([]kafka.TopicPartition, partitions)
	for p := range tps {
		tps[p] = kafka.TopicPartition{Topic: &topic, Partition: int32(p)}
	}
	ctx, cancel := context.WithTimeout(e.t.Context(), 10*time.Second)
	defer cancel()
	res, err := admin.ListConsumerGroupOffsets(ctx, []kafka.ConsumerGroupTopicPartitions{{Group: group, Partitions: tps}})
	if err != nil {
		e.t.Fatalf("committed offsets of %s: %v", group, err)
	}
	out := map[int32]int64{}
	for _, tp := range res.ConsumerGroupsTopicPartitions[0].Partitions {
		out[tp.Partition] = int64(tp.Offset)
	}
	return out
}
