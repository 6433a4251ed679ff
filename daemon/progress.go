package daemon

import (
	"context"
	"fmt"
	"io"
	gosync "sync"
	"time"

	ksync "kith/sync"
)

// withProgress returns a copy of r that writes a line to w before and after
// it reads each source, so that a long first sync on a terminal is not
// silent.
func (r *Runner) withProgress(w io.Writer) *Runner {
	cp := *r
	cp.progress = w
	cp.sources = make([]ksync.Source, len(r.sources))
	mu := new(gosync.Mutex) // sources are read in parallel
	for i, src := range r.sources {
		cp.sources[i] = progressSource{Source: src, w: w, mu: mu}
	}
	return &cp
}

// progressSource reports the reads of the source it wraps.
type progressSource struct {
	ksync.Source
	w  io.Writer
	mu *gosync.Mutex
}

func (p progressSource) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

func (p progressSource) Read(ctx context.Context, cursor string) (ksync.Snapshot, error) {
	p.printf("kith: reading source %q…\n", p.Name())
	start := time.Now()
	snap, err := p.Source.Read(ctx, cursor)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		p.printf("kith: source %q failed after %s\n", p.Name(), took)
	} else {
		p.printf("kith: source %q: %d records, %d skipped, %s\n", p.Name(), len(snap.Records), len(snap.Problems), took)
	}
	return snap, err
}
