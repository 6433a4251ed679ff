package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kith/internal/demo"
)

// kith runs main's run with args and returns its exit code and output.
func kith(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

// demoConfigFile lays out the example data with a config file beside it.
func demoConfigFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := demo.Extract(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "kith.toml")
	os.WriteFile(path, []byte(demo.Config(dir)+"\n[server]\nusers_file = \"users\"\n"), 0o600)
	return path
}

func TestDemoRunWithoutConfig(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := kith(t, "--demo-dir", dir)
	if code != 0 || !strings.Contains(out, "7 contacts, 7 cards written") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := kith(t, "--demo-dir", dir); code != 0 || !strings.Contains(out, "0 cards written") {
		t.Errorf("second demo run: exit %d, %s", code, out)
	}
}

func TestCommandsOnAConfig(t *testing.T) {
	cfg := demoConfigFile(t)
	if code, out, errOut := kith(t, "--config", cfg, "--once", "--dry-run"); code != 0 || !strings.Contains(out, "would create server/") ||
		!strings.Contains(out, "dry run") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := kith(t, "--config", cfg, "--once"); code != 0 || !strings.Contains(out, "14 cards written") {
		t.Fatalf("once: exit %d\n%s\n%s", code, out, errOut)
	}
	steps := []struct {
		args     []string
		code     int
		want     string
		wantErr  string
		syncNext bool
	}{
		{args: []string{"explain", "--config", cfg, "søren"}, want: "scans:2026-11/scan-0001.vcf#1"},
		{args: []string{"explain", "--config", cfg, "nobody"}, code: 1, wantErr: `no such contact: "nobody"`},
		{args: []string{"split", "--config", cfg, "Søren Kierkegaard"}, want: "decision 1:", syncNext: true},
		{args: []string{"join", "--config", cfg, "Bob Miller", "Carol Miller"}, want: "decision 2:", syncNext: true},
		{args: []string{"undo", "--config", cfg}, want: "decision 2 undone"},
		{args: []string{"undo", "--config", cfg, "x"}, code: 1, wantErr: "not a decision number"},
		{args: []string{"report", "--config", cfg}, want: "contacts"},
		{args: []string{"duplicates", "--config", cfg}, want: "ossible duplicate"},
		{args: []string{"restore", "--config", cfg, "Ada"}, code: 1, wantErr: "was not deleted"},
		{args: []string{"join", "--config", cfg, "Bob Miller"}, code: 1, wantErr: "Usage: kith join"},
	}
	for _, s := range steps {
		code, out, errOut := kith(t, s.args...)
		if code != s.code || !strings.Contains(out, s.want) || !strings.Contains(errOut, s.wantErr) {
			t.Errorf("kith %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(s.args, " "), code, s.code, out, errOut)
		}
		if s.syncNext && !strings.Contains(out, "next sync") {
			t.Errorf("kith %s does not say when it takes effect", s.args[0])
		}
	}
	if code, out, _ := kith(t, "--config", cfg, "--once"); code != 0 || !strings.Contains(out, "8 contacts") {
		t.Errorf("after split Søren and undone join: %s", out)
	}
}

func TestPasswdWritesAUsersLine(t *testing.T) {
	cfg := demoConfigFile(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("correct horse\n")
	w.Close()
	var out, errOut bytes.Buffer
	if code := runPasswd([]string{"--config", cfg, "anna"}, r, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	users, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), "users"))
	if !strings.HasPrefix(string(users), "anna:$2") || strings.Contains(string(users), "correct horse") {
		t.Errorf("users file %q: want a bcrypt line for anna and no plain password", users)
	}
	if strings.Contains(out.String()+errOut.String(), "correct horse") {
		t.Error("the password was printed")
	}
}
