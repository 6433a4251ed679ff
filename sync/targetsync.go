package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	gosync "sync"

	"github.com/emersion/go-vcard"

	"kith/sync/card"
)

// TargetStats counts what one target sync did.
type TargetStats struct {
	Created, Updated, Removed int
	// UserEdits counts cards the user changed on the target; their changes were kept.
	UserEdits int
	// UserDeletes counts cards the user deleted on the target; they stay deleted.
	UserDeletes int
	// Left are the cards removed because their contact left every
	// source, as the user last had them: what they wrote there is kept.
	Left []LeftCard
	// Failed lists the writes that did not succeed, one message each.
	Failed []string
	// Unsettled are the Intents.Pending this sync could not settle (the
	// target could not be read): they are kept for the next.
	Unsettled map[string]*Intent
}

// Intents is the write-ahead log of kith's deletes on one target, and of
// its first writes onto cards the user made: each is recorded durably
// before it is made, and the record goes with the state's save. A sync
// that stops in between (a crash, a kill, power) leaves it for the next,
// which finishes it as the stopped sync would have: a card kith deleted is
// never taken for the user's delete, what the user wrote on it is kept,
// and a card the user made keeps its record as the user made it.
type Intents struct {
	// Pending are the deletes an earlier sync recorded (and may have made)
	// before it stopped, by href.
	Pending map[string]*Intent
	// Record, when set, stores intents durably before SyncTarget acts on
	// them. When it fails, none is acted on (each waits for the next sync).
	Record func(ctx context.Context, ds []*Intent) error
}

// LeftCard is the card of a contact that left every source, as the user
// had it on a target when kith removed it.
type LeftCard struct {
	// UID is the contact's.
	UID string
	// Card is the card as the target held it.
	Card vcard.Card
	// Base is the golden card it was made from.
	Base vcard.Card
}

// Annotator sets kith's own properties on a card about to be written for
// the contact uid and returns it.
type Annotator func(uid string, c vcard.Card) vcard.Card

// maxConflictRetries bounds the re-read, re-merge, retry cycle after a 412.
const maxConflictRetries = 3

