package supervisor_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/supervisor"
)

// commands are what this test binary runs as, under their names.
var commands = map[string]supervisor.Command{
	// echo-args prints its arguments and $GREETING, and exits 3 when told.
	"echo-args": func(_ context.Context, args []string, stdout, _ io.Writer) error {
		fmt.Fprintf(stdout, "%s %s\n", os.Getenv("GREETING"), strings.Join(args, " "))
		if len(args) > 0 && args[0] == "fail" {
			return cli.Usagef("told to fail")
		}
		return nil
	},
	// block waits for a signal.
	"block": func(ctx context.Context, _ []string, _, _ io.Writer) error {
		<-ctx.Done()
		return nil
	},
}

func TestMain(m *testing.M) {
	if supervisor.Dispatch(commands, func(name string, cmd supervisor.Command) { cli.Main(name, cmd) }) {
		return
	}
	os.Exit(m.Run())
}

// A link named after a command runs this binary as that command: its
// arguments, its output, its exit code.
func TestLinkRunsTheCommandItIsNamedFor(t *testing.T) {
	dir := t.TempDir()
	if err := supervisor.Link(dir, "echo-args"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(dir, "echo-args"), "a", "b c")
	cmd.Env = append(os.Environ(), "GREETING=hello")
	got, err := cmd.Output()
	if err != nil || string(got) != "hello a b c\n" {
		t.Fatalf("echo-args a 'b c': %q, %v; want %q", got, err, "hello a b c\n")
	}
	var stderr bytes.Buffer
	cmd = exec.Command(filepath.Join(dir, "echo-args"), "fail")
	cmd.Stderr = &stderr
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != cli.ExitUsage || stderr.String() != "echo-args: told to fail\n" {
		t.Errorf("echo-args fail: exit %d (%v), stderr %q; want exit 2 and the error prefixed with the command's name",
			cmd.ProcessState.ExitCode(), err, stderr.String())
	}
	if err := supervisor.Link(dir, "echo-args"); err == nil {
		t.Error("Link replaced an existing file")
	}
}

// Start runs a command as a child with the supervisor's environment, and
// prefixes its output with the process's name; Kill ends it by PID.
func TestStartAndKill(t *testing.T) {
	// Read only once the process writing it is Done: its output is
	// flushed by then, and nothing else writes.
	var out bytes.Buffer
	s, err := supervisor.New(t.TempDir(), []string{"GREETING=hi"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	p, err := s.Start("e1", "echo-args", []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.ExitCode() != 0 || out.String() != "[e1] hi x\n" {
		t.Fatalf("e1 exited %d with output %q; want 0 and %q", p.ExitCode(), out.String(), "[e1] hi x\n")
	}

	b, err := s.Start("b1", "block", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start("b1", "block", nil); err == nil {
		t.Error("a second b1 started while the first runs")
	}
	if _, err := s.Kill(ctx, "b1"); err != nil {
		t.Fatal(err)
	}
	if b.Signaled() != "killed" || b.ExitCode() != -1 {
		t.Errorf("b1 after Kill: signal %q, exit %d; want killed, -1", b.Signaled(), b.ExitCode())
	}
}

// A line the program did not finish (killed mid-write) is printed, never
// handed to the line handler: a torn protocol line would name another
// record.
func TestTornLastLineIsNotALine(t *testing.T) {
	var out bytes.Buffer // read only once the process is Done, as above
	s, err := supervisor.New(t.TempDir(), nil, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	var got []string
	p, err := s.StartExec("c1", []string{"sh", "-c", `printf 'offsetlab processed t 0 45\noffsetlab processed t 0 4'`}, nil,
		func(l string) bool { got = append(got, l); return true })
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if len(got) != 1 || got[0] != "offsetlab processed t 0 45" {
		t.Errorf("lines handed over: %q", got)
	}
	if !strings.Contains(out.String(), "[c1] offsetlab processed t 0 4\n") {
		t.Errorf("the torn line was not printed: %q", out.String())
	}
}
