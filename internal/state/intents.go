package state

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/emersion/go-vcard"

	ksync "kith/sync"
	"kith/sync/card"
)

// RecordIntents stores the deletes kith is about to make on target, before
// it makes them (ksync.Intents.Record): a sync that stops before its Save
// leaves them for the next, which finishes them. The commit is synced to
// disk (synchronous FULL), so that not even a power cut keeps a delete and
// loses its record.
func (s *Store) RecordIntents(ctx context.Context, target string, ds []*ksync.Intent) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("state: recording intents on target %q: %w", target, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
		return fmt.Errorf("state: recording intents on target %q: %w", target, err)
	}
	// The connection goes back to the pool as the others are (were this
	// to fail, it would only sync more often).
	defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = NORMAL")
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state: recording intents on target %q: %w", target, err)
	}
	defer tx.Rollback()
	for _, d := range ds {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO target_intents(target, href, kind, uid, etag, card, base)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, target, d.Href, string(d.Kind), d.UID, d.ETag, encodeOrNil(d.Card), encodeOrNil(d.Base)); err != nil {
			return fmt.Errorf("state: recording the intent for %s on target %q: %w", d.Href, target, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("state: recording intents on target %q: %w", target, err)
	}
	return nil
}

func encodeOrNil(c vcard.Card) []byte {
	if c == nil {
		return nil
	}
	return card.EncodeBytes(c)
}

func (s *Store) loadPending(ctx context.Context, st *ksync.State) error {
	rows, err := s.db.QueryContext(ctx, "SELECT target, href, kind, uid, etag, card, base FROM target_intents")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var target, kind string
		var d ksync.Intent
		var c, b []byte
		if err := rows.Scan(&target, &d.Href, &kind, &d.UID, &d.ETag, &c, &b); err != nil {
			return err
		}
		d.Kind = ksync.IntentKind(kind)
		if len(c) > 0 {
			if d.Card, err = card.Decode(c); err != nil {
				return fmt.Errorf("target %q: %s: %w", target, d.Href, err)
			}
		}
		if len(b) > 0 {
			if d.Base, err = card.Decode(b); err != nil {
				return fmt.Errorf("target %q: %s: %w", target, d.Href, err)
			}
		}
		if st.Pending[target] == nil {
			st.Pending[target] = map[string]*ksync.Intent{}
		}
		st.Pending[target][d.Href] = &d
	}
	return rows.Err()
}

// savePending replaces the recorded deletes with next's: the sync saved
// settled the others (or made them itself). A nil next.Pending leaves them.
func savePending(w *writer, _, next *ksync.State) error {
	if next.Pending == nil {
		return nil
	}
	if err := w.exec("DELETE FROM target_intents"); err != nil {
		return fmt.Errorf("target intents: %w", err)
	}
	for _, target := range slices.Sorted(maps.Keys(next.Pending)) {
		for _, href := range slices.Sorted(maps.Keys(next.Pending[target])) {
			d := next.Pending[target][href]
			if err := w.exec(`INSERT INTO target_intents(target, href, kind, uid, etag, card, base) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				target, href, string(d.Kind), d.UID, d.ETag, encodeOrNil(d.Card), encodeOrNil(d.Base)); err != nil {
				return fmt.Errorf("intent for %s on target %q: %w", href, target, err)
			}
		}
	}
	return nil
}
