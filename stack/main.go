// Command stack runs offsetlab's embedded local stack: a Kafka-compatible
// broker (franz-go's kfake) on 127.0.0.1:9092 and a Confluent-compatible
// schema registry (srfake) on 127.0.0.1:8081, the ports docker-compose.yml
// uses, so every offsetlab command works unchanged against either. See
// internal/stack and `stack -h`.
package main

import (
	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/stack"
)

func main() { cli.Main("stack", stack.Run) }
