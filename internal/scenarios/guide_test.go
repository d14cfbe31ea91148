package scenarios

import (
	"fmt"
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
