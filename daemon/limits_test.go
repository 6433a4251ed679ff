package daemon

import (
	"os"
	"strings"
	"testing"
)

// The example's [limits] table spells out the defaults: it must equal them.
func TestExampleLimitsAreTheDefault(t *testing.T) {
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(data, "/etc/kith")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Limits != DefaultLimits {
		t.Errorf("example [limits] %+v differs from the defaults %+v", cfg.Limits, DefaultLimits)
	}
	if !strings.Contains(string(data), "\n[limits]\n") {
		t.Error("config.example.toml has no [limits] table")
	}
}

func TestLimitsConfig(t *testing.T) {
	const src = "[[source]]\nname = \"a\"\nkind = \"vdir\"\npath = \"/x\"\n"
	for _, tc := range []struct {
		name, toml string
		want       Limits // compared when err is ""
		err        string
	}{
		{"defaults", "", DefaultLimits, ""},
		{"units", "[limits]\ncard_size = \"2 MB\"\nfile_size = 4096\ncsv_row_size = \"64KiB\"\ncalendar_size = \"1g\"\nproperties = 50\n",
			func() Limits {
				l := DefaultLimits
				l.CardSize, l.FileSize, l.CSVRowSize, l.CalendarSize, l.Properties = 2<<20, 4096, 64<<10, 1<<30, 50
				return l
			}(), ""},
		{"bad unit", "[limits]\ncard_size = \"16 furlongs\"\n", Limits{}, "16 furlongs"},
		{"negative", "[limits]\ncard_size = -1\n", Limits{}, "must not be negative"},
		{"too small", "[limits]\ncard_size = 10\n", Limits{}, "limits.card_size: 10 B is below the minimum"},
		{"too few", "[limits]\ncalendar_depth = 2\n", Limits{}, "limits.calendar_depth: 2 is below the minimum"},
		{"unknown key", "[limits]\ncards = 3\n", Limits{}, "unknown key limits.cards"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(src+tc.toml), "/")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Limits != tc.want {
				t.Errorf("limits %+v, want %+v", cfg.Limits, tc.want)
			}
		})
	}
}
