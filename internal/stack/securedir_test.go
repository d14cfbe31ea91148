package stack_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offsetlab/offsetlab/internal/cli"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// An old client.properties left world-readable in --secure-dir is replaced
// by a new file readable by its owner only, not rewritten in place with the
// old mode.
func TestSecureDirReplacesOldFile(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "client.properties")
	if err := os.WriteFile(old, []byte("sasl.password=old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(old, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	s := stacktest.Start(t, func(o *stack.Options) { o.Secure = &stack.SecureOptions{Dir: dir} })
	st, err := os.Stat(old)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("client.properties mode %v after a restart over a 0644 one, want 0600: it holds the password", st.Mode().Perm())
	}
	b, err := os.ReadFile(old)
	if err != nil || !strings.Contains(string(b), "sasl.password="+s.Secrets().Password+"\n") {
		t.Errorf("client.properties does not hold the new password (err %v):\n%s", err, b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("a temporary file is left in --secure-dir: %s", e.Name())
		}
	}
}

// A symlink where the secure stack writes client.properties or ca.pem is
// refused before anything listens, in one line, and what it points to is
// left as it was.
func TestSecureDirRefusesSymlink(t *testing.T) {
	for _, name := range []string{"client.properties", "ca.pem"} {
		t.Run(name, func(t *testing.T) {
			dir, elsewhere := t.TempDir(), t.TempDir()
			target := filepath.Join(elsewhere, "shared.txt")
			if err := os.WriteFile(target, []byte("untouched\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, name)
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			opts := stack.Defaults()
			opts.BrokerAddr, opts.RegistryAddr = "127.0.0.1:0", "127.0.0.1:0"
			opts.Secure = &stack.SecureOptions{Dir: dir}
			s, err := stack.Start(opts)
			if err == nil {
				s.Close()
				t.Fatal("the secure stack started with a symlink in --secure-dir")
			}
			want := "--secure-dir: " + link + " is a symlink; remove it, or choose another --secure-dir"
			if cli.Code(err) != cli.ExitUsage || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v (exit %d), want a one-line usage error with %q", err, cli.Code(err), want)
			}
			if b, _ := os.ReadFile(target); string(b) != "untouched\n" {
				t.Errorf("the symlink's target was written through:\n%s", b)
			}
		})
	}
}
