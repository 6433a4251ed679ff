package daemon

import (
	"context"
	"fmt"
	"slices"
	"strings"
	gosync "sync"

	ksync "kith/sync"
	"kith/sync/card"
)

// newOnTarget reads the cards a user made on target t (in a phone's
// contacts app, in khard): entries kith does not know. They become records
// of a source named like the target, so they join dedup like any other
// record (listing is the target's List); SyncTarget then writes the merged
// contact onto that very card (adoption in place: same href, same UID).
// A card that cannot be read (it does not decode; in a vdir folder, a
// FIFO, a symbolic link, a file over the card size limit) is a Problem of
// the snapshot, so the sync names it among its skipped items; it is left
// as it is and read again next sync. The snapshot is incremental. A card
// adopted in place that the user deleted since (kith knew it, now it is
// gone) leaves its record with it;
// a record whose card is gone for another reason (adopted before cards
// were adopted in place: kith deleted it) stays, its content living on in
// the merged card.
func newOnTarget(ctx context.Context, t ksync.Target, prev *ksync.State, listing map[string]string) (ksync.Snapshot, error) {
	snap := ksync.Snapshot{Source: t.Name(), Cursor: prev.Cursors[t.Name()]}
	known := prev.Targets[t.Name()]
	// A card kith folded into another of its contact's and deleted in a
	// sync that stopped before it saved: its record stays, as it would
	// have (taken from the recorded delete when it was new then).
	folded := map[string]bool{}
	for href, p := range prev.Pending[t.Name()] {
		if _, there := listing[href]; there || p.Kind != ksync.IntentFold || strings.HasPrefix(href, ksync.UIDPrefix) {
			continue
		}
		folded[href] = true
		if _, ok := prev.Records[ksync.RecordKey{Source: t.Name(), ID: href}]; !ok && p.Card != nil {
			snap.Records = append(snap.Records, ksync.Record{
				Source: t.Name(), ID: href, Card: p.Card, Hash: card.Hash(p.Card), Seen: card.Revision(p.Card),
			})
		}
	}
	for k := range prev.Records {
		if k.Source != t.Name() {
			continue
		}
		if _, there := listing[k.ID]; !there && known[k.ID] != nil && !folded[k.ID] {
			snap.Deleted = append(snap.Deleted, k.ID)
		}
	}
	slices.Sort(snap.Deleted)
	var hrefs []string
	for href, etag := range listing {
		if _, ok := known[href]; ok {
			continue
		}
		if p := prev.Pending[t.Name()][href]; p != nil && p.Kind == ksync.IntentAdopt && p.Card != nil && p.ETag != etag {
			// Written by a sync that stopped before it saved: its record
			// is the card as the user made it, not kith's merged one.
			snap.Records = append(snap.Records, ksync.Record{
				Source: t.Name(), ID: href, Card: p.Card, Hash: card.Hash(p.Card), Seen: card.Revision(p.Card),
			})
			continue
		}
		if strings.HasPrefix(href, ksync.UIDPrefix) {
			// kith's own card, written before a crash stopped the sync that
			// wrote it: the UID comes back and SyncTarget takes the card over.
			continue
		}
		hrefs = append(hrefs, href)
	}
	if len(hrefs) == 0 {
		slices.SortFunc(snap.Records, func(a, b ksync.Record) int { return strings.Compare(a.ID, b.ID) })
		return snap, nil
	}
	slices.Sort(hrefs)
	got, bad, err := ksync.GetEach(ctx, t, hrefs)
	if err != nil {
		return snap, err
	}
	for _, href := range hrefs {
		if err := bad[href]; err != nil {
			snap.Problems = append(snap.Problems, ksync.Problem{Source: t.Name(), ID: href, Err: fmt.Errorf("a card made on the target that cannot be read, left as it is: %w", err)})
			continue
		}
		e, ok := got[href]
		if !ok || ksync.IsGroup(e.Card) {
			continue // a group is no person: SyncTarget keeps it as it is
		}
		snap.Records = append(snap.Records, ksync.Record{
			Source: t.Name(), ID: href, Card: e.Card, Hash: card.Hash(e.Card), Seen: card.Revision(e.Card),
		})
	}
	slices.SortFunc(snap.Records, func(a, b ksync.Record) int { return strings.Compare(a.ID, b.ID) })
	return snap, nil
}

// listedTarget hands the listing newOnTarget made to the sync that follows
// it, so that a target is listed once a sync. A second List (after cards
// were written) asks the target again.
type listedTarget struct {
	ksync.Target
	listing map[string]string
	mu      gosync.Mutex
}

// List returns the listing made before, once, then the target's own.
func (l *listedTarget) List(ctx context.Context) (map[string]string, error) {
	l.mu.Lock()
	listing := l.listing
	l.listing = nil
	l.mu.Unlock()
	if listing != nil {
		return listing, nil
	}
	return l.Target.List(ctx)
}

// MaxParallel passes the target's bound on parallel writes through.
func (l *listedTarget) MaxParallel() int {
	if pt, ok := l.Target.(ksync.ParallelTarget); ok {
		return pt.MaxParallel()
	}
	return 1
}
