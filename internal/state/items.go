package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	ksync "kith/sync"
)

// Items is the state database as the ItemStore of incremental interaction
// sources (tables item_boxes and items).
type Items struct {
	db *sql.DB
}

var _ ksync.ItemStore = (*Items)(nil)

// Items returns the store's ItemStore.
func (s *Store) Items() *Items { return &Items{db: s.db} }

// Cursors returns the cursor of each of source's boxes.
func (it *Items) Cursors(ctx context.Context, source string) (map[string]string, error) {
	rows, err := it.db.QueryContext(ctx, "SELECT box, cursor FROM item_boxes WHERE source = ?", source)
	if err != nil {
		return nil, fmt.Errorf("state: loading cursors of %q: %w", source, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var box, cur string
		if err := rows.Scan(&box, &cur); err != nil {
			return nil, fmt.Errorf("state: loading cursors of %q: %w", source, err)
		}
		out[box] = cur
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state: loading cursors of %q: %w", source, err)
	}
	return out, nil
}

// Items returns a box's items: key → data.
func (it *Items) Items(ctx context.Context, source, box string) (map[string][]byte, error) {
	rows, err := it.db.QueryContext(ctx, "SELECT item, data FROM items WHERE source = ? AND box = ?", source, box)
	if err != nil {
		return nil, fmt.Errorf("state: loading items of %q %s: %w", source, box, err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var key string
		var data []byte
		if err := rows.Scan(&key, &data); err != nil {
			return nil, fmt.Errorf("state: loading items of %q %s: %w", source, box, err)
		}
		out[key] = data
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state: loading items of %q %s: %w", source, box, err)
	}
	return out, nil
}

// Update applies the changes in one transaction.
func (it *Items) Update(ctx context.Context, source string, changes ...ksync.BoxChange) (err error) {
	tx, err := it.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state: saving items of %q: %w", source, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
			err = fmt.Errorf("state: saving items of %q: %w", source, err)
		}
	}()
	del, err := tx.PrepareContext(ctx, "DELETE FROM items WHERE source = ? AND box = ? AND item = ?")
	if err != nil {
		return err
	}
	defer del.Close()
	put, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO items(source, box, item, data) VALUES (?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer put.Close()
	for _, c := range changes {
		if c.Drop || c.Reset {
			if _, err = tx.ExecContext(ctx, "DELETE FROM items WHERE source = ? AND box = ?", source, c.Box); err != nil {
				return err
			}
		}
		if c.Drop {
			if _, err = tx.ExecContext(ctx, "DELETE FROM item_boxes WHERE source = ? AND box = ?", source, c.Box); err != nil {
				return err
			}
			continue
		}
		for _, k := range c.Delete {
			if _, err = del.ExecContext(ctx, source, c.Box, k); err != nil {
				return err
			}
		}
		for k, v := range c.Put {
			if v == nil {
				v = []byte{}
			}
			if _, err = put.ExecContext(ctx, source, c.Box, k, v); err != nil {
				return err
			}
		}
		if _, err = tx.ExecContext(ctx, "INSERT OR REPLACE INTO item_boxes(source, box, cursor) VALUES (?, ?, ?)", source, c.Box, c.Cursor); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Prune drops the boxes and items of every source not in keep (the
// configured calendars, mail and phone logs): a source removed from the
// config leaves nothing behind. It returns how many items went.
func (it *Items) Prune(ctx context.Context, keep []string) (n int64, err error) {
	list, err := json.Marshal(keep)
	if err != nil {
		return 0, err
	}
	tx, err := it.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("state: dropping items of removed sources: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
			err = fmt.Errorf("state: dropping items of removed sources: %w", err)
		}
	}()
	res, err := tx.ExecContext(ctx, "DELETE FROM items WHERE source NOT IN (SELECT value FROM json_each(?))", string(list))
	if err != nil {
		return 0, err
	}
	if n, err = res.RowsAffected(); err != nil {
		return 0, err
	}
	if _, err = tx.ExecContext(ctx, "DELETE FROM item_boxes WHERE source NOT IN (SELECT value FROM json_each(?))", string(list)); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}
