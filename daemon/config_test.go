package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kith/sync/decay"
)

func TestExampleConfigParses(t *testing.T) {
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(data, "/etc/kith")
	if err != nil {
		t.Fatalf("config.example.toml: %v", err)
	}
	if cfg.Interval.Duration != 15*time.Minute || cfg.DefaultRegion != "DE" || len(cfg.Sources) != 2 || len(cfg.Targets) != 1 {
		t.Errorf("unexpected example config: %+v", cfg)
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
[[source]]
name = "a"
kind = "vdir"
path = "books/a"
`), "/etc/kith")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StateDir != DefaultStateDir || cfg.Interval.Duration != DefaultInterval || cfg.LogLevel != "info" {
		t.Errorf("defaults not applied: %+v", cfg)
	}
	if cfg.Report.Dir != "/var/lib/kith/report" {
		t.Errorf("report dir %q, want /var/lib/kith/report", cfg.Report.Dir)
	}
	if cfg.Sources[0].Path != "/etc/kith/books/a" {
		t.Errorf("relative path resolved to %q, want /etc/kith/books/a", cfg.Sources[0].Path)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	src := func(name, kind string) string {
		return "[[source]]\nname = \"" + name + "\"\nkind = \"" + kind + "\"\npath = \"/x\"\n"
	}
	tests := []struct {
		name, toml, want string
	}{
		{"unknown top-level key", "stat_dir = \"/x\"\n" + src("a", "vdir"), "unknown key stat_dir"},
		{"unknown source key", "[[source]]\nname = \"a\"\nkind = \"vdir\"\npath = \"/x\"\npth = \"/y\"\n", "unknown key source.pth"},
		{"duplicate name", src("a", "vdir") + src("a", "scans"), `source "a".name: duplicate name`},
		{"bad kind", src("a", "ftp"), `source "a".kind: "ftp" is not one of`},
		{"missing name", "[[source]]\nkind = \"vdir\"\npath = \"/x\"\n", "source[0].name: missing"},
		{"bad region", "default_region = \"XX\"\n" + src("a", "vdir"), `default_region: "XX"`},
		{"bad interval", "interval = \"10s\"\n" + src("a", "vdir"), "interval: 10s is shorter"},
		{"unparsable interval", "interval = \"soon\"\n" + src("a", "vdir"), "soon"},
		{"no sources", "interval = \"5m\"\n", "source: no [[source]] configured"},
		{"target name clashes with source", src("a", "vdir") + "[[target]]\nname = \"a\"\nkind = \"vdir\"\npath = \"/t\"\n", `target "a".name: duplicate name`},
		{"bad log level", "log_level = \"loud\"\n" + src("a", "vdir"), `log_level: "loud"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.toml), "/")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadConfigChecksPaths(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "kith.toml")
	os.WriteFile(cfgPath, []byte("[[source]]\nname = \"book\"\nkind = \"vdir\"\npath = \"missing\"\n"), 0o600)
	_, err := LoadConfig(cfgPath)
	if err == nil || !strings.Contains(err.Error(), `source "book".path`) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("error %v, want one naming source \"book\".path and the missing folder", err)
	}
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o600)
	os.WriteFile(cfgPath, []byte("[[source]]\nname = \"book\"\nkind = \"vdir\"\npath = \"file\"\n"), 0o600)
	if _, err := LoadConfig(cfgPath); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Fatalf("error %v, want not a folder", err)
	}
}

// The example's [decay] table spells out the defaults: it must equal them.
func TestExampleDecayIsTheDefault(t *testing.T) {
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(data, "/etc/kith")
	if err != nil {
		t.Fatal(err)
	}
	want := decay.DefaultParams()
	want.BondHalfLifeDays = cfg.Decay.BondHalfLifeDays // written rounded
	if fmt.Sprint(cfg.Decay) != fmt.Sprint(want) {
		t.Errorf("example [decay]\n%+v\ndiffers from the defaults\n%+v", cfg.Decay, want)
	}
	if d := cfg.Decay.BondHalfLifeDays - decay.DefaultParams().BondHalfLifeDays; d > 0.1 || d < -0.1 {
		t.Errorf("bond_half_life_days %v, default %v", cfg.Decay.BondHalfLifeDays, decay.DefaultParams().BondHalfLifeDays)
	}
}

func TestConfigRefusesAFolderTargetInsideAFolderSource(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "scans", "merged"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "scans"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, kind, source, target string
		refused                    bool
	}{
		{"same folder", "vdir", "people", "people", true},
		{"inside a scan folder", "scans", "scans", "scans/merged", true},
		{"inside, not made yet", "vdir", "people", "people/kith/merged", true},
		{"through a link", "scans", "link", "scans/merged", true},
		{"beside it", "vdir", "people", "people-merged", false},
		{"source inside the target", "vdir", "scans/merged", "scans", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(fmt.Sprintf(`default_region = "DE"
[[source]]
name = "book"
kind = %q
path = %q
[[target]]
name = "merged"
kind = "vdir"
path = %q
`, tt.kind, tt.source, tt.target)), dir)
			want := `source "book": reads target "merged"'s folder`
			if got := err != nil && strings.Contains(err.Error(), want); got != tt.refused {
				t.Errorf("ParseConfig: %v, refused %v, want %v", err, got, tt.refused)
			}
		})
	}
}

func TestConfigRefusesReadingItsOwnTarget(t *testing.T) {
	_, err := ParseConfig([]byte(`default_region = "DE"
[[source]]
name = "cloud"
kind = "carddav"
url = "https://Cloud.example.org/remote.php/dav/addressbooks/users/anna/kith"
[[target]]
name = "merged"
kind = "carddav"
url = "https://cloud.example.org:443/remote.php/dav/addressbooks/users/anna/kith/"
`), t.TempDir())
	want := `source "cloud": reads target "merged"'s own collection; kith never reads what it writes`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("ParseConfig: %v, want %q", err, want)
	}
}
