package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"kith/internal/state"
)

// benchSetup writes n generated cards into a vdir source and returns a
// config syncing it into a vdir target.
func benchSetup(b *testing.B, n int) *Config {
	b.Helper()
	dir := b.TempDir()
	book := filepath.Join(dir, "book")
	os.MkdirAll(book, 0o700)
	for i := 0; i < n; i++ {
		card := fmt.Sprintf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u%d\r\nFN:Person %d Example\r\nN:Example;Person %d;;;\r\n"+
			"EMAIL:person%d@example.org\r\nTEL;TYPE=CELL:+49 171 %07d\r\nORG:Company %d\r\nNOTE:2026-0%d-1%d met at the fair\r\nEND:VCARD\r\n",
			i, i, i, i, i, i%50, 1+i%9, i%10)
		os.WriteFile(filepath.Join(book, fmt.Sprintf("u%d.vcf", i)), []byte(card), 0o600)
	}
	cfg, err := ParseConfig([]byte(`state_dir = "state"
default_region = "DE"
[[source]]
name = "book"
kind = "vdir"
path = "book"
[[target]]
name = "people"
kind = "vdir"
path = "people"
`), dir)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// BenchmarkSyncNoChange measures a sync in which nothing changed: what the
// daemon does every interval.
func BenchmarkSyncNoChange(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			cfg := benchSetup(b, n)
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
			if _, err := r.Sync(ctx, st); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sum, err := r.Sync(ctx, st)
				if err != nil || sum.Created+sum.Updated != 0 {
					b.Fatalf("%v %v", sum, err)
				}
			}
		})
	}
}

// BenchmarkFirstRunVdir measures a first run of 20,000 cards into a vdir
// target, and the same run with --dry-run (everything but the writes):
// the writes should cost at most as much again as the rest. peak-MB is the
// heap's high-water mark during the run.
func BenchmarkFirstRunVdir(b *testing.B) {
	const n = 20000
	for _, dry := range []bool{false, true} {
		name := "write"
		if dry {
			name = "dry-run"
		}
		b.Run(name, func(b *testing.B) {
			cfg := benchSetup(b, n)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			ctx := context.Background()
			var peak uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				os.RemoveAll(cfg.StateDir)
				os.RemoveAll(cfg.Targets[0].Path)
				r, err := NewRunner(cfg, log)
				if err != nil {
					b.Fatal(err)
				}
				if dry {
					r.SetDryRun(io.Discard)
				}
				st, err := state.Open(ctx, cfg.StateDir)
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				stop := sampleHeap(&peak)
				b.StartTimer()
				sum, err := r.Sync(ctx, st)
				b.StopTimer()
				stop()
				st.Close()
				if err != nil || sum.Created != sum.Contacts || sum.Contacts < n/2 {
					b.Fatalf("%v %v", sum, err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
		})
	}
}

// sampleHeap records the heap's high-water mark in peak until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			*peak = max(*peak, ms.HeapAlloc)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}
