package e2e

import (
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/offsetlab/offsetlab/internal/stack"
)

// buildMore adds offsets and scenarios to the commands TestMain built.
var buildMore = sync.OnceValue(func() error {
	cmd := exec.Command("go", "build", "-o", bin+string(os.PathSeparator), "../offsets", "../scenarios")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
})

// TestBadInput runs testdata/badinput/*.txtar: every input a user can get
// wrong, with the one-line error and the exit code each gets. docs/bad-input.md
// names, for each row of its table, the script that checks it.
func TestBadInput(t *testing.T) {
	if err := buildMore(); err != nil {
		t.Fatalf("building offsets and scenarios: %v", err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/badinput",
		Setup: func(env *testscript.Env) error {
			opts := stack.Defaults()
			opts.BrokerAddr, opts.RegistryAddr = "127.0.0.1:0", "127.0.0.1:0"
			s, err := stack.Start(opts)
			if err != nil {
				return err
			}
			env.Defer(s.Close)
			env.Setenv("OFFSETLAB_BOOTSTRAP", s.BrokerAddr())
			env.Setenv("OFFSETLAB_REGISTRY", s.RegistryURL())
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":   exitCode,
			"rawproduce": rawProduce,
		},
	})
}
