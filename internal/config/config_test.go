package config

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// The client.properties Confluent Cloud hands out for librdkafka clients,
// with the registry settings the Java and Go serializers read.
const cloudProps = `# Required connection configs for Kafka producer, consumer, and admin
bootstrap.servers=pkc-12345.europe-west1.gcp.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.mechanisms=PLAIN
sasl.username=APIKEY
sasl.password=s3cr3t/with=equals
# Best practice for higher availability in librdkafka clients prior to 1.7
session.timeout.ms=45000

# Required connection configs for Confluent Cloud Schema Registry
schema.registry.url=https://psrc-123.europe-west3.gcp.confluent.cloud
basic.auth.credentials.source=USER_INFO
basic.auth.user.info=SRKEY:sr:secret
`

// The Java flavour of the same file.
const javaProps = `bootstrap.servers: pkc-1.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='JKEY' password='jsecret';
client.dns.lookup=use_all_dns_ips
key.serializer=org.apache.kafka.common.serialization.StringSerializer
acks=all
`

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "client.properties")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadProperties(t *testing.T) {
	props, err := ReadProperties(write(t, "a=1\n! comment\nb : two words\nc=line \\\n  continued\nd={{ SR_API_KEY }}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"a", "1"}, {"b", "two words"}, {"c", "line continued"}, {"d", "{{ SR_API_KEY }}"}}
	if len(props) != len(want) {
		t.Fatalf("got %q, want %q", props, want)
	}
	for i := range want {
		if props[i] != want[i] {
			t.Errorf("entry %d: got %q, want %q", i, props[i], want[i])
		}
	}
}

func TestReadPropertiesErrors(t *testing.T) {
	for name, path := range map[string]string{
		"missing file": filepath.Join(t.TempDir(), "nope.properties"),
		"bad escape":   write(t, "a=\\u12\n"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadProperties(path)
			var ue *cli.UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("want a usage error, got %v", err)
			}
		})
	}
}

func TestCloudPropertiesFile(t *testing.T) {
	t.Setenv("OFFSETLAB_BOOTSTRAP", "")
	t.Setenv("OFFSETLAB_REGISTRY", "")
	c := Connection{File: write(t, cloudProps), Timeout: DefaultTimeout}
	if err := c.Load(); err != nil {
		t.Fatal(err)
	}
	if c.Bootstrap != "pkc-12345.europe-west1.gcp.confluent.cloud:9092" {
		t.Errorf("bootstrap = %q", c.Bootstrap)
	}
	if c.Registry != "https://psrc-123.europe-west3.gcp.confluent.cloud" {
		t.Errorf("registry = %q", c.Registry)
	}
	if c.registryUser != "SRKEY" || c.registryPass != "sr:secret" {
		t.Errorf("registry credentials = %q, %q", c.registryUser, c.registryPass)
	}
	cm := c.ConfigMap(kafka.ConfigMap{"session.timeout.ms": 6000})
	for k, want := range map[string]any{
		"bootstrap.servers":  "pkc-12345.europe-west1.gcp.confluent.cloud:9092",
		"security.protocol":  "SASL_SSL",
		"sasl.mechanisms":    "PLAIN",
		"sasl.username":      "APIKEY",
		"sasl.password":      "s3cr3t/with=equals",
		"session.timeout.ms": 6000, // a typed setting beats the file
	} {
		if cm[k] != want {
			t.Errorf("%s = %v, want %v", k, cm[k], want)
		}
	}
	for _, k := range []string{"schema.registry.url", "basic.auth.user.info", "basic.auth.credentials.source"} {
		if _, ok := cm[k]; ok {
			t.Errorf("registry property %s leaked into the Kafka config", k)
		}
	}
}

func TestJavaPropertiesFile(t *testing.T) {
	c := Connection{File: write(t, javaProps), Timeout: DefaultTimeout}
	if err := c.Load(); err != nil {
		t.Fatal(err)
	}
	cm := c.ConfigMap(nil)
	for k, want := range map[string]any{
		"sasl.mechanisms": "PLAIN", "sasl.username": "JKEY", "sasl.password": "jsecret",
		"client.dns.lookup": "use_all_dns_ips", "acks": "all",
	} {
		if cm[k] != want {
			t.Errorf("%s = %v, want %v", k, cm[k], want)
		}
	}
	for _, k := range []string{"sasl.jaas.config", "sasl.mechanism", "key.serializer"} {
		if _, ok := cm[k]; ok {
			t.Errorf("Java-only property %s passed to librdkafka", k)
		}
	}
	// librdkafka accepts every property the translation produced.
	cm["socket.connection.setup.timeout.ms"] = 1000
	p, err := kafka.NewProducer(&cm)
	if err != nil {
		t.Fatalf("librdkafka rejects the translated config: %v", err)
	}
	p.Close()
}

