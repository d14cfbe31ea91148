package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// noSuchProperty is librdkafka's refusal of a key it does not know.
var noSuchProperty = regexp.MustCompile(`No such configuration property: "([^"]*)"`)

// checkKeys finds the Kafka properties librdkafka does not know. A key in
// the properties file gets a one-line warning naming it and is dropped (the
// file may carry keys meant for other clients); a key given with -X is a
// usage error, since the user typed it for this command.
//
// librdkafka is the authority on its keys: a throwaway producer
// configuration is created from the keys (no bootstrap.servers, so it
// connects nowhere) and its "No such configuration property" answers are
// collected, one key per attempt; the common case, every key known, is one
// attempt.
func (c *Connection) checkKeys() error {
	for _, kv := range c.kafkaOverrides {
		if unknownKafkaKey(kv[0], kv[1]) {
			return cli.Usagef("-X %s: no such librdkafka or registry property", kv[0])
		}
	}
	var unknown []string
	for _, key := range unknownKafkaKeys(c.kafkaProps) {
		unknown = append(unknown, key)
		fmt.Fprintf(c.stderr(), "warning: --config %s: unknown property %q ignored (neither librdkafka nor the schema registry client knows it)\n", c.File, key)
	}
	c.kafkaProps = slices.DeleteFunc(c.kafkaProps, func(kv [2]string) bool { return slices.Contains(unknown, kv[0]) })
	return nil
}

// checked skips offsetlab's and confluent-kafka-go's own go.* keys, which
// differ between client types.
func checked(key string) bool { return !strings.HasPrefix(key, "go.") }

// unknownKafkaKeys tries all of props at once, dropping each key librdkafka
// names as unknown; if the configuration fails for another reason (a bad
// value, a missing file), it asks key by key.
func unknownKafkaKeys(props [][2]string) []string {
	cm := kafka.ConfigMap{}
	for _, kv := range props {
		if checked(kv[0]) {
			cm[kv[0]] = kv[1]
		}
	}
	var unknown []string
	for len(cm) > 0 {
		key, other := tryConfig(cm)
		switch {
		case key != "":
			unknown = append(unknown, key)
			delete(cm, key)
			continue
		case other:
			for k, v := range cm {
				if unknownKafkaKey(k, fmt.Sprint(v)) {
					unknown = append(unknown, k)
				}
			}
		}
		break
	}
	slices.Sort(unknown)
	return unknown
}

func unknownKafkaKey(key, value string) bool {
	if !checked(key) {
		return false
	}
	k, _ := tryConfig(kafka.ConfigMap{key: value})
	return k == key
}

// tryConfig creates and closes a producer from cm. It returns the key
// librdkafka did not know, or other=true when cm failed for another reason.
func tryConfig(cm kafka.ConfigMap) (unknown string, other bool) {
	cm = cloneMap(cm)
	cm["log_level"] = 0 // a bad value is the real client's to report
	p, err := kafka.NewProducer(&cm)
	if err == nil {
		p.Close()
		return "", false
	}
	if m := noSuchProperty.FindStringSubmatch(err.Error()); m != nil {
		return m[1], false
	}
	return "", true
}

func cloneMap(cm kafka.ConfigMap) kafka.ConfigMap {
	out := make(kafka.ConfigMap, len(cm)+1)
	for k, v := range cm {
		out[k] = v
	}
	return out
}
