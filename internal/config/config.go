// Package config is where offsetlab's clients connect and how. Every command
// takes the same connection flags (--bootstrap, --registry, --config FILE,
// -X key=value, --timeout); this package turns them into the one
// kafka.ConfigMap each client is built from and the registry client, and
// checks, within a bound, that both answer.
//
// Precedence, lowest first: built-in defaults (the embedded stack's
// 127.0.0.1:9092 and http://127.0.0.1:8081), the OFFSETLAB_BOOTSTRAP and
// OFFSETLAB_REGISTRY environment variables, the properties file (--config,
// or $OFFSETLAB_CONFIG when --config is not given: the scenario runner's
// children inherit it), the command's own typed flags, and -X overrides,
// which are applied last.
package config

import (
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/magiconair/properties"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// Defaults match both the embedded stack and docker-compose.yml.
const (
	DefaultBootstrap = "127.0.0.1:9092"
	DefaultRegistry  = "http://127.0.0.1:8081"
	DefaultTimeout   = 10 * time.Second
)

// Connection holds the shared connection flags and what was loaded from them.
type Connection struct {
	Bootstrap string
	Registry  string
	File      string
	Overrides Overrides
	Timeout   time.Duration
	// PrintConfig (--print-config) makes Load print the effective
	// connection settings, secrets masked, and ConfigMap print each distinct
	// client configuration it builds; the command then goes on.
	PrintConfig bool
	// Stderr receives warnings (unknown properties keys) and --print-config;
	// nil means os.Stderr.
	Stderr io.Writer

	// Filled by Load.
	kafkaProps     [][2]string // client properties from the file, in file order
	kafkaOverrides [][2]string // client properties from -X, in flag order
	registryUser   string
	registryPass   string
	registryCA     string      // schema.registry.ssl.ca.location
	kafkaCA        string      // ssl.ca.location, the registry's fallback
	registryTLS    *tls.Config // nil: Go's defaults (system roots)
	printed        map[string]bool
}

// Overrides collects repeatable -X key=value flags. A malformed one is kept
// with an empty key and refused by Load (see badOverride): the flag package
// quotes a refused value in its error, and the text may hold a secret.
type Overrides [][2]string

func (o *Overrides) String() string { return fmt.Sprint(len(*o), " overrides") }

// Set parses one key=value.
func (o *Overrides) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		*o = append(*o, [2]string{"", s})
		return nil
	}
	*o = append(*o, [2]string{strings.TrimSpace(k), v})
	return nil
}

// badOverride is the error for a malformed -X text. It quotes the text
// unless it names a secret property: then it names the key and hides what
// follows it (-X 'sasl.password:PW' is the usual slip), or, when no key can
// be told apart, shows nothing of it.
func badOverride(s string) error {
	if !IsSecret(s) {
		return cli.Usagef("-X takes key=value, got %q", s)
	}
	if i := strings.IndexAny(s, ": \t"); i > 0 && IsSecret(s[:i]) {
		return cli.Usagef("-X takes key=value, got %q followed by %q and a value not shown (%s holds a secret)", s[:i], s[i:i+1], s[:i])
	}
	return cli.Usagef("-X takes key=value, got a text that names a secret property (not shown)")
}

// RegisterFlags adds the connection flags to fs.
func (c *Connection) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Bootstrap, "bootstrap", "", "Kafka bootstrap servers (default $OFFSETLAB_BOOTSTRAP, the file's bootstrap.servers, or "+DefaultBootstrap+")")
	fs.StringVar(&c.Registry, "registry", "", "Schema Registry URL (default $OFFSETLAB_REGISTRY, the file's schema.registry.url, or "+DefaultRegistry+")")
	fs.StringVar(&c.File, "config", "", "client properties `FILE` (librdkafka or Java style, e.g. Confluent Cloud's client.properties; default $OFFSETLAB_CONFIG)")
	fs.Var(&c.Overrides, "X", "librdkafka or registry property `key=value`, applied last (repeatable)")
	fs.DurationVar(&c.Timeout, "timeout", DefaultTimeout, "how long to wait for the broker and the registry to answer")
	fs.BoolVar(&c.PrintConfig, "print-config", false, "print the effective Kafka client and registry settings to stderr, secrets masked, and go on")
}

