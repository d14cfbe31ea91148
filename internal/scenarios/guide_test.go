package scenarios

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// docs/workshop.md is what an instructor runs the workshop from: every
// exercise has its entry, under the short name `make exercises` shows, and
// a row in the appendix's table of runtimes.
func TestGuideCoversEveryExercise(t *testing.T) {
	exercises, err := loadExercises()
	if err != nil {
		t.Fatal(err)
	}
	guide, err := os.ReadFile("../../docs/workshop.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range exercises {
		entry := fmt.Sprintf("%d. **%s**", ex.N, ex.ShortName())
		row := fmt.Sprintf("| %d | %s | ", ex.N, ex.ShortName())
		if !strings.Contains(string(guide), entry) {
			t.Errorf("docs/workshop.md has no entry %q", entry)
		}
		if !strings.Contains(string(guide), row) {
			t.Errorf("docs/workshop.md's appendix has no runtime row %q", row)
		}
	}
}

// `scenarios exercises` lists each exercise under its number and the short
// name the guide uses; either finds it.
func TestExercisesListShortNames(t *testing.T) {
	var stdout strings.Builder
	if err := Run(t.Context(), []string{"exercises"}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if f := strings.Fields(lines[0]); len(f) < 2 || f[0] != "N" || f[1] != "NAME" {
		t.Fatalf("header %q, want N NAME first", lines[0])
	}
	exercises, err := loadExercises()
	if err != nil {
		t.Fatal(err)
	}
	for i, ex := range exercises {
		if f := strings.Fields(lines[i+1]); len(f) < 2 || f[0] != fmt.Sprint(ex.N) || f[1] != ex.ShortName() {
			t.Errorf("row %q, want %d %s first", lines[i+1], ex.N, ex.ShortName())
		}
	}
}

// Exercise 3 stops consumers that own partitions with nothing on them: its
// run must not show -1001 before exercise 4 asks about it, and must show
// where the consumer resumed. This ties the workshop's filter to the
// consumer's real table.
func TestExerciseKeepsLaterAnswersHidden(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	var stdout strings.Builder
	args := []string{"exercise", "--no-pause", "3", "--bootstrap", env.Conn.Bootstrap, "--registry", env.Conn.Registry, "--results", t.TempDir()}
	if err := Run(t.Context(), args, &stdout, io.Discard); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	got := stdout.String()
	if strings.Contains(got, "-1001") || !strings.Contains(got, "(Position() and Committed() left out: exercise 4 asks about them)") {
		t.Errorf("exercise 3 shows Position() tables, or does not say it left them out:\n%s", got)
	}
	if !strings.Contains(got, "c1#2 read first 120 (committed 120)") {
		t.Errorf("exercise 3's run does not say where c1 resumed:\n%s", got)
	}
}
