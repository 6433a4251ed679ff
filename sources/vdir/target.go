package vdir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"sync/atomic"

	"github.com/emersion/go-vcard"

	"kith/internal/dirscan"
	"kith/internal/fsname"
	ksync "kith/sync"
	"kith/sync/card"
)

// Target keeps kith's merged set in a flat vdir, one "<uid>.vcf" file a card,
// written as vCard 3.0. It is safe for concurrent use, and takes many writes
// and deletes at once (ParallelTarget): their durability is paid once per
// batch (see Put). Writes by other programs are caught by the ETag check.
type Target struct {
	name string
	dir  string
	lim  card.Limits

	// qmu guards queue and leading: the writes and deletes waiting for a
	// commit, and whether a caller is committing batches now. Only that
	// caller touches the folder's final names, so the ETag check and the
	// rename or removal of one file are never interleaved with another's
	// from this process.
	qmu     gosync.Mutex
	queue   []*pendingWrite
	leading bool

	// dirSyncs counts the folder fsyncs, for tests.
	dirSyncs atomic.Int64

	// link and renameNoReplace stand in for os.Link and renameNoReplace
	// when set: tests take away what a file system lacks.
	link, renameNoReplace func(oldname, newname string) error
}

// pendingWrite is one Put or Delete waiting for its batch's commit.
type pendingWrite struct {
	href, path, tmp string // tmp "": a delete
	etag            string // the condition: "" create only, else If-Match
	err             error  // the outcome, set by the committer
	done            chan struct{}
}

// parallelWrites is how many Puts and Deletes the engine keeps in flight,
// and so about how many files share one commit (one syncfs and one folder
// fsync).
const parallelWrites = 128

var _ ksync.ParallelTarget = (*Target)(nil)

// MaxParallel returns how many writes the engine may have in flight: the
// more, the fewer commits (ksync.ParallelTarget).
func (t *Target) MaxParallel() int { return parallelWrites }

// NewTarget returns a target named name writing to the folder dir; a file
// there over lim (or one that is no regular file) is not read (see Get). A
// folder that does not exist is not created here: it lists as empty (see
// List) and the first write creates it (mode 0700, parents included), so
// that a folder gone missing (unmounted, moved) is seen as missing by
// whoever knows it held cards, not silently made again empty.
func NewTarget(name, dir string, lim card.Limits) (*Target, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return &Target{name: name, dir: dir, lim: lim}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("target %q: vdir %s: %w", name, dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("target %q: vdir %s: not a directory", name, dir)
	}
	return &Target{name: name, dir: dir, lim: lim}, nil
}

// Missing reports whether the target's folder does not exist (it was never
// written, or it is gone: unmounted, moved, deleted).
func (t *Target) Missing() bool {
	_, err := os.Stat(t.dir)
	return errors.Is(err, fs.ErrNotExist)
}

// Name returns the target's configured name.
func (t *Target) Name() string { return t.name }

// Dir returns the folder the target writes to.
func (t *Target) Dir() string { return t.dir }

// List returns every ".vcf" entry directly in the folder with its ETag.
// Hidden, temporary and unsafe names and subfolders are left out. What is
// no regular file (a symbolic link, wherever it leads; a FIFO; a socket)
// is listed with the ETag of the entry itself, never followed, so that Get
// names it as a card that cannot be read and kith leaves it as it is. A
// folder that does not exist holds no card: the listing is empty (the
// caller, which knows what the folder held, tells a first run from a lost
// folder).
func (t *Target) List(ctx context.Context) (map[string]string, error) {
	entries, err := os.ReadDir(t.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("target %q: listing %s: %w", t.name, t.dir, err)
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("target %q: listing %s: %w", t.name, t.dir, err)
		}
		name := e.Name()
		if !isVCF(name) || checkHref(name) != nil || fsname.Skip(name) {
			continue
		}
		fi, err := e.Info() // an Lstat: a link is not followed
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted while listing
		}
		if err != nil {
			return nil, fmt.Errorf("target %q: %s: %w", t.name, name, unwrapPath(err))
		}
		if fi.IsDir() {
			continue
		}
		out[name] = etagOf(fi)
	}
	return out, nil
}

