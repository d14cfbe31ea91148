package consumer

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/offsetlab/offsetlab/internal/config"
)

// The ledger's started event records the consumer's configuration but none
// of the properties librdkafka or the registry call secret: the ledger is a
// plain file, kept as an artifact.
func TestStartedEventHasNoSecrets(t *testing.T) {
	t.Setenv("OFFSETLAB_CONFIG", "")
	o, err := parse([]string{"--bootstrap", "b:9092", "--group", "g", "--topic", "t", "--name", "c1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cm := o.configMap()
	for i, k := range config.SensitiveKeys() {
		cm[k] = fmt.Sprintf("secret-%d", i)
	}
	detail := startedDetail(o, cm)
	for k, v := range detail {
		if config.IsSecret(k) || strings.Contains(v, "secret-") {
			t.Errorf("started event holds %s=%s", k, v)
		}
	}
	if detail["group.id"] != "g" || detail["bootstrap.servers"] != "b:9092" || detail["name"] != "c1" {
		t.Errorf("started event lacks the consumer's settings: %v", detail)
	}
}
