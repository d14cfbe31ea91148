package scenarios

import (
	"strings"
	"testing"

	"github.com/offsetlab/offsetlab/internal/scenario"
)

// A program under test that cannot start, prints a malformed protocol line
// or exits on its own gets a one-line diagnosis naming the instance, never
// a hang: each wait below could last 60 s, and a wait that ran out would
// say so instead.
func TestProgramDiagnosis(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, exec, want string }{
		{"not found", "no-such-offsetlab-program --group $GROUP", `start: c1: unable to start "no-such-offsetlab-program --group `},
		{"malformed line", `sh -c "echo offsetlab processed $OFFSETLAB_TOPIC x 1; sleep 60"`, `c1 printed a malformed protocol line (its line 1 of the protocol): "offsetlab processed `},
		{"exits", `sh -c "echo starting; exit 3"`, "c1 exited (code 3) while the story waited for c1 processed >= 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc, err := scenario.Parse("program.txtar", []byte("# A program under test.\n\nproduce 10\nstart c1 --exec '"+tc.exec+"'\nwait c1 processed 1 within 60s\n"))
			if err != nil {
				t.Fatal(err)
			}
			res := scenario.Run(t.Context(), sc, testEnv(t))
			if res.Passed || !strings.Contains(res.Error, tc.want) || strings.Contains(res.Error, "\n") {
				t.Errorf("got %q\nwant a line with %q", res.Error, tc.want)
			}
		})
	}
}
