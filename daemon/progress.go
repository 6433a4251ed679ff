package daemon

import (
	"context"
	"fmt"
	"io"
	"time"

	ksync "kith/sync"
)

// withProgress returns a copy of r that writes a line to w before and after
// it reads each source, so that a long first sync on a terminal is not
// silent.
func (r *Runner) withProgress(w io.Writer) *Runner {
	cp := *r
	cp.sources = make([]ksync.Source, len(r.sources))
	for i, src := range r.sources {
		cp.sources[i] = progressSource{Source: src, w: w}
	}
	return &cp
}

// progressSource reports the reads of the source it wraps.
type progressSource struct {
	ksync.Source
	w io.Writer
}

func (p progressSource) Read(ctx context.Context, cursor string) (ksync.Snapshot, error) {
	fmt.Fprintf(p.w, "kith: reading source %q…\n", p.Name())
	start := time.Now()
	snap, err := p.Source.Read(ctx, cursor)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		fmt.Fprintf(p.w, "kith: source %q failed after %s\n", p.Name(), took)
	} else {
		fmt.Fprintf(p.w, "kith: source %q: %d records, %d skipped, %s\n", p.Name(), len(snap.Records), len(snap.Problems), took)
	}
	return snap, err
}
