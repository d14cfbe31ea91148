// Package clitest tests what a command's Check promises the scenario
// runner: it says what the command's Run would say about the same flags,
// without loading connection settings.
package clitest

import (
	"errors"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/offsetlab/offsetlab/internal/cli"
)

// Refusal is a flag set a command refuses, and its one-line usage error.
type Refusal struct {
	Args []string
	Want string
}

// CheckLikeRun asserts that check accepts good, even with a --config file
// that does not exist (parse, Run's reading of the flags, loads it; check
// must not), that -h gives flag.ErrHelp, and that check refuses each of
// refusals with exactly the usage error parse gives.
func CheckLikeRun(t *testing.T, check, parse func(args []string) error, good []string, refusals []Refusal) {
	t.Helper()
	if err := check(good); err != nil {
		t.Fatalf("Check(%q): %v", good, err)
	}
	missing := slices.Concat(good, []string{"--config", filepath.Join(t.TempDir(), "missing.properties")})
	if err := check(missing); err != nil {
		t.Fatalf("Check read the --config file: %v", err)
	}
	if err := parse(missing); err == nil {
		t.Fatal("parse did not read the missing --config file: the test proves nothing")
	}
	if err := check([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("Check(-h) = %v, want flag.ErrHelp", err)
	}
	for _, r := range refusals {
		t.Run(strings.Join(r.Args, " "), func(t *testing.T) {
			err := check(r.Args)
			var usage *cli.UsageError
			if !errors.As(err, &usage) || err.Error() != r.Want {
				t.Fatalf("Check = %v, want the usage error %q", err, r.Want)
			}
			if perr := parse(r.Args); perr == nil || perr.Error() != err.Error() {
				t.Errorf("Run's parse says %v, Check says %v", perr, err)
			}
		})
	}
}
