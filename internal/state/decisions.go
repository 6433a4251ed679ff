package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	ksync "kith/sync"
	"kith/sync/card"
)

// Decision is a user's ruling on two records: keep them apart (split) or
// put them together (join). Later syncs never redo a decision.
type Decision struct {
	ID int64
	// Together is true for a join, false for a split.
	Together bool
	// A and B are record keys, "source:id".
	A, B string
	// Made is when the user made it.
	Made time.Time
	// Batch groups the decisions one command made, so that one undo takes
	// them all back.
	Batch int64
}

// AddDecisions stores decisions made by one command and returns the batch
// number that undoes them together.
func (s *Store) AddDecisions(ctx context.Context, ds []Decision) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("state: %w", err)
	}
	defer tx.Rollback()
	var batch int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) + 1 FROM decisions").Scan(&batch); err != nil {
		return 0, fmt.Errorf("state: %w", err)
	}
	for _, d := range ds {
		kind := "apart"
		if d.Together {
			kind = "together"
		}
		made := d.Made
		if made.IsZero() {
			made = time.Now()
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO decisions(kind, a, b, made, batch) VALUES (?, ?, ?, ?, ?)",
			kind, d.A, d.B, made.Unix(), batch); err != nil {
			return 0, fmt.Errorf("state: storing decision: %w", err)
		}
	}
	return batch, tx.Commit()
}

// Decisions returns the decisions in force (not undone), oldest first.
func (s *Store) Decisions(ctx context.Context) ([]Decision, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, kind, a, b, made, batch FROM decisions WHERE undone IS NULL ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("state: loading decisions: %w", err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		var d Decision
		var kind string
		var made int64
		if err := rows.Scan(&d.ID, &kind, &d.A, &d.B, &made, &d.Batch); err != nil {
			return nil, err
		}
		d.Together, d.Made = kind == "together", time.Unix(made, 0).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// ErrNothingToUndo is returned by Undo when no decision is in force.
var ErrNothingToUndo = errors.New("no decision to undo")

// Undo takes back the decisions of batch, or of the newest batch when batch
// is 0, and returns them.
func (s *Store) Undo(ctx context.Context, batch int64) ([]Decision, error) {
	if batch == 0 {
		var b sql.NullInt64
		if err := s.db.QueryRowContext(ctx, "SELECT MAX(batch) FROM decisions WHERE undone IS NULL").Scan(&b); err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		if !b.Valid {
			return nil, ErrNothingToUndo
		}
		batch = b.Int64
	}
	all, err := s.Decisions(ctx)
	if err != nil {
		return nil, err
	}
	var undone []Decision
	for _, d := range all {
		if d.Batch == batch {
			undone = append(undone, d)
		}
	}
	if len(undone) == 0 {
		return nil, fmt.Errorf("%w: no decision %d in force", ErrNothingToUndo, batch)
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE decisions SET undone = ? WHERE batch = ? AND undone IS NULL", time.Now().Unix(), batch); err != nil {
		return nil, fmt.Errorf("state: undoing: %w", err)
	}
	return undone, nil
}

// Restore forgets that the user deleted uid's card on the targets, so the
// next sync writes it again. It returns how many targets held a tombstone.
func (s *Store) Restore(ctx context.Context, uid string) (int, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM target_entries WHERE uid = ? AND deleted = 1", uid)
	if err != nil {
		return 0, fmt.Errorf("state: restoring %s: %w", uid, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// RestoreLeft brings back the contact l that left every source: it becomes
// a record of ksync.RestoredSource carrying its card (with what the user
// wrote on it) and its UID, so the next sync merges and writes it again.
func (s *Store) RestoreLeft(ctx context.Context, l *ksync.LeftContact, now time.Time) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state: restoring %s: %w", l.UID, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
			err = fmt.Errorf("state: restoring %s: %w", l.UID, err)
		}
	}()
	if _, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO records(source, id, hash, card, seen, scanned, first_seen, uid)
		VALUES (?, ?, ?, ?, 0, 0, ?, ?)`, ksync.RestoredSource, l.UID, card.Hash(l.Card), card.EncodeBytes(l.Card), now.Unix(), l.UID); err != nil {
		return err
	}
	if _, err = tx.ExecContext(ctx, "DELETE FROM left_contacts WHERE uid = ?", l.UID); err != nil {
		return err
	}
	// A record appeared that no source read: the next sync must merge.
	if _, err = tx.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", ksync.MetaFingerprint); err != nil {
		return err
	}
	return tx.Commit()
}
