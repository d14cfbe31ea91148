// Package stack runs offsetlab's embedded local stack: franz-go's kfake
// broker and srfake schema registry in one process, for machines without
// Docker. The stack command (Run) serves it on the docker-compose ports; tests
// start it in-process on free ports. With Options.Secure it plays a small
// Confluent Cloud: SASL over TLS, a registry with basic auth over TLS, and a
// throwaway CA and credentials written to a ready client.properties.
//
// kfake keeps groups and commits in memory; the stack adds the
// __consumer_offsets topic Kafka keeps them in, written from kfake's state
// (offsetstopic.go).
//
// kfake and srfake are not Apache Kafka and Confluent Schema Registry. The
// differences offsetlab has measured are listed in the README, each pinned
// by a test named there: among them, OffsetFetch for an unknown group
// answers GROUP_ID_NOT_FOUND, offsets expire counting from their last
// commit too, a static member's rejoin rebalances unless its metadata is
// identical, every broker config changes at run time (offset.retention.ms
// is kfake's own), and there is no initial rebalance delay.
package stack

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/coordinator"
)

// Options configure the embedded stack.
type Options struct {
	// BrokerAddr and RegistryAddr are host:port to listen on; port 0 picks
	// a free one.
	BrokerAddr   string
	RegistryAddr string
	// Partitions is the partition count of topics created without one.
	Partitions int
	// OffsetsPartitions is the partition count of __consumer_offsets, as
	// Kafka's offsets.topic.num.partitions (50). Like it, it applies when
	// the topic is created: a data dir keeps the count it was made with.
	OffsetsPartitions int
	// DataDir, when set, persists topics, offsets and groups so that a
	// restarted broker comes back with them, and the registry's schemas
	// with their ids (registry.go).
	DataDir string
	// MinSessionTimeout is the group session-timeout floor. Kafka's is 6 s
	// and librdkafka's default session.timeout.ms is 45 s; a low floor lets
	// kill -9 scenarios use a short session timeout.
	MinSessionTimeout time.Duration
	// BrokerConfigs are extra broker configs, as a Kafka server.properties
	// would give them (offsets.retention.minutes, ...).
	BrokerConfigs map[string]string
	// Secure, when set, serves the broker with SASL (PLAIN, SCRAM-SHA-256,
	// SCRAM-SHA-512) over TLS and the registry with basic auth over TLS,
	// and writes a ready client.properties (see SecureOptions).
	Secure *SecureOptions
}

// Profiles are the group settings the stack can start with: fast, for
// workshops and tests (session timeouts from 100 ms, KIP-848 sessions as
// the broker configs give them), or kafka-defaults, as Apache Kafka ships
// (classic floor 6 s, KIP-848 session 45 s and heartbeat 5 s), to prove
// that stories hold on an ordinary cluster. kfake has no initial rebalance
// delay in either (Kafka's default is 3 s).
var Profiles = []string{"fast", "kafka-defaults"}

// Profile applies a profile's settings to opts.
func Profile(opts *Options, name string) error {
	switch name {
	case "fast":
		return nil
	case "kafka-defaults":
		opts.MinSessionTimeout = 6 * time.Second
		if opts.BrokerConfigs == nil {
			opts.BrokerConfigs = map[string]string{}
		}
		opts.BrokerConfigs["group.consumer.session.timeout.ms"] = "45000"
		opts.BrokerConfigs["group.consumer.heartbeat.interval.ms"] = "5000"
		return nil
	}
	return cli.Usagef("--profile %q is not a profile (accepted: %s)", name, strings.Join(Profiles, ", "))
}

// Defaults are the embedded stack's settings when a flag does not say.
func Defaults() Options {
	return Options{
		BrokerAddr:        "127.0.0.1:9092",
		RegistryAddr:      "127.0.0.1:8081",
		Partitions:        3,
		OffsetsPartitions: coordinator.DefaultPartitions,
		MinSessionTimeout: 100 * time.Millisecond,
	}
}

