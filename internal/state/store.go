package state

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	gosync "sync"
	"time"

	"github.com/emersion/go-vcard"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	ksync "kith/sync"
	"kith/sync/card"
)

// FileName is the database's name inside the state folder.
const FileName = "kith.db"

// Store is the state database. Its methods are safe for concurrent use, but
// kith runs one sync at a time (the daemon's lock).
type Store struct {
	db *sql.DB
}

// Open opens the database in dir and migrates its schema to the newest
// version. When dir holds no database, a new one is made. An existing file
// that is not a whole, writable kith database (empty, truncated, damaged,
// another program's, read-only) is refused with an error saying so, never
// replaced: it holds the user's deletions and decisions.
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state: creating %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	exists, err := checkFile(path)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if !exists {
		if err := create(ctx, path); err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
	}
	q := url.Values{}
	q.Set("mode", "rw") // made by create: never made here
	// WAL with synchronous NORMAL: every commit is atomic and the database
	// always consistent; a power cut may lose the last sync, which the
	// next one redoes (it takes over the cards it finds already written).
	// WAL is a property of the file, set by create and checked by
	// checkFile; asking for it again (journal_mode) would cost every
	// process start 2-3 ms for nothing.
	for _, p := range []string{"busy_timeout(10000)", "synchronous(NORMAL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	// Every transaction is a write transaction that takes the write lock at
	// BEGIN, where busy_timeout applies: a deferred one that reads first
	// fails at once with "database is locked" when another writer (the
	// embedded server, a sync) committed in between.
	q.Set("_txlock", "immediate")
	// The WAL is checkpointed after every sync (Checkpoint) and kept small.
	q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walLimit))
	q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walAutoCheckpoint))
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("state: opening %s: %w", path, err)
	}
	s := &Store{db: db}
	if _, err := checkSchema(ctx, db, path); err != nil {
		db.Close()
		return nil, fmt.Errorf("state: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("state: %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB returns the database handle, for the packages that keep their own
// tables in it (decisions, interactions, report history).
func (s *Store) DB() *sql.DB { return s.db }

func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this kith knows (%d): upgrade kith", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrating schema to version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrating schema to version %d: %w", v+1, err)
		}
	}
	return nil
}

// Version returns the schema version.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// Load reads the whole state.
func (s *Store) Load(ctx context.Context) (*ksync.State, error) {
	st := ksync.NewState()
	if err := s.loadRecords(ctx, st); err != nil {
		return nil, fmt.Errorf("state: loading records: %w", err)
	}
	if err := s.loadContacts(ctx, st); err != nil {
		return nil, fmt.Errorf("state: loading contacts: %w", err)
	}
	if err := s.loadTargets(ctx, st); err != nil {
		return nil, fmt.Errorf("state: loading target entries: %w", err)
	}
	if err := s.loadInteractions(ctx, st); err != nil {
		return nil, fmt.Errorf("state: loading interactions: %w", err)
	}
	if err := s.loadHistory(ctx, st); err != nil {
		return nil, fmt.Errorf("state: loading report history: %w", err)
	}
	if err := s.loadMeta(ctx, st); err != nil {
		return nil, fmt.Errorf("state: loading meta: %w", err)
	}
	if err := s.loadLeft(ctx, st); err != nil {
		return nil, fmt.Errorf("state: loading contacts that left their sources: %w", err)
	}
	if err := s.loadPending(ctx, st); err != nil {
		return nil, fmt.Errorf("state: loading target intents: %w", err)
	}
	cursors, err := s.Cursors(ctx)
	if err != nil {
		return nil, err
	}
	st.Cursors = cursors
	return st, nil
}

