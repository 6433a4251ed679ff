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
	// Next is the first instant (RFC 3339) at which one of the items
	// changes with the clock alone: a stored occurrence begins, or an
	// object must be read again (its entry's Next). Before 2026-12 it
	// was a day (dueAt reads both).
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

// soonMax is how many of an object's occurrences that have not begun its
// entry keeps: each counts, when it begins, from the state alone. A
// recurring event with more is read again when the first one not kept
// begins (a daily one every soonMax days).
const soonMax = 16

// entry is what a calendar's box keeps of one object, under its href: the
// attended occurrences of the last keepBack that began before it was read,
// the first soonMax of those within lookAhead that had not, and when the
// object must be read again.
type entry struct {
	// Next is when the first occurrence not in Soon begins (RFC 3339;
	// a day in entries written before 2026-12): the object is read again
	// then. "" when Soon holds every one within lookAhead.
	Next string              `json:"n,omitempty"`
	Ins  []ksync.Interaction `json:"i,omitempty"`
	// Soon are occurrences that had not begun, by start: promote moves
	// them to Ins as they begin, with no request.
	Soon []pending `json:"s,omitempty"`
}

// pending is an occurrence that had not begun when its object was read.
type pending struct {
	At time.Time         `json:"at"`
	In ksync.Interaction `json:"in"`
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
	sortInteractions(e.Ins)
	for i, in := range ahead.out {
		if !past.seen[in.Ref] {
			e.Soon = append(e.Soon, pending{At: ahead.at[i].UTC(), In: in})
		}
	}
	slices.SortFunc(e.Soon, func(a, b pending) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.In.Ref, b.In.Ref))
	})
	if len(e.Soon) > soonMax {
		e.Next = e.Soon[soonMax].At.Format(time.RFC3339)
		e.Soon = e.Soon[:soonMax:soonMax]
	}
	return e, nil
}

// empty tells whether an entry gives nothing now or later.
func (e entry) empty() bool { return e.Next == "" && len(e.Ins) == 0 && len(e.Soon) == 0 }

// promote moves the occurrences that have begun by now from Soon to Ins,
// and tells whether it moved any.
func (e *entry) promote(now time.Time) bool {
	n := 0
	for n < len(e.Soon) && e.Soon[n].At.Before(now) {
		n++
	}
	if n == 0 {
		return false
	}
	for _, p := range e.Soon[:n] {
		if !slices.ContainsFunc(e.Ins, func(in ksync.Interaction) bool { return in.Ref == p.In.Ref }) {
			e.Ins = append(e.Ins, p.In)
		}
	}
	e.Soon = e.Soon[n:]
	sortInteractions(e.Ins)
	return true
}

// dueAt returns when a stored Next falls due: an RFC 3339 instant, or a
// day (as written before 2026-12) at its midnight in the source's zone.
// One it cannot read is due at once, so the object is read again.
func (s *Source) dueAt(next string) time.Time {
	if t, err := time.Parse(time.RFC3339, next); err == nil {
		return t
	}
	if d, err := time.Parse(time.DateOnly, next); err == nil {
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, s.opts.Location)
	}
	return time.Time{}
}

// sortInteractions sorts by date, then Ref, as Load gives them.
func sortInteractions(ins []ksync.Interaction) {
	slices.SortFunc(ins, func(a, b ksync.Interaction) int {
		return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(a.Ref, b.Ref))
	})
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
// its getctag did not move and nothing stored in it falls due by now; its
// changes when it has a sync token the server still takes (each time, on
// a server without getctag); else a whole read. An occurrence stored as
// not yet begun counts from the sync after it begins, with no request.
func (s *Source) updateCalendar(ctx context.Context, store ksync.ItemStore, c *davClient, cal calendarInfo, box, raw string, now time.Time) error {
	today := day(now, s.opts.Location).Format(time.DateOnly)
	old := parseCalCursor(raw)
	known := raw != "" && old.Content != ""
	stale := !known || old.Full < day(now.Add(-refull), s.opts.Location).Format(time.DateOnly)
	due := old.Next != "" && s.dueAt(old.Next).Before(now)
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
		if e.empty() {
			continue
		}
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		items[o.href] = data
	}
	next.Token, next.Full = token, today
	next.Next, next.Content = s.summary(items)
	return store.Update(ctx, s.opts.Name, ksync.BoxChange{Box: box, Reset: true, Put: items, Cursor: next.String()})
}

// applyChanges reads again the objects that changed and those that fall
// due (Next), drops those that are gone, and promotes the stored
// occurrences of the others that have begun; raw is the box's cursor
// before. An object that cannot be fetched keeps what it gave before.
func (s *Source) applyChanges(ctx context.Context, store ksync.ItemStore, c *davClient, u *url.URL, box, raw string, next calCursor, changed, gone []string, now time.Time) error {
	items, err := store.Items(ctx, s.opts.Name, box)
	if err != nil {
		return err
	}
	fetch := map[string]bool{}
	for _, h := range changed {
		fetch[h] = true
	}
	for h, data := range items {
		var e entry
		if json.Unmarshal(data, &e) != nil || e.Next != "" && s.dueAt(e.Next).Before(now) {
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
	read := map[string]bool{}
	for _, o := range objs {
		read[o.href] = true
		e, err := s.entryOf(o, now)
		if err != nil {
			s.log.Warn("calendar event skipped", "href", o.href, "err", err)
		}
		if err != nil || e.empty() {
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
	for h, data := range items {
		var e entry
		if read[h] || json.Unmarshal(data, &e) != nil || !e.promote(now) {
			continue
		}
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		items[h] = data
		ch.Put[h] = data
	}
	next.Next, next.Content = s.summary(items)
	ch.Cursor = next.String()
	if len(ch.Put) == 0 && len(ch.Delete) == 0 && ch.Cursor == raw {
		return nil // a server without getctag, and nothing new
	}
	return store.Update(ctx, s.opts.Name, ch)
}

// summary returns the first instant at which one of a calendar's entries
// falls due (an occurrence in Soon begins, or Next comes) and a digest of
// them.
func (s *Source) summary(items map[string][]byte) (next, content string) {
	h := sha256.New()
	var first time.Time
	have := false
	earlier := func(t time.Time) {
		if !have || t.Before(first) {
			first, have = t, true
		}
	}
	for _, k := range slices.Sorted(mapKeys(items)) {
		fmt.Fprintf(h, "%q %x\n", k, sha256.Sum256(items[k]))
		var e entry
		if json.Unmarshal(items[k], &e) != nil {
			continue
		}
		if e.Next != "" {
			earlier(s.dueAt(e.Next))
		}
		if len(e.Soon) > 0 {
			earlier(e.Soon[0].At)
		}
	}
	if have {
		next = first.UTC().Format(time.RFC3339)
	}
	return next, hex.EncodeToString(h.Sum(nil)[:16])
}
