// Package cli holds what every offsetlab command shares at its edge: the
// documented exit codes, the typed errors that map to them, and the
// signal-aware context each main builds.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Exit codes, documented in the README. They follow sysexits where one fits.
const (
	ExitOK          = 0   // everything worked (and every check passed)
	ExitFailed      = 1   // a verification failed, or an unexpected error
	ExitUsage       = 2   // bad flags, bad files, bad input
	ExitResetError  = 3   // --reset none and a partition had no committed offset
	ExitUnavailable = 69  // the broker or the schema registry could not be reached in time
	ExitInterrupted = 130 // stopped by SIGINT before it finished
)

// UsageError is bad input: a flag, a file or a value the user gave. Its
// message names what was wrong and what is accepted.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef builds a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// UnreachableError says that a service did not answer within a bound.
type UnreachableError struct {
	Service string        // "broker" or "schema registry"
	Addr    string        // what was dialled
	Waited  time.Duration // how long offsetlab waited
	// Refused is set when every address refused the connection: nothing
	// listens there, so offsetlab did not wait.
	Refused bool
	Err     error
}

func (e *UnreachableError) Error() string {
	if e.Refused {
		return fmt.Sprintf("%s at %s refused the connection: nothing listens there (is the stack running? try `make stack`)", e.Service, e.Addr)
	}
	return fmt.Sprintf("%s at %s did not answer within %s: %v (is the stack running? try `make stack`, or set --timeout)",
		e.Service, e.Addr, e.Waited, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// ResetError says that the consumer's reset policy was `none` and a
// partition had no valid committed offset, so it refused to guess.
type ResetError struct {
	Topic     string
	Partition int32
	Err       error
}

func (e *ResetError) Error() string {
	where := "a partition"
	if e.Topic != "" {
		where = fmt.Sprintf("%s[%d]", e.Topic, e.Partition)
	}
	return fmt.Sprintf("%s has no valid committed offset and --reset is none: consumption stopped (%v)", where, e.Err)
}

func (e *ResetError) Unwrap() error { return e.Err }

// ExitCoder is implemented by errors that carry their own exit code, such as
// the scenario runner's verification failures.
type ExitCoder interface{ ExitCode() int }

// Code maps an error to the documented exit code.
func Code(err error) int {
	var (
		usage   *UsageError
		unreach *UnreachableError
		reset   *ResetError
		coder   ExitCoder
	)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &unreach):
		return ExitUnavailable
	case errors.As(err, &reset):
		return ExitResetError
	case errors.As(err, &coder):
		return coder.ExitCode()
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitFailed
}

// Main is the whole of a command's main: it builds a context that ends on
// SIGINT or SIGTERM, runs the command and exits with the code its error maps
// to, printing the error as one line prefixed with the command's name.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	}
	os.Exit(Code(err))
}

// Parse parses a command's flags. A bad flag becomes a one-line UsageError
// (no usage dump); -h prints the usage to stderr and returns flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stderr)
		fs.Usage()
		return err
	}
	if err != nil {
		return Usagef("%v (see -h)", err)
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	return nil
}

// ParseInterleaved parses flags that may come before, between and after
// the positional arguments (names, files), and returns those in order.
// After "--" everything is positional. Errors are as Parse's.
func ParseInterleaved(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fs.Usage()
			return nil, err
		}
		if err != nil {
			return nil, Usagef("%v (see -h)", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		// fs.Parse consumed a "--" if it stopped there: the rest are all positional.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
