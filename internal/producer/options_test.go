package producer

import (
	"io"
	"testing"

	"github.com/offsetlab/offsetlab/internal/cli/clitest"
)

// TestCheck: Check accepts what Run accepts and refuses what Run refuses,
// with Run's one-line usage error, without loading the connection settings.
func TestCheck(t *testing.T) {
	clitest.CheckLikeRun(t, Check, func(args []string) error { _, err := parse(args, io.Discard); return err },
		[]string{"--topic", "t", "--count", "10", "--rate", "5", "--partition", "0", "--format", "json"},
		[]clitest.Refusal{
			{Args: []string{"--colour", "red"}, Want: "flag provided but not defined: -colour (see -h)"},
			{Args: []string{"--count", "-1"}, Want: "--count must be 0 or more, got -1"},
			{Args: []string{"--count", "many"}, Want: `invalid value "many" for flag -count: parse error (see -h)`},
			{Args: []string{"--delivery-timeout", "0s"}, Want: "--delivery-timeout must be positive, got 0s"},
			{Args: []string{"--format", "yaml"}, Want: `--format "yaml" is not known (accepted: text, json)`},
			{Args: []string{"--schema", "s.avsc"}, Want: "--topic is required with --schema"},
			{Args: []string{"100"}, Want: `unexpected argument "100" (flags only; see -h)`},
		})
}