// SyncTarget brings target t in line with contacts. The base of the
// three-way merge with the user's edits is the golden card each entry was
// last written from (TargetEntry.Base), so a write that failed is made on
// a later sync; prevGolden gives each contact's golden card of the last
// run, the base for entries that do not hold theirs. entries is what kith knew of the target; the returned
// map is what it knows after, to be stored. annotate, when not nil, gets
// every card just before it is compared and written (the card as the user
// will see it, edits merged in) and returns it with kith's own properties
// set (X-KITH-*). Cards are written only when their content changes; user
// edits on the target are kept and merged with the sources' changes; a card
// the user deleted stays deleted. Deletes go through intents (see Intents).
func (e *Engine) SyncTarget(ctx context.Context, t Target, contacts []*Contact, prevGolden func(uid string) (vcard.Card, string),
	entries map[string]*TargetEntry, intents Intents, annotate Annotator, log *slog.Logger) (map[string]*TargetEntry, TargetStats, error) {
	var st TargetStats
	listing, err := t.List(ctx)
	if err != nil {
		st.Unsettled = intents.Pending
		return reowned(entries, contacts), st, fmt.Errorf("target %q: listing: %w", t.Name(), err)
	}
	next := map[string]*TargetEntry{}
	for href, e := range entries {
		c := *e
		next[href] = &c
	}
	for _, href := range sortedHrefs(intents.Pending) {
		p := intents.Pending[href]
		if _, there := listing[href]; there || p.Kind == IntentAdopt {
			continue // never deleted: this sync plans its card again
		}
		// Deleted by a sync that stopped before it saved: finished as that
		// sync would have, never taken for the user's delete.
		if p.Kind == IntentLeave && p.Card != nil {
			st.Left = append(st.Left, LeftCard{UID: p.UID, Card: p.Card, Base: p.Base})
		}
		delete(next, href)
		log.Info("card deleted by an interrupted sync; the delete is finished", "target", t.Name(), "href", href, "uid", p.UID, "kind", string(p.Kind))
	}
	// Cards whose ETag moved since kith's last write were edited by someone else.
	var changed []string
	for href, e := range next {
		etag, ok := listing[href]
		switch {
		case e.Deleted:
		case !ok && e.Group:
			delete(next, href) // the user deleted a group: nothing of kith's
		case !ok:
			e.Deleted = true
			st.UserDeletes++
			log.Info("card deleted on target; it stays deleted", "target", t.Name(), "href", href, "uid", e.UID)
		case etag != e.ETag:
			changed = append(changed, href)
		}
	}
	plans, owner := planCards(t.Name(), contacts, next, listing)
	for _, p := range plans {
		if p.href == "" {
			continue
		}
		if _, known := next[p.href]; !known {
			if _, exists := listing[p.href]; exists {
				// A card the user made, or kith's own written before a
				// crash (or with the state lost).
				changed = append(changed, p.href)
			}
		}
		changed = append(changed, p.drops...) // their UIDs, for groups naming them
	}
	// Cards neither kith's nor adopted: group cards a client made, read
	// once to be known.
	var unknown []string
	for href := range listing {
		if _, known := next[href]; !known && owner[href] == nil && !madeByKith(href) {
			unknown = append(unknown, href)
		}
	}
	slices.Sort(changed)
	changed = slices.Compact(changed)
	// A card that cannot be read (it no longer decodes, the server will not
	// hand it out) holds back no other: its contact's card is neither
	// written nor deleted this sync, nor any card that would fold into it,
	// and kith's record of it stays as it was, so a later sync, once it
	// reads again, merges what is there.
	current, unreadable, err := GetEach(ctx, t, changed)
	if err != nil {
		st = TargetStats{Unsettled: intents.Pending}
		return reowned(entries, contacts), st, fmt.Errorf("target %q: reading changed cards: %w", t.Name(), err)
	}
	for _, href := range sortedHrefs(unreadable) {
		st.Failed = append(st.Failed, fmt.Sprintf("%s: the card on the target could not be read, so it is left as it is: %v", href, unreadable[href]))
		log.Warn("card on the target could not be read; left as it is", "target", t.Name(), "href", href, "err", unreadable[href])
	}
	for _, href := range changed {
		if g, ok := current[href]; ok && next[href] != nil && next[href].Group {
			next[href] = &TargetEntry{Group: true, ETag: g.ETag, Card: g.Card, Hash: card.Hash(g.Card)}
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		// A card that cannot be read here is no reason to hold back the
		// others: it is left alone.
		got, err := t.Get(ctx, unknown)
		if err != nil {
			log.Info("cards on the target not read", "target", t.Name(), "err", err)
		}
		for href, g := range got {
			if IsGroup(g.Card) {
				next[href] = &TargetEntry{Group: true, ETag: g.ETag, Card: g.Card, Hash: card.Hash(g.Card)}
			}
		}
	}

	// Writes run in parallel when the target allows it (a CardDAV server);
	// each goroutine works on its own card, results are gathered under mu.
	parallel := 1
	if pt, ok := t.(ParallelTarget); ok && pt.MaxParallel() > 1 {
		parallel = pt.MaxParallel()
	}
	var (
		mu  gosync.Mutex
		wg  gosync.WaitGroup
		sem = make(chan struct{}, parallel)
	)
	type job struct {
		href     string
		c        *Contact
		ent      *TargetEntry
		cur      *Entry
		base     vcard.Card
		baseHash string
		absorbed []absorbedCard
		drops    []string
		adopt    bool
	}
	var jobs []job
	leave := map[string]bool{} // cards of contacts whose card the user deleted here
	for _, p := range plans {
		for _, href := range p.leave {
			leave[href] = true
		}
		if p.href == "" || blocked(p, unreadable) {
			continue
		}
		j := job{href: p.href, c: p.c, ent: next[p.href], drops: p.drops, adopt: p.adopt}
		j.base, j.baseHash = baseOf(j.ent, j.c.UID, prevGolden)
		if g, ok := current[p.href]; ok {
			j.cur = &g
		}
		if r := p.c.Returning; r != nil && j.ent == nil && j.cur == nil && !p.adopt {
			// Back after it left its sources: its new card carries what
			// the user wrote on the old ones, merged with the sources as
			// an edit of the user's on the card kith last made (no base
			// hash, so it is written).
			j.ent = &TargetEntry{UID: p.c.UID, Card: r.Card, Hash: card.Hash(r.Card), Base: r.Base}
			j.base, j.baseHash = r.Base, ""
		}
		if p.adopt && j.cur == nil {
			// Made by the user and deleted since it was listed: it stays
			// deleted, and its record goes at the next sync.
			next[p.href] = &TargetEntry{UID: p.c.UID, Deleted: true}
			st.UserDeletes++
			continue
		}
		// The contact's other cards here (of contacts joined into this
		// one, or made by the user): their edits move to this card, then
		// they go.
		for _, ah := range p.folds {
			ae := next[ah]
			if ae.Card == nil {
				continue
			}
			ab := absorbedCard{href: ah, card: ae.Card, etag: ae.ETag}
			if g, ok := current[ah]; ok {
				ab.card, ab.etag = g.Card, g.ETag
			}
			ab.base, _ = baseOf(ae, ae.UID, prevGolden)
			j.absorbed = append(j.absorbed, ab)
		}
		jobs = append(jobs, j)
	}
	folded := map[string]string{}  // href of an absorbed card → the ETag its content was taken at
	dropped := map[string]string{} // href of a card the user made, merged into another → its ETag
	renamed := map[string]string{} // UID of a card that goes → UID of the card it merged into
	// Write-ahead: a card the user made is recorded as they had it before
	// kith first writes its contact onto it, so that a sync stopped after
	// the write still takes the user's card for its record, not kith's.
	var adopting []*Intent
	for _, j := range jobs {
		if j.adopt && j.cur != nil {
			adopting = append(adopting, &Intent{Href: j.href, Kind: IntentAdopt, UID: j.c.UID, ETag: j.cur.ETag, Card: j.cur.Card})
		}
	}
	if len(adopting) > 0 && intents.Record != nil {
		if err := intents.Record(ctx, adopting); err != nil {
			if ctx.Err() != nil {
				return next, st, ctx.Err()
			}
			// Not written now: each waits for the next sync.
			st.Failed = append(st.Failed, fmt.Sprintf("recording %d cards made on the target before writing them: %v", len(adopting), err))
			jobs = slices.DeleteFunc(jobs, func(j job) bool { return j.adopt })
		}
	}
	for _, j := range jobs {
		href, c, ent, cur, base, baseHash, absorbed, drops := j.href, j.c, j.ent, j.cur, j.base, j.baseHash, j.absorbed, j.drops
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			var res writeResult
			var err error
			if ent != nil && cur == nil && base != nil && baseHash == c.Hash && len(absorbed) == 0 {
				// Neither the sources nor the user changed the card: only
				// kith's own properties may move (a state changes with time).
				res, err = e.refresh(ctx, t, href, c, base, ent, annotate, log)
			} else {
				res, err = e.writeOne(ctx, t, href, c, base, ent, listing[href], cur, absorbed, annotate, log)
			}
			mu.Lock()
			defer mu.Unlock()
			if res.edited {
				st.UserEdits++
			}
			if err != nil {
				st.Failed = append(st.Failed, err.Error())
				log.Warn("writing card failed", "target", t.Name(), "href", href, "err", err)
				return
			}
			if res.gone {
				// Deleted by the user while this sync ran: a DELETE the
				// target acknowledged is final.
				next[href] = &TargetEntry{UID: c.UID, Deleted: true}
				st.UserDeletes++
				log.Info("card deleted on target during the sync; it stays deleted", "target", t.Name(), "href", href, "uid", c.UID)
				return
			}
			if res.created {
				st.Created++
			}
			if res.updated {
				st.Updated++
			}
			next[href] = res.entry
			to := res.entry.Card.Value(vcard.FieldUID)
			for _, ab := range absorbed {
				folded[ab.href] = ab.etag
				if from := ab.card.Value(vcard.FieldUID); from != "" && from != to {
					renamed[from] = to
				}
			}
			for _, h := range drops {
				dropped[h] = listing[h]
				if from := current[h].Card.Value(vcard.FieldUID); from != "" && from != to {
					renamed[from] = to
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return next, st, err
	}
	if !e.renameMembers(ctx, t, next, renamed, &st, log) {
		// A group still names cards that merged: they stay until it does.
		clear(folded)
		clear(dropped)
	}
	slices.Sort(st.Failed)
	desired := map[string]bool{}
	for _, p := range plans {
		if p.href != "" {
			desired[p.href] = true
		}
	}
	// The cards that go are deleted in parallel like the writes (a vdir
	// target makes all of a batch's removals durable with one folder
	// fsync); each outcome is applied afterwards, in href order.
	type del struct {
		href, etag string
		kind       int // delJoined, delLeft or delDropped
		ent        *TargetEntry
		lc         LeftCard
		err        error
		intent     *Intent
	}
	const (
		delJoined = iota
		delLeft
		delDropped
	)
	var dels []*del
	for _, href := range sortedHrefs(next) {
		ent := next[href]
		if desired[href] || ent.Group {
			continue
		}
		if ent.Deleted {
			if owner[href] == nil {
				delete(next, href) // the contact is gone too: forget the tombstone
			}
			continue
		}
		if etag, ok := folded[href]; ok {
			// Joined into another contact, its content (the user's edits
			// with it) now on that card.
			was := ent.Card
			if g, ok := current[href]; ok {
				was = g.Card
			}
			dels = append(dels, &del{href: href, etag: etag, kind: delJoined, ent: ent,
				intent: &Intent{Href: href, Kind: IntentFold, UID: owner[href].UID, ETag: etag, Card: was}})
			continue
		}
		if c := owner[href]; c != nil && !leave[href] {
			ent.UID = c.UID // its contact's card was not written: it goes once that stands
			continue
		}
		// The contact left every source: its card goes, and what the user
		// wrote on it is kept in the state (kith restore brings it back).
		lc := LeftCard{UID: ent.UID, Card: ent.Card, Base: ent.Base}
		if lc.Base == nil {
			lc.Base, _ = prevGolden(ent.UID)
		}
		etag := ent.ETag
		if listing[href] != ent.ETag {
			// Edited since kith last saw it (or only its ETag respelled).
			cur, ok := current[href]
			if !ok {
				continue // unreadable now: the next sync tries again
			}
			lc.Card, etag = cur.Card, cur.ETag
		}
		if lc.Card == nil {
			continue
		}
		dels = append(dels, &del{href: href, etag: etag, kind: delLeft, ent: ent, lc: lc,
			intent: &Intent{Href: href, Kind: IntentLeave, UID: lc.UID, ETag: etag, Card: lc.Card, Base: lc.Base}})
	}
	for _, href := range sortedHrefs(dropped) {
		// A card the user made here whose person already had a card: its
		// content is on that card now.
		p := &Intent{Href: href, Kind: IntentFold, ETag: dropped[href], Card: current[href].Card}
		if c := owner[href]; c != nil {
			p.UID = c.UID
		}
		dels = append(dels, &del{href: href, etag: dropped[href], kind: delDropped, intent: p})
	}
	if len(dels) > 0 && intents.Record != nil {
		// Write-ahead: the deletes are recorded before they are made.
		ps := make([]*Intent, len(dels))
		for i, d := range dels {
			ps[i] = d.intent
		}
		if err := intents.Record(ctx, ps); err != nil {
			if ctx.Err() != nil {
				return next, st, ctx.Err()
			}
			st.Failed = append(st.Failed, fmt.Sprintf("recording %d deletes before making them: %v", len(dels), err))
			for _, d := range dels {
				if d.kind == delJoined {
					d.ent.UID = owner[d.href].UID // kept, and folded again next sync
				}
			}
			dels = nil
		}
	}
	for _, d := range dels {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			d.err = t.Delete(ctx, d.href, d.etag)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return next, st, err
	}
	for _, d := range dels {
		href, err := d.href, d.err
		switch d.kind {
		case delJoined:
			if err != nil {
				// Kept, and its contact's from now on: the next sync folds
				// it again (with what the user wrote there meanwhile).
				d.ent.UID = owner[href].UID
				if errors.Is(err, ErrConflict) {
					log.Info("card of a joined contact edited meanwhile; merged at the next sync", "target", t.Name(), "href", href)
				} else {
					st.Failed = append(st.Failed, fmt.Sprintf("%s: deleting a joined card: %v", href, err))
				}
				continue
			}
			delete(next, href)
			st.Removed++
		case delLeft:
			if err != nil {
				st.Failed = append(st.Failed, fmt.Sprintf("%s: deleting: %v", href, err))
				continue
			}
			st.Left = append(st.Left, d.lc)
			delete(next, href)
			st.Removed++
		case delDropped:
			if errors.Is(err, ErrConflict) {
				log.Info("card made on the target changed again; merged at the next sync", "target", t.Name(), "href", href)
				continue
			}
			if err != nil {
				st.Failed = append(st.Failed, fmt.Sprintf("%s: deleting a card merged into another: %v", href, err))
				continue
			}
			st.Removed++
			log.Info("card made on the target merged into its contact's card", "target", t.Name(), "href", href)
		}
	}
	if len(st.Failed) > 0 {
		// The first few, each naming its card: two cards that cannot be
		// read are both named, not one of them.
		const named = 5
		msgs := st.Failed[:min(len(st.Failed), named)]
		more := ""
		if n := len(st.Failed) - len(msgs); n > 0 {
			more = fmt.Sprintf(" (and %d more)", n)
		}
		return next, st, fmt.Errorf("target %q: %d of the writes failed: %s%s", t.Name(), len(st.Failed), strings.Join(msgs, "; "), more)
	}
	return next, st, nil
}

// reowned returns entries for a sync that could not reach the target: as
// they were, but the cards of contacts joined into another are that
// contact's, as a sync that wrote nothing leaves them, so the next sync
// folds them into its card (which contacts were joined is known only to
// the sync that joined them; the next would take such a card for that of
// a contact that left its sources).
func reowned(entries map[string]*TargetEntry, contacts []*Contact) map[string]*TargetEntry {
	by := map[string]string{}
	for _, c := range contacts {
		for _, uid := range c.Absorbed {
			by[uid] = c.UID
		}
	}
	var out map[string]*TargetEntry
	for href, e := range entries {
		to, ok := by[e.UID]
		if !ok || e.Group || e.Deleted {
			continue
		}
		if out == nil {
			out = maps.Clone(entries)
		}
		c := *e
		c.UID = to
		out[href] = &c
	}
	if out == nil {
		return entries
	}
	return out
}

// blocked reports whether one of the cards plan p writes, folds or drops
// could not be read: then none of them is touched this sync.
func blocked(p cardPlan, unreadable map[string]error) bool {
	if len(unreadable) == 0 {
		return false
	}
	if _, bad := unreadable[p.href]; bad {
		return true
	}
	for _, h := range slices.Concat(p.folds, p.drops) {
		if _, bad := unreadable[h]; bad {
			return true
		}
	}
	return false
}

// renameMembers points the members of every group card on t that name a
// card about to go (renamed: its UID → the UID of the card it merged into)
// at the card that stays, with conditional writes. It reports whether
// every group that needed it was written.
func (e *Engine) renameMembers(ctx context.Context, t Target, next map[string]*TargetEntry, renamed map[string]string,
	st *TargetStats, log *slog.Logger) bool {
	if len(renamed) == 0 {
		return true
	}
	ok := true
	for _, href := range sortedHrefs(next) {
		ent := next[href]
		if !ent.Group {
			continue
		}
		g, etag := ent.Card, ent.ETag
		for attempt := 0; ; attempt++ {
			want, changed := renameMembers(g, renamed)
			if !changed {
				break
			}
			newTag, err := t.Put(ctx, href, want, etag)
			if err == nil {
				next[href] = &TargetEntry{Group: true, ETag: newTag, Card: want, Hash: card.Hash(want)}
				st.Updated++
				log.Info("group members pointed at the cards they merged into", "target", t.Name(), "href", href)
				break
			}
			if errors.Is(err, ErrConflict) && attempt+1 < maxConflictRetries {
				got, gerr := t.Get(ctx, []string{href})
				if gerr == nil {
					cur, there := got[href]
					if !there {
						break // deleted meanwhile
					}
					g, etag = cur.Card, cur.ETag
					continue
				}
				err = gerr
			}
			st.Failed = append(st.Failed, fmt.Sprintf("%s: pointing group members at merged cards: %v", href, err))
			ok = false
			break
		}
	}
	return ok
}

// baseOf returns the golden card the entry's card was made from, and its
// hash: the base of the three-way merge. An entry from before kith kept it
// falls back on the contact's last golden card.
func baseOf(ent *TargetEntry, uid string, prevGolden func(uid string) (vcard.Card, string)) (vcard.Card, string) {
	if ent != nil && ent.Base != nil {
		return ent.Base, ent.BaseHash
	}
	return prevGolden(uid)
}

// refresh brings kith's own properties on an otherwise unchanged card up to
// date, writing only when one of them moved.
func (e *Engine) refresh(ctx context.Context, t Target, href string, c *Contact, base vcard.Card, ent *TargetEntry,
	annotate Annotator, log *slog.Logger) (writeResult, error) {
	if ent.Base == nil {
		// An entry from before bases were kept: its base is this golden card.
		e := *ent
		e.Base, e.BaseHash = c.Card, c.Hash
		ent = &e
	}
	if annotate == nil {
		return writeResult{entry: ent}, nil
	}
	want := annotate(c.UID, ent.Card)
	if sameKith(want, ent.Card) {
		return writeResult{entry: ent}, nil
	}
	// base is the golden card the target card was made from: the rebase
	// keeps every edit the user made there.
	return e.writeOne(ctx, t, href, c, base, ent, ent.ETag, nil, nil, annotate, log)
}

// sameKith reports whether a and b carry the same kith properties
// (X-KITH-*) and categories, the only values an annotator sets.
func sameKith(a, b vcard.Card) bool {
	names := map[string]bool{"CATEGORIES": true}
	for n := range a {
		if strings.HasPrefix(n, "X-KITH-") {
			names[n] = true
		}
	}
	for n := range b {
		if strings.HasPrefix(n, "X-KITH-") {
			names[n] = true
		}
	}
	for n := range names {
		if !slices.EqualFunc(a[n], b[n], func(x, y *vcard.Field) bool { return x.Value == y.Value && x.Group == y.Group }) {
			return false
		}
	}
	return true
}

// absorbedCard is the card of a contact that was joined into another.
type absorbedCard struct {
	href, etag string
	card       vcard.Card // as the target holds it
	base       vcard.Card // the golden card it was made from
}

// writeResult is what writing one card did.
type writeResult struct {
	entry                    *TargetEntry
	created, updated, edited bool
	// gone is set when the card was deleted on the target while kith
	// wrote it.
	gone bool
}

// writeOne makes href on the target show contact c, merging with the user's
// version of the card (cur, when the user changed it) and retrying after a
// conflict. It touches no shared state, so several can run at once.
func (e *Engine) writeOne(ctx context.Context, t Target, href string, c *Contact, base vcard.Card, ent *TargetEntry,
	etag string, cur *Entry, absorbed []absorbedCard, annotate Annotator, log *slog.Logger) (writeResult, error) {
	var res writeResult
	for attempt := 0; ; attempt++ {
		var user vcard.Card
		if cur != nil {
			user, etag = cur.Card, cur.ETag
			// Without an entry (state lost, or a crash before it was saved)
			// the card is kith's own: merged in, not counted as an edit.
			if !res.edited && ent != nil && card.Hash(user) != ent.Hash {
				// A card that is what kith makes of the one it knew is
				// kith's own write, whose ETag a sync stopped before it
				// saved: no edit of the user's.
				res.edited = ent.Card == nil || card.Hash(e.wantFor(c, base, ent.Card, absorbed, annotate)) != card.Hash(user)
			}
			if ent == nil {
				base = vcard.Card{} // nothing known: every source value counts as new
			}
		} else if ent != nil {
			user = ent.Card
		}
		want := e.wantFor(c, base, user, absorbed, annotate)
		hash := card.Hash(want)
		if res.edited && attempt == 0 {
			log.Info("card edited on target; edits kept", "target", t.Name(), "href", href, "uid", c.UID)
		}
		if user != nil && hash == card.Hash(user) && etag != "" {
			res.entry = &TargetEntry{UID: c.UID, ETag: etag, Card: want, Hash: hash, Base: c.Card, BaseHash: c.Hash}
			return res, nil
		}
		newTag, err := t.Put(ctx, href, want, etag)
		if err == nil {
			res.created, res.updated = etag == "", etag != ""
			res.entry = &TargetEntry{UID: c.UID, ETag: newTag, Card: want, Hash: hash, Base: c.Card, BaseHash: c.Hash}
			return res, nil
		}
		if !errors.Is(err, ErrConflict) || attempt+1 >= maxConflictRetries {
			return res, fmt.Errorf("%s: %w", href, err)
		}
		// Someone wrote in between: read again, merge again, retry.
		got, gerr := t.Get(ctx, []string{href})
		if gerr != nil {
			return res, fmt.Errorf("%s: re-reading after conflict: %w", href, gerr)
		}
		g, ok := got[href]
		if !ok && etag != "" {
			res.gone = true // deleted by the user meanwhile: never made again
			return res, nil
		}
		if ok {
			cur = &g
		} else {
			cur = nil
		}
	}
}

// wantFor returns the card kith writes for contact c over user, the card
// as the target holds it (nil: none), base being the golden card user was
// made from: the sources' changes merged with the user's edits, the
// absorbed cards' edits carried over, kith's properties set.
func (e *Engine) wantFor(c *Contact, base, user vcard.Card, absorbed []absorbedCard, annotate Annotator) vcard.Card {
	var want vcard.Card
	switch {
	case user == nil:
		want = c.Card
	case base == nil:
		want = e.merger.Rebase(vcard.Card{}, c.Card, user)
	default:
		want = e.merger.Rebase(base, c.Card, user)
	}
	for _, ab := range absorbed {
		// The absorbed card is the user's version of its contact: what
		// the user added there is carried onto this card.
		abBase := ab.base
		if abBase == nil {
			abBase = vcard.Card{}
		}
		want = e.merger.Rebase(abBase, want, ab.card)
	}
	// A card keeps its UID for good: the one the user's card has (a
	// card made on a phone), else the contact's. (want is a copy
	// whenever user is set.)
	if user != nil {
		if u := user.Value(vcard.FieldUID); u != "" && u != want.Value(vcard.FieldUID) {
			want.SetValue(vcard.FieldUID, u)
		}
	}
	want = card.ToV3(want)
	if annotate != nil {
		want = annotate(c.UID, want)
	}
	return want
}

func sortedHrefs[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
