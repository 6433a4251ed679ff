package calendar

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"

	"kith/internal/dav"
	ksync "kith/sync"
)

// refull is how often a CalDAV calendar is read whole even when its tags
// say it did not change: an event more than lookAhead ahead is not known
// until then, and must be before it begins.
const refull = 180 * 24 * time.Hour

// listCursor is the cursor of the caldavList box: where the calendars were
// found for the configured URL.
type listCursor struct {
	Key string `json:"k"`
	listing
	// Auth is the login scheme the server asked for when a later first
	// request may carry it (dav.Auth.Learned): a server that wants Basic
	// over http is not asked once without a login every sync.
	Auth string `json:"a,omitempty"`
}

// calCursor is the cursor of one CalDAV calendar's box.
type calCursor struct {
	// CTag is the calendar's getctag when it was read: the same again
	// means it did not change.
	CTag string `json:"ct,omitempty"`
	// Token is the sync token to ask sync-collection with; "" when the
	// server has none, and a change means a whole read.
	Token string `json:"t,omitempty"`
	// Next is the first day an object's event begins that had not begun
	// when it was read: the objects due then are read again.
	Next string `json:"n,omitempty"`
	// Full is the day of the last whole read.
	Full string `json:"f,omitempty"`
	// Content is a digest of the items: it makes the source's version.
	Content string `json:"c"`
}

func parseCalCursor(s string) calCursor {
	var c calCursor
	if json.Unmarshal([]byte(s), &c) != nil {
		return calCursor{}
	}
	return c
}

func (c calCursor) String() string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // strings only
	}
	return string(b)
}

// entry is what a calendar's box keeps of one object, under its href: the
// attended occurrences of the last keepBack that began before it was read,
// and the day of the next one, if any within lookAhead.
type entry struct {
	Next string              `json:"n,omitempty"`
	Ins  []ksync.Interaction `json:"i,omitempty"`
}

// entryOf reads one object as of now.
func (s *Source) entryOf(o object, now time.Time) (entry, error) {
	cals, err := decodeAll(o.data, s.opts.Limits)
	if err != nil {
		return entry{}, err
	}
	past := s.extractor(now.Add(-keepBack), now)
	ahead := s.extractor(now, now.Add(lookAhead))
	for _, cal := range cals {
		past.calendar(cal, o.href)
		ahead.calendar(cal, o.href)
	}
	e := entry{Ins: past.out}
	for _, in := range ahead.out {
		if past.seen[in.Ref] {
			continue
		}
		if d := in.Date.Format(time.DateOnly); e.Next == "" || d < e.Next {
			e.Next = d
		}
	}
	return e, nil
}

// updateCalDAV brings the boxes of the CalDAV calendars up to date and
// returns the boxes to keep. Where the calendars are is kept, so that when
// none changed this costs one PROPFIND; it is looked for again when the
// configured URL changes or that place is gone. It fails, with what is
// stored for the calendars read so far, when one cannot be read.
func (s *Source) updateCalDAV(ctx context.Context, store ksync.ItemStore, curs map[string]string, now time.Time) (map[string]bool, error) {
	c := s.newDAVClient()
	var lc listCursor
	json.Unmarshal([]byte(curs[caldavList]), &lc)
	var cals []calendarInfo
	var err error
	found := lc.Key == s.opts.URL && lc.URL != ""
	if lc.Key == s.opts.URL {
		c.auth.Remember(lc.Auth)
	}
	if found {
		cals, err = s.list(ctx, c, lc.listing)
		if dav.IsNotFound(err) {
			s.log.Info("calendars moved; looking for them again", "err", err)
			found = false
		} else if err != nil {
			return nil, fmt.Errorf("calendar %q: listing calendars: %w", s.opts.Name, err)
		}
	}
	next := lc
	if !found {
		var l listing
		if l, cals, err = s.discover(ctx, c); err != nil {
			return nil, fmt.Errorf("calendar %q: finding calendars: %w", s.opts.Name, err)
		}
		next = listCursor{Key: s.opts.URL, listing: l}
	}
	if next.Auth = c.auth.Learned(); next != lc {
		b, err := json.Marshal(next)
		if err != nil {
			return nil, err
		}
		if err := store.Update(ctx, s.opts.Name, ksync.BoxChange{Box: caldavList, Cursor: string(b)}); err != nil {
			return nil, fmt.Errorf("calendar %q: %w", s.opts.Name, err)
		}
	}
	if cals, err = s.filter(cals); err != nil {
		return nil, fmt.Errorf("calendar %q: %w", s.opts.Name, err)
	}
	keep := map[string]bool{caldavList: true}
	var firstErr error
	for _, cal := range cals {
		box := calBox + cal.url.String()
		keep[box] = true
		if err := s.updateCalendar(ctx, store, c, cal, box, curs[box], now); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			firstErr = cmp.Or(firstErr, fmt.Errorf("calendar %q: %s: %w", s.opts.Name, cal.url.Path, err))
		}
	}
	return keep, firstErr
}

