package config

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// Every property librdkafka calls sensitive, and the registry's secrets,
// reach --print-config masked: the key shown, the value never, whether it
// comes from the properties file or from -X.
func TestSensitiveMasked(t *testing.T) {
	var stderr bytes.Buffer
	c := Connection{Bootstrap: "b:9092", Timeout: DefaultTimeout, PrintConfig: true, Stderr: &stderr}
	// Set directly: Load would refuse some values (a key file that does
	// not exist); what is tested is what reaches the printers.
	for i, k := range librdkafkaSensitive {
		c.kafkaProps = append(c.kafkaProps, [2]string{k, fmt.Sprintf("secret-%d", i)})
	}
	c.registryUser, c.registryPass = "SRKEY", "secret-registry"
	c.printConnection(&stderr)
	_ = c.ConfigMap(kafka.ConfigMap{"group.id": "g"})
	out := stderr.String()
	if strings.Contains(out, "secret-") {
		t.Errorf("--print-config shows a secret:\n%s", out)
	}
	for _, k := range librdkafkaSensitive {
		if n := strings.Count(out, "\n"+k+"="+Masked+"\n"); n != 2 {
			t.Errorf("--print-config shows %s=%s %d times, want 2 (connection and client):\n%s", k, Masked, n, out)
		}
	}
	for _, k := range SensitiveKeys() {
		if !IsSecret(k) || !IsSecret(strings.ToUpper(k)) {
			t.Errorf("IsSecret(%q) = false: it is on the sensitive list", k)
		}
	}
}

// The case: a passphrase given in a properties file, loaded as a
// user would, reaches --print-config masked.
func TestPassphraseMaskedFromFile(t *testing.T) {
	var stderr bytes.Buffer
	c := Connection{File: write(t, "sasl.oauthbearer.assertion.private.key.passphrase=PASSPHRASE-1\n"),
		Timeout: DefaultTimeout, PrintConfig: true, Stderr: &stderr}
	if err := c.Load(); err != nil {
		t.Fatal(err)
	}
	_ = c.ConfigMap(kafka.ConfigMap{"group.id": "g"})
	out := stderr.String()
	if strings.Contains(out, "PASSPHRASE-1") || !strings.Contains(out, "sasl.oauthbearer.assertion.private.key.passphrase="+Masked) {
		t.Errorf("--print-config does not mask the passphrase:\n%s", out)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://alice:SECRET@host:8081":         "http://alice:********@host:8081",
		"https://alice:S%40C:R@host/path?q=a@b": "https://alice:********@host/path?q=a@b",
		"http://alice:p@ss@host":                "http://alice:********@host",
		"http://alice@host":                     "http://alice@host",
		"http://host:8081/a@b":                  "http://host:8081/a@b",
		"http://127.0.0.1:8081":                 "http://127.0.0.1:8081",
		"alice:SECRET@host":                     "alice:********@host",
		"http://alice:SEC RET@ho st":            "http://alice:********@ho st",
		"":                                      "",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// A password in schema.registry.url reaches neither --print-config nor the
// registry's errors: not answering, refusing, or not being a URL.
func TestRegistryURLPasswordHidden(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	t.Cleanup(refusing.Close)
	withPass := func(base string) string { return strings.Replace(base, "http://", "http://alice:PW-7f3@", 1) }
	for _, tc := range []struct{ name, url, want string }{
		{"unreachable", "http://alice:PW-7f3@127.0.0.1:1", "schema registry at http://alice:********@127.0.0.1:1 did not answer"},
		{"refused", withPass(refusing.URL), "schema registry at http://alice:********@127.0.0.1:"},
		{"not a URL", "http://alice:PW-7f3@ho st", `--registry "http://alice:********@ho st" is not a URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			c := Connection{Registry: tc.url, Timeout: time.Second, PrintConfig: true, Stderr: &stderr}
			if err := c.Load(); err != nil {
				t.Fatal(err)
			}
			err := c.CheckRegistry(t.Context())
			if err == nil {
				t.Fatal("CheckRegistry succeeded")
			}
			if out := stderr.String(); strings.Contains(out, "PW-7f3") || !strings.Contains(out, "schema.registry.url=http://alice:"+Masked+"@") {
				t.Errorf("--print-config shows the registry password:\n%s", out)
			}
			if strings.Contains(err.Error(), "PW-7f3") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q and not the password", err, tc.want)
			}
		})
	}
}
