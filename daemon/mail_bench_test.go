package daemon

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kith/internal/mailgen"
	"kith/internal/state"
)

// BenchmarkSyncNoChangeMaildir measures a sync in which nothing changed,
// of 1,000 cards without mail and with a generated Maildir of 100,000
// messages: the difference is what the mailbox costs every interval
// (issue 12's goal: under 0.3 s).
func BenchmarkSyncNoChangeMaildir(b *testing.B) {
	for _, tc := range []struct {
		name     string
		messages int
	}{{"without-mail", 0}, {"maildir-100k", 100_000}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := benchSetup(b, 1000)
			if tc.messages > 0 {
				box := filepath.Join(b.TempDir(), "Maildir")
				if err := mailgen.Maildir(box, tc.messages, 200, "me@example.org", time.Now()); err != nil {
					b.Fatal(err)
				}
				cfg.UserEmails = []string{"me@example.org"}
				cfg.Mail = []MailConfig{{Name: "mail", Received: []string{box}}}
			}
			r, err := NewRunner(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			st, err := state.Open(ctx, cfg.StateDir)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			start := time.Now()
			if _, err := r.Sync(ctx, st); err != nil {
				b.Fatal(err)
			}
			first := time.Since(start)
			for b.Loop() {
				sum, err := r.Sync(ctx, st)
				if err != nil || sum.Created+sum.Updated != 0 || len(sum.Errors) > 0 {
					b.Fatalf("%v %v", sum, err)
				}
			}
			b.ReportMetric(first.Seconds(), "first-sync-s")
			if fi, err := os.Stat(filepath.Join(cfg.StateDir, state.FileName)); err == nil {
				b.ReportMetric(float64(fi.Size())/(1<<20), "state-MiB")
			}
		})
	}
}
