package config

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// Masked is what --print-config shows instead of a secret.
const Masked = "********"

// Print writes the effective settings of one Kafka client, cm as
// ConfigMap built it, then the registry's, one key=value a line, sorted,
// every secret (IsSecret) masked. The output is a valid properties file
// once the masks are filled in.
func (c *Connection) Print(w io.Writer, cm kafka.ConfigMap) {
	printKafka(w, "# kafka client", cm)
	c.printRegistry(w)
}

func printKafka(w io.Writer, header string, cm kafka.ConfigMap) {
	fmt.Fprintln(w, header)
	keys := make([]string, 0, len(cm))
	for k := range cm {
		if !strings.HasPrefix(k, "go.") { // offsetlab's own wiring, not the user's
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s=%s\n", k, maskValue(k, fmt.Sprint(cm[k])))
	}
}

// printConnection is what Load prints for --print-config: the settings every
// client of the command shares.
func (c *Connection) printConnection(w io.Writer) {
	fmt.Fprintln(w, "# --print-config: the connection settings (secrets masked); each client's own follow as it is built")
	c.Print(w, c.ConfigMap(nil))
}

// printClient prints a client's full configuration once per distinct
// configuration, so a command that builds many alike clients prints one.
func (c *Connection) printClient(w io.Writer, cm kafka.ConfigMap) {
	var b strings.Builder
	printKafka(&b, "# kafka client, as the command builds it", cm)
	if c.printed == nil {
		c.printed = map[string]bool{}
	}
	if c.printed[b.String()] {
		return
	}
	c.printed[b.String()] = true
	io.WriteString(w, b.String())
}

func (c *Connection) printRegistry(w io.Writer) {
	fmt.Fprintln(w, "# schema registry")
	fmt.Fprintf(w, "schema.registry.url=%s\n", RedactURL(c.Registry))
	if c.registryUser != "" {
		fmt.Fprintln(w, "basic.auth.credentials.source=USER_INFO")
		fmt.Fprintf(w, "basic.auth.user.info=%s:%s\n", c.registryUser, Masked)
	}
	if ca := c.registryCAFile(); ca != "" {
		fmt.Fprintf(w, "schema.registry.ssl.ca.location=%s\n", ca)
	}
}

// maskValue hides a secret's value. An empty secret prints as empty, so
// that "no password set" stays visible.
func maskValue(key, value string) string {
	if IsSecret(key) && value != "" {
		return Masked
	}
	return value
}
