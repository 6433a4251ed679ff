package davserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	gosync "sync"
	"time"
)

// tombstoneRetention is how long a deleted card is remembered for
// sync-collection. A client whose token is older than the oldest forgotten
// tombstone gets 403 valid-sync-token and lists the book afresh.
const tombstoneRetention = 90 * 24 * time.Hour

var (
	// errPrecondition is a failed If-Match / If-None-Match (HTTP 412).
	errPrecondition = errors.New("precondition failed")
	// errNotFound is a card that does not exist.
	errNotFound = errors.New("no such card")
)

// uidConflictError is a write whose UID another card of the book has
// already (RFC 6352 no-uid-conflict).
type uidConflictError struct {
	UID, Href string
}

func (e *uidConflictError) Error() string {
	return fmt.Sprintf("UID %q is already used by card %s", e.UID, e.Href)
}

// cond is the condition a write is made under.
type cond struct {
	// ifMatch lists the ETags the card must have now; "*" means it must
	// exist. Empty: no condition.
	ifMatch []string
	// ifNoneMatch lists the ETags the card must not have; "*" means it must
	// not exist.
	ifNoneMatch []string
}

// check returns errPrecondition unless a card whose current ETag is etag
// (exists false: no card) satisfies c. The ETag of any representation of
// the card (its 3.0 or 4.0 rendering) names the card.
func (c cond) check(exists bool, etag string) error {
	if len(c.ifMatch) > 0 {
		if !exists {
			return errPrecondition
		}
		ok := false
		for _, m := range c.ifMatch {
			if m == "*" || storedETag(m) == etag {
				ok = true
			}
		}
		if !ok {
			return errPrecondition
		}
	}
	for _, m := range c.ifNoneMatch {
		if exists && (m == "*" || storedETag(m) == etag) {
			return errPrecondition
		}
	}
	return nil
}

// stored is one card row.
type stored struct {
	Href string
	UID  string
	ETag string
	// Version is the card's VERSION (storedVersion); each can read it
	// without Data.
	Version  string
	Data     []byte
	Rev      int64
	Modified time.Time
	Deleted  bool
}

// store is the book in the state database. Writes are serialised by mu
// (the server is the only writer of its tables) and each runs in one
// IMMEDIATE transaction, which makes the ETag check and the write one step.
type store struct {
	db  *sql.DB
	now func() time.Time
	mu  gosync.Mutex
}

// bookState is what a sync token is made of.
type bookState struct {
	// Epoch names this database's book, so that a token from a book that
	// was reset is refused instead of misread.
	Epoch string
	// Rev is the revision of the last change.
	Rev int64
	// Floor is the oldest revision a token may carry: tombstones of older
	// changes were forgotten.
	Floor int64
	// Name is the book's display name as a client set it (PROPPATCH);
	// "" when none did.
	Name string
}

func newStore(ctx context.Context, db *sql.DB, now func() time.Time) (*store, error) {
	s := &store{db: db, now: now}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("making book epoch: %w", err)
	}
	for k, v := range map[string]string{"epoch": hex.EncodeToString(b[:]), "rev": "0", "floor": "0"} {
		if _, err := db.ExecContext(ctx, `INSERT OR IGNORE INTO dav_meta(key, value) VALUES (?, ?)`, k, v); err != nil {
			return nil, fmt.Errorf("initialising book: %w", err)
		}
	}
	return s, nil
}

