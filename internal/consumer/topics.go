package consumer

import (
	"slices"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/suggest"
)

// checkTopics refuses a --topic the cluster does not have, naming the
// topics it has, closest first. librdkafka would log "Subscribed topic not
// available" once and wait, silently, for the topic to be created;
// --wait-for-topic asks for that. Regex subscriptions (^...) match what
// exists whenever it exists, so they are left alone.
func (c *consumer) checkTopics() error {
	if c.o.waitForTopic {
		return nil
	}
	md, err := c.c.GetMetadata(nil, true, int(c.o.conn.Timeout/time.Millisecond))
	if err != nil {
		return &cli.UnreachableError{Service: "broker", Addr: c.o.conn.Bootstrap, Waited: c.o.conn.Timeout, Err: err}
	}
	var have []string
	for name := range md.Topics {
		if !strings.HasPrefix(name, "__") && md.Topics[name].Error.Code() == kafka.ErrNoError {
			have = append(have, name)
		}
	}
	slices.Sort(have)
	for _, t := range c.o.topics {
		if strings.HasPrefix(t, "^") || slices.Contains(have, t) {
			continue
		}
		return cli.Usagef("topic %q does not exist (topics, closest first: %s); --wait-for-topic waits for it to be created", t, suggest.List(t, have, 8))
	}
	return nil
}
