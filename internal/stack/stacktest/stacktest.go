// Package stacktest starts an embedded stack for a test, on free ports, so
// that tests run in parallel and never touch a stack a user is running.
package stacktest

import (
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/offsetlab/offsetlab/internal/stack"
)

// Start runs an embedded stack until the test ends. Options start from
// stack.Defaults with free ports; edit may change them.
func Start(tb testing.TB, edit ...func(*stack.Options)) *stack.Stack {
	tb.Helper()
	opts := stack.Defaults()
	opts.BrokerAddr, opts.RegistryAddr = "127.0.0.1:0", "127.0.0.1:0"
	for _, e := range edit {
		e(&opts)
	}
	s, err := stack.Start(opts)
	if err != nil {
		tb.Fatalf("start embedded stack: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Env is the environment that points offsetlab's commands at s.
func Env(s *stack.Stack) []string {
	return []string{"OFFSETLAB_BOOTSTRAP=" + s.BrokerAddr(), "OFFSETLAB_REGISTRY=" + s.RegistryURL()}
}

// Client is a franz-go client of the broker at bootstrap, closed when the
// test ends, for tests that send Kafka protocol requests themselves (kmsg)
// to pin what the broker answers.
func Client(tb testing.TB, bootstrap string) *kgo.Client {
	tb.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		tb.Fatalf("franz-go client: %v", err)
	}
	tb.Cleanup(cl.Close)
	return cl
}

// BrokerConfigs is what DescribeConfigs answers for the broker at
// bootstrap, the way a tool reads a cluster's settings: config name to
// value, for every config the broker reports.
func BrokerConfigs(tb testing.TB, bootstrap string) map[string]string {
	tb.Helper()
	cl := Client(tb, bootstrap)
	md, err := kmsg.NewPtrMetadataRequest().RequestWith(tb.Context(), cl)
	if err != nil {
		tb.Fatalf("metadata: %v", err)
	}
	if len(md.Brokers) == 0 {
		tb.Fatal("metadata names no broker")
	}
	req := kmsg.NewPtrDescribeConfigsRequest()
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType = kmsg.ConfigResourceTypeBroker
	r.ResourceName = strconv.Itoa(int(md.Brokers[0].NodeID))
	req.Resources = append(req.Resources, r)
	resp, err := req.RequestWith(tb.Context(), cl)
	if err != nil {
		tb.Fatalf("describe broker configs: %v", err)
	}
	if err := kerr.ErrorForCode(resp.Resources[0].ErrorCode); err != nil {
		tb.Fatalf("describe broker configs: %v", err)
	}
	cfgs := map[string]string{}
	for _, c := range resp.Resources[0].Configs {
		if c.Value != nil {
			cfgs[c.Name] = *c.Value
		}
	}
	return cfgs
}
