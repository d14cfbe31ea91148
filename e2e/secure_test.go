package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/groups"
	"github.com/offsetlab/offsetlab/internal/poll"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// secureEnv is a secure embedded stack and an environment that names no
// broker or registry: commands find them through --config only.
func secureEnv(t *testing.T, mechanism string) (*env, *stack.Secrets) {
	t.Helper()
	dir := t.TempDir()
	s := stacktest.Start(t, func(o *stack.Options) {
		o.Secure = &stack.SecureOptions{Dir: dir, Mechanism: mechanism}
	})
	var vars []string
	for _, v := range os.Environ() {
		if !strings.HasPrefix(v, "OFFSETLAB_") {
			vars = append(vars, v)
		}
	}
	return &env{t: t, stack: s, dir: t.TempDir(), vars: vars}, s.Secrets()
}

// Producer, consumer and offsets run against SASL over TLS and a registry
// with basic auth from the stack's client.properties alone, with each SASL
// mechanism; no artifact holds a secret.
func TestSecureStackFromPropertiesOnly(t *testing.T) {
	for _, mech := range stack.Mechanisms {
		t.Run(mech, func(t *testing.T) {
			t.Parallel()
			e, sec := secureEnv(t, mech)
			cfg := []string{"--config", sec.PropertiesFile}
			var outputs []string
			keep := func(r result) result { outputs = append(outputs, r.stdout, r.stderr); return r }

			keep(e.must("producer", append(cfg, "--topic", "orders", "--count", "200", "--seed", "1",
				"--ledger", e.path("acked.jsonl"), "--print-config")...))
			keep(e.must("consumer", append(cfg, consumerArgs("g-secure", "orders", "earliest", e.path("c.jsonl"),
				"--max-messages", "200", "--print-config")...)...))
			// The broker, asked over SASL_SSL, says the group committed all 200.
			d := keep(e.must("offsets", append([]string{"describe"}, append(cfg, "--group", "g-secure", "--format", "json", "--print-config")...)...))
			var total int64
			for _, g := range decodeGroups(t, d.stdout) {
				for _, p := range g.Partitions {
					if p.Topic == "orders" && p.Committed != nil {
						total += *p.Committed
					}
				}
			}
			if total != 200 {
				t.Errorf("committed offsets sum to %d, want 200 (every record consumed and committed)\n%s", total, d.stdout)
			}
			if !strings.Contains(outputs[1], "sasl.password=********") || !strings.Contains(outputs[1], ":********") {
				t.Errorf("--print-config does not show the secrets masked:\n%s", outputs[1])
			}
			assertNoSecrets(t, sec, outputs, e.dir)
		})
	}
}

// Wrong password, wrong CA and missing credentials each end in one line
// naming the setting to check, with a non-zero exit code, long before the
// --timeout of a minute; so do the registry's refusals.
func TestSecureStackRefusals(t *testing.T) {
	e, sec := secureEnv(t, stack.DefaultMechanism)
	props, err := os.ReadFile(sec.PropertiesFile)
	if err != nil {
		t.Fatal(err)
	}
	wrongCA := filepath.Join(e.dir, "other-ca.pem")
	pemBytes, err := stack.NewCAPEM()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrongCA, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	edit := func(name string, fn func(k, v string) (string, bool)) string {
		var b strings.Builder
		for _, line := range strings.Split(string(props), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && !strings.HasPrefix(k, "#") {
				nv, keep := fn(k, v)
				if !keep {
					continue
				}
				line = k + "=" + nv
			}
			b.WriteString(line + "\n")
		}
		p := e.path(name)
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	set := func(key, value string) func(k, v string) (string, bool) {
		return func(k, v string) (string, bool) {
			if k == key {
				return value, true
			}
			return v, true
		}
	}
	drop := func(prefixes ...string) func(k, v string) (string, bool) {
		return func(k, v string) (string, bool) {
			for _, p := range prefixes {
				if strings.HasPrefix(k, p) {
					return "", false
				}
			}
			return v, true
		}
	}
	cases := []struct {
		name, file string
		cmd        []string
		code       int
		want       string
	}{
		{"wrong password", edit("wrong-pw.properties", set("sasl.password", "not-the-password")),
			[]string{"offsets", "describe", "--all-groups"}, 1, "refused the SASL login"},
		{"wrong CA, broker", edit("wrong-ca.properties", set("ssl.ca.location", wrongCA)),
			[]string{"offsets", "describe", "--all-groups"}, 1, "certificate the client does not trust"},
		{"wrong CA, registry", edit("wrong-ca.properties", set("ssl.ca.location", wrongCA)),
			[]string{"producer", "--topic", "t", "--count", "1"}, 1, "certificate signed by an unknown authority"},
		{"no CA", edit("no-ca.properties", drop("ssl.ca.location")),
			[]string{"offsets", "describe", "--all-groups"}, 1, "check ssl.ca.location"},
		{"no SASL user", edit("no-user.properties", drop("sasl.username", "sasl.password")),
			[]string{"offsets", "describe", "--all-groups"}, 2, "sasl.username and sasl.password must be set"},
		{"no security settings", edit("plaintext.properties", drop("sasl.", "security.protocol", "ssl.")),
			[]string{"offsets", "describe", "--all-groups"}, 1, "security.protocol=SASL_SSL"},
		{"wrong registry secret", edit("wrong-sr.properties", set("basic.auth.user.info", sec.RegistryUser+":nope")),
			[]string{"producer", "--topic", "t", "--count", "1"}, 1, "refused the credentials (403 Forbidden)"},
		{"registry over plain HTTP", edit("http-sr.properties", set("schema.registry.url", strings.Replace(e.stack.RegistryURL(), "https://", "http://", 1))),
			[]string{"producer", "--topic", "t", "--count", "1"}, 1, "use an https:// schema.registry.url"},
		{"no registry credentials", edit("no-sr.properties", drop("basic.auth.")),
			[]string{"consumer", "--topic", "t", "--group", "g", "--max-messages", "1"}, 1, "wants credentials (401 Unauthorized)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r := e.run(2*time.Minute, c.cmd[0], append(slices.Clone(c.cmd[1:]), "--config", c.file, "--timeout", "1m")...)
			t.Logf("%s failed after %s: %s", c.cmd[0], time.Since(start).Round(time.Millisecond), strings.TrimSpace(r.stderr))
			if r.code != c.code {
				t.Errorf("exit %d, want %d", r.code, c.code)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Errorf("stderr is not one line saying %q:\n%s", c.want, r.stderr)
			}
			if strings.Contains(lines[0], "did not answer within") {
				t.Errorf("reported as a timeout: %s", lines[0])
			}
			assertNoSecrets(t, sec, []string{r.stdout, r.stderr}, "")
		})
	}
}

