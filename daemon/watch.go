package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/fsnotify/fsnotify"

	"kith/internal/dirscan"
	"kith/sync/card"
)

// watchTiming says how long the watcher waits before it calls a change
// settled. Tests shorten it.
type watchTiming struct {
	// Debounce is the quiet time after a path's last event before the
	// path is looked at.
	Debounce time.Duration
	// Settle is the time between two looks at a file: its size and
	// modification time must not change between them.
	Settle time.Duration
	// MaxWait is the longest a path holds back a sync after its first
	// event: a file that never looks whole (a .vcf that does not end with
	// END:VCARD, a file still growing) or that keeps changing more often
	// than Debounce.
	MaxWait time.Duration
}

// defaultWatchTiming is the daemon's timing: a new scan is synced about
// 2.5 s after the scanner app stops writing it.
var defaultWatchTiming = watchTiming{Debounce: 2 * time.Second, Settle: 500 * time.Millisecond, MaxWait: time.Minute}

// pendingPath is a path with events not yet handed on.
type pendingPath struct {
	first, last time.Time // first and last event
	looked      bool      // size and mtime hold the last look
	told        bool      // "not whole yet" was logged
	size        int64
	mtime       time.Time
}

// watcher watches the folders of the vdir and scans sources, subfolders
// included, and sends on changes once the files that changed look whole. It
// never reads a file's cards: the sync does that.
type watcher struct {
	fs      *fsnotify.Watcher
	roots   []string
	log     *slog.Logger
	timing  watchTiming
	pending map[string]*pendingPath
	changed bool // a path was handed on since the last send
	// dirs are the folders watched, so that a folder's removal (a path
	// that can no longer be looked at) is known for one.
	dirs map[string]bool
	// changes gets a value when a sync is wanted; capacity 1, so that a
	// burst of changes asks for one sync.
	changes chan struct{}
	// refresh asks Serve to walk the roots again and watch any folder it
	// missed (a source folder deleted and made again); capacity 1.
	refresh chan struct{}
}

// newWatcher watches roots and every subfolder in them. A folder that cannot
// be watched is logged and left to the periodic sync.
func newWatcher(roots []string, timing watchTiming, log *slog.Logger) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{
		fs: fw, roots: roots, log: log, timing: timing,
		pending: map[string]*pendingPath{},
		dirs:    map[string]bool{},
		changes: make(chan struct{}, 1),
		refresh: make(chan struct{}, 1),
	}
	for _, r := range roots {
		w.addTree(r, false, time.Now())
	}
	return w, nil
}

// watchRoots returns the folders of cfg's sources that can be watched.
func watchRoots(cfg *Config) []string {
	var roots []string
	for _, s := range cfg.Sources {
		if (s.Kind == "vdir" || s.Kind == "scans") && s.Path != "" {
			roots = append(roots, s.Path)
		}
	}
	for _, p := range cfg.PhoneLogs {
		roots = append(roots, p.Path)
	}
	return roots
}

// Serve handles events until ctx is done, then closes the watcher.
func (w *watcher) Serve(ctx context.Context) error {
	defer w.fs.Close()
	var timer *time.Timer
	var tick <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fs.Events:
			if !ok {
				return nil
			}
			w.event(ev, time.Now())
		case err, ok := <-w.fs.Errors:
			if !ok {
				return nil
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn("too many folder events at once; rescanning every source folder")
				for _, r := range w.roots {
					w.addTree(r, false, time.Now())
				}
				w.send()
			} else {
				w.log.Warn("watching folders", "err", err)
			}
		case <-w.refresh:
			for _, r := range w.roots {
				w.addTree(r, false, time.Now())
			}
		case now := <-tick:
			tick = nil
			w.look(now)
		}
		if tick == nil && len(w.pending) > 0 {
			if timer == nil {
				timer = time.NewTimer(w.timing.Settle)
			} else {
				timer.Reset(w.timing.Settle)
			}
			tick = timer.C
		}
	}
}

// event notes one fsnotify event. Only files a source reads and folders
// count: a scanner app's log that changes every second must
// not ask for a sync every minute.
func (w *watcher) event(ev fsnotify.Event, now time.Time) {
	if ev.Op == fsnotify.Chmod || skipTemp(filepath.Base(ev.Name)) {
		return
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			// Files may land in a new folder before its watch is added:
			// look at whatever it holds already.
			w.addTree(ev.Name, true, now)
			w.mark(ev.Name, now)
			return
		}
	}
	if w.dirs[ev.Name] && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)) {
		delete(w.dirs, ev.Name) // a folder gone: its cards are gone
		w.mark(ev.Name, now)
		return
	}
	if isSourceFile(ev.Name) {
		w.mark(ev.Name, now)
	}
}