// Get reads and decodes the files named by hrefs. A file that does not exist
// is left out of the map; one that cannot be read or decoded is an error
// naming it. Only regular files of at most the card size limit are read,
// opened without following a link and without blocking: a symbolic link
// (into the folder or out of it), a FIFO or a larger file is such an error,
// and is never opened.
func (t *Target) Get(ctx context.Context, hrefs []string) (map[string]ksync.Entry, error) {
	out := make(map[string]ksync.Entry, len(hrefs))
	for _, href := range hrefs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("target %q: reading: %w", t.name, err)
		}
		if err := checkHref(href); err != nil {
			return nil, fmt.Errorf("target %q: %w", t.name, err)
		}
		e, err := t.get(href)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("target %q: %s: %w", t.name, href, err)
		}
		out[href] = e
	}
	return out, nil
}

func (t *Target) get(href string) (ksync.Entry, error) {
	data, fi, err := t.read(filepath.Join(t.dir, href))
	if err != nil {
		return ksync.Entry{}, err
	}
	c, err := t.lim.Decode(data)
	if err != nil {
		return ksync.Entry{}, fmt.Errorf("decoding: %w", err)
	}
	return ksync.Entry{ETag: etagOf(fi), Card: c}, nil
}

// read reads the card file at path the way sources read theirs (see
// dirscan.Look): a regular file within the card size limit, else an error
// saying what it is. A file that does not exist gives an error that is
// fs.ErrNotExist.
func (t *Target) read(path string) ([]byte, fs.FileInfo, error) {
	// A vdir file holds one card: the card size limit bounds the file.
	f, err := dirscan.Look(path, t.lim.Size, "card_size")
	if err != nil {
		return nil, nil, err
	}
	data, err := f.Read()
	if err != nil {
		return nil, nil, err
	}
	return data, f.Info, nil
}

