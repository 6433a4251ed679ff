package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"kith/internal/davserver"
	"kith/internal/state"
)

// Option changes how Serve and Once run.
type Option func(*options)

type options struct {
	dryRun      io.Writer
	allowShrink bool
	reload      <-chan struct{}
	level       *slog.LevelVar
	notifier    *Notifier
	lockWait    time.Duration
	progress    io.Writer
	timing      watchTiming
	retryMin    time.Duration
	crashAfter  string
}

func buildOptions(opts []Option) options {
	o := options{lockWait: DefaultLockWait, timing: defaultWatchTiming, retryMin: 10 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithReload makes Serve load the config file again whenever a value
// arrives on ch (main sends one on SIGHUP).
func WithReload(ch <-chan struct{}) Option { return func(o *options) { o.reload = ch } }

// WithLevel gives the level of the logger passed in, so that the config's
// log_level (and a reloaded one) takes effect.
func WithLevel(l *slog.LevelVar) Option { return func(o *options) { o.level = l } }

// WithNotifier makes Serve report its state to systemd through n.
func WithNotifier(n *Notifier) Option { return func(o *options) { o.notifier = n } }

// WithLockWait sets how long to wait for another kith process to let go of
// the state folder (default DefaultLockWait).
func WithLockWait(d time.Duration) Option { return func(o *options) { o.lockWait = d } }

// WithProgress writes a line to w as each source of the first sync is read,
// for a person watching a terminal.
func WithProgress(w io.Writer) Option { return func(o *options) { o.progress = w } }

// Serve runs the daemon until ctx is done: it takes the state folder's lock,
// opens the state once, syncs at start and then every interval (±10%),
// watches the folders of vdir and scans sources and syncs within seconds of
// a change there, retries a failed sync with a growing delay, and loads the
// config again on each WithReload signal. It returns nil after a clean
// shutdown and an error when it could not start.
func Serve(ctx context.Context, configPath string, log *slog.Logger, opts ...Option) error {
	o := buildOptions(opts)
	cfg, err := LoadConfig(configPath)
	if err != nil {
		return err
	}
	if err := o.setLevel(cfg.LogLevel); err != nil {
		return err
	}
	runner, err := NewRunner(cfg, log)
	if err != nil {
		return err
	}
	lock, err := AcquireLock(ctx, cfg.StateDir, "daemon", o.lockWait)
	if err != nil {
		return err
	}
	defer lock.Release()
	st, err := state.Open(ctx, cfg.StateDir)
	if err != nil {
		return err
	}
	// Deferred after the lock, so the database closes before the lock goes.
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the state database", "err", err)
		}
	}()
	// A phone's edit on the served book asks for a sync (debounced in serve).
	bookChanged := make(chan struct{}, 1)
	if cfg.Server != nil {
		stop, err := listen(ctx, cfg, st, log, func() {
			select {
			case bookChanged <- struct{}{}:
			default:
			}
		})
		if err != nil {
			return err
		}
		// Deferred after the database's close, so it runs first: the
		// listener stops before the database closes.
		defer stop()
	}
	s := &server{path: configPath, log: log, opts: o, cfg: cfg, runner: runner, store: st, bookChanged: bookChanged}
	return s.serve(ctx)
}

