// Package supervisor runs offsetlab's producers and consumers as separate
// OS processes for the scenario runner, in the manner of etcd's robustness
// tests: it owns every exec.Cmd it starts, signals by PID (never by name
// pattern), bounds every wait by a context, and prefixes each child's
// output with its name ("[c1] ...").
//
// Children are this same executable, re-run under the name of the command
// to be, busybox-style: a process runs as the command its os.Args[0] names
// (the last element of it), so a scenario needs no separately built
// binaries and `go test` can supervise its own test binary.
//
//   - Start re-runs os.Executable() with os.Args[0] set to "consumer" or
//     "producer"; the child's main or TestMain calls Dispatch first, which
//     finds the command by that name and runs it. `ps` shows the child as
//     the command it is.
//   - Link makes, in a directory, a symbolic link named after each command
//     to this executable. With that directory on PATH, running `offsets`
//     runs this executable as os.Args[0] "offsets". e2e's TestMain does so,
//     so its Go tests and testscript scripts run the five commands from its
//     own test binary, as testscript.Main does for its commands.
//
// A name Dispatch does not find (scenarios, e2e.test) runs the
// executable's own main, so every executable that starts children must
// dispatch the commands it starts them as (scenario.Commands): one that
// did not would run its own main, or its tests, again. There is no
// environment variable: nothing leaks into a child's children, and a link
// to (or a copy of) a binary, under a command's name, is enough.
package supervisor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Command is a command's entry point, as internal/producer and
// internal/consumer export it.
type Command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Dispatch runs the command this process is named for (the last element of
// os.Args[0]), if commands holds one by that name, and reports whether it
// did. Mains and TestMains call it first and exit when it is true; run is
// cli.Main's shape.
func Dispatch(commands map[string]Command, run func(name string, cmd Command)) bool {
	name := filepath.Base(os.Args[0])
	cmd, ok := commands[name]
	if !ok {
		return false
	}
	run(name, cmd)
	return true
}

// Link makes dir/NAME, for each name, a symbolic link to this executable,
// so that running it runs the command Dispatch knows by that name.
func Link(dir string, names ...string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("unable to find this executable to link to it: %w", err)
	}
	for _, name := range names {
		if err := os.Symlink(self, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("unable to link %s to this executable: %w", name, err)
		}
	}
	return nil
}

// Proc is one run of a named process.
type Proc struct {
	Name string
	// Run counts the runs of this name, from 1: a restart is run 2.
	Run int
	cmd *exec.Cmd

	// group is set for a program started with StartExec: it runs in a
	// process group of its own, and signals go to the whole group, so a
	// script's children die with it.
	group bool
	// lines, when set, sees each line of the program's stdout first; a line
	// it takes is not printed.
	lines func(string) bool

	done     chan struct{}
	exitCode int
	signaled string
	started  time.Time
	exited   time.Time
}

// Done is closed when the process has exited and its output is flushed.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ExitCode is the process's exit code once Done; -1 when a signal ended it.
func (p *Proc) ExitCode() int { return p.exitCode }

// Signaled names the signal that ended the process, if one did.
func (p *Proc) Signaled() string { return p.signaled }

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Started and Exited are when the process started and ended.
func (p *Proc) Started() time.Time { return p.started }

// Exited is when the process ended; zero while it runs.
func (p *Proc) Exited() time.Time { return p.exited }

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Supervisor starts and tracks processes. It is safe for concurrent use.
type Supervisor struct {
	self string   // this executable
	env  []string // children's environment
	dir  string   // children's working directory
	out  io.Writer

	mu    sync.Mutex
	outMu sync.Mutex
	procs map[string]*Proc // the latest run of each name
	runs  map[string]int
}

// New returns a supervisor whose children run in dir with env added to
// this process's environment, writing their prefixed output to out.
func New(dir string, env []string, out io.Writer) (*Supervisor, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("unable to find this executable to re-run it: %w", err)
	}
	return &Supervisor{self: self, env: append(os.Environ(), env...), dir: dir, out: out,
		procs: map[string]*Proc{}, runs: map[string]int{}}, nil
}

// Start runs command (a name Dispatch knows) as process name. A name that
// is still running is refused: stop or kill it first.
func (s *Supervisor) Start(name, command string, args []string) (*Proc, error) {
	cmd := exec.Command(s.self, args...)
	cmd.Args[0] = command // what Dispatch runs
	cmd.Env = s.env
	cmd.Dir = s.dir
	return s.start(&Proc{Name: name}, cmd)
}