// Precedence, lowest first: default, environment, file, flag, -X.
func TestPrecedence(t *testing.T) {
	file := write(t, "bootstrap.servers=file:9092\nlinger.ms=7\n")
	for _, c := range []struct {
		name, env, flag string
		file            string
		x               Overrides
		want            string
	}{
		{name: "default", want: DefaultBootstrap},
		{name: "env", env: "env:9092", want: "env:9092"},
		{name: "file beats env", env: "env:9092", file: file, want: "file:9092"},
		{name: "flag beats file", env: "env:9092", file: file, flag: "flag:9092", want: "flag:9092"},
		{name: "-X beats flag", file: file, flag: "flag:9092", x: Overrides{{"bootstrap.servers", "x:9092"}}, want: "x:9092"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("OFFSETLAB_BOOTSTRAP", c.env)
			conn := Connection{Bootstrap: c.flag, File: c.file, Overrides: c.x, Timeout: DefaultTimeout}
			if err := conn.Load(); err != nil {
				t.Fatal(err)
			}
			if conn.Bootstrap != c.want {
				t.Errorf("bootstrap = %q, want %q", conn.Bootstrap, c.want)
			}
			if cm := conn.ConfigMap(nil); cm["bootstrap.servers"] != c.want {
				t.Errorf("ConfigMap bootstrap.servers = %v, want %q", cm["bootstrap.servers"], c.want)
			}
		})
	}
	// -X is applied after the command's typed settings.
	conn := Connection{File: file, Overrides: Overrides{{"linger.ms", "9"}}, Timeout: DefaultTimeout}
	if err := conn.Load(); err != nil {
		t.Fatal(err)
	}
	if got := conn.ConfigMap(kafka.ConfigMap{"linger.ms": 8})["linger.ms"]; got != "9" {
		t.Errorf("linger.ms = %v, want -X's 9", got)
	}
}

func TestOverridesFlag(t *testing.T) {
	var o Overrides
	if err := o.Set("a.b=c=d"); err != nil || o[0] != [2]string{"a.b", "c=d"} {
		t.Errorf("Set(a.b=c=d) = %v, %q", err, o)
	}
}

// A malformed -X is a one-line usage error, from the command line through
// Load. It quotes the text, unless the text names a secret: then the key is
// named and the value is never shown.
func TestMalformedOverride(t *testing.T) {
	for _, tc := range []struct{ x, want string }{
		{"novalue", `-X takes key=value, got "novalue"`},
		{"=x", `-X takes key=value, got "=x"`},
		{"linger.ms:5", `-X takes key=value, got "linger.ms:5"`},
		{"sasl.password:PW-9c1", `-X takes key=value, got "sasl.password" followed by ":" and a value not shown (sasl.password holds a secret)`},
		{"ssl.key.password PW-9c1", `-X takes key=value, got "ssl.key.password" followed by " " and a value not shown (ssl.key.password holds a secret)`},
		{"sasl.passwordPW-9c1", `-X takes key=value, got a text that names a secret property (not shown)`},
		{"sasl.oauthbearer.assertion.private.key.passphrase:PW-9c1", `got "sasl.oauthbearer.assertion.private.key.passphrase" followed by ":" and a value not shown`},
	} {
		t.Run(tc.x, func(t *testing.T) {
			var c Connection
			fs := flag.NewFlagSet("producer", flag.ContinueOnError)
			c.RegisterFlags(fs)
			err := cli.Parse(fs, []string{"-X", tc.x}, io.Discard)
			if err == nil {
				err = c.Load()
			}
			if err == nil || cli.Code(err) != cli.ExitUsage {
				t.Fatalf("-X %q: err = %v, want a usage error", tc.x, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("-X %q: %q, want %q", tc.x, err, tc.want)
			}
			if strings.Contains(err.Error(), "PW-9c1") {
				t.Errorf("-X %q: the error shows the secret: %q", tc.x, err)
			}
		})
	}
}

func TestIsSecret(t *testing.T) {
	for k, want := range map[string]bool{
		"sasl.password": true, "basic.auth.user.info": true, "sasl.jaas.config": true,
		"ssl.key.password": true, "sasl.username": true, // librdkafka calls it sensitive
		"sasl.oauthbearer.assertion.private.key.passphrase": true, "bootstrap.servers": false,
	} {
		if IsSecret(k) != want {
			t.Errorf("IsSecret(%q) = %v, want %v", k, !want, want)
		}
	}
}

// A binary file is refused before any of its bytes reach a message: its
// keys went, control bytes and all, into warnings and librdkafka's errors.
func TestReadPropertiesBinary(t *testing.T) {
	path := write(t, "# ok\nkey\x01\x1b[31m=v\n")
	_, err := ReadProperties(path)
	want := "--config " + path + ": not a properties file: control byte 0x01 on line 2 (a properties file is text)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}