func (w *watcher) mark(path string, now time.Time) {
	p := w.pending[path]
	if p == nil {
		p = &pendingPath{first: now}
		w.pending[path] = p
	}
	p.last = now
}

// addTree watches dir and its subfolders; with mark set the files found are
// marked as changed.
func (w *watcher) addTree(dir string, mark bool, now time.Time) {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			w.log.Warn("cannot watch folder", "dir", p, "err", err)
			if d != nil && d.IsDir() && p != dir {
				return filepath.SkipDir
			}
			return nil
		}
		if p != dir && skipTemp(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			w.dirs[p] = true
			if err := w.fs.Add(p); err != nil {
				// ENOSPC here means fs.inotify.max_user_watches is too low.
				w.log.Warn("cannot watch folder; changes in it wait for the next scheduled sync", "dir", p, "err", err)
			}
			return nil
		}
		if mark && isSourceFile(p) {
			w.mark(p, now)
		}
		return nil
	})
	if err != nil {
		w.log.Warn("cannot watch folder", "dir", dir, "err", err)
	}
}

// look checks the pending paths whose events have gone quiet and sends on
// changes when every pending path has settled. A path pending for MaxWait
// is handed on as it is, quiet or not.
func (w *watcher) look(now time.Time) {
	hold := false
	for path, p := range w.pending {
		overdue := now.Sub(p.first) >= w.timing.MaxWait
		if !overdue && (now.Sub(p.last) < w.timing.Debounce || !w.settled(path, p)) {
			hold = true
			continue
		}
		if overdue {
			w.log.Warn("file still changing or incomplete; syncing anyway", "path", path, "waited", w.timing.MaxWait)
		}
		delete(w.pending, path)
		w.changed = true
	}
	if w.changed && !hold {
		w.changed = false
		w.send()
	}
}

// settled reports whether path looks whole: gone (a removal to sync), not
// a regular file (a folder; a link, a FIFO or a device, which the sync
// judges without waiting), or a file whose size and mtime did not change
// since the last look and which, for a vCard file, ends with END:VCARD.
func (w *watcher) settled(path string, p *pendingPath) bool {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return true
	}
	if !p.looked || fi.Size() != p.size || !fi.ModTime().Equal(p.mtime) {
		p.looked, p.size, p.mtime = true, fi.Size(), fi.ModTime()
		return false
	}
	if isVCardFile(path) && !endsWithEndVCard(path) {
		if !p.told {
			p.told = true
			w.log.Debug("card file does not end with END:VCARD yet; waiting for the rest", "path", path)
		}
		return false
	}
	return true
}

// Refresh asks the watcher to walk its folders again, as the daemon does
// before each scheduled sync.
func (w *watcher) Refresh() {
	select {
	case w.refresh <- struct{}{}:
	default:
	}
}

func (w *watcher) send() {
	select {
	case w.changes <- struct{}{}:
	default:
	}
}

// skipTemp reports whether name is a hidden file or one of the names
// editors, browsers and scanner apps give files they are still writing.
func skipTemp(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
		return true
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".swp", ".swx", ".part", ".tmp", ".crdownload":
		return true
	}
	return false
}

// isSourceFile reports whether a source reads files named like path (the
// phone logs' exports are .xml).
func isSourceFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".xml":
		return true
	}
	return isVCardFile(path)
}

func isVCardFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".vcf", ".vcard":
		return true
	}
	return false
}

// endsWithEndVCard reports whether the file's last non-blank line is
// END:VCARD. A UTF-16 file (with a byte order mark or without: see
// card.UTF16Order) is judged by its end decoded; one of an odd length was
// cut inside a character and is not whole. Only a regular file is opened
// (a FIFO swapped in after settled's look would block the watcher, and
// SIGTERM with it); anything else is the sync's to judge.
func endsWithEndVCard(path string) bool {
	f, fi, err := dirscan.OpenRegular(path)
	if err != nil {
		return true // gone, unreadable or no plain file: the sync will say
	}
	defer f.Close()
	head := make([]byte, 2)
	n, _ := io.ReadFull(f, head)
	order, wide := card.UTF16Order(head[:n])
	if wide && fi.Size()%2 != 0 {
		return false
	}
	const tail = 4096 // even: a UTF-16 tail starts on a character's unit
	off := max(fi.Size()-tail, 0)
	buf := make([]byte, fi.Size()-off)
	n, _ = f.ReadAt(buf, off)
	data := buf[:n]
	if wide {
		units := make([]uint16, len(data)/2)
		for i := range units {
			units[i] = order.Uint16(data[2*i:])
		}
		data = []byte(string(utf16.Decode(units)))
	}
	data = bytes.TrimRight(data, " \t\r\n\x00")
	i := bytes.LastIndexAny(data, "\r\n")
	return bytes.EqualFold(bytes.TrimSpace(data[i+1:]), []byte("END:VCARD"))
}
