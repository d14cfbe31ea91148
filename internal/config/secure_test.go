package config

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// --print-config shows every setting sorted with the secrets masked, the
// registry's included; the secrets themselves never reach the output.
func TestPrintConfigMasksSecrets(t *testing.T) {
	var stderr bytes.Buffer
	c := Connection{File: write(t, cloudProps), Timeout: DefaultTimeout, PrintConfig: true, Stderr: &stderr}
	if err := c.Load(); err != nil {
		t.Fatal(err)
	}
	_ = c.ConfigMap(kafka.ConfigMap{"group.id": "g1"})
	_ = c.ConfigMap(kafka.ConfigMap{"group.id": "g1"}) // an identical client prints once
	out := stderr.String()
	for _, secret := range []string{"s3cr3t/with=equals", "sr:secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("--print-config shows a secret %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		"sasl.password=********\n", "sasl.username=********\n", "security.protocol=SASL_SSL\n",
		"basic.auth.user.info=SRKEY:********\n", "schema.registry.url=https://psrc-123.europe-west3.gcp.confluent.cloud\n",
		"group.id=g1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--print-config lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "group.id=g1"); n != 1 {
		t.Errorf("the same client configuration printed %d times, want once:\n%s", n, out)
	}
	// Sorted within the Kafka block.
	block := out[strings.Index(out, "# kafka client\n"):strings.Index(out, "# schema registry")]
	lines := strings.Split(strings.TrimSpace(block), "\n")[1:]
	for i := 1; i < len(lines); i++ {
		if lines[i-1] > lines[i] {
			t.Errorf("not sorted: %q before %q", lines[i-1], lines[i])
		}
	}
}

// A key in the properties file that librdkafka does not know is a one-line
// warning naming it, and the clients are built without it; with -X, where
// the user typed it for this command, it is a usage error.
func TestUnknownPropertiesKeys(t *testing.T) {
	var stderr bytes.Buffer
	c := Connection{File: write(t, cloudProps+"sesion.timeout.ms=6000\nfoo.bar=1\n"), Timeout: DefaultTimeout, Stderr: &stderr}
	if err := c.Load(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"foo.bar"`) || !strings.Contains(lines[1], `"sesion.timeout.ms"`) {
		t.Fatalf("want one warning line per unknown key, got:\n%s", stderr.String())
	}
	cm := c.ConfigMap(nil)
	if _, ok := cm["foo.bar"]; ok {
		t.Error("the unknown key reached the client configuration")
	}
	if cm["session.timeout.ms"] != "45000" {
		t.Errorf("a known key was dropped: %v", cm)
	}
	// librdkafka agrees: a client builds from what is left.
	cm["bootstrap.servers"] = "127.0.0.1:1"
	if p, err := kafka.NewProducer(&cm); err != nil {
		t.Errorf("the configuration without the unknown keys is refused: %v", err)
	} else {
		p.Close()
	}

	c = Connection{Overrides: Overrides{{"linger.ms", "5"}, {"lingr.ms", "5"}}, Timeout: DefaultTimeout, Stderr: &stderr}
	err := c.Load()
	var usage *cli.UsageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "-X lingr.ms") {
		t.Errorf("-X with an unknown key: got %v, want a usage error naming it", err)
	}
}

// The registry client trusts the CA the properties name: its own
// schema.registry.ssl.ca.location, or the Kafka clients' ssl.ca.location.
func TestRegistryCAFromProperties(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "k" || p != "s" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("[]"))
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pemOf(srv.Certificate().Raw), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"schema.registry.ssl.ca.location", "ssl.ca.location"} {
		t.Run(key, func(t *testing.T) {
			c := Connection{File: write(t, "schema.registry.url="+srv.URL+"\nbasic.auth.user.info=k:s\n"+key+"="+ca+"\n"), Timeout: DefaultTimeout}
			if err := c.Load(); err != nil {
				t.Fatal(err)
			}
			if err := c.CheckRegistry(context.Background()); err != nil {
				t.Fatalf("CheckRegistry: %v", err)
			}
			if _, err := c.RegistryClient().GetSubjects(); err != nil {
				t.Fatalf("the registry client does not trust the CA: %v", err)
			}
		})
	}
	t.Run("no CA", func(t *testing.T) {
		c := Connection{File: write(t, "schema.registry.url="+srv.URL+"\nbasic.auth.user.info=k:s\n"), Timeout: DefaultTimeout}
		if err := c.Load(); err != nil {
			t.Fatal(err)
		}
		err := c.CheckRegistry(context.Background())
		var sec *SecurityError
		if !errors.As(err, &sec) || !strings.Contains(err.Error(), "unknown authority") {
			t.Fatalf("got %v, want a SecurityError about the unknown authority", err)
		}
	})
	t.Run("CA file missing", func(t *testing.T) {
		c := Connection{File: write(t, "ssl.ca.location="+filepath.Join(dir, "nope.pem")+"\n"), Timeout: DefaultTimeout}
		var usage *cli.UsageError
		if err := c.Load(); !errors.As(err, &usage) {
			t.Fatalf("got %v, want a usage error", err)
		}
	})
}

// librdkafka's log lines about refused logins and untrusted certificates
// become one-line errors naming the setting to check.
func TestSecurityErrorFromLogs(t *testing.T) {
	cases := []struct{ log, want string }{
		{"sasl_ssl://127.0.0.1:9092/bootstrap: SASL authentication error: SaslAuthenticateRequest failed: Local: Broker transport failure (after 0ms in state DOWN)",
			"broker at B refused the SASL login (SASL authentication error: SaslAuthenticateRequest failed: Local: Broker transport failure): check sasl.username, sasl.password and sasl.mechanisms"},
		// What Apache Kafka answers, as librdkafka logs it.
		{"sasl_ssl://b:9092/bootstrap: SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 3ms in state AUTH_REQ)",
			"broker at B refused the SASL login (SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512): check"},
		{"ssl://127.0.0.1:9092/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified, verify that ssl.ca.location is correctly configured or root CA certificates are installed (install ca-certificates package) (after 2ms in state SSL_HANDSHAKE)",
			"broker at B presented a certificate the client does not trust (SSL handshake failed: error:0A000086:SSL routines::certificate verify failed): check ssl.ca.location"},
		{"127.0.0.1:9092/bootstrap: Disconnected while requesting ApiVersion: might be caused by incorrect security.protocol configuration (connecting to a SSL listener?) or broker version is < 0.10 (see api.version.request) (after 1ms in state APIVERSION_QUERY)",
			"broker at B hung up on the first request"},
	}
	for _, c := range cases {
		err := securityError(c.log, "B")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s\n got %v\nwant %s...", c.log, err, c.want)
		}
	}
	if err := securityError("127.0.0.1:9092/bootstrap: Connect to ipv4#127.0.0.1:9092 failed: Connection refused (after 0ms in state CONNECT)", "B"); err != nil {
		t.Errorf("a refused TCP connection is not a security error: %v", err)
	}
}

// $OFFSETLAB_CONFIG names the properties file when --config does not: the
// scenario runner's children find the secured cluster through it.
func TestConfigFromEnvironment(t *testing.T) {
	t.Setenv("OFFSETLAB_CONFIG", write(t, cloudProps))
	c := Connection{Timeout: DefaultTimeout}
	if err := c.Load(); err != nil {
		t.Fatal(err)
	}
	if c.Bootstrap != "pkc-12345.europe-west1.gcp.confluent.cloud:9092" {
		t.Errorf("bootstrap %q, want the file's", c.Bootstrap)
	}
}

func pemOf(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