// Load reads the properties file and the overrides and settles the
// addresses. Call it after flag parsing and before building any client.
func (c *Connection) Load() error {
	if c.Timeout <= 0 {
		return cli.Usagef("--timeout must be positive, got %s", c.Timeout)
	}
	if c.File == "" {
		c.File = os.Getenv("OFFSETLAB_CONFIG")
	}
	if c.File != "" {
		// Absolute, so that a child started in another directory (the
		// scenario runner's, through $OFFSETLAB_CONFIG) finds it too.
		if abs, err := filepath.Abs(c.File); err == nil {
			c.File = abs
		}
	}
	var fromFile [][2]string
	if c.File != "" {
		var err error
		if fromFile, err = ReadProperties(c.File); err != nil {
			return err
		}
	}
	bootstrap, registry := c.Bootstrap, c.Registry
	c.kafkaProps, c.kafkaOverrides = nil, nil
	c.registryCA, c.kafkaCA, c.registryTLS = "", "", nil
	for _, kv := range fromFile {
		if err := c.route(kv[0], kv[1], &c.kafkaProps); err != nil {
			return err
		}
	}
	for _, kv := range c.Overrides {
		if kv[0] == "" {
			return badOverride(kv[1])
		}
	}
	for _, kv := range c.Overrides {
		if err := c.route(kv[0], kv[1], &c.kafkaOverrides); err != nil {
			return err
		}
	}
	// The file and -X may name the addresses; explicit flags win over the
	// file, -X wins over everything.
	c.Bootstrap = firstNonEmpty(lastValue(c.Overrides, "bootstrap.servers"), bootstrap, lastValue(fromFile, "bootstrap.servers"), os.Getenv("OFFSETLAB_BOOTSTRAP"), DefaultBootstrap)
	c.Registry = firstNonEmpty(lastValue(c.Overrides, "schema.registry.url"), registry, lastValue(fromFile, "schema.registry.url"), os.Getenv("OFFSETLAB_REGISTRY"), DefaultRegistry)
	c.Registry = strings.TrimRight(c.Registry, "/")
	isBootstrap := func(kv [2]string) bool { return kv[0] == "bootstrap.servers" }
	c.kafkaProps = slices.DeleteFunc(c.kafkaProps, isBootstrap)
	c.kafkaOverrides = slices.DeleteFunc(c.kafkaOverrides, isBootstrap)
	if err := c.checkKeys(); err != nil {
		return err
	}
	if err := c.loadRegistryTLS(); err != nil {
		return err
	}
	if c.PrintConfig {
		c.printConnection(c.stderr())
	}
	return nil
}

func (c *Connection) stderr() io.Writer {
	if c.Stderr != nil {
		return c.Stderr
	}
	return os.Stderr
}

// lastValue is the value the last entry for key gives, or "".
func lastValue(props [][2]string, key string) string {
	v := ""
	for _, kv := range props {
		if kv[0] == key {
			v = kv[1]
		}
	}
	return v
}

// route sends one property to the registry or to the Kafka clients,
// translating the Java client's spellings that librdkafka does not know.
func (c *Connection) route(key, value string, dst *[][2]string) error {
	switch {
	case key == "schema.registry.url":
		// settled in Load
	case key == "basic.auth.user.info", key == "schema.registry.basic.auth.user.info":
		user, pass, ok := strings.Cut(value, ":")
		if !ok {
			return cli.Usagef("%s must be user:password (the registry API key and secret)", key)
		}
		c.registryUser, c.registryPass = user, pass
	case key == "schema.registry.ssl.ca.location":
		c.registryCA = value
	case key == "basic.auth.credentials.source", strings.HasPrefix(key, "schema.registry."):
		// USER_INFO is the only source offsetlab reads; the rest are registry client knobs.
	case key == "sasl.jaas.config":
		user, pass, err := parseJAAS(value)
		if err != nil {
			return err
		}
		*dst = append(*dst, [2]string{"sasl.username", user}, [2]string{"sasl.password", pass})
	case key == "sasl.mechanism":
		*dst = append(*dst, [2]string{"sasl.mechanisms", value})
	case javaOnly[key]:
		// The Java client's knobs that librdkafka does not have.
	case key == "ssl.ca.location":
		c.kafkaCA = value
		*dst = append(*dst, [2]string{key, value})
	default:
		*dst = append(*dst, [2]string{key, value})
	}
	return nil
}

