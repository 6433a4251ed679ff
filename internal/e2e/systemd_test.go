package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// unitFiles are the systemd units shipped in systemd/.
var unitFiles = []string{"kith.service", "kith-once.service", "kith.timer"}

// installUnits copies the units into a temp folder with ExecStart pointing
// at the test's binary (systemd-analyze verify checks that it exists).
func installUnits(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd)")
	}
	dir := t.TempDir()
	for _, u := range unitFiles {
		b, err := os.ReadFile(filepath.Join("..", "..", "systemd", u))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), "/usr/local/bin/kith", kithBin)
		if err := os.WriteFile(filepath.Join(dir, u), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSystemdUnitsVerify(t *testing.T) {
	t.Parallel()
	dir := installUnits(t)
	args := []string{"verify"}
	for _, u := range unitFiles {
		args = append(args, filepath.Join(dir, u))
	}
	cmd := exec.Command("systemd-analyze", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestSystemdSecurityExposure computes `systemd-analyze security` offline
// (systemd >= 250) and holds the units to the score the README gives.
func TestSystemdSecurityExposure(t *testing.T) {
	t.Parallel()
	dir := installUnits(t)
	for _, u := range []string{"kith.service", "kith-once.service"} {
		cmd := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager", filepath.Join(dir, u))
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
		if m == nil {
			t.Skipf("systemd-analyze security --offline gave no score (%v):\n%s", err, out)
		}
		score, _ := strconv.ParseFloat(string(m[1]), 64)
		t.Logf("%s: exposure %.1f", u, score)
		if score > 1.5 {
			t.Errorf("%s: exposure %.1f, want at most 1.5 (a unit setting was weakened?)\n%s", u, score, out)
		}
	}
}
