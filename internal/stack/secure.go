package stack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// SecureOptions turn the embedded stack into a small Confluent Cloud: the
// broker speaks SASL over TLS, the registry wants basic auth over TLS, both
// with a CA, a server certificate and credentials generated at start and
// valid only while the stack runs.
type SecureOptions struct {
	// Dir receives ca.pem and client.properties. It must exist.
	Dir string
	// Mechanism is the sasl.mechanisms written to client.properties:
	// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. The broker accepts the same
	// user and password with all three, so -X sasl.mechanisms=... switches.
	Mechanism string
	// Validity is how long the certificates are valid (default 24h).
	Validity time.Duration
}

// Mechanisms are the SASL mechanisms the secure stack accepts.
var Mechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}

// DefaultMechanism is the sasl.mechanisms a secure stack's client.properties names.
const DefaultMechanism = "SCRAM-SHA-512"

// Secrets are what a secure stack generated: the files it wrote and the
// credentials in them. Only tests should look at the passwords.
type Secrets struct {
	Dir            string
	CAFile         string // ca.pem: the throwaway CA that signed the server certificate
	PropertiesFile string // client.properties: everything a client needs, librdkafka style
	Mechanism      string
	User           string
	Password       string
	RegistryUser   string
	RegistrySecret string
	CAPEM          []byte
	NotAfter       time.Time
}

// material is a generated CA and the server certificate it signed.
type material struct {
	caPEM  []byte
	server tls.Certificate
}

// newMaterial generates an ECDSA CA and a server certificate for 127.0.0.1,
// ::1, localhost and the hosts the stack listens on.
func newMaterial(validity time.Duration, hosts ...string) (*material, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "offsetlab throwaway CA", Organization: []string{"offsetlab"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"offsetlab"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil && !ip.IsUnspecified() {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" && ip == nil {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	return &material{
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		server: tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key},
	}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// NewCAPEM returns a freshly generated CA certificate that signed nothing
// the stack serves: a wrong CA, for tests of what a client says about it.
func NewCAPEM() ([]byte, error) {
	m, err := newMaterial(time.Hour)
	if err != nil {
		return nil, err
	}
	return m.caPEM, nil
}

func (m *material) tlsConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{m.server}, MinVersion: tls.VersionTLS12}
}

// token is a random credential, recognisable in a grep of artifacts.
func token(prefix string) string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// check validates the options, and fills in the defaults, before anything listens.
func (o *SecureOptions) check() error {
	if o.Mechanism == "" {
		o.Mechanism = DefaultMechanism
	}
	o.Mechanism = strings.ToUpper(o.Mechanism)
	ok := false
	for _, m := range Mechanisms {
		ok = ok || m == o.Mechanism
	}
	if !ok {
		return cli.Usagef("--sasl-mechanism %q: the secure stack speaks %s", o.Mechanism, strings.Join(Mechanisms, ", "))
	}
	if o.Validity <= 0 {
		o.Validity = 24 * time.Hour
	}
	if st, err := os.Stat(o.Dir); err != nil || !st.IsDir() {
		return cli.Usagef("--secure-dir %q is not a directory", o.Dir)
	}
	for _, name := range []string{"ca.pem", "client.properties"} {
		if err := refuseSymlink(filepath.Join(o.Dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// refuseSymlink refuses a symlink, or anything but a regular file, where
// the secure stack writes one of its files: writing through it would put
// the credentials wherever it points.
func refuseSymlink(path string) error {
	st, err := os.Lstat(path)
	switch {
	case err != nil:
		return nil // absent (or unreadable: creating it will say)
	case st.Mode()&os.ModeSymlink != 0:
		return cli.Usagef("--secure-dir: %s is a symlink; remove it, or choose another --secure-dir (the stack writes its credentials there and never through a link)", path)
	case !st.Mode().IsRegular():
		return cli.Usagef("--secure-dir: %s is not a regular file; remove it, or choose another --secure-dir", path)
	}
	return nil
}

// writeAnew replaces path with a new file holding data, with mode perm
// whatever the old file's: it writes a temporary file in the same directory
// and renames it over path, so the file never exists with the wrong mode or
// half written, and a symlink at path is replaced, never written through.
func writeAnew(path string, data []byte, perm os.FileMode) error {
	if err := refuseSymlink(path); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing to remove
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// writeClientFiles writes ca.pem and client.properties into the secure dir.
func (s *Secrets) writeClientFiles(bootstrap, registryURL string) error {
	s.CAFile = filepath.Join(s.Dir, "ca.pem")
	s.PropertiesFile = filepath.Join(s.Dir, "client.properties")
	if err := writeAnew(s.CAFile, s.CAPEM, 0o644); err != nil {
		return fmt.Errorf("unable to write the secure stack's CA: %w", err)
	}
	props := fmt.Sprintf(`# offsetlab embedded stack (stack --secure): throwaway credentials and CA,
# valid while that stack runs (certificates expire %s).
# Use it as any command's --config FILE.
bootstrap.servers=%s
security.protocol=SASL_SSL
sasl.mechanisms=%s
sasl.username=%s
sasl.password=%s
ssl.ca.location=%s

schema.registry.url=%s
basic.auth.credentials.source=USER_INFO
basic.auth.user.info=%s:%s
`, s.NotAfter.UTC().Format(time.RFC3339), bootstrap, s.Mechanism, s.User, s.Password, s.CAFile,
		registryURL, s.RegistryUser, s.RegistrySecret)
	if err := writeAnew(s.PropertiesFile, []byte(props), 0o600); err != nil {
		return fmt.Errorf("unable to write the secure stack's client.properties: %w", err)
	}
	return nil
}