// decodeGroups reads `offsets describe --format json`.
func decodeGroups(t *testing.T, out string) []groups.Group {
	t.Helper()
	var doc struct {
		Groups []groups.Group `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("offsets describe --format json: %v\n%s", err, out)
	}
	return doc.Groups
}

// assertNoSecrets fails if the password or the registry secret appears in
// any output or in any file under dir.
func assertNoSecrets(t *testing.T, sec *stack.Secrets, outputs []string, dir string) {
	t.Helper()
	secrets := map[string]string{"sasl.password": sec.Password, "registry secret": sec.RegistrySecret}
	for what, s := range secrets {
		re := regexp.MustCompile(regexp.QuoteMeta(s))
		for i, o := range outputs {
			if re.MatchString(o) {
				t.Errorf("output %d holds the %s:\n%s", i, what, o)
			}
		}
		if dir == "" {
			continue
		}
		files := 0
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			buf, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			if re.Match(buf) {
				t.Errorf("%s holds the %s", path, what)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if files == 0 {
			t.Errorf("no artifacts under %s to check", dir)
		}
	}
}

// `stack --secure` prints where client.properties is, never a password, and
// removes its temporary directory when it stops.
func TestStackSecureCommand(t *testing.T) {
	cmd := exec.Command(filepath.Join(bin, "stack"), "--secure", "--broker", "127.0.0.1:0", "--registry", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := make(chan string, 4)
	go func() {
		buf := make([]byte, 4096)
		var acc string
		for {
			n, err := stdout.Read(buf)
			acc += string(buf[:n])
			for {
				i := strings.IndexByte(acc, '\n')
				if i < 0 {
					break
				}
				lines <- acc[:i]
				acc = acc[i+1:]
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	var ready string
	poll.Until(t, 30*time.Second, "stack's ready line", poll.Received(lines, &ready),
		func() string { return fmt.Sprintf("stderr:\n%s", stderr.String()) })
	m := regexp.MustCompile(`^ready: broker \S+ \(SASL_SSL, SCRAM-SHA-512\), schema registry https://\S+ \(basic auth\), client properties (\S+)$`).FindStringSubmatch(ready)
	if m == nil {
		t.Fatalf("ready line: %q", ready)
	}
	props, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	password := regexp.MustCompile(`(?m)^sasl\.password=(\S+)$`).FindSubmatch(props)
	if password == nil || strings.Contains(ready, string(password[1])) {
		t.Fatalf("the ready line shows the password, or the file has none:\n%s", ready)
	}
	// The file works as is.
	e := &env{t: t, dir: t.TempDir()}
	for _, v := range os.Environ() {
		if !strings.HasPrefix(v, "OFFSETLAB_") {
			e.vars = append(e.vars, v)
		}
	}
	e.must("producer", "--config", m[1], "--topic", "t", "--count", "5")

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("stack: %v\n%s", err, stderr.String())
	}
	for l := range lines {
		if strings.Contains(l, string(password[1])) {
			t.Errorf("stack printed the password: %s", l)
		}
	}
	if _, err := os.Stat(filepath.Dir(m[1])); !os.IsNotExist(err) {
		t.Errorf("the temporary --secure-dir %s is still there after stop (%v)", filepath.Dir(m[1]), err)
	}
}