// Stack is a running embedded broker and registry.
type Stack struct {
	opts     Options
	kopts    []kfake.Opt
	cluster  *kfake.Cluster
	offsets  *offsetsTopic
	registry *srfake.Registry
	server   *http.Server
	regAddr  string
	secrets  *Secrets
	stopped  string // the broker's address while StopBroker has it stopped
}

// Start listens on both addresses and serves until Close. A taken port is
// reported as such, with the flag to change it.
func Start(opts Options) (*Stack, error) {
	if opts.Partitions < 1 {
		return nil, cli.Usagef("--partitions must be at least 1, got %d", opts.Partitions)
	}
	if opts.OffsetsPartitions < 1 {
		return nil, cli.Usagef("--offsets-partitions must be at least 1, got %d", opts.OffsetsPartitions)
	}
	if opts.Secure != nil {
		sec := *opts.Secure
		if err := sec.check(); err != nil {
			return nil, err
		}
		opts.Secure = &sec
	}
	brokerLn, err := listen(opts.BrokerAddr, "broker", "--broker")
	if err != nil {
		return nil, err
	}
	regLn, err := listen(opts.RegistryAddr, "registry", "--registry")
	if err != nil {
		brokerLn.Close()
		return nil, err
	}
	configs := map[string]string{
		// As docker-compose.yml sets it for real Kafka. kfake has no
		// initial rebalance delay at all; the config only makes
		// DescribeConfigs tell the truth.
		"group.initial.rebalance.delay.ms": "0",
		// The floor as a broker config too: DescribeConfigs reports the
		// config only (kfake.GroupMinSessionTimeout leaves it at Kafka's
		// 6000), and a tool that reads the cluster's limits must read the
		// ones enforced. The option stays for when the config is deleted.
		"group.min.session.timeout.ms": fmt.Sprint(opts.MinSessionTimeout.Milliseconds()),
	}
	for k, v := range opts.BrokerConfigs {
		configs[k] = v
	}
	s := &Stack{opts: opts}
	kopts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ListenFn(func(string, string) (net.Listener, error) { return brokerLn, nil }),
		kfake.DefaultNumPartitions(opts.Partitions),
		kfake.AllowAutoTopicCreation(),
		kfake.GroupMinSessionTimeout(opts.MinSessionTimeout),
		kfake.BrokerConfigs(configs),
	}
	if opts.DataDir != "" {
		kopts = append(kopts, kfake.DataDir(opts.DataDir))
	}
	var regOpts []srfake.Option
	var regAuth string
	if opts.Secure != nil {
		hosts := []string{hostOf(brokerLn.Addr().String()), hostOf(regLn.Addr().String()), hostOf(opts.BrokerAddr), hostOf(opts.RegistryAddr)}
		m, err := newMaterial(opts.Secure.Validity, hosts...)
		if err != nil {
			brokerLn.Close()
			regLn.Close()
			return nil, fmt.Errorf("unable to generate the secure stack's certificates: %w", err)
		}
		s.secrets = &Secrets{
			Dir:            opts.Secure.Dir,
			Mechanism:      opts.Secure.Mechanism,
			User:           token("user-"),
			Password:       token("pw-"),
			RegistryUser:   token("srkey-"),
			RegistrySecret: token("srsecret-"),
			CAPEM:          m.caPEM,
			NotAfter:       time.Now().Add(opts.Secure.Validity),
		}
		kopts = append(kopts, kfake.EnableSASL(), kfake.TLS(m.tlsConfig()))
		for _, mech := range Mechanisms {
			kopts = append(kopts, kfake.Superuser(mech, s.secrets.User, s.secrets.Password))
		}
		auth := base64.StdEncoding.EncodeToString([]byte(s.secrets.RegistryUser + ":" + s.secrets.RegistrySecret))
		regAuth = "Basic " + auth
		regOpts = append(regOpts, srfake.WithAuth(regAuth))
		regLn = tls.NewListener(regLn, m.tlsConfig())
	}
	cluster, err := kfake.NewCluster(kopts...)
	if err != nil {
		brokerLn.Close()
		regLn.Close()
		return nil, fmt.Errorf("unable to start the embedded broker: %w", err)
	}
	reg := srfake.NewRegistry(regOpts...)
	handler := reg.Handler()
	if opts.DataDir != "" {
		if handler, err = persistRegistry(reg, opts.DataDir, regAuth); err != nil {
			cluster.Close()
			regLn.Close()
			return nil, err
		}
	}
	s.kopts = kopts
	s.cluster = cluster
	if s.offsets, err = startOffsetsTopic(cluster, opts.OffsetsPartitions, s.secrets); err != nil {
		cluster.Close()
		regLn.Close()
		return nil, err
	}
	s.registry = reg
	s.server = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	s.regAddr = regLn.Addr().String()
	go func() { _ = s.server.Serve(regLn) }()
	if s.secrets != nil {
		if err := s.secrets.writeClientFiles(s.BrokerAddr(), s.RegistryURL()); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// RestartBroker stops the broker and starts it again on the same address
// from its data directory, as a Kafka broker restart would: topics, records,
// committed offsets and groups come back; connections and sessions do not.
// The registry keeps running.
func (s *Stack) RestartBroker() error {
	if s.opts.DataDir == "" {
		return errors.New("the broker has no data directory to restart from (start the stack with --data-dir)")
	}
	addr := s.stopped
	if addr == "" {
		addr = s.BrokerAddr()
	}
	s.stopped = ""
	s.offsets.close()
	s.cluster.Close()
	var ln net.Listener
	var err error
	for range 50 { // the old listener's port may take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("unable to listen on %s again: %w", addr, err)
	}
	opts := append(slices.Clone(s.kopts), kfake.ListenFn(func(string, string) (net.Listener, error) { return ln, nil }))
	if s.cluster, err = kfake.NewCluster(opts...); err != nil {
		ln.Close()
		return fmt.Errorf("unable to restart the embedded broker: %w", err)
	}
	s.offsets, err = startOffsetsTopic(s.cluster, s.opts.OffsetsPartitions, s.secrets)
	return err
}

// StopBroker stops the broker until RestartBroker: its connections close
// and its port refuses new ones, as after kill -9. The registry keeps
// running.
func (s *Stack) StopBroker() {
	s.stopped = s.BrokerAddr()
	s.offsets.close()
	s.cluster.Close()
}

// listen binds addr, turning "address already in use" into advice.
func listen(addr, what, flagName string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, cli.Usagef("the %s port %s is taken: another stack or `docker compose up` is running there (stop it with `docker compose down`, or choose another with %s)", what, addr, flagName)
	}
	if err != nil {
		return nil, cli.Usagef("unable to listen for the %s on %s: %v", what, addr, err)
	}
	return ln, nil
}

// BrokerAddr is the broker's host:port, for bootstrap.servers.
func (s *Stack) BrokerAddr() string { return s.cluster.ListenAddrs()[0] }

// RegistryURL is the registry's base URL: https:// on a secure stack.
func (s *Stack) RegistryURL() string {
	if s.secrets != nil {
		return "https://" + s.regAddr
	}
	return "http://" + s.regAddr
}

// Secrets are the secure stack's generated files and credentials; nil
// unless Options.Secure was set.
func (s *Stack) Secrets() *Secrets { return s.secrets }

// hostOf is the host part of a host:port, or "".
func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return h
}

// Cluster is the kfake cluster, for tests and scenario verbs that drive the
// broker directly.
func (s *Stack) Cluster() *kfake.Cluster { return s.cluster }

// Close stops the registry and the broker; with a DataDir the broker writes
// its state there first.
func (s *Stack) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.server.Shutdown(ctx)
	s.offsets.close()
	s.cluster.Close()
}
