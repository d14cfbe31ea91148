package offsets

import (
	"bytes"
	"errors"
	"flag"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
)

func runArgs(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := Run(t.Context(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestUsageErrorsAreOneLineWithExitCode2(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{nil, "a subcommand is required"},
		{[]string{"lag"}, `unknown subcommand "lag" (accepted: groups, describe, watch, reset, delete, partition-for, topic`},
		{[]string{"describe"}, "--group or --all-groups is required"},
		{[]string{"describe", "--group", "g", "--all-groups"}, "exclude each other"},
		{[]string{"describe", "--group", "g", "--members", "--state"}, "at most one"},
		{[]string{"describe", "--group", "g", "--format", "yaml"}, `--format "yaml" is not known (accepted: text, json)`},
		{[]string{"describe", "--group", "g", "extra"}, `unexpected argument "extra"`},
		{[]string{"describe", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"watch", "--group", "g", "--interval", "0s"}, "--interval must be positive"},
		{[]string{"reset", "--topic", "t", "--to-earliest"}, "--group is required"},
		{[]string{"reset", "--group", "g", "--topic", "t", "--to-earliest", "--export", "--format", "json"}, "--export prints CSV"},
		{[]string{"reset", "--group", "g", "--topic", ":1", "--to-earliest"}, "names no topic"},
		{[]string{"reset", "--group", "g", "--from-file", "/does/not/exist"}, "--from-file: open /does/not/exist"},
		{[]string{"delete"}, "--group is required"},
		{[]string{"partition-for"}, "--group is required"},
		{[]string{"partition-for", "--group", "g", "--partitions", "0"}, "--partitions must be at least 1"},
		{[]string{"topic", "--timeout", "0s"}, "--timeout must be positive"},
	}
	for _, c := range cases {
		_, _, err := runArgs(t, c.args...)
		if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("offsets %v: %v (exit %d), want a one-line usage error containing %q", c.args, err, cli.Code(err), c.want)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	_, stderr, err := runArgs(t, "-h")
	if !errors.Is(err, flag.ErrHelp) || cli.Code(err) != cli.ExitOK || !strings.Contains(stderr, "partition-for") {
		t.Fatalf("offsets -h: %v\n%s", err, stderr)
	}
	for _, sub := range subcommands {
		_, stderr, err := runArgs(t, sub.name, "-h")
		if !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(stderr, "usage: offsets "+sub.name) {
			t.Errorf("offsets %s -h: %v\n%s", sub.name, err, stderr)
		}
	}
}

func TestUnreachableBrokerExits69(t *testing.T) {
	t.Parallel()
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, sub := range []string{"groups", "describe", "reset", "delete", "topic"} {
		args := []string{sub, "--bootstrap", addr, "--timeout", "500ms"}
		switch sub {
		case "describe", "delete":
			args = append(args, "--group", "g")
		case "reset":
			args = append(args, "--group", "g", "--topic", "t", "--to-earliest")
		}
		start := time.Now()
		_, _, err := runArgs(t, args...)
		if cli.Code(err) != cli.ExitUnavailable || !strings.Contains(err.Error(), addr) {
			t.Errorf("offsets %s with no broker: %v (exit %d), want exit 69 naming %s", sub, err, cli.Code(err), addr)
		}
		if waited := time.Since(start); waited > 10*time.Second {
			t.Errorf("offsets %s with no broker took %s with --timeout 500ms", sub, waited)
		}
	}
}

func TestPartitionFor(t *testing.T) {
	t.Parallel()
	stdout, _, err := runArgs(t, "partition-for", "--group", "orders-app,Hello World", "--group", "polygenelubricants")
	if err != nil {
		t.Fatal(err)
	}
	want := "GROUP               HASHCODE     PARTITION\n" +
		"orders-app          772757305    5\n" +
		"Hello World         -862545276   26\n" +
		"polygenelubricants  -2147483648  0\n"
	if stdout != want {
		t.Fatalf("got:\n%s\nwant:\n%s", stdout, want)
	}
	stdout, _, err = runArgs(t, "partition-for", "--group", "Hello World", "--partitions", "7", "--format", "json")
	if err != nil || !strings.Contains(stdout, `"partition": 5`) || !strings.Contains(stdout, `"partitions": 7`) {
		t.Fatalf("json: %v\n%s", err, stdout)
	}
}
