// Command offsets shows everything a consumer group's offsets are, from the
// broker; see internal/offsets and `offsets -h`.
package main

import (
	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/offsets"
)

func main() { cli.Main("offsets", offsets.Run) }
