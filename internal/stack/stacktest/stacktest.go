// Package stacktest starts an embedded stack for a test, on free ports, so
// that tests run in parallel and never touch a stack a user is running.
package stacktest

import (
	"testing"

	"github.com/offsetlab/offsetlab/internal/stack"
)

// Start runs an embedded stack until the test ends. Options start from
// stack.Defaults with free ports; edit may change them.
func Start(tb testing.TB, edit ...func(*stack.Options)) *stack.Stack {
	tb.Helper()
	opts := stack.Defaults()
	opts.BrokerAddr, opts.RegistryAddr = "127.0.0.1:0", "127.0.0.1:0"
	for _, e := range edit {
		e(&opts)
	}
	s, err := stack.Start(opts)
	if err != nil {
		tb.Fatalf("start embedded stack: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Env is the environment that points offsetlab's commands at s.
func Env(s *stack.Stack) []string {
	return []string{"OFFSETLAB_BOOTSTRAP=" + s.BrokerAddr(), "OFFSETLAB_REGISTRY=" + s.RegistryURL()}
}
