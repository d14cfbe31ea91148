package e2e

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestBadInput runs testdata/badinput/*.txtar: every input a user can get
// wrong, with the one-line error and the exit code each gets. docs/bad-input.md
// names, for each row of its table, the script that checks it.
func TestBadInput(t *testing.T) {
	testscript.Run(t, scriptParams("testdata/badinput"))
}
