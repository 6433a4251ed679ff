package calendar

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	ksync "kith/sync"
)

var _ ksync.IncrementalSource = (*Source)(nil)

// Boxes of the ItemStore: one per .ics file ("ics:" + path, cursor its
// stamp), one per CalDAV calendar ("~caldav:" + its URL, cursor its change
// tags, items its objects by href), and one that says where the calendars
// were found (caldavList). Sorted, the files come first, as Interactions
// reads them.
const (
	fileBox    = "ics:"
	calBox     = "~caldav:"
	caldavList = "~caldav-list"
)

// keepBack is how far back Update keeps occurrences: beyond the daemon's
// three-year window, so that Load can cut at any since within it.
const keepBack = 4 * 366 * 24 * time.Hour

// lookAhead is how far ahead Update looks for the next occurrence of a
// file's events: when it begins, the file is read again even if it did
// not change, since an event that had not begun now counts. A CalDAV
// calendar keeps such occurrences in the state instead (entry.Soon).
const lookAhead = 400 * 24 * time.Hour

// Update brings the store up to date with the calendars: an .ics file is
// read again only when its stamp (mtime, size, inode) moved or one of its
// events began since it was read (at that instant, not all that day); a file gone is dropped. A CalDAV calendar
// is asked for its change tags (getctag, sync-token): one request for all
// of them; one that changed gives only its changed and removed objects
// when the server has sync-collection, else it is queried whole. It returns
// a version that changes with what Load would return
// (ksync.IncrementalSource). When a calendar cannot be read it fails, and
// that calendar keeps what it gave before.
func (s *Source) Update(ctx context.Context, store ksync.ItemStore) (string, error) {
	now := s.opts.Now()
	curs, err := store.Cursors(ctx, s.opts.Name)
	if err != nil {
		return "", fmt.Errorf("calendar %q: %w", s.opts.Name, err)
	}
	files, err := s.files(ctx)
	if err != nil {
		return "", err
	}
	keep := map[string]bool{}
	var changes []ksync.BoxChange
	for _, path := range files {
		box := fileBox + path
		keep[box] = true
		fi, err := os.Stat(path)
		if err != nil {
			continue // readFile logs it below, once it is tried
		}
		stamp := stampOf(fi)
		if old, ok := curs[box]; ok && !s.due(old, stamp, now) {
			continue
		}
		ch, err := s.readBox(box, stamp, now, func(x *extractor) error { return s.readFile(ctx, x, path) })
		if err != nil {
			return "", err
		}
		changes = append(changes, ch)
	}
	if len(changes) > 0 {
		if err := store.Update(ctx, s.opts.Name, changes...); err != nil {
			return "", fmt.Errorf("calendar %q: %w", s.opts.Name, err)
		}
	}
	if s.opts.URL != "" {
		kept, err := s.updateCalDAV(ctx, store, curs, now)
		if err != nil {
			return "", err
		}
		for box := range kept {
			keep[box] = true
		}
	}
	tag := fmt.Sprintf("%q %d %s", s.opts.UserEmails, s.opts.MaxAttendees, s.opts.Location)
	v, err := ksync.Settle(ctx, store, s.opts.Name, func(box string) bool { return keep[box] }, tag, contentOf)
	if err != nil {
		return "", fmt.Errorf("calendar %q: %w", s.opts.Name, err)
	}
	return v, nil
}

// contentOf returns the part of a box's cursor that changes with what Load
// gives from it: a file's whole cursor, a calendar's content digest.
func contentOf(box, cur string) string {
	switch {
	case box == caldavList:
		return ""
	case strings.HasPrefix(box, calBox):
		return parseCalCursor(cur).Content
	}
	return cur
}

// due reports whether a box with cursor cur must be read again: its stamp
// moved, or its next occurrence has begun.
func (s *Source) due(cur, stamp string, now time.Time) bool {
	got, next, _ := strings.Cut(cur, "|")
	if got != stamp {
		return true
	}
	return next != "" && s.dueAt(next).Before(now)
}

