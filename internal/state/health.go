package state

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The WAL's bounds. A sync's transaction may grow the WAL beyond them (a
// first run writes every card); the checkpoint after it and every reset
// bring it back, so a disk that filled up once is not kept full by the WAL.
const (
	// walLimit is the size (bytes) the WAL file is truncated to when it
	// is reset (PRAGMA journal_size_limit).
	walLimit = 4 << 20
	// walAutoCheckpoint is the WAL length (pages) after which a commit
	// checkpoints (PRAGMA wal_autocheckpoint): about 2 MB, for the
	// embedded server's writes between syncs.
	walAutoCheckpoint = 500
)

// notKith ends every refusal of an existing file: why kith does not simply
// start afresh, and what the user can do.
const notKith = "kith will not start afresh over it, because the cards you deleted and your split and join " +
	"decisions would be lost; restore it from a backup, or move it (and any kith.db-wal beside it) away to start with an empty state"

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// checkFile tells whether the database at path may be opened: it returns
// exists false when there is none (and no journal of one), and an error
// naming the file and what is wrong with it when it is not a whole,
// writable SQLite database. It reads the header only.
func checkFile(path string) (exists bool, err error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		// A write-ahead log without its database holds part of a state:
		// a new database would take its frames in.
		if wi, werr := os.Stat(path + "-wal"); werr == nil && wi.Size() > 0 {
			return false, fmt.Errorf("%s is missing but its write-ahead log %s-wal is there; put the database back, "+
				"or move the log away too to start with an empty state", path, filepath.Base(path))
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	if !fi.Mode().IsRegular() {
		return true, fmt.Errorf("%s is not a regular file; %s", path, notKith)
	}
	if fi.Size() == 0 {
		return true, fmt.Errorf("%s is empty (0 bytes), not a kith database; %s", path, notKith)
	}
	f, err := os.Open(path)
	if err != nil {
		return true, fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	hdr := make([]byte, 100)
	if _, err := io.ReadFull(f, hdr); err != nil || !bytes.Equal(hdr[:16], sqliteMagic) {
		return true, fmt.Errorf("%s is not an SQLite database (%d bytes, no SQLite header); %s", path, fi.Size(), notKith)
	}
	// kith databases are always in WAL mode (bytes 18 and 19 are 2);
	// opening another one would switch it over.
	if hdr[18] != 2 || hdr[19] != 2 {
		return true, fmt.Errorf("%s is an SQLite database but not a kith state (no write-ahead log); %s", path, notKith)
	}
	pageSize := int64(binary.BigEndian.Uint16(hdr[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(hdr[28:32]))
	// The page count in the header is valid when "version-valid-for"
	// matches the change counter. With a write-ahead log beside it the file
	// may legitimately lag (a checkpoint cut short): SQLite sorts that out.
	valid := binary.BigEndian.Uint32(hdr[92:96]) == binary.BigEndian.Uint32(hdr[24:28])
	wi, werr := os.Stat(path + "-wal")
	hasWAL := werr == nil && wi.Size() > 0
	if valid && !hasWAL && pages > 0 && fi.Size() < pages*pageSize {
		return true, fmt.Errorf("%s is truncated: %d bytes of the %d its header gives; %s", path, fi.Size(), pages*pageSize, notKith)
	}
	if err := writable(path); err != nil {
		return true, err
	}
	return true, nil
}

// writable returns an error unless kith may write the database at path and
// create its journal files beside it.
func writable(path string) error {
	for _, p := range []string{path, filepath.Dir(path)} {
		if err := unix.Access(p, unix.W_OK); err != nil {
			return fmt.Errorf("%s is read-only (%w): kith could read it but never save a sync; "+
				"make the file and its folder writable for the user kith runs as", p, err)
		}
	}
	return nil
}

// checkSchema returns an error unless the open database is a kith state.
func checkSchema(ctx context.Context, db *sql.DB, path string) (version int, err error) {
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("%s cannot be read, it is damaged (%w); %s", path, err, notKith)
	}
	if version > len(migrations) {
		return version, fmt.Errorf("%s: schema version %d is newer than this kith knows (%d): upgrade kith", path, version, len(migrations))
	}
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'records'").Scan(&tables); err != nil {
		return version, fmt.Errorf("%s cannot be read, it is damaged (%w); %s", path, err, notKith)
	}
	if version == 0 || tables == 0 {
		return version, fmt.Errorf("%s is an SQLite database but not a kith state (schema version %d); %s", path, version, notKith)
	}
	return version, nil
}

// create makes a new, migrated database at path. It is built under a
// temporary name and renamed into place, so that a kith.db that exists is
// always a whole kith database, and anything else at that name is refused.
func create(ctx context.Context, path string) error {
	tmp := path + ".new"
	// Left by a crash during an earlier creation: it never was the state.
	for _, p := range []string{tmp, tmp + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("creating %s: %w", path, unwrapPath(err))
		}
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(DELETE)")
	q.Add("_pragma", "synchronous(FULL)")
	db, err := sql.Open("sqlite", "file:"+tmp+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	s := &Store{db: db}
	err = s.migrate(ctx)
	if err == nil {
		// WAL is a property of the file: set it before the file is named.
		_, err = db.ExecContext(ctx, "PRAGMA journal_mode = WAL")
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncFile(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncFile(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("creating %s: %w", path, err)
	}
	return nil
}

// syncFile flushes the file or folder at path to the disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// unwrapPath drops an *fs.PathError's path when the message names it already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Checkpoint copies the write-ahead log into the database and truncates it
// (PRAGMA wal_checkpoint(TRUNCATE)); the runner calls it after every sync.
// A reader in the way (a phone being served) only makes it partial: the
// log is then reset at a later commit, and never kept beyond walLimit.
func (s *Store) Checkpoint(ctx context.Context) error {
	var busy, frames, done int
	if err := s.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done); err != nil {
		return fmt.Errorf("state: checkpointing the write-ahead log: %w", err)
	}
	return nil
}

// Health is what Inspect found in a state database.
type Health struct {
	// Version is the schema version; Latest the one this kith migrates to.
	Version, Latest int
	// Records, Contacts and Tombstones count the stored records, merged
	// contacts, and cards the user deleted on a target (kept deleted).
	Records, Contacts, Tombstones int
}

// String describes h in one line.
func (h Health) String() string {
	s := fmt.Sprintf("schema version %d, %d records, %d contacts, %d deleted cards kept deleted, integrity ok",
		h.Version, h.Records, h.Contacts, h.Tombstones)
	if h.Version < h.Latest {
		s += fmt.Sprintf(", the next sync migrates it to version %d", h.Latest)
	}
	return s
}

// ErrNoDatabase is returned by Inspect when the folder holds no database.
var ErrNoDatabase = errors.New("no state database")

// Inspect opens the database in dir read-write (as a sync would, without
// creating or migrating it) and checks it: that it is a whole, writable
// kith database, and that PRAGMA quick_check finds nothing wrong. It
// changes nothing. It returns ErrNoDatabase when there is none yet, and an
// error naming the file and what is wrong with it otherwise.
func Inspect(ctx context.Context, dir string) (Health, error) {
	h := Health{Latest: len(migrations)}
	path := filepath.Join(dir, FileName)
	exists, err := checkFile(path)
	if err != nil {
		return h, err
	}
	if !exists {
		return h, ErrNoDatabase
	}
	q := url.Values{}
	q.Set("mode", "rw")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return h, fmt.Errorf("%s: %w", path, err)
	}
	defer db.Close()
	if h.Version, err = checkSchema(ctx, db, path); err != nil {
		return h, err
	}
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		return h, fmt.Errorf("%s cannot be checked, it is damaged (%w); %s", path, err, notKith)
	}
	var found []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return h, fmt.Errorf("%s: %w", path, err)
		}
		if line != "ok" {
			found = append(found, line)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return h, fmt.Errorf("%s cannot be checked, it is damaged (%w); %s", path, err, notKith)
	}
	if len(found) > 0 {
		return h, fmt.Errorf("%s is damaged (quick_check: %s); %s", path, strings.Join(found, "; "), notKith)
	}
	err = db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM contacts),
		(SELECT count(*) FROM target_entries WHERE deleted)`).Scan(&h.Records, &h.Contacts, &h.Tombstones)
	if err != nil {
		return h, fmt.Errorf("%s: counting: %w", path, err)
	}
	return h, nil
}
