package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"kith/internal/dirscan"
	ksync "kith/sync"
)

// cursor is what the item store remembers of one mailbox, as JSON.
type cursor struct {
	Version int `json:"v"`
	// Content changes whenever the mailbox's items do: the source's
	// version is made of it.
	Content string `json:"c,omitempty"`
	// Cur and New are a Maildir's folder stamps; Stamp an mbox file's. ""
	// means read again next time (a file failed, or the folder changed too
	// recently to trust its time).
	Cur   string `json:"cur,omitempty"`
	New   string `json:"new,omitempty"`
	Stamp string `json:"stamp,omitempty"`
	// IMAP folders: the folder's name on the server and what STATUS said.
	Folder   string `json:"folder,omitempty"`
	Validity uint32 `json:"uidvalidity,omitempty"`
	UIDNext  uint32 `json:"uidnext,omitempty"`
	Count    uint32 `json:"messages,omitempty"`
	ModSeq   uint64 `json:"modseq,omitempty"`
}

func parseCursor(s string) cursor {
	var c cursor
	if s == "" || json.Unmarshal([]byte(s), &c) != nil || c.Version != factVersion {
		return cursor{}
	}
	return c
}

func (c cursor) String() string {
	c.Version = factVersion
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// contentOf returns a stored cursor's content tag.
func contentOf(s string) string { return parseCursor(s).Content }

// nextContent returns the content tag after put and del are applied.
func nextContent(prev string, put map[string][]byte, del []string) string {
	if len(put) == 0 && len(del) == 0 {
		return prev
	}
	h := sha256.New()
	fmt.Fprintln(h, prev)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range put {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(h, "+%q %x\n", k, sha256.Sum256(put[k]))
	}
	for _, k := range slices.Sorted(slices.Values(del)) {
		fmt.Fprintf(h, "-%q\n", k)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// racyWindow: a folder whose time is this close to the time it was listed
// may still change within the same timestamp; it is listed again next time.
const racyWindow = 2 * time.Second

// batchSize is how many messages are stored per transaction on a first
// read, so that an interrupted read resumes where it stopped.
const batchSize = 5000

// updateLocal brings the store's copy of a Maildir folder or mbox file up
// to date.
func (s *Source) updateLocal(ctx context.Context, store ksync.ItemStore, b box, prevCursor string) error {
	fi, err := os.Stat(b.path)
	if err != nil {
		return err
	}
	prev := parseCursor(prevCursor)
	if fi.IsDir() {
		return s.updateMaildir(ctx, store, b, prev)
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a Maildir folder nor an mbox file")
	}
	return s.updateMbox(ctx, store, b, prev, fi)
}

// maildirStamp is a Maildir subfolder's version: its time moves whenever a
// message file is added, removed or renamed in it (Maildir files are never
// changed in place). "-" when the folder is missing; "" when its time is too
// recent to trust.
func maildirStamp(dir string, listed time.Time) (string, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return "-", nil
	}
	if err != nil {
		return "", err
	}
	if listed.Sub(fi.ModTime()) < racyWindow {
		return "", nil
	}
	return dirscan.Stamp(fi), nil
}

// uniqueName is a Maildir file's name without its flags: it stays when a
// client marks the message read or moves it from new to cur.
func uniqueName(name string) string {
	if i := strings.IndexByte(name, ':'); i > 0 {
		return name[:i]
	}
	return name
}

func (s *Source) updateMaildir(ctx context.Context, store ksync.ItemStore, b box, prev cursor) error {
	listed := time.Now() // the file system's clock, not Options.Now
	curStamp, err := maildirStamp(filepath.Join(b.path, "cur"), listed)
	if err != nil {
		return err
	}
	newStamp, err := maildirStamp(filepath.Join(b.path, "new"), listed)
	if err != nil {
		return err
	}
	if curStamp == "-" && newStamp == "-" {
		return errors.New("not a Maildir (no cur or new folder) nor an mbox file")
	}
	if prev.Version != 0 && curStamp != "" && newStamp != "" && prev.Cur == curStamp && prev.New == newStamp {
		return nil // nothing was added, removed or renamed
	}
	files := map[string]string{}                 // unique name → path
	for _, sub := range []string{"new", "cur"} { // cur last: it wins
		dir := filepath.Join(b.path, sub)
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
				continue
			}
			files[uniqueName(e.Name())] = filepath.Join(dir, e.Name())
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	reset := prev.Version == 0
	old := map[string][]byte{}
	if !reset {
		if old, err = store.Items(ctx, s.opts.Name, b.key); err != nil {
			return err
		}
	}
	var del []string
	for k := range old {
		if _, ok := files[k]; !ok {
			del = append(del, k)
		}
	}
	var todo []string
	for k := range files {
		if _, ok := old[k]; !ok {
			todo = append(todo, k)
		}
	}
	slices.Sort(todo)
	log := s.log.With("mailbox", b.label)
	p := newParser(s.norm.Email)
	failed := false
	content := prev.Content
	if reset {
		content = ""
	}
	progress := newProgress(ctx, b.label, len(todo), batchSize)
	put := map[string][]byte{}
	lr := newLineReader(nil)
	flush := func(last bool) error {
		next := cursor{Content: nextContent(content, put, del)}
		if last && !failed {
			next.Cur, next.New = curStamp, newStamp
		}
		if err := store.Update(ctx, s.opts.Name, ksync.BoxChange{Box: b.key, Reset: reset, Put: put, Delete: del, Cursor: next.String()}); err != nil {
			return err
		}
		content, reset, put, del = next.Content, false, map[string][]byte{}, nil
		return nil
	}
	for i, k := range todo {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := files[k]
		err := readMaildirFile(lr, path, func(h header, fallback time.Time, where string) {
			m := p.message(h, fallback)
			if m.skip != "" {
				log.Debug("message skipped", "where", where, "ref", m.ref, "reason", m.skip)
			}
			put[k] = factOf(m).encode()
		})
		if err != nil {
			failed = true
			log.Warn("message skipped", "where", path, "err", err)
		}
		if len(put) >= batchSize {
			if err := flush(false); err != nil {
				return err
			}
			progress.done(i + 1)
		}
	}
	if err := flush(true); err != nil {
		return err
	}
	progress.done(len(todo))
	return nil
}

func (s *Source) updateMbox(ctx context.Context, store ksync.ItemStore, b box, prev cursor, fi fs.FileInfo) error {
	stamp := dirscan.Stamp(fi)
	if time.Since(fi.ModTime()) < racyWindow {
		stamp = ""
	}
	if prev.Version != 0 && stamp != "" && prev.Stamp == stamp {
		return nil
	}
	f, err := os.Open(b.path)
	if err != nil {
		return err
	}
	defer f.Close()
	log := s.log.With("mailbox", b.label)
	p := newParser(s.norm.Email)
	put := map[string][]byte{}
	err = readMbox(ctx, f, b.label, func(h header, fallback time.Time, where string) {
		m := p.message(h, fallback)
		if m.skip != "" {
			log.Debug("message skipped", "where", where, "ref", m.ref, "reason", m.skip)
		}
		put[fmt.Sprintf("%09d", len(put)+1)] = factOf(m).encode()
	})
	if err != nil {
		return err
	}
	// An mbox file changed is read whole: its messages are numbered, so
	// the old ones are replaced.
	old := map[string][]byte{}
	if prev.Version != 0 {
		if old, err = store.Items(ctx, s.opts.Name, b.key); err != nil {
			return err
		}
	}
	var del []string
	for k, v := range old {
		if n, ok := put[k]; ok && string(n) == string(v) {
			delete(put, k)
		} else if !ok {
			del = append(del, k)
		}
	}
	content := prev.Content
	if prev.Version == 0 {
		content = ""
	}
	next := cursor{Content: nextContent(content, put, del), Stamp: stamp}
	return store.Update(ctx, s.opts.Name, ksync.BoxChange{Box: b.key, Reset: prev.Version == 0, Put: put, Delete: del, Cursor: next.String()})
}
