package config

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/riferrei/srclient"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// RegistryClient builds the schema registry client: codecs compiled eagerly
// (so a schema that does not compile is an error, not a nil codec later),
// every request bounded by the connection timeout, basic auth when the
// properties carry basic.auth.user.info.
func (c *Connection) RegistryClient() *srclient.SchemaRegistryClient {
	rc := srclient.NewSchemaRegistryClient(c.Registry, srclient.WithClient(c.httpClient()))
	rc.CodecCreationEnabled(true)
	rc.SetCredentials(c.registryUser, c.registryPass)
	return rc
}

// CheckRegistry asks the registry for its subjects and reports, within the
// connection timeout, whether it answered.
func (c *Connection) CheckRegistry(ctx context.Context) error {
	tctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(tctx, http.MethodGet, c.Registry+"/subjects", nil)
	if err != nil {
		// url.Parse's error quotes the whole URL, password included.
		shown := RedactURL(c.Registry)
		return cli.Usagef("--registry %q is not a URL: %s", shown, strings.ReplaceAll(err.Error(), c.Registry, shown))
	}
	if c.registryUser != "" {
		req.SetBasicAuth(c.registryUser, c.registryPass)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil { // interrupted (exit 130), not unreachable
			return ctx.Err()
		}
		if terr := c.registryTLSError(err); terr != nil {
			return terr
		}
		return &cli.UnreachableError{Service: "schema registry", Addr: RedactURL(c.Registry), Waited: c.Timeout, Err: errors.Unwrap(err)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		if c.registryUser == "" {
			return fmt.Errorf("schema registry at %s wants credentials (%s): set basic.auth.user.info=KEY:SECRET in --config", RedactURL(c.Registry), resp.Status)
		}
		return fmt.Errorf("schema registry at %s refused the credentials (%s): check basic.auth.user.info", RedactURL(c.Registry), resp.Status)
	case resp.StatusCode == http.StatusBadRequest && strings.HasPrefix(c.Registry, "http://"):
		return fmt.Errorf("schema registry at %s answered %s to GET /subjects: if it serves TLS, use an https:// schema.registry.url", RedactURL(c.Registry), resp.Status)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("schema registry at %s answered %s to GET /subjects", RedactURL(c.Registry), resp.Status)
	}
	return nil
}

// CheckBroker asks the cluster for its metadata and reports, within the
// connection timeout, whether it answered. librdkafka itself retries a dead
// broker forever; this is where offsetlab puts a bound on that. Where every
// bootstrap address refuses the connection it says so at once.
func (c *Connection) CheckBroker(ctx context.Context) error {
	if err := refused(ctx, c.Bootstrap, c.Timeout); err != nil {
		return err
	}
	cm := c.ConfigMap(nil)
	admin, err := kafka.NewAdminClient(&cm)
	if err != nil {
		return ClientError("admin client", err)
	}
	// librdkafka reports a refused login or a failed TLS handshake only in
	// its log, and then retries; GetMetadata would wait out the timeout.
	// Watching the log turns that into a clear error at once.
	refused := make(chan error, 1)
	protocol := strings.ToUpper(fmt.Sprint(cm["security.protocol"]))
	go watchLogs(admin.Logs(), c.Bootstrap, protocol == "" || protocol == "PLAINTEXT" || protocol == "<NIL>", refused)
	done := make(chan error, 1)
	go func() {
		_, err := admin.GetMetadata(nil, false, int(c.Timeout/time.Millisecond))
		done <- err
	}()
	// Close waits for GetMetadata to give up, so an early return leaves
	// the closing to the background.
	select {
	case err = <-done:
		admin.Close()
	case err := <-refused:
		go func() { <-done; admin.Close() }()
		return err
	case <-ctx.Done():
		go func() { <-done; admin.Close() }()
		return ctx.Err()
	}
	if err != nil {
		select { // a refusal logged just before the timeout says more than the timeout
		case rerr := <-refused:
			return rerr
		default:
		}
		return &cli.UnreachableError{Service: "broker", Addr: c.Bootstrap, Waited: c.Timeout, Err: err}
	}
	return nil
}

// ClientError turns librdkafka's refusal of a configuration into a usage
// error naming the property, and anything else into a plain error.
func ClientError(what string, err error) error {
	var kerr kafka.Error
	if errors.As(err, &kerr) && kerr.Code() == kafka.ErrInvalidArg || strings.Contains(err.Error(), "property") {
		return cli.Usagef("unable to create %s: %v (check --config and -X)", what, err)
	}
	return fmt.Errorf("unable to create %s: %w", what, err)
}

// DiscardLogs drains a client's log channel. offsetlab reads errors from
// events and results; librdkafka's log lines would only repeat them.
func DiscardLogs(logs chan kafka.LogEvent) {
	for range logs {
	}
}

// PrintLogs writes a client's log lines to w, as librdkafka prints them
// itself: for -X debug=..., which asks for them.
func PrintLogs(logs chan kafka.LogEvent, w io.Writer) {
	for l := range logs {
		fmt.Fprintf(w, "%%%d|%s|%s| %s\n", l.Level, l.Timestamp.Format("15:04:05.000"), l.Tag, l.Message)
	}
}

// SecurityError is a broker or registry that answered but refused the
// connection: wrong credentials, none, or a certificate the client does not
// trust. Its message names the setting to check.
type SecurityError struct {
	Service string // "broker" or "schema registry"
	Addr    string
	Msg     string
}

func (e *SecurityError) Error() string { return fmt.Sprintf("%s at %s %s", e.Service, e.Addr, e.Msg) }

// watchLogs drains a client's log channel, sending the first log line that
// says the broker refused the login or the TLS handshake failed as a
// SecurityError. The rest is discarded: errors reach offsetlab as events
// and results. plaintext says the client speaks neither TLS nor SASL, so a
// broker that hangs up on its first request twice most likely wants them.
func watchLogs(logs chan kafka.LogEvent, addr string, plaintext bool, refused chan<- error) {
	sent, hangups := false, 0
	for ev := range logs {
		if sent {
			continue
		}
		err := securityError(ev.Message, addr)
		if err == nil && plaintext && strings.Contains(ev.Message, "Disconnected") && strings.Contains(ev.Message, "state APIVERSION_QUERY") {
			if hangups++; hangups == 2 {
				err = &SecurityError{Service: "broker", Addr: addr, Msg: "hung up on the first request, twice (" + logDetail(ev.Message) + "): if it wants TLS and SASL, set security.protocol=SASL_SSL, sasl.mechanisms, sasl.username, sasl.password and ssl.ca.location"}
			}
		}
		if err != nil {
			refused <- err
			sent = true
		}
	}
}

// securityError classifies one librdkafka log message.
func securityError(msg, addr string) error {
	detail := logDetail(msg)
	switch {
	case strings.Contains(msg, "SASL authentication error"), strings.Contains(msg, "Authentication failed"):
		return &SecurityError{Service: "broker", Addr: addr, Msg: "refused the SASL login (" + detail + "): check sasl.username, sasl.password and sasl.mechanisms"}
	case strings.Contains(msg, "certificate verify failed"):
		if i := strings.Index(detail, "certificate verify failed"); i >= 0 {
			detail = detail[:i+len("certificate verify failed")]
		}
		return &SecurityError{Service: "broker", Addr: addr, Msg: "presented a certificate the client does not trust (" + detail + "): check ssl.ca.location"}
	case strings.Contains(msg, "SSL handshake failed"):
		return &SecurityError{Service: "broker", Addr: addr, Msg: "failed the TLS handshake (" + detail + "): check security.protocol and ssl.ca.location"}
	case strings.Contains(msg, "connecting to a SSL listener?"), strings.Contains(msg, "connecting to a SASL listener?"):
		return &SecurityError{Service: "broker", Addr: addr, Msg: "hung up on the first request (" + detail + "): if it wants TLS and SASL, set security.protocol=SASL_SSL, sasl.mechanisms, sasl.username, sasl.password and ssl.ca.location"}
	}
	return nil
}

// afterState is librdkafka's " (after 3ms in state X...)" suffix.
var afterState = regexp.MustCompile(`\s*\(after \d+ms in state .*\)\s*$`)

// logDetail is a log message without librdkafka's "proto://host:port/id: "
// prefix and "(after ...)" suffix, on one line.
func logDetail(msg string) string {
	msg = strings.Join(strings.Fields(msg), " ")
	if i := strings.Index(msg, "/bootstrap: "); i >= 0 {
		msg = msg[i+len("/bootstrap: "):]
	} else if i := strings.Index(msg, ": "); i >= 0 && strings.Contains(msg[:i], "://") {
		msg = msg[i+2:]
	}
	return strings.TrimSuffix(afterState.ReplaceAllString(msg, ""), ".")
}

// httpClient is the registry's HTTP client: bounded by the timeout, trusting
// the properties' CA when they name one.
func (c *Connection) httpClient() *http.Client {
	hc := &http.Client{Timeout: c.Timeout}
	if c.registryTLS != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = c.registryTLS
		hc.Transport = tr
	}
	return hc
}

