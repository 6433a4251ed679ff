package report

import (
	"bytes"
	"context"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromium returns the path of a Chromium binary, skipping the test when
// there is none and CI is not "true".
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found; CI installs Debian's chromium package")
	}
	t.Skip("chromium not installed (Debian package chromium)")
	return ""
}

// runChromium runs headless Chromium on page with extra arguments and
// returns its standard output.
func runChromium(t *testing.T, bin, page string, args ...string) []byte {
	t.Helper()
	// A deadline only so that a hung browser cannot hang the test run.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--hide-scrollbars",
	}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+page)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// TestHTMLInChromium renders report.html in a real browser and checks that
// its three charts are there and drawn.
func TestHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := sample().WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	dom := string(runChromium(t, bin, page, "--dump-dom"))
	for _, id := range []string{"chart-history", "chart-circles", "chart-since"} {
		re := regexp.MustCompile(`<svg[^>]*id="` + id + `"[^>]*width="([1-9][0-9]*)" height="([1-9][0-9]*)"`)
		if !re.MatchString(dom) {
			t.Errorf("the browser's DOM has no sized svg %q", id)
		}
	}
	if n := strings.Count(dom, "<rect "); n < 20 {
		t.Errorf("the browser's DOM has %d chart bars, want many", n)
	}
	if strings.Contains(dom, "<script") {
		t.Error("the page has a script element")
	}

	shot := filepath.Join(dir, "shot.png")
	runChromium(t, bin, page, "--window-size=1000,3000", "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// Each chart has a colour of its own; count the pixels painted in it.
	want := map[string]color.RGBA{
		"history chart (healthy bars)":  hexColor(stateColors["healthy"]),
		"circles chart (bars)":          hexColor(circleColor),
		"days-since chart (bars)":       hexColor(sinceColor),
		"circles chart (typical sizes)": hexColor(targetColor),
	}
	counts := map[string]int{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			for name, c := range want {
				if near(r>>8, c.R) && near(g>>8, c.G) && near(bl>>8, c.B) {
					counts[name]++
				}
			}
		}
	}
	for name := range want {
		// A bar of the sample is at least about 20×20 pixels.
		if counts[name] < 60 {
			t.Errorf("%s: %d pixels painted, the chart looks blank", name, counts[name])
		}
	}
	if testing.Verbose() {
		t.Logf("screenshot %s; pixels by chart colour: %v", shot, counts)
	}
}

func near(a uint32, b uint8) bool { return a+6 >= uint32(b) && a <= uint32(b)+6 }

func hexColor(s string) color.RGBA {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 16, 32)
	if err != nil {
		panic(err)
	}
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 255}
}
