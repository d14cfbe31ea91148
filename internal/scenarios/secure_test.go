package scenarios

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offsetlab/offsetlab/internal/config"
	"github.com/offsetlab/offsetlab/internal/scenario"
	"github.com/offsetlab/offsetlab/internal/stack"
	"github.com/offsetlab/offsetlab/internal/stack/stacktest"
)

// A kill scenario against SASL over TLS and a registry with basic auth,
// configured by the secure stack's client.properties only: the runner reads
// it through Env.Conn, its consumers and producer through $OFFSETLAB_CONFIG,
// which they inherit. The claims hold as on a plaintext stack, and neither
// the password nor the registry secret appears in the story, the results
// (ledgers, snapshots, outputs), the timeline or the JSON result.
func TestSecureScenario(t *testing.T) {
	dir := t.TempDir()
	s := stacktest.Start(t, func(o *stack.Options) {
		o.Secure = &stack.SecureOptions{Dir: dir}
		o.BrokerConfigs = scenario.EmbeddedBrokerConfigs
	})
	sec := s.Secrets()
	t.Setenv("OFFSETLAB_BOOTSTRAP", "")
	t.Setenv("OFFSETLAB_REGISTRY", "")
	t.Setenv("OFFSETLAB_CONFIG", sec.PropertiesFile)

	var story bytes.Buffer
	results := t.TempDir()
	env := scenario.Env{Results: results, Out: &story, Wait: 30 * time.Second, RunID: "secure",
		Timeline: filepath.Join(results, "timeline.html"), Keep: true}
	env.Conn = config.Connection{File: sec.PropertiesFile, Timeout: config.DefaultTimeout}
	if err := env.Conn.Load(); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse("secure-kill", []byte(`# A sync-committing consumer killed over SASL_SSL resumes at the committed offset.

produce 300
start c1 --reset earliest --commit sync --process-delay 2ms
wait c1 processed 100
kill c1
snapshot at-kill
start c1 --reset earliest --commit sync --idle-exit 2s
wait c1 exit 0
expect resume c1 at-kill fallback start
expect lost == 0
`))
	if err != nil {
		t.Fatal(err)
	}
	res := scenario.Run(t.Context(), sc, env)
	t.Log("\n" + story.String())
	if !res.Passed {
		t.Fatalf("the scenario failed over SASL_SSL: %v", res.Error)
	}
	if res.Dir == "" {
		t.Fatal("the results directory was not kept")
	}
	var table bytes.Buffer
	_ = scenario.PrintTable(&table, res)
	resJSON, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}

	files := 0
	for what, secret := range map[string]string{"sasl.password": sec.Password, "registry secret": sec.RegistrySecret} {
		for name, text := range map[string]string{"story": story.String(), "table": table.String(), "result JSON": string(resJSON), "error": res.Error} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s holds the %s", name, what)
			}
		}
		err := filepath.WalkDir(results, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			buf, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			if bytes.Contains(buf, []byte(secret)) {
				t.Errorf("%s holds the %s", path, what)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 4 {
		t.Errorf("only %d artifacts under %s: the ledgers are missing", files, results)
	}
}
