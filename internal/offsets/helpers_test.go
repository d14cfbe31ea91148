package offsets

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/offsetlab/offsetlab/internal/groups/groupstest"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// env is one test's embedded stack and a handle to drive it.
type env struct {
	t *testing.T
	s *stack.Stack
	*groupstest.Kafka
}

func newEnv(t *testing.T, edit ...func(*stack.Options)) *env {
	t.Helper()
	t.Parallel()
	s := stacktest.Start(t, edit...)
	return &env{t: t, s: s, Kafka: groupstest.New(t, s.BrokerAddr())}
}

// in is the same environment, reporting to a subtest.
func (e *env) in(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// offsets runs one subcommand in-process against the test's broker.
func (e *env) offsets(args ...string) (stdout, stderr string, err error) {
	e.t.Helper()
	args = append(args, "--bootstrap", e.s.BrokerAddr(), "--timeout", "5s")
	var o, se bytes.Buffer
	err = Run(e.t.Context(), args, &o, &se)
	return o.String(), se.String(), err
}

// must runs a subcommand that must succeed and returns its stdout.
func (e *env) must(args ...string) string {
	e.t.Helper()
	stdout, stderr, err := e.offsets(args...)
	if err != nil {
		e.t.Fatalf("offsets %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return stdout
}

// jsonOf runs a subcommand with --format json and decodes its output.
func (e *env) jsonOf(v any, args ...string) {
	e.t.Helper()
	stdout := e.must(append(args, "--format", "json")...)
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		e.t.Fatalf("offsets %s --format json: %v\n%s", strings.Join(args, " "), err, stdout)
	}
}

// describeJSON is the contract of `offsets describe --format json`.
type describeJSON struct {
	Groups []struct {
		Group      string `json:"group"`
		State      string `json:"state"`
		Members    int    `json:"members"`
		TotalLag   int64  `json:"total_lag"`
		Partitions []struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
			Committed *int64 `json:"committed"`
			LogStart  *int64 `json:"log_start"`
			LogEnd    *int64 `json:"log_end"`
			Lag       *int64 `json:"lag"`
			Member    string `json:"member"`
			ClientID  string `json:"client_id"`
			Host      string `json:"host"`
		} `json:"partitions"`
	} `json:"groups"`
}

func ptrString(p *int64) string {
	if p == nil {
		return "null"
	}
	return strings.TrimSpace(string(must(json.Marshal(*p))))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