// readBox reads one box with read and returns the change that replaces its
// items: each attended occurrence of the last keepBack that began before
// now, under its Ref. The cursor is stamp, then "|" and when the next
// occurrence begins (RFC 3339; a day before 2026-12), if any.
func (s *Source) readBox(box, stamp string, now time.Time, read func(*extractor) error) (ksync.BoxChange, error) {
	past := s.extractor(now.Add(-keepBack), now)
	if err := read(past); err != nil {
		return ksync.BoxChange{}, err
	}
	ahead := s.extractor(now.Add(-keepBack), now.Add(lookAhead))
	if err := read(ahead); err != nil {
		return ksync.BoxChange{}, err
	}
	ch := ksync.BoxChange{Box: box, Reset: true, Put: map[string][]byte{}}
	for _, in := range past.out {
		data, err := json.Marshal(in)
		if err != nil {
			return ksync.BoxChange{}, fmt.Errorf("calendar %q: %w", s.opts.Name, err)
		}
		ch.Put[in.Ref] = data
	}
	var next time.Time
	for i, in := range ahead.out {
		if _, ok := ch.Put[in.Ref]; !ok && (next.IsZero() || ahead.at[i].Before(next)) {
			next = ahead.at[i]
		}
	}
	ch.Cursor = stamp + "|"
	if !next.IsZero() {
		ch.Cursor += next.UTC().Format(time.RFC3339)
	}
	return ch, nil
}

// Load returns the interactions on or after since's day from what Update
// stored, sorted by date and Ref, each Ref once (the first file's or
// calendar's, as Interactions gives). since must lie within the last three
// years.
func (s *Source) Load(ctx context.Context, store ksync.ItemStore, since time.Time) ([]ksync.Interaction, error) {
	curs, err := store.Cursors(ctx, s.opts.Name)
	if err != nil {
		return nil, fmt.Errorf("calendar %q: %w", s.opts.Name, err)
	}
	from := day(since, s.opts.Location)
	seen := map[string]bool{}
	var out []ksync.Interaction
	add := func(in ksync.Interaction) {
		if in.Date.Before(from) || seen[in.Ref] {
			return
		}
		seen[in.Ref] = true
		out = append(out, in)
	}
	for _, box := range slices.Sorted(mapKeys(curs)) {
		if box == caldavList {
			continue
		}
		items, err := store.Items(ctx, s.opts.Name, box)
		if err != nil {
			return nil, fmt.Errorf("calendar %q: %w", s.opts.Name, err)
		}
		for _, key := range slices.Sorted(mapKeys(items)) {
			if strings.HasPrefix(box, calBox) {
				var e entry
				if err := json.Unmarshal(items[key], &e); err != nil {
					return nil, fmt.Errorf("calendar %q: stored object %s: %w", s.opts.Name, key, err)
				}
				for _, in := range e.Ins {
					add(in)
				}
				continue
			}
			var in ksync.Interaction
			if err := json.Unmarshal(items[key], &in); err != nil {
				return nil, fmt.Errorf("calendar %q: stored event %s: %w", s.opts.Name, key, err)
			}
			add(in)
		}
	}
	slices.SortFunc(out, func(a, b ksync.Interaction) int {
		return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(a.Ref, b.Ref))
	})
	return out, nil
}

// files returns the .ics files under the configured paths, in the order
// Interactions reads them; it fails when a configured path cannot be read.
func (s *Source) files(ctx context.Context) ([]string, error) {
	var out []string
	for _, root := range s.opts.Paths {
		fi, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("calendar %q: %w", s.opts.Name, err)
		}
		if !fi.IsDir() {
			out = append(out, root)
			continue
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if err != nil {
				if path == root {
					return err
				}
				s.log.Warn("calendar folder skipped", "path", path, "err", err)
				return nil
			}
			if path != root && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".ics") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("calendar %q: %s: %w", s.opts.Name, root, err)
		}
	}
	return out, nil
}

// mapKeys yields m's keys.
func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