// updateCalendar brings one calendar's box up to date: nothing to do when
// its getctag did not move and no event of it began since it was read; its
// changes when it has a sync token the server still takes (each time, on
// a server without getctag); else a whole read.
func (s *Source) updateCalendar(ctx context.Context, store ksync.ItemStore, c *davClient, cal calendarInfo, box, raw string, now time.Time) error {
	today := day(now, s.opts.Location).Format(time.DateOnly)
	old := parseCalCursor(raw)
	known := raw != "" && old.Content != ""
	stale := !known || old.Full < day(now.Add(-refull), s.opts.Location).Format(time.DateOnly)
	due := old.Next != "" && old.Next <= today
	same := known && cal.ctag != "" && cal.ctag == old.CTag
	if same && !due && !stale {
		return nil
	}
	next := calCursor{CTag: cal.ctag, Full: old.Full, Token: old.Token}
	if !stale && (same || old.Token != "") {
		var changed, gone []string
		whole := false
		if !same {
			ch, err := dav.SyncCollection(ctx, c.multistatus, cal.url, old.Token)
			switch {
			case err == nil && dav.TokenWentBack(old.Token, ch.Token):
				s.log.Info("sync token went back (server restored?); reading the calendar whole", "calendar", cal.url.Path)
				whole = true
			case err == nil:
				next.Token = ch.Token
				changed, gone = slices.Sorted(mapKeys(ch.Changed)), ch.Gone
			case dav.InvalidToken(err):
				s.log.Info("sync token refused; reading the calendar whole", "calendar", cal.url.Path, "err", err)
				whole = true
			case dav.StatusOf(err) != 0:
				s.log.Info("sync-collection refused; reading the calendar whole", "calendar", cal.url.Path, "err", err)
				whole = true
			default:
				return fmt.Errorf("sync-collection: %w", err)
			}
		}
		if !whole && len(changed) == 0 && len(gone) == 0 && !due {
			// Nothing new (a server without getctag is asked each time):
			// the items stay as they are, the cursor takes the new token.
			old.CTag, old.Token = next.CTag, next.Token
			if cur := old.String(); cur != raw {
				return store.Update(ctx, s.opts.Name, ksync.BoxChange{Box: box, Cursor: cur})
			}
			return nil
		}
		if !whole {
			return s.applyChanges(ctx, store, c, cal.url, box, raw, next, changed, gone, now)
		}
	}
	// Whole read. The ctag and the token are asked before it, so that a
	// change made while it runs is seen next time. A server without
	// sync-collection gives no token: each change is then a whole read.
	token, err := dav.SyncToken(ctx, c.multistatus, cal.url)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		token = ""
	}
	objs, err := s.readAll(ctx, c, cal.url, now.Add(-keepBack))
	if err != nil {
		return err
	}
	items := map[string][]byte{}
	for _, o := range objs {
		e, err := s.entryOf(o, now)
		if err != nil {
			s.log.Warn("calendar event skipped", "href", o.href, "err", err)
			continue
		}
		if e.Next == "" && len(e.Ins) == 0 {
			continue
		}
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		items[o.href] = data
	}
	next.Token, next.Full = token, today
	next.Next, next.Content = summary(items)
	return store.Update(ctx, s.opts.Name, ksync.BoxChange{Box: box, Reset: true, Put: items, Cursor: next.String()})
}

// applyChanges reads again the objects that changed and those whose next
// event has begun, and drops those that are gone; raw is the box's cursor
// before. An object that cannot be fetched keeps what it gave before.
func (s *Source) applyChanges(ctx context.Context, store ksync.ItemStore, c *davClient, u *url.URL, box, raw string, next calCursor, changed, gone []string, now time.Time) error {
	items, err := store.Items(ctx, s.opts.Name, box)
	if err != nil {
		return err
	}
	today := day(now, s.opts.Location).Format(time.DateOnly)
	fetch := map[string]bool{}
	for _, h := range changed {
		fetch[h] = true
	}
	for h, data := range items {
		var e entry
		if json.Unmarshal(data, &e) != nil || e.Next != "" && e.Next <= today {
			fetch[h] = true
		}
	}
	for _, h := range gone {
		delete(fetch, h)
	}
	objs, missing, err := s.multiget(ctx, c, u, slices.Sorted(mapKeys(fetch)))
	if err != nil {
		return err
	}
	ch := ksync.BoxChange{Box: box, Put: map[string][]byte{}}
	drop := func(h string) {
		if _, ok := items[h]; ok {
			delete(items, h)
			ch.Delete = append(ch.Delete, h)
		}
	}
	for _, h := range append(gone, missing...) {
		drop(h)
	}
	for _, o := range objs {
		e, err := s.entryOf(o, now)
		if err != nil {
			s.log.Warn("calendar event skipped", "href", o.href, "err", err)
		}
		if err != nil || e.Next == "" && len(e.Ins) == 0 {
			drop(o.href)
			continue
		}
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if !bytes.Equal(items[o.href], data) {
			items[o.href] = data
			ch.Put[o.href] = data
		}
	}
	next.Next, next.Content = summary(items)
	ch.Cursor = next.String()
	if len(ch.Put) == 0 && len(ch.Delete) == 0 && ch.Cursor == raw {
		return nil // a server without getctag, and nothing new
	}
	return store.Update(ctx, s.opts.Name, ch)
}

// summary returns the first Next of a calendar's entries and a digest of
// them.
func summary(items map[string][]byte) (next, content string) {
	h := sha256.New()
	for _, k := range slices.Sorted(mapKeys(items)) {
		fmt.Fprintf(h, "%q %x\n", k, sha256.Sum256(items[k]))
		var e entry
		if json.Unmarshal(items[k], &e) == nil && e.Next != "" && (next == "" || e.Next < next) {
			next = e.Next
		}
	}
	return next, hex.EncodeToString(h.Sum(nil)[:16])
}
