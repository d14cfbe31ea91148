package scenarios

import (
	"os"
	"strconv"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/offsetlab/offsetlab/internal/scenario"
)

// docker-compose.yml's Kafka and the runner agree: the runner reads the
// cluster's group limits and derives its timings, and on compose's limits
// every story of the catalog fits the default --budget (none is skipped
// for its session waits), and offsetlab's consumers get a session timeout
// the broker accepts.
func TestComposeRunsTheWholeCatalog(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	env := f.Services["kafka"].Environment
	ms := func(key string, def time.Duration) time.Duration {
		if v, ok := env[key]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s = %q", key, v)
			}
			return time.Duration(n) * time.Millisecond
		}
		return def
	}
	l := scenario.Limits{
		ClassicMin:      ms("KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS", 6*time.Second),
		ClassicMax:      ms("KAFKA_GROUP_MAX_SESSION_TIMEOUT_MS", 30*time.Minute),
		ConsumerSession: ms("KAFKA_GROUP_CONSUMER_SESSION_TIMEOUT_MS", 45*time.Second),
		RebalanceDelay:  ms("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", 3*time.Second),
	}
	if s := l.Session(); s < l.ClassicMin || s > l.ClassicMax {
		t.Errorf("the runner's session %s is outside compose's [%s, %s]", s, l.ClassicMin, l.ClassicMax)
	}
	catalog, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	const budget = 2 * time.Minute // scenarios run --budget's default
	for _, sc := range catalog {
		if w := sc.SessionWaits(l); w > budget {
			t.Errorf("%s waits %s for session timeouts on compose's Kafka (%s), more than --budget %s", sc.Name, w, l, budget)
		}
	}
}
