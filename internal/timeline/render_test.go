package timeline

import (
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium runs headless Chromium offline on a page and returns what it
// printed, skipping the test when Chromium is not installed.
func chromium(t *testing.T, page string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not on PATH: CI must render the timeline (.ci/run installs Debian's chromium)")
		}
		t.Skip("chromium is not on PATH, so the render check cannot run: install Debian's chromium (apt-get install chromium)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	full := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, bin, append(full, "file://"+page)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // Chromium keeps caches there
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium failed: %v\n%s", err, stderr.String())
	}
	return stdout.String()
}

// TestRendersInChromium opens the HTML page in headless Chromium, offline,
// and fails if no screenshot comes out or it is one flat colour. With
// go test -artifacts, the page and its screenshot are kept.
func TestRendersInChromium(t *testing.T) {
	dir := t.ArtifactDir()
	page := filepath.Join(dir, "timeline.html")
	if err := Write(page, knownRun()); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "timeline.png")
	chromium(t, page, "--screenshot="+shot, "--window-size=1200,900")

	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("chromium produced no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 400 {
		t.Errorf("screenshot is %dx%d, want the 1200x900 window", b.Dx(), b.Dy())
	}
	if colours := distinctColours(img, 8); colours < 8 {
		t.Errorf("the page rendered %d colours: blank, or nearly", colours)
	}
}

// TestSVGOpensInChromium opens the standalone SVG: a browser shows an
// error page instead of an SVG file that is not strict XML.
func TestSVGOpensInChromium(t *testing.T) {
	page := filepath.Join(t.ArtifactDir(), "timeline.svg")
	if err := Write(page, knownRun()); err != nil {
		t.Fatal(err)
	}
	dom := chromium(t, page, "--dump-dom")
	if strings.Contains(dom, "parsererror") {
		t.Fatalf("chromium could not parse the SVG:\n%.2000s", dom)
	}
	if !strings.Contains(dom, `id="offsetlab-timeline"`) {
		t.Fatalf("chromium's page has no timeline:\n%.2000s", dom)
	}
}

// distinctColours counts the colours in img, up to limit.
func distinctColours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}