// javaOnly lists Java client properties found in Confluent's generated
// client.properties files that librdkafka has no equivalent for.
var javaOnly = map[string]bool{
	"key.serializer":     true,
	"value.serializer":   true,
	"key.deserializer":   true,
	"value.deserializer": true,
}

// ReadProperties reads a Java-style properties file (key=value or key: value,
// # and ! comments, backslash continuations) and returns its entries in file
// order. ${...} is not expanded, so placeholders such as {{ API_KEY }} stay
// visible in errors instead of turning into empty strings.
func ReadProperties(path string) ([][2]string, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, cli.Usagef("--config: %v", err)
	}
	// A binary file's keys went, control bytes and all, into warnings and
	// into librdkafka's "No such configuration property" error.
	if i := bytes.IndexFunc(buf, isControl); i >= 0 {
		return nil, cli.Usagef("--config %s: not a properties file: control byte %#02x on line %d (a properties file is text)", path, buf[i], 1+bytes.Count(buf[:i], []byte("\n")))
	}
	l := &properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := l.LoadBytes(buf)
	if err != nil {
		return nil, cli.Usagef("--config %s: not a properties file: %v", path, oneLine(err))
	}
	var out [][2]string
	for _, k := range p.Keys() {
		v, _ := p.Get(k)
		out = append(out, [2]string{k, strings.TrimSpace(v)})
	}
	return out, nil
}

// isControl is true of the control characters a text file does not hold:
// all but tab, line feed, form feed and carriage return.
func isControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\f' && r != '\r') || r == 0x7f
}

// ConfigMap builds a client's configuration: bootstrap servers, the
// properties file, the command's typed settings, then -X overrides. It is
// the only place offsetlab turns its knobs into librdkafka properties.
func (c *Connection) ConfigMap(settings kafka.ConfigMap) kafka.ConfigMap {
	cm := kafka.ConfigMap{
		"bootstrap.servers": c.Bootstrap,
		// librdkafka's own log lines go to a channel that offsetlab drains;
		// errors reach the application as events.
		"go.logs.channel.enable": true,
	}
	for _, kv := range c.kafkaProps {
		cm[kv[0]] = kv[1]
	}
	for k, v := range settings {
		cm[k] = v
	}
	for _, kv := range c.kafkaOverrides {
		cm[kv[0]] = kv[1]
	}
	if c.PrintConfig && settings != nil {
		c.printClient(c.stderr(), cm)
	}
	return cm
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// WriteProperties writes the effective connection as a librdkafka-style
// properties file, registry settings and secrets included, readable by its
// owner only: what a program under test gets as $OFFSETLAB_CONFIG. Callers
// keep it out of anything they print or keep.
func (c *Connection) WriteProperties(path string) error {
	var b strings.Builder
	b.WriteString("# The connection offsetlab runs against: the broker, its security, the schema registry.\n")
	cm := c.ConfigMap(nil)
	keys := make([]string, 0, len(cm))
	for k := range cm {
		if !strings.HasPrefix(k, "go.") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v\n", k, cm[k])
	}
	fmt.Fprintf(&b, "schema.registry.url=%s\n", c.Registry)
	if c.registryUser != "" {
		fmt.Fprintf(&b, "basic.auth.credentials.source=USER_INFO\nbasic.auth.user.info=%s:%s\n", c.registryUser, c.registryPass)
	}
	if c.registryCA != "" {
		fmt.Fprintf(&b, "schema.registry.ssl.ca.location=%s\n", c.registryCA)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
