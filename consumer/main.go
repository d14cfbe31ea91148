// Command consumer is offsetlab's configurable consumer; see
// internal/consumer and `consumer -h`.
package main

import (
	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/consumer"
)

func main() { cli.Main("consumer", consumer.Run) }
