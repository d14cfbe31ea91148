package stack_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/magiconair/properties"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

func startSecure(t *testing.T) (*stack.Stack, *stack.Secrets) {
	t.Helper()
	dir := t.TempDir()
	s := stacktest.Start(t, func(o *stack.Options) { o.Secure = &stack.SecureOptions{Dir: dir} })
	return s, s.Secrets()
}

// The secure stack writes a client.properties a librdkafka client can use
// as is, readable by its owner only, and a CA that verifies the server for
// 127.0.0.1 and localhost.
func TestSecureStackFiles(t *testing.T) {
	s, sec := startSecure(t)
	st, err := os.Stat(sec.PropertiesFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("client.properties mode %v, want 0600: it holds the password", st.Mode().Perm())
	}
	p := properties.MustLoadFile(sec.PropertiesFile, properties.UTF8)
	want := map[string]string{
		"bootstrap.servers":             s.BrokerAddr(),
		"security.protocol":             "SASL_SSL",
		"sasl.mechanisms":               stack.DefaultMechanism,
		"sasl.username":                 sec.User,
		"sasl.password":                 sec.Password,
		"ssl.ca.location":               sec.CAFile,
		"schema.registry.url":           s.RegistryURL(),
		"basic.auth.credentials.source": "USER_INFO",
		"basic.auth.user.info":          sec.RegistryUser + ":" + sec.RegistrySecret,
	}
	for k, v := range want {
		if got := p.GetString(k, ""); got != v {
			t.Errorf("%s=%q, want %q", k, got, v)
		}
	}
	if !strings.HasPrefix(s.RegistryURL(), "https://") {
		t.Errorf("registry URL %s, want https", s.RegistryURL())
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(sec.CAPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	for _, name := range []string{"127.0.0.1", "localhost"} {
		conn, err := tls.Dial("tcp", s.BrokerAddr(), &tls.Config{RootCAs: pool, ServerName: name})
		if err != nil {
			t.Errorf("TLS to the broker as %s: %v", name, err)
			continue
		}
		conn.Close()
	}
}

// Each start generates new credentials.
func TestSecureStackCredentialsAreFresh(t *testing.T) {
	_, a := startSecure(t)
	_, b := startSecure(t)
	if a.Password == b.Password || a.RegistrySecret == b.RegistrySecret || string(a.CAPEM) == string(b.CAPEM) {
		t.Error("two secure stacks share a credential or a CA")
	}
}

// The registry wants basic auth over TLS. srfake answers 401 without an
// Authorization header and 403 with a wrong one; Confluent Schema Registry
// answers 401 to both.
func TestSecureRegistryAuth(t *testing.T) {
	s, sec := startSecure(t)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(sec.CAPEM)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, c := range []struct {
		name, user, pass string
		want             int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong secret", sec.RegistryUser, "nope", http.StatusForbidden}, // Confluent: 401
		{"right secret", sec.RegistryUser, sec.RegistrySecret, http.StatusOK},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.RegistryURL()+"/subjects", nil)
		if c.user != "" {
			req.SetBasicAuth(c.user, c.pass)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: %s, want %d", c.name, resp.Status, c.want)
		}
	}
}

// kfake differs from Apache Kafka on a wrong password: Kafka answers the
// SaslAuthenticate request with SASL_AUTHENTICATION_FAILED and a message;
// kfake closes the connection, so clients see a transport failure
// ("SaslAuthenticateRequest failed: Local: Broker transport failure" in
// librdkafka) instead of "Authentication failed". offsetlab's message says
// "refused the SASL login" for both.
func TestKfakeWrongPasswordClosesConnection(t *testing.T) {
	s, sec := startSecure(t)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(sec.CAPEM)
	login := func(pass string) error {
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(s.BrokerAddr()),
			kgo.DialTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}),
			kgo.SASL(plain.Auth{User: sec.User, Pass: pass}.AsMechanism()),
			kgo.RetryTimeout(time.Second), kgo.RequestRetries(0),
		)
		if err != nil {
			return err
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		return cl.Ping(ctx)
	}
	if err := login(sec.Password); err != nil {
		t.Fatalf("the right password: %v", err)
	}
	err := login("wrong")
	if err == nil {
		t.Fatal("a wrong password logged in")
	}
	if errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("kfake now answers SASL_AUTHENTICATION_FAILED as Kafka does (%v): update this pin and the README", err)
	}
	t.Logf("kfake's answer to a wrong password: %v", err)
}
