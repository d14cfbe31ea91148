package stack

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The docker-compose stack must offer what the scenarios rely on: the same
// ports as the embedded stack, no initial rebalance delay, session timeouts
// short enough for kill -9 scenarios, one replica for internal topics, and
// healthchecks so `docker compose up --wait` returns when it is usable.
func TestComposeFileMatchesEmbeddedStack(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Ports       []string          `yaml:"ports"`
			Environment map[string]string `yaml:"environment"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	kafka, registry := f.Services["kafka"], f.Services["schema-registry"]
	d := Defaults()
	for _, c := range []struct {
		name, got, want string
	}{
		{"kafka port", first(kafka.Ports), fmt.Sprintf("%d:%d", port(d.BrokerAddr), port(d.BrokerAddr))},
		{"registry port", first(registry.Ports), fmt.Sprintf("%d:%d", port(d.RegistryAddr), port(d.RegistryAddr))},
		{"group.initial.rebalance.delay.ms", kafka.Environment["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"], "0"},
		{"offsets.topic.replication.factor", kafka.Environment["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"], "1"},
		{"transaction.state.log.replication.factor", kafka.Environment["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"], "1"},
		{"transaction.state.log.min.isr", kafka.Environment["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"], "1"},
		{"process.roles (KRaft)", kafka.Environment["KAFKA_PROCESS_ROLES"], "broker,controller"},
		{"advertised listener", kafka.Environment["KAFKA_ADVERTISED_LISTENERS"][:len("PLAINTEXT://127.0.0.1:9092")], "PLAINTEXT://127.0.0.1:9092"},
	} {
		if c.got != c.want {
			t.Errorf("%s: docker-compose.yml has %q, want %q", c.name, c.got, c.want)
		}
	}
	// The classic protocol's floor is low, so kill -9 stories take a
	// second, not Kafka's 6 s floor (the runner adapts to either; see
	// internal/scenarios' TestComposeRunsTheWholeCatalog).
	if ms, err := strconv.Atoi(kafka.Environment["KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS"]); err != nil || ms > 1000 {
		t.Errorf("group.min.session.timeout.ms = %q, want at most 1000", kafka.Environment["KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS"])
	}
	for name, s := range f.Services {
		if len(s.Healthcheck.Test) == 0 {
			t.Errorf("service %s has no healthcheck", name)
		}
		if s.Image == "" {
			t.Errorf("service %s has no image", name)
		}
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}
