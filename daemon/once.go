package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"kith/internal/state"
)

// Once runs one sync for cfg and returns its summary. It first takes the
// state folder's lock, waiting for a running daemon's sync (WithLockWait).
// The error is nil when the sync was complete, wraps ErrIncomplete when it
// ran but a source or target failed, wraps ErrLocked when another kith
// process kept the lock, and is any other error when nothing could be
// synced.
func Once(ctx context.Context, cfg *Config, log *slog.Logger, opts ...Option) (*Summary, error) {
	o := buildOptions(opts)
	r, err := NewRunner(cfg, log)
	if err != nil {
		return nil, err
	}
	if o.progress != nil {
		r = r.withProgress(o.progress)
	}
	if o.dryRun != nil {
		r.SetDryRun(o.dryRun)
	}
	r.AllowShrink = o.allowShrink
	r.crashAfter = o.crashAfter
	lock, err := AcquireLock(ctx, cfg.StateDir, "once", o.lockWait)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	st, err := state.Open(ctx, cfg.StateDir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	sum, err := r.Sync(ctx, st)
	if err != nil {
		return sum, err
	}
	log.Info("sync done", "summary", sum.String())
	if !sum.Complete() {
		return sum, fmt.Errorf("%w: %s", ErrIncomplete, sum.Errors[0])
	}
	return sum, nil
}

// WithDryRun makes Once compute the sync and print to w what it would
// change, writing nothing: no target, no state, no report.
func WithDryRun(w io.Writer) Option { return func(o *options) { o.dryRun = w } }

// WithAllowShrink makes Once apply snapshots that shrank a source, and
// listings that shrank a target, by more than max_shrink: the user
// confirmed the loss is real.
func WithAllowShrink() Option { return func(o *options) { o.allowShrink = true } }