// etagOf is the ETag of stored card data: equal bytes, equal ETag, so that
// rewriting a card with what it holds changes nothing a client can see.
func etagOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readState(ctx context.Context, q querier) (bookState, error) {
	var st bookState
	var rev, floor string
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT value FROM dav_meta WHERE key = 'epoch'),
		(SELECT value FROM dav_meta WHERE key = 'rev'),
		(SELECT value FROM dav_meta WHERE key = 'floor'),
		coalesce((SELECT value FROM dav_meta WHERE key = 'displayname'), '')`).Scan(&st.Epoch, &rev, &floor, &st.Name)
	if err != nil {
		return st, fmt.Errorf("reading book revision: %w", err)
	}
	if st.Rev, err = strconv.ParseInt(rev, 10, 64); err != nil {
		return st, fmt.Errorf("reading book revision: %w", err)
	}
	if st.Floor, err = strconv.ParseInt(floor, 10, 64); err != nil {
		return st, fmt.Errorf("reading book revision: %w", err)
	}
	return st, nil
}

// state returns the book's current revision.
func (s *store) state(ctx context.Context) (bookState, error) { return readState(ctx, s.db) }

// get returns the card at href; errNotFound when there is none.
func (s *store) get(ctx context.Context, href string) (stored, error) {
	st := stored{Href: href}
	var mod int64
	err := s.db.QueryRowContext(ctx,
		`SELECT uid, etag, data, rev, modified FROM dav_cards WHERE href = ? AND deleted = 0`, href).
		Scan(&st.UID, &st.ETag, &st.Data, &st.Rev, &mod)
	if errors.Is(err, sql.ErrNoRows) {
		return st, errNotFound
	}
	if err != nil {
		return st, fmt.Errorf("reading card %s: %w", href, err)
	}
	st.Modified = time.Unix(mod, 0)
	st.Version = storedVersion(st.Data)
	return st, nil
}

// each calls fn for every card changed after revision since (0: every
// card), tombstones included when since > 0, in revision order. read says
// what is read of the cards' content. fn must not call back into the store.
func (s *store) each(ctx context.Context, since int64, read reading, fn func(stored) error) error {
	data := "NULL"
	switch read {
	case readData:
		data = "data"
	case readVersion:
		// Reading a value loads it whole, photo included: only when
		// the version matters (a client that gets conversions).
		data = "substr(data, 1, " + strconv.Itoa(versionHead) + ")"
	}
	q := `SELECT href, uid, etag, ` + data + `, rev, modified, deleted FROM dav_cards WHERE rev > ?`
	if since == 0 {
		q += ` AND deleted = 0`
	}
	q += ` ORDER BY rev`
	rows, err := s.db.QueryContext(ctx, q, since)
	if err != nil {
		return fmt.Errorf("listing cards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st stored
		var mod int64
		if err := rows.Scan(&st.Href, &st.UID, &st.ETag, &st.Data, &st.Rev, &mod, &st.Deleted); err != nil {
			return fmt.Errorf("listing cards: %w", err)
		}
		st.Modified = time.Unix(mod, 0)
		st.Version = storedVersion(st.Data)
		if read != readData {
			st.Data = nil
		}
		if err := fn(st); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing cards: %w", err)
	}
	return nil
}

// reading is what each reads of a card's content.
type reading int

const (
	readNone    reading = iota // nothing: Data nil, Version ""
	readVersion                // Version only
	readData                   // Data and Version
)

// list returns every card's href and ETag.
func (s *store) list(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := s.each(ctx, 0, readNone, func(st stored) error {
		out[st.Href] = st.ETag
		return nil
	})
	return out, err
}

// put stores data as the card at href under condition c. uid is the card's
// UID. It returns the card's ETag and whether the card is new. Writing the
// bytes a card already holds changes nothing and keeps its revision.
func (s *store) put(ctx context.Context, href, uid string, data []byte, c cond) (etag string, created bool, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT etag FROM dav_cards WHERE href = ? AND deleted = 0`, href).Scan(&cur)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := c.check(exists, cur); err != nil {
			return err
		}
		var other string
		err = tx.QueryRowContext(ctx, `SELECT href FROM dav_cards WHERE uid = ? AND deleted = 0 AND href <> ?`, uid, href).Scan(&other)
		if err == nil {
			return &uidConflictError{UID: uid, Href: other}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		etag, created = etagOf(data), !exists
		if exists && etag == cur {
			return nil
		}
		rev, err := bump(ctx, tx)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO dav_cards(href, uid, etag, data, rev, modified, deleted)
			VALUES (?, ?, ?, ?, ?, ?, 0)`, href, uid, etag, data, rev, s.now().Unix())
		return err
	})
	if err != nil {
		return "", false, wrapWrite("writing card "+href, err)
	}
	return etag, created, nil
}

// remove deletes the card at href under condition c, leaving a tombstone.
// A card that does not exist gives errNotFound (errPrecondition when c asks
// for an ETag).
func (s *store) remove(ctx context.Context, href string, c cond) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT etag FROM dav_cards WHERE href = ? AND deleted = 0`, href).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			if len(c.ifMatch) > 0 {
				return errPrecondition
			}
			return errNotFound
		}
		if err != nil {
			return err
		}
		if err := c.check(true, cur); err != nil {
			return err
		}
		rev, err := bump(ctx, tx)
		if err != nil {
			return err
		}
		now := s.now()
		_, err = tx.ExecContext(ctx, `UPDATE dav_cards SET etag = '', data = NULL, rev = ?, modified = ?, deleted = 1
			WHERE href = ?`, rev, now.Unix(), href)
		if err != nil {
			return err
		}
		return prune(ctx, tx, now.Add(-tombstoneRetention))
	})
	if err != nil {
		return wrapWrite("deleting card "+href, err)
	}
	return nil
}