// StartExec runs any program, argv, as process name, with env added to the
// supervisor's environment, in this process's working directory (a
// command line names its files as its user sees them), in a process group
// of its own (kill -9 takes its children too). lines sees each line of its
// stdout before it is printed, and keeps the lines it returns true for from
// the output.
func (s *Supervisor) StartExec(name string, argv, env []string, lines func(string) bool) (*Proc, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("%s: no command to run", name)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append([]string{}, s.env...), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return s.start(&Proc{Name: name, group: true, lines: lines}, cmd)
}

func (s *Supervisor) start(p *Proc, cmd *exec.Cmd) (*Proc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.procs[p.Name]; ok && old.Running() {
		return nil, fmt.Errorf("%s is already running (pid %d): stop or kill it first", p.Name, old.Pid())
	}
	s.runs[p.Name]++
	p.Run, p.done, p.cmd = s.runs[p.Name], make(chan struct{}), cmd
	name := p.Name
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("unable to start %s: %w", name, err)
	}
	p.started = time.Now()
	s.procs[name] = p
	go s.watch(p, stdout)
	return p, nil
}

// watch copies the child's output line by line with its prefix, then
// records how it ended.
func (s *Supervisor) watch(p *Proc, r io.Reader) {
	prefix := fmt.Sprintf("[%s] ", p.Name)
	if p.Run > 1 {
		prefix = fmt.Sprintf("[%s#%d] ", p.Name, p.Run)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	sc.Split(wholeLines)
	for sc.Scan() {
		line, whole := strings.CutSuffix(sc.Text(), "\n")
		// A line the process did not finish (a kill -9 tore it) is output,
		// never a line for p.lines: "offsetlab processed t 0 45" torn to
		// "... 0 4" would name another record.
		if whole && p.lines != nil && p.lines(strings.TrimSuffix(line, "\r")) {
			continue
		}
		s.outMu.Lock()
		fmt.Fprintf(s.out, "%s%s\n", prefix, line)
		s.outMu.Unlock()
	}
	err := p.cmd.Wait()
	p.exited = time.Now()
	p.exitCode = p.cmd.ProcessState.ExitCode()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.signaled = ws.Signal().String()
		}
	}
	close(p.done)
}

// wholeLines splits like bufio.ScanLines but keeps each line's newline, so
// that a last line without one (torn) can be told apart.
func wholeLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i+1], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// Get returns the latest run of name.
func (s *Supervisor) Get(name string) (*Proc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.procs[name]
	if !ok {
		return nil, fmt.Errorf("no process named %s was started", name)
	}
	return p, nil
}

// Kill sends SIGKILL to name's PID and waits, bounded by ctx, for it to be
// gone. The process gets no chance to commit or leave its group.
func (s *Supervisor) Kill(ctx context.Context, name string) (*Proc, error) {
	return s.signal(ctx, name, syscall.SIGKILL)
}

// Stop sends SIGTERM to name's PID and waits, bounded by ctx, for it to
// close cleanly.
func (s *Supervisor) Stop(ctx context.Context, name string) (*Proc, error) {
	return s.signal(ctx, name, syscall.SIGTERM)
}

func (s *Supervisor) signal(ctx context.Context, name string, sig syscall.Signal) (*Proc, error) {
	p, err := s.Get(name)
	if err != nil {
		return nil, err
	}
	if !p.Running() {
		return p, fmt.Errorf("%s already exited (code %d)", name, p.ExitCode())
	}
	if err := p.signal(sig); err != nil {
		return p, fmt.Errorf("unable to signal %s (pid %d): %w", name, p.Pid(), err)
	}
	return p, s.Wait(ctx, p)
}

// Signal sends sig to name's PID without waiting (SIGUSR1 asks a consumer
// for a position snapshot).
func (s *Supervisor) Signal(name string, sig syscall.Signal) error {
	p, err := s.Get(name)
	if err != nil {
		return err
	}
	if !p.Running() {
		return fmt.Errorf("%s already exited (code %d)", name, p.ExitCode())
	}
	return p.signal(sig)
}

// signal sends sig to the process, or to its whole group.
func (p *Proc) signal(sig syscall.Signal) error {
	if p.group {
		return syscall.Kill(-p.Pid(), sig)
	}
	return p.cmd.Process.Signal(sig)
}

// Wait waits for p to exit, bounded by ctx.
func (s *Supervisor) Wait(ctx context.Context, p *Proc) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s (pid %d) had not exited: %w", p.Name, p.Pid(), context.Cause(ctx))
	}
}

// Close kills every process still running and waits for each, up to five
// seconds in all.
func (s *Supervisor) Close() {
	s.mu.Lock()
	procs := make([]*Proc, 0, len(s.procs))
	for _, p := range s.procs {
		procs = append(procs, p)
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, p := range procs {
		if p.Running() {
			_ = p.signal(syscall.SIGKILL)
			_ = s.Wait(ctx, p)
		}
	}
}