// Put writes c, converted to vCard 3.0, to the file href. With etag "" the
// file must not exist yet; an existing file is never replaced and the result
// is ErrConflict. Otherwise the file must still have that ETag, else the
// result is ErrConflict. The write is atomic and durable: readers, and a
// crash at any moment, see the old file or the new one, never a part, and
// once Put returns the new file is on the disk. Put returns the file's new
// ETag.
//
// Concurrent Puts commit together (group commit): each writes its card to
// a temporary file without syncing it; then one of them syncs the file
// system once for all of those files (syncfs on Linux, else an fsync of
// each), checks each condition and renames (or, to create, links: see
// create) each file into place, and syncs the folder once. Until the sync, only temporary
// files are touched; after it, each rename installs a file whose content
// is already on the disk.
func (t *Target) Put(ctx context.Context, href string, c vcard.Card, etag string) (string, error) {
	if err := checkHref(href); err != nil {
		return "", fmt.Errorf("target %q: %w", t.name, err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("target %q: %s: %w", t.name, href, err)
	}
	data := card.EncodeBytes(card.ToV3(c))

	path := filepath.Join(t.dir, href)
	if etag != "" {
		if err := t.checkETag(path, etag); err != nil {
			return "", fmt.Errorf("target %q: %s: %w", t.name, href, err)
		}
		// Rewriting a file with the bytes it holds would only change its
		// ETag and make every client think it was edited.
		if old, _, err := t.read(path); err == nil && bytes.Equal(old, data) {
			if err := t.checkETag(path, etag); err != nil {
				return "", fmt.Errorf("target %q: %s: %w", t.name, href, err)
			}
			return etag, nil
		}
	}

	tmp, newTag, err := t.writeTemp(data)
	if err != nil {
		return "", fmt.Errorf("target %q: %s: %w", t.name, href, err)
	}
	defer os.Remove(tmp) // a no-op once renamed; cleans up after a failure or a Link

	w := &pendingWrite{href: href, path: path, tmp: tmp, etag: etag, done: make(chan struct{})}
	t.commit(w)
	if w.err != nil {
		return "", fmt.Errorf("target %q: %s: %w", t.name, href, w.err)
	}
	return newTag, nil
}

// commit queues w and returns once its batch is committed (w.err set).
// The first Put or Delete to find no commit under way leads: it commits
// batches until the queue is empty, while the others wait.
func (t *Target) commit(w *pendingWrite) {
	t.qmu.Lock()
	t.queue = append(t.queue, w)
	if t.leading {
		t.qmu.Unlock()
		<-w.done
		return
	}
	t.leading = true
	for len(t.queue) > 0 {
		batch := t.queue
		t.queue = nil
		t.qmu.Unlock()
		t.commitBatch(batch)
		t.qmu.Lock()
	}
	t.leading = false
	t.qmu.Unlock()
}

// commitBatch makes the batch's temporary files durable, installs each
// write and makes each removal whose condition holds, and makes those
// durable with one fsync of the folder.
func (t *Target) commitBatch(batch []*pendingWrite) {
	defer func() {
		for _, w := range batch {
			close(w.done)
		}
	}()
	var tmps []string
	for _, w := range batch {
		if w.tmp != "" {
			tmps = append(tmps, w.tmp)
		}
	}
	var syncErr error
	if len(tmps) > 0 {
		syncErr = syncFiles(t.dir, tmps)
	}
	changed := false
	for _, w := range batch {
		switch {
		case w.tmp == "":
			w.err = t.remove(w) // needs no file content on the disk
		case syncErr != nil:
			w.err = syncErr
		default:
			w.err = t.install(w)
		}
		changed = changed || w.err == nil
	}
	if !changed {
		return
	}
	t.dirSyncs.Add(1)
	if err := syncDir(t.dir); err != nil {
		for _, w := range batch {
			if w.err == nil {
				w.err = err
			}
		}
	}
}

// install puts w's temporary file in place if w's condition holds.
func (t *Target) install(w *pendingWrite) error {
	if w.etag == "" {
		return t.create(w.tmp, w.path)
	}
	// Checked again just before the rename to keep the window in which
	// another program's edit could be lost as short as it can be.
	if err := t.checkETag(w.path, w.etag); err != nil {
		return err
	}
	if err := os.Rename(w.tmp, w.path); err != nil {
		return fmt.Errorf("replacing: %w", unwrapLink(err))
	}
	return nil
}

// create puts the temporary file tmp at path unless a file is there: one
// someone else created since List is never replaced. A hard link fails when
// the name exists; on a file system without hard links (vfat, exFAT, most
// FUSE mounts) a rename that refuses to replace does the same, and where
// there is none either, path is looked at just before a plain rename (the
// window in which a file created there would be replaced is as short as an
// update's, see install).
func (t *Target) create(tmp, path string) error {
	exists := fmt.Errorf("exists: %w", ksync.ErrConflict)
	link := t.link
	if link == nil {
		link = os.Link
	}
	err := link(tmp, path)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return exists
	case !noHardLinks(err):
		return fmt.Errorf("creating: %w", unwrapLink(err))
	}
	rename := t.renameNoReplace
	if rename == nil {
		rename = renameNoReplace
	}
	err = rename(tmp, path)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return exists
	case !noReplaceUnsupported(err):
		return fmt.Errorf("creating: %w", unwrapLink(err))
	}
	if _, err := os.Lstat(path); err == nil {
		return exists
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("creating: %w", unwrapPath(err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("creating: %w", unwrapLink(err))
	}
	return nil
}

// Delete removes the file href if it still has etag. A file that changed or
// is gone gives ErrConflict. An empty etag is an error: kith never deletes a
// file it has not seen. Once Delete returns, the removal is on the disk.
// Concurrent Deletes and Puts commit together: one fsync of the folder
// makes all of their renames, links and removals durable.
func (t *Target) Delete(ctx context.Context, href, etag string) error {
	if err := checkHref(href); err != nil {
		return fmt.Errorf("target %q: %w", t.name, err)
	}
	if etag == "" {
		return fmt.Errorf("target %q: %s: delete without an etag", t.name, href)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("target %q: %s: %w", t.name, href, err)
	}
	w := &pendingWrite{href: href, path: filepath.Join(t.dir, href), etag: etag, done: make(chan struct{})}
	t.commit(w)
	if w.err != nil {
		return fmt.Errorf("target %q: %s: %w", t.name, href, w.err)
	}
	return nil
}

// remove deletes w's file if it still has w's ETag.
func (t *Target) remove(w *pendingWrite) error {
	if err := t.checkETag(w.path, w.etag); err != nil {
		return err
	}
	if err := os.Remove(w.path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("gone: %w", ksync.ErrConflict)
		}
		return fmt.Errorf("deleting: %w", unwrapPath(err))
	}
	return nil
}