// wrapWrite names the write in a database error; the store's own outcomes
// (errPrecondition, errNotFound, a UID conflict) are returned as they are.
func wrapWrite(what string, err error) error {
	var uc *uidConflictError
	if errors.Is(err, errPrecondition) || errors.Is(err, errNotFound) || errors.As(err, &uc) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// maxWriteWait bounds how long a write keeps waiting for another writer of
// the database (a sync saving its state) once busy_timeout has run out.
const maxWriteWait = 2 * time.Minute

// write runs fn in a write transaction and commits it. The database must be
// opened so that transactions begin IMMEDIATE (state.Open does): the write
// lock is taken at BEGIN, where SQLite's busy_timeout waits for another
// writer, never in the middle, where it would fail at once with "database
// is locked". A transaction still refused as busy is tried again, so that a
// client's write waits for a long sync instead of failing; writes of the
// server itself are serialised by mu.
func (s *store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	deadline := time.Now().Add(maxWriteWait)
	for {
		err := s.tryWrite(ctx, fn)
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (s *store) tryWrite(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// SQLite's primary result codes that the server answers in a status of
// their own.
const (
	sqliteBusy   = 5  // SQLITE_BUSY: another writer holds the lock
	sqliteLocked = 6  // SQLITE_LOCKED
	sqliteFull   = 13 // SQLITE_FULL: the disk (or the database's page limit) is full
)

// sqliteCode returns the primary SQLite result code in err's chain, 0 when
// there is none.
func sqliteCode(err error) int {
	var se interface{ Code() int }
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

func isBusy(err error) bool {
	c := sqliteCode(err)
	return c == sqliteBusy || c == sqliteLocked
}

// setName stores the book's display name; "" removes it, so that the
// configured name shows again.
func (s *store) setName(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if name == "" {
			_, err = tx.ExecContext(ctx, `DELETE FROM dav_meta WHERE key = 'displayname'`)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO dav_meta(key, value) VALUES ('displayname', ?)`, name)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("renaming the book: %w", err)
	}
	return nil
}

// bump increments the book's revision and returns the new one.
func bump(ctx context.Context, tx *sql.Tx) (int64, error) {
	var rev int64
	err := tx.QueryRowContext(ctx,
		`UPDATE dav_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'rev' RETURNING CAST(value AS INTEGER)`).Scan(&rev)
	if err != nil {
		return 0, fmt.Errorf("bumping book revision: %w", err)
	}
	return rev, nil
}

// prune forgets tombstones older than before and raises the floor below
// which sync tokens are refused.
func prune(ctx context.Context, tx *sql.Tx, before time.Time) error {
	var maxRev sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT max(rev) FROM dav_cards WHERE deleted = 1 AND modified < ?`, before.Unix()).Scan(&maxRev)
	if err != nil || !maxRev.Valid {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM dav_cards WHERE deleted = 1 AND rev <= ?`, maxRev.Int64); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE dav_meta SET value = ? WHERE key = 'floor' AND CAST(value AS INTEGER) < ?`,
		strconv.FormatInt(maxRev.Int64, 10), maxRev.Int64)
	return err
}
