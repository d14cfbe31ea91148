// Command producer is offsetlab's datagen-style Avro producer; see
// internal/producer and `producer -h`.
package main

import (
	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/producer"
)

func main() { cli.Main("producer", producer.Run) }
