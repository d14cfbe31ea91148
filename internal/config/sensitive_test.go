package config

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

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
