package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Records written by the producer decode with an independent client that
// knows only the Confluent wire format and the registry's REST API: franz-go
// to read, GET /schemas/ids/{id} for the writer's schema, hamba/avro to
// decode. Nothing of offsetlab's serde, goavro or srclient is involved.
func TestIndependentClientDecodes(t *testing.T) {
	e := newEnv(t)
	for _, q := range []string{"orders", "users", "pageviews"} {
		e.must("producer", "--quickstart", q, "--count", "50", "--seed", "7")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.stack.BrokerAddr()),
		kgo.ConsumeTopics("orders", "users", "pageviews"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	schemas := map[uint32]avro.Schema{}
	seen := map[string]int{}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for total := 0; total < 150; {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of 150 records within 30s", total)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			total++
			if len(r.Value) < 5 || r.Value[0] != 0 {
				t.Fatalf("%s[%d]@%d: not Confluent wire format: % x", r.Topic, r.Partition, r.Offset, r.Value[:min(5, len(r.Value))])
			}
			id := binary.BigEndian.Uint32(r.Value[1:5])
			s, ok := schemas[id]
			if !ok {
				s = fetchSchema(t, e.stack.RegistryURL(), id)
				schemas[id] = s
			}
			var v map[string]any
			if err := avro.Unmarshal(s, r.Value[5:], &v); err != nil {
				t.Fatalf("%s[%d]@%d: hamba/avro cannot decode with schema %d: %v", r.Topic, r.Partition, r.Offset, id, err)
			}
			if len(v) == 0 {
				t.Fatalf("%s[%d]@%d decoded to an empty record", r.Topic, r.Partition, r.Offset)
			}
			seen[r.Topic]++
		})
	}
	for _, q := range []string{"orders", "users", "pageviews"} {
		if seen[q] != 50 {
			t.Errorf("%s: decoded %d records, want 50", q, seen[q])
		}
	}
}

func fetchSchema(t *testing.T, registry string, id uint32) avro.Schema {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/schemas/ids/%d", registry, id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Schema string `json:"schema"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	s, err := avro.Parse(body.Schema)
	if err != nil {
		t.Fatalf("schema %d from the registry does not parse: %v", id, err)
	}
	return s
}
