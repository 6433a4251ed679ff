package state

// migrations[i] takes the schema from version i to i+1. Append only: a
// released migration is never edited.
var migrations = []string{
	// 1: the foundation.
	`
CREATE TABLE records (
	source     TEXT NOT NULL,
	id         TEXT NOT NULL,          -- path, path#N, or href
	hash       TEXT NOT NULL,          -- card.Hash of the card
	card       BLOB NOT NULL,          -- the card, vCard text
	seen       INTEGER NOT NULL,       -- REV or file time, unix seconds (0 = unknown)
	scanned    INTEGER NOT NULL DEFAULT 0,
	first_seen INTEGER NOT NULL,       -- when kith first read it, unix seconds
	uid        TEXT NOT NULL,          -- the contact it belongs to
	PRIMARY KEY (source, id)
) WITHOUT ROWID;
CREATE INDEX records_uid ON records(uid);

CREATE TABLE contacts (
	uid      TEXT PRIMARY KEY,
	name     TEXT NOT NULL,
	hash     TEXT NOT NULL,            -- card.Hash of the golden card
	card     BLOB NOT NULL,            -- golden card from the sources, before user edits
	created  INTEGER NOT NULL,
	reasons  TEXT NOT NULL DEFAULT '[]' -- JSON array: why the members were joined
) WITHOUT ROWID;

CREATE TABLE target_entries (
	target  TEXT NOT NULL,
	href    TEXT NOT NULL,
	uid     TEXT NOT NULL,
	etag    TEXT NOT NULL,
	hash    TEXT NOT NULL,
	card    BLOB,                      -- the card at etag: the base for three-way merges
	deleted INTEGER NOT NULL DEFAULT 0, -- the user deleted it: never re-created
	PRIMARY KEY (target, href)
) WITHOUT ROWID;

CREATE TABLE cursors (
	source TEXT PRIMARY KEY,
	cursor TEXT NOT NULL               -- opaque: sync tokens, ctags (never secrets)
) WITHOUT ROWID;

CREATE TABLE decisions (
	id       INTEGER PRIMARY KEY,
	kind     TEXT NOT NULL CHECK (kind IN ('apart', 'together')),
	a        TEXT NOT NULL,            -- record key "source:id"
	b        TEXT NOT NULL,
	made     INTEGER NOT NULL,
	undone   INTEGER                   -- set by undo; the decision no longer applies
);

CREATE TABLE interactions (
	uid     TEXT NOT NULL,
	day     TEXT NOT NULL,             -- YYYY-MM-DD
	kind    TEXT NOT NULL,
	source  TEXT NOT NULL,
	ref     TEXT NOT NULL,
	people  INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (uid, source, ref)
) WITHOUT ROWID;

CREATE TABLE report_history (
	week   TEXT NOT NULL,              -- ISO week, e.g. 2026-W48
	state  TEXT NOT NULL,
	count  INTEGER NOT NULL,
	PRIMARY KEY (week, state)
) WITHOUT ROWID;

CREATE TABLE runs (
	id       INTEGER PRIMARY KEY,
	started  INTEGER NOT NULL,
	finished INTEGER NOT NULL,
	summary  TEXT NOT NULL             -- JSON
);
`,
	// 2: the embedded CardDAV server's address book (package davserver).
	`
CREATE TABLE dav_cards (
	href     TEXT PRIMARY KEY,         -- the card's name inside the book, e.g. "<uid>.vcf"
	uid      TEXT NOT NULL,            -- the card's UID ("href:" + href when it has none)
	etag     TEXT NOT NULL,            -- content hash of data; '' for a tombstone
	data     BLOB,                     -- the vCard text as stored; NULL for a tombstone
	rev      INTEGER NOT NULL,         -- book revision of the last change (sync tokens)
	modified INTEGER NOT NULL,         -- unix seconds of the last change
	deleted  INTEGER NOT NULL DEFAULT 0 -- tombstone, kept so sync-collection can report it
) WITHOUT ROWID;
CREATE INDEX dav_cards_rev ON dav_cards(rev);
CREATE UNIQUE INDEX dav_cards_uid ON dav_cards(uid) WHERE deleted = 0;

CREATE TABLE dav_meta (
	key   TEXT PRIMARY KEY,            -- 'epoch', 'rev', 'floor'
	value TEXT NOT NULL
) WITHOUT ROWID;
`,
	// 3: decisions made by one command share a batch, undone together.
	`
ALTER TABLE decisions ADD COLUMN batch INTEGER NOT NULL DEFAULT 0;
CREATE INDEX decisions_batch ON decisions(batch);
`,
	// 4: the engine's own small values (State.Meta).
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
`,
	// 5: the golden card each target entry was written from (the base of
	// the three-way merge), so that a failed write is made later.
	`
ALTER TABLE target_entries ADD COLUMN base BLOB;
ALTER TABLE target_entries ADD COLUMN base_hash TEXT NOT NULL DEFAULT '';
`,
	// 6: what incremental interaction sources (mail, phone logs) read, so
	// that unchanged mail folders and export files are not read again.
	`
CREATE TABLE item_boxes (
	source TEXT NOT NULL,              -- a [[mail]] or [[phonelog]] name
	box    TEXT NOT NULL,              -- a mail folder, mbox file or export file
	cursor TEXT NOT NULL,              -- what the box looked like when read (stamps, UIDVALIDITY/UIDNEXT)
	PRIMARY KEY (source, box)
) WITHOUT ROWID;

CREATE TABLE items (
	source TEXT NOT NULL,
	box    TEXT NOT NULL,
	item   TEXT NOT NULL,              -- a message file's unique name, an IMAP UID, an entry's key
	data   BLOB NOT NULL,              -- what was read from it (the source's JSON), never a body
	PRIMARY KEY (source, box, item)
) WITHOUT ROWID;
`,
	// 7: group cards on targets (never a contact's).
	`
ALTER TABLE target_entries ADD COLUMN is_group INTEGER NOT NULL DEFAULT 0;
`,
	// 8: contacts that left every source, with what the user wrote on
	// their cards (kith restore brings them back).
	`
CREATE TABLE left_contacts (
	uid    TEXT PRIMARY KEY,
	name   TEXT NOT NULL,
	hash   TEXT NOT NULL,              -- card.Hash of card
	card   BLOB NOT NULL,              -- last golden card with the user's edits folded in
	left   INTEGER NOT NULL,           -- when it left, unix seconds
	edited INTEGER NOT NULL DEFAULT 0  -- the user had written on its cards
) WITHOUT ROWID;
`,
	// 9: what Store.LoadLight reads, without the cards: a sync in which
	// nothing changed reads these small indexes, not every page of the
	// tables that hold the cards.
	`
CREATE INDEX contacts_light ON contacts(uid, hash);
CREATE INDEX target_entries_light ON target_entries(target, href, etag, deleted, is_group, uid, base_hash);
`,
	// 10: target writes kith recorded before making them (write-ahead),
	// so that a sync that stops before saving leaves them for the next to
	// finish, never to be taken for the user's deletes or edits.
	`
CREATE TABLE target_intents (
	target TEXT NOT NULL,
	href   TEXT NOT NULL,
	kind   TEXT NOT NULL,              -- ksync.IntentKind: why kith writes or deletes the card
	uid    TEXT NOT NULL,              -- the contact the card shows or whose card takes its content
	etag   TEXT NOT NULL,              -- the version the write is conditional on
	card   BLOB,                       -- the card at etag: the user's words
	base   BLOB,                       -- the golden card it was made from, when known
	PRIMARY KEY (target, href)
) WITHOUT ROWID;
`,
	// 11: the golden card a left contact's kept card was made from, the
	// base of the merge that carries the user's words back when it returns.
	`
ALTER TABLE left_contacts ADD COLUMN base BLOB;
`,
	// 12: big cursors and meta values in parts, so that a change rewrites
	// the parts it falls in, not megabytes (parts.go).
	`
ALTER TABLE cursors ADD COLUMN parts BLOB;   -- NULL: the value is in cursor; else its parts' hashes, in order
ALTER TABLE meta ADD COLUMN parts BLOB;      -- likewise for value
CREATE TABLE value_parts (
	owner TEXT NOT NULL,                   -- 'cursors:' || source, or 'meta:' || key
	hash  BLOB NOT NULL,                   -- the first 16 bytes of the part's SHA-256
	data  BLOB NOT NULL,
	PRIMARY KEY (owner, hash)
);
`,
}