// registryCAFile is the CA the registry client trusts: the registry's own
// schema.registry.ssl.ca.location, else the Kafka clients' ssl.ca.location
// (a Confluent Cloud-like setup signs both with one CA). librdkafka's
// "probe" means the system's roots, as Go's default does.
func (c *Connection) registryCAFile() string {
	ca := firstNonEmpty(c.registryCA, c.kafkaCA)
	if ca == "probe" {
		return ""
	}
	return ca
}

// loadRegistryTLS reads the registry's CA file, if any.
func (c *Connection) loadRegistryTLS() error {
	path := c.registryCAFile()
	if path == "" {
		return nil
	}
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return cli.Usagef("the registry's CA (schema.registry.ssl.ca.location or ssl.ca.location): %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return cli.Usagef("the registry's CA %s holds no PEM certificate", path)
	}
	c.registryTLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return nil
}

// registryTLSError says what a TLS failure talking to the registry means.
func (c *Connection) registryTLSError(err error) error {
	var (
		unknownAuth x509.UnknownAuthorityError
		hostname    x509.HostnameError
		invalid     x509.CertificateInvalidError
		verify      *tls.CertificateVerificationError
		recordHdr   tls.RecordHeaderError
	)
	hint := "check schema.registry.ssl.ca.location or ssl.ca.location"
	switch {
	case errors.As(err, &unknownAuth):
		return &SecurityError{Service: "schema registry", Addr: RedactURL(c.Registry), Msg: "presented a certificate signed by an unknown authority: " + hint}
	case errors.As(err, &hostname):
		return &SecurityError{Service: "schema registry", Addr: RedactURL(c.Registry), Msg: "presented a certificate for another host (" + hostname.Error() + ")"}
	case errors.As(err, &invalid):
		return &SecurityError{Service: "schema registry", Addr: RedactURL(c.Registry), Msg: "presented an invalid certificate (" + invalid.Error() + "): " + hint}
	case errors.As(err, &verify):
		return &SecurityError{Service: "schema registry", Addr: RedactURL(c.Registry), Msg: "presented a certificate the client does not trust (" + verify.Err.Error() + "): " + hint}
	case errors.As(err, &recordHdr):
		return &SecurityError{Service: "schema registry", Addr: RedactURL(c.Registry), Msg: "does not speak TLS: check the scheme of schema.registry.url"}
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return &SecurityError{Service: "schema registry", Addr: RedactURL(c.Registry), Msg: "speaks plain HTTP: use an http:// schema.registry.url"}
	}
	return nil
}