func (s *Store) loadRecords(ctx context.Context, st *ksync.State) error {
	rows, err := s.db.QueryContext(ctx, "SELECT source, id, hash, card, seen, scanned, first_seen, uid FROM records")
	if err != nil {
		return err
	}
	defer rows.Close()
	var recs []*ksync.StoredRecord
	var data [][]byte
	for rows.Next() {
		var r ksync.StoredRecord
		var d []byte
		var seen, first int64
		if err := rows.Scan(&r.Source, &r.ID, &r.Hash, &d, &seen, &r.Scanned, &first, &r.UID); err != nil {
			return err
		}
		r.Seen, r.FirstSeen = fromUnix(seen), fromUnix(first)
		recs, data = append(recs, &r), append(data, d)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Cards stay raw until a merge needs them (State.DecodeRecords).
	for i, r := range recs {
		r.Raw = data[i]
		st.Records[r.Key()] = r
	}
	return nil
}

// decodeAll decodes cards on every CPU (the state holds thousands) and
// hands each to use, in order, stopping at the first error use returns.
func decodeAll(data [][]byte, use func(i int, c vcard.Card, err error) error) error {
	cards := make([]vcard.Card, len(data))
	errs := make([]error, len(data))
	workers := min(runtime.GOMAXPROCS(0), len(data)/64+1)
	var wg gosync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(data); i += workers {
				if len(data[i]) > 0 {
					cards[i], errs[i] = card.Decode(data[i])
				}
			}
		}()
	}
	wg.Wait()
	for i := range data {
		if err := use(i, cards[i], errs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) loadContacts(ctx context.Context, st *ksync.State) error {
	rows, err := s.db.QueryContext(ctx, "SELECT uid, hash, card, created, reasons FROM contacts")
	if err != nil {
		return err
	}
	defer rows.Close()
	var cs []*ksync.StoredContact
	var data [][]byte
	for rows.Next() {
		var c ksync.StoredContact
		var d []byte
		var created int64
		var reasons string
		if err := rows.Scan(&c.UID, &c.Hash, &d, &created, &reasons); err != nil {
			return err
		}
		c.Created = fromUnix(created)
		if err := json.Unmarshal([]byte(reasons), &c.Reasons); err != nil {
			return fmt.Errorf("contact %s: reasons: %w", c.UID, err)
		}
		cs, data = append(cs, &c), append(data, d)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	err = decodeAll(data, func(i int, c vcard.Card, err error) error {
		if err != nil {
			return fmt.Errorf("contact %s: %w", cs[i].UID, err)
		}
		cs[i].Card = c
		st.Contacts[cs[i].UID] = cs[i]
		return nil
	})
	if err != nil {
		return err
	}
	for k, r := range st.Records {
		if c := st.Contacts[r.UID]; c != nil {
			c.Members = append(c.Members, k)
		}
	}
	for _, c := range st.Contacts {
		slices.SortFunc(c.Members, func(a, b ksync.RecordKey) int {
			return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
		})
	}
	return nil
}

func (s *Store) loadTargets(ctx context.Context, st *ksync.State) error {
	rows, err := s.db.QueryContext(ctx, "SELECT target, href, uid, etag, hash, card, deleted, base, base_hash, is_group FROM target_entries")
	if err != nil {
		return err
	}
	defer rows.Close()
	type key struct{ target, href string }
	var keys []key
	var es []*ksync.TargetEntry
	var data [][]byte // each entry's card, then its base
	for rows.Next() {
		var k key
		var e ksync.TargetEntry
		var d, b []byte
		if err := rows.Scan(&k.target, &k.href, &e.UID, &e.ETag, &e.Hash, &d, &e.Deleted, &b, &e.BaseHash, &e.Group); err != nil {
			return err
		}
		keys, es, data = append(keys, k), append(es, &e), append(data, d, b)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return decodeAll(data, func(i int, c vcard.Card, err error) error {
		k := keys[i/2]
		if err != nil {
			return fmt.Errorf("target %q: %s: %w", k.target, k.href, err)
		}
		if i%2 == 1 {
			es[i/2].Base = c
			return nil
		}
		i /= 2
		es[i].Card = c
		if st.Targets[k.target] == nil {
			st.Targets[k.target] = map[string]*ksync.TargetEntry{}
		}
		st.Targets[k.target][k.href] = es[i]
		return nil
	})
}

// Cursors returns each source's cursor, which is all a source needs to
// start reading while the rest of the state loads.
func (s *Store) Cursors(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	if err := s.loadValues(ctx, out, "cursors", "SELECT source, cursor, parts FROM cursors"); err != nil {
		return nil, fmt.Errorf("state: loading cursors: %w", err)
	}
	return out, nil
}

// loadValues puts the rows query gives of table (cursors or meta: key,
// value, parts) into m, joining the values stored in parts.
func (s *Store) loadValues(ctx context.Context, m map[string]string, table, query string, args ...any) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	parted := map[string][]byte{}
	for rows.Next() {
		var k, v string
		var parts []byte
		if err := rows.Scan(&k, &v, &parts); err != nil {
			rows.Close()
			return err
		}
		if parts != nil {
			parted[k] = parts
		}
		m[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for k, list := range parted {
		if m[k], err = joinParts(ctx, s.db, table, k, list); err != nil {
			return err
		}
	}
	return nil
}

// Meta returns State.Meta alone.
func (s *Store) Meta(ctx context.Context) (map[string]string, error) {
	st := ksync.NewState()
	if err := s.loadMeta(ctx, st); err != nil {
		return nil, fmt.Errorf("state: loading meta: %w", err)
	}
	return st.Meta, nil
}

// ContactNames returns every contact's display name by UID, without
// reading a card.
func (s *Store) ContactNames(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT uid, name FROM contacts")
	if err != nil {
		return nil, fmt.Errorf("state: loading contact names: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var uid, name string
		if err := rows.Scan(&uid, &name); err != nil {
			return nil, fmt.Errorf("state: loading contact names: %w", err)
		}
		out[uid] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state: loading contact names: %w", err)
	}
	return out, nil
}

// Light is the part of the state that tells whether a sync can change
// anything, cheap to load: no card is read.
type Light struct {
	// Cursors holds each source's cursor.
	Cursors map[string]string
	// Meta is State.Meta without ksync.MetaPossible (the merge's possible
	// duplicates, which only a merge reads).
	Meta map[string]string
	// ETags holds, per target, the ETag of every card kith wrote there and
	// the user did not delete: target → href → ETag.
	ETags map[string]map[string]string
	// Entries counts, per target, every contact's card kith knows there,
	// the ones the user deleted included (group cards not): one a contact
	// after a complete sync.
	Entries map[string]int
	// Records and Contacts count the stored records and contacts.
	Records, Contacts int
	// Behind counts the cards on targets that were not made from their
	// contact's golden card as it stands (a write that failed), and the
	// cards a user made on a target and deleted whose record is still
	// there, and the deletes a stopped sync left to finish: the next sync
	// has something to do.
	Behind int
}

// LoadLight reads the Light state.
func (s *Store) LoadLight(ctx context.Context) (*Light, error) {
	l := &Light{ETags: map[string]map[string]string{}, Entries: map[string]int{}}
	var err error
	if l.Cursors, err = s.Cursors(ctx); err != nil {
		return nil, err
	}
	l.Meta = map[string]string{}
	if err := s.loadValues(ctx, l.Meta, "meta", "SELECT key, value, parts FROM meta WHERE key <> ?", ksync.MetaPossible); err != nil {
		return nil, fmt.Errorf("state: loading meta: %w", err)
	}
	// INDEXED BY: the indexes of migration 9 hold every column read here
	// (without them SQLite reads the tables' pages, cards and all).
	rows, err := s.db.QueryContext(ctx, "SELECT target, href, etag, deleted, is_group FROM target_entries INDEXED BY target_entries_light")
	if err != nil {
		return nil, fmt.Errorf("state: loading target entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var target, href, etag string
		var deleted, group bool
		if err := rows.Scan(&target, &href, &etag, &deleted, &group); err != nil {
			return nil, err
		}
		if !group {
			l.Entries[target]++
		}
		if deleted {
			continue
		}
		if l.ETags[target] == nil {
			l.ETags[target] = map[string]string{}
		}
		l.ETags[target][href] = etag
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM records INDEXED BY records_uid),
		(SELECT COUNT(*) FROM contacts INDEXED BY contacts_light),
		(SELECT COUNT(*) FROM target_entries e INDEXED BY target_entries_light LEFT JOIN contacts c INDEXED BY contacts_light ON c.uid = e.uid
			WHERE e.deleted = 0 AND e.is_group = 0 AND (c.hash IS NULL OR e.base_hash <> c.hash))
		+ (SELECT COUNT(*) FROM target_entries e INDEXED BY target_entries_light JOIN records r ON r.source = e.target AND r.id = e.href
			WHERE e.deleted = 1)
		+ (SELECT COUNT(*) FROM target_intents)`).Scan(&l.Records, &l.Contacts, &l.Behind); err != nil {
		return nil, fmt.Errorf("state: counting: %w", err)
	}
	return l, nil
}

// Run is the summary of one sync, kept in the runs table.
type Run struct {
	Started, Finished time.Time
	// Summary is stored as JSON.
	Summary any
}

func toUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func (s *Store) loadInteractions(ctx context.Context, st *ksync.State) error {
	rows, err := s.db.QueryContext(ctx, "SELECT uid, day, kind, source, ref, people FROM interactions ORDER BY uid, day, source, ref")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var uid, day string
		var in ksync.Interaction
		if err := rows.Scan(&uid, &day, &in.Kind, &in.Source, &in.Ref, &in.People); err != nil {
			return err
		}
		if in.Date, err = time.Parse(time.DateOnly, day); err != nil {
			return fmt.Errorf("interaction %s %s: %w", uid, in.Ref, err)
		}
		st.Interactions[uid] = append(st.Interactions[uid], in)
	}
	return rows.Err()
}

func (s *Store) loadHistory(ctx context.Context, st *ksync.State) error {
	rows, err := s.db.QueryContext(ctx, "SELECT week, state, count FROM report_history")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var week, state string
		var n int
		if err := rows.Scan(&week, &state, &n); err != nil {
			return err
		}
		if st.History[week] == nil {
			st.History[week] = map[string]int{}
		}
		st.History[week][state] = n
	}
	return rows.Err()
}

func (s *Store) loadMeta(ctx context.Context, st *ksync.State) error {
	return s.loadValues(ctx, st.Meta, "meta", "SELECT key, value, parts FROM meta")
}

func (s *Store) loadLeft(ctx context.Context, st *ksync.State) error {
	rows, err := s.db.QueryContext(ctx, "SELECT uid, card, left, edited, base FROM left_contacts")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var l ksync.LeftContact
		var data, base []byte
		var left int64
		if err := rows.Scan(&l.UID, &data, &left, &l.Edited, &base); err != nil {
			return err
		}
		if l.Card, err = card.Decode(data); err != nil {
			return fmt.Errorf("contact %s: %w", l.UID, err)
		}
		if base != nil {
			if l.Base, err = card.Decode(base); err != nil {
				return fmt.Errorf("contact %s: base: %w", l.UID, err)
			}
		}
		l.Left = fromUnix(left)
		st.Left[l.UID] = &l
	}
	return rows.Err()
}