// checkETag returns ErrConflict unless the file at path exists with etag,
// and an error when it is a file Get does not read (a symbolic link,
// wherever it leads; a FIFO; a file over the card size limit): kith never
// replaces or removes a file it cannot have seen.
func (t *Target) checkETag(path, etag string) error {
	f, err := dirscan.Look(path, t.lim.Size, "card_size")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("gone: %w", ksync.ErrConflict)
	case err != nil && f.Info == nil:
		return fmt.Errorf("checking etag: %w", err)
	case err != nil:
		return fmt.Errorf("%w; left as it is", err)
	}
	if got := etagOf(f.Info); got != etag {
		return fmt.Errorf("etag is %q, not %q: %w", got, etag, ksync.ErrConflict)
	}
	return nil
}

// writeTemp writes data to a new hidden temporary file in the target folder
// and returns its path and the ETag it will keep when renamed. The file is
// not synced: its batch's commit does that for all at once.
func (t *Target) writeTemp(data []byte) (path, etag string, err error) {
	f, err := os.CreateTemp(t.dir, ".kith-*.tmp")
	if errors.Is(err, fs.ErrNotExist) {
		// The first write into a folder that does not exist yet.
		if err := os.MkdirAll(t.dir, 0o700); err != nil {
			return "", "", fmt.Errorf("creating the folder: %w", unwrapPath(err))
		}
		if err := syncDir(filepath.Dir(t.dir)); err != nil {
			return "", "", err
		}
		f, err = os.CreateTemp(t.dir, ".kith-*.tmp")
	}
	if err != nil {
		return "", "", fmt.Errorf("creating temporary file: %w", unwrapPath(err))
	}
	path = f.Name()
	fail := func(op string, err error) (string, string, error) {
		f.Close()
		os.Remove(path)
		return "", "", fmt.Errorf("%s temporary file: %w", op, unwrapPath(err))
	}
	// CreateTemp made the file 0600 already; no chmod on top, which vfat
	// and exFAT refuse (EPERM) for any mode their mount does not give.
	if _, err := f.Write(data); err != nil {
		return fail("writing", err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fail("reading", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", "", fmt.Errorf("closing temporary file: %w", unwrapPath(err))
	}
	return path, etagOf(fi), nil
}

// syncDir makes a rename, link or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing folder: %w", unwrapPath(err))
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing folder: %w", unwrapPath(err))
	}
	return nil
}

// checkHref accepts only a plain base name that is safe to join to the
// folder: no separators, no "..", not hidden, no NUL or control characters.
func checkHref(href string) error {
	switch {
	case href == "":
		return errors.New("empty href")
	case strings.ContainsAny(href, "/\\\x00"):
		return fmt.Errorf("href %q: not a plain file name", href)
	case strings.HasPrefix(href, "."):
		return fmt.Errorf("href %q: hidden or relative name", href)
	case strings.Contains(href, ".."):
		return fmt.Errorf("href %q: contains \"..\"", href)
	case len(href) > 255:
		return fmt.Errorf("href %q: name too long", href)
	}
	for _, r := range href {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("href %q: control character in name", href)
		}
	}
	return nil
}

// unwrapLink drops the *os.LinkError wrapper, whose paths name the temporary
// file and would only confuse.
func unwrapLink(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return unwrapPath(err)
}