// listen starts the embedded CardDAV server on [server].listen and returns
// a function that stops it and waits for it. A busy port is an error now,
// not a log line later.
func listen(ctx context.Context, cfg *Config, st *state.Store, log *slog.Logger, onChange func()) (stop func(), err error) {
	sc := cfg.Server
	reportDir := cfg.Report.Dir
	srv, err := davserver.New(davserver.Options{
		DB: st.DB(), UsersFile: sc.UsersFile, Logger: log, BookName: sc.BookName, TrustForwardedFor: sc.TrustForwardedFor,
		CardLimits: cfg.Limits.card(),
		OnChange:   onChange,
		Report: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
			http.ServeFile(w, r, filepath.Join(reportDir, "report.html"))
		}),
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	ln, err := net.Listen("tcp", sc.Listen)
	if err != nil {
		return nil, fmt.Errorf("server.listen: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ln, sc.TLSCert, sc.TLSKey); err != nil {
			log.Error("CardDAV server stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}

// server is Serve's state; only its serve goroutine touches it.
type server struct {
	path   string
	log    *slog.Logger
	opts   options
	cfg    *Config
	runner *Runner
	store  *state.Store
	// bookChanged receives a signal when a client changed the served book.
	bookChanged <-chan struct{}

	watch       *watcher
	stopWatch   context.CancelFunc
	watchDone   chan struct{}
	syncs       int           // syncs finished
	failures    int           // failed syncs in a row
	syncing     bool          // the worker runs a sync
	again       string        // reason for a sync wanted while one runs
	done        chan syncDone // the worker's result
	lastSummary string
}

type syncDone struct {
	sum *Summary
	err error
}

func (s *server) serve(ctx context.Context) error {
	n := s.opts.notifier
	s.done = make(chan syncDone, 1)
	s.startWatch(ctx)
	defer s.stopWatching()

	next := time.NewTimer(time.Hour)
	next.Stop()
	defer next.Stop()
	var watchdog <-chan time.Time
	if d := n.WatchdogInterval(); d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		watchdog = t.C
	}

	// Phones write a card at a time: a sync follows a pause in their edits.
	bookSettled := time.NewTimer(time.Hour)
	bookSettled.Stop()
	defer bookSettled.Stop()
	var bookFirst time.Time // the first edit not synced yet

	s.startSync(ctx, "start")
	s.log.Info("kith daemon running", "config", s.path, "state_dir", s.cfg.StateDir,
		"interval", s.cfg.Interval.Duration, "watched_folders", len(watchRoots(s.cfg)))
	s.notify("READY=1", "STATUS=first sync running")

	for {
		var changes <-chan struct{}
		if s.watch != nil {
			changes = s.watch.changes
		}
		select {
		case <-ctx.Done():
			s.notify("STOPPING=1", "STATUS=stopping")
			s.log.Info("stopping")
			if s.syncing {
				// The worker's ctx is ctx: the sync ends at its next check.
				d := <-s.done
				s.finished(d)
			}
			s.log.Info("stopped")
			return nil
		case <-s.opts.reload:
			s.reload(ctx)
		case <-changes:
			s.wantSync(ctx, "folder change")
		case <-s.bookChanged:
			// A pause of Debounce, but at most MaxWait after the first
			// edit: a client writing without pause must not hold back
			// the sync for good.
			now := time.Now()
			if bookFirst.IsZero() {
				bookFirst = now
			}
			bookSettled.Reset(min(s.opts.timing.Debounce, max(bookFirst.Add(s.opts.timing.MaxWait).Sub(now), 0)))
		case <-bookSettled.C:
			bookFirst = time.Time{}
			s.wantSync(ctx, "edit on the served book")
		case <-next.C:
			// Never postponed for a file being written: a file that keeps
			// changing would hold back every sync. The sources skip a
			// half-written file and keep its last good version.
			if s.watch != nil {
				s.watch.Refresh()
			}
			reason := "schedule"
			if s.failures > 0 {
				reason = "retry"
			}
			s.wantSync(ctx, reason)
		case d := <-s.done:
			s.syncing = false
			s.finished(d)
			if s.again != "" {
				reason := s.again
				s.again = ""
				s.startSync(ctx, reason)
			}
			next.Reset(s.delay())
		case <-watchdog:
			s.notify("WATCHDOG=1")
		}
	}
}

// delay returns the time until the next scheduled sync: the interval with
// ±10% jitter, or after failures a backoff doubling from retryMin and capped
// at the interval.
func (s *server) delay() time.Duration {
	iv := s.cfg.Interval.Duration
	if s.failures > 0 {
		d := s.opts.retryMin << min(s.failures-1, 20)
		return min(d, iv)
	}
	return time.Duration(float64(iv) * (0.9 + 0.2*rand.Float64()))
}

// wantSync starts a sync, or notes that one is wanted when the current one
// is done: syncs never overlap.
func (s *server) wantSync(ctx context.Context, reason string) {
	if s.syncing {
		if s.again == "" {
			s.again = reason
		}
		return
	}
	s.startSync(ctx, reason)
}

func (s *server) startSync(ctx context.Context, reason string) {
	s.syncing = true
	r := s.runner
	if s.syncs == 0 && s.opts.progress != nil {
		r = r.withProgress(s.opts.progress)
	}
	s.log.Debug("sync starting", "reason", reason)
	go func() {
		sum, err := r.Sync(ctx, s.store)
		s.done <- syncDone{sum, err}
	}()
}

// finished logs a sync's result and plans the next.
func (s *server) finished(d syncDone) {
	s.syncs++
	switch {
	case d.err != nil && errors.Is(d.err, context.Canceled):
		s.log.Info("sync stopped before it finished; the next sync starts over", "err", d.err)
		return
	case d.err != nil:
		s.failures++
		s.log.Error("sync failed", "err", d.err, "retry_in", s.delay())
		s.notify("STATUS=last sync failed: " + d.err.Error())
		return
	}
	s.lastSummary = d.sum.String()
	s.log.Info("sync done", "summary", s.lastSummary)
	s.notify("STATUS=" + s.lastSummary)
	if !d.sum.Complete() {
		s.failures++
		s.log.Warn("sync incomplete; retrying", "retry_in", s.delay())
		return
	}
	s.failures = 0
}

// reload loads the config file again. A config that does not load, or that
// moves the state folder, is logged and the running one kept.
func (s *server) reload(ctx context.Context) {
	s.notify(reloadingMessage()...)
	defer s.notify("READY=1")
	cfg, err := LoadConfig(s.path)
	if err == nil && cfg.StateDir != s.cfg.StateDir {
		err = fmt.Errorf("state_dir: changing it from %s to %s needs a restart", s.cfg.StateDir, cfg.StateDir)
	}
	var runner *Runner
	if err == nil {
		runner, err = NewRunner(cfg, s.log)
	}
	if err == nil {
		_, err = ParseLevel(cfg.LogLevel)
	}
	if err != nil {
		s.log.Error("config reload failed; keeping the running config", "config", s.path, "err", err)
		return
	}
	s.opts.setLevel(cfg.LogLevel)
	s.cfg, s.runner = cfg, runner
	s.stopWatching()
	s.startWatch(ctx)
	s.log.Info("config reloaded", "config", s.path, "sources", len(cfg.Sources), "targets", len(cfg.Targets))
	s.wantSync(ctx, "reload")
}

// startWatch starts a watcher for the current config's folders. Without one
// (inotify unavailable) kith still syncs on schedule.
func (s *server) startWatch(ctx context.Context) {
	roots := watchRoots(s.cfg)
	if len(roots) == 0 {
		return
	}
	w, err := newWatcher(roots, s.opts.timing, s.log)
	if err != nil {
		s.log.Warn("cannot watch source folders; syncing on schedule only", "err", err)
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Serve(wctx)
	}()
	s.watch, s.stopWatch, s.watchDone = w, cancel, done
}

func (s *server) stopWatching() {
	if s.watch == nil {
		return
	}
	s.stopWatch()
	<-s.watchDone
	s.watch, s.stopWatch, s.watchDone = nil, nil, nil
}

func (s *server) notify(lines ...string) {
	if err := s.opts.notifier.Notify(lines...); err != nil {
		s.log.Warn("notifying systemd", "err", err)
	}
}

func (o *options) setLevel(name string) error {
	l, err := ParseLevel(name)
	if err != nil {
		return err
	}
	if o.level != nil {
		o.level.Set(l)
	}
	return nil
}
