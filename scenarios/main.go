// Command scenarios runs offsetlab's stories: real consumer processes
// started, killed with -9, stopped, restarted, and checked against the
// committed offsets read from the broker. See internal/scenarios (the
// subcommands); the built-in stories are in catalog/ and exercises/.
package main

import (
	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/scenario"
	"github.com/offsetlab/offsetlab/internal/scenarios"
	"github.com/offsetlab/offsetlab/internal/supervisor"
)

func main() {
	// Re-run by the supervisor as a story's consumer or producer.
	if supervisor.Dispatch(scenario.Commands, func(name string, cmd supervisor.Command) { cli.Main(name, cmd) }) {
		return
	}
	cli.Main("scenarios", scenarios.Run)
}
