package daemon

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	gosync "sync"

	ksync "kith/sync"
	"kith/sync/card"
)

// newOnTarget reads the cards a user made on target t (in a phone's
// contacts app, in khard): entries kith did not write. They become records
// of a source named like the target, so they join dedup like any other
// record (listing is the target's List); once merged, the contact's own card replaces them (removeAdopted).
// The snapshot is incremental: such a record stays when its card is gone,
// because its content lives on in the merged card. It also returns the
// ETags of those entries.
func newOnTarget(ctx context.Context, t ksync.Target, prev *ksync.State, listing map[string]string) (ksync.Snapshot, map[string]string, error) {
	snap := ksync.Snapshot{Source: t.Name(), Cursor: prev.Cursors[t.Name()]}
	known := prev.Targets[t.Name()]
	var hrefs []string
	for href := range listing {
		if _, ok := known[href]; ok {
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
		return snap, nil, nil
	}
	slices.Sort(hrefs)
	got, err := t.Get(ctx, hrefs)
	if err != nil {
		return snap, nil, err
	}
	tags := map[string]string{}
	for _, href := range hrefs {
		e, ok := got[href]
		if !ok {
			continue
		}
		snap.Records = append(snap.Records, ksync.Record{
			Source: t.Name(), ID: href, Card: e.Card, Hash: card.Hash(e.Card), Seen: card.Revision(e.Card),
		})
		tags[href] = e.ETag
	}
	return snap, tags, nil
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

// removeAdopted deletes the cards users made on the targets once their
// contact's merged card stands on that target, so the person shows once.
// A card edited again in the meantime stays and is read again next time.
func removeAdopted(ctx context.Context, targets []ksync.Target, adopted map[string]map[string]string, out *ksync.Outcome, log *slog.Logger) {
	for _, t := range targets {
		for href, etag := range adopted[t.Name()] {
			r := out.State.Records[ksync.RecordKey{Source: t.Name(), ID: href}]
			if r == nil {
				continue
			}
			if e := out.State.Targets[t.Name()][r.UID+".vcf"]; e == nil || e.Deleted {
				continue // the merged card is not there (yet): keep the user's
			}
			if err := t.Delete(ctx, href, etag); err != nil {
				log.Info("card made on the target not removed yet", "target", t.Name(), "href", href, "err", err)
				continue
			}
			log.Info("card made on the target merged into its contact", "target", t.Name(), "href", href, "uid", r.UID)
		}
	}
}
