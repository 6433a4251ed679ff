package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestOnceShowsProgressPerSource(t *testing.T) {
	cfgPath, _ := daemonSetup(t)
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := Once(context.Background(), cfg, slog.New(slog.DiscardHandler), WithProgress(&buf)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`reading source "book"…`, `source "book": 1 records, 0 skipped`, `reading source "scans"…`, `source "scans": 0 records`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, buf.String())
		}
	}
}
