package sync

import (
	"context"
	"time"
)

// Interaction is one real contact with a person: a meeting, a call, a
// message, a card exchanged. Edits, syncs and bulk mail are never
// interactions.
type Interaction struct {
	// Date is the day it happened (time of day ignored, UTC midnight).
	Date time.Time
	// Kind is one of the Kind* constants.
	Kind string
	// Source names where it was found: "note", a source name, a calendar or mailbox name.
	Source string
	// Ref identifies it within Source so that it counts once (a note line's
	// identity, an event UID, a Message-ID).
	Ref string
	// People is how many people took part besides the user (1 for a
	// one-to-one); weights shrink for larger groups.
	People int
	// Who identifies the other party when the interaction does not come from
	// a card: normalised emails and phones, matched against contacts.
	Who []string
}

// Kinds of interaction.
const (
	KindMeeting  = "meeting"
	KindCard     = "card"  // a business card exchanged (scan)
	KindEvent    = "event" // an attended calendar event
	KindCall     = "call"
	KindText     = "text" // a text message (SMS, MMS) sent, or answered
	KindMessage  = "message"
	KindMailSent = "mail-sent"
	KindMailRecv = "mail-received"
)

// InteractionSource is a calendar or mailbox that yields interactions with
// people who are matched to contacts by Who.
type InteractionSource interface {
	// Name returns the configured name.
	Name() string
	// Interactions returns the interactions on or after since.
	Interactions(ctx context.Context, since time.Time) ([]Interaction, error)
}

// IncrementalSource is an interaction source that remembers what it read
// in an ItemStore, item by item (a mail, a call), so that a sync reads only
// what changed since the last one and a sync in which nothing changed reads
// next to nothing.
type IncrementalSource interface {
	// Name returns the configured name.
	Name() string
	// Update reads what changed since the last Update into store and
	// returns a version: the same version means the same interactions for
	// the same since-day. It fails when the source as a whole cannot be
	// read; what it stored before stays in store.
	Update(ctx context.Context, store ItemStore) (version string, err error)
	// Load returns the interactions on or after since from what store holds.
	Load(ctx context.Context, store ItemStore, since time.Time) ([]Interaction, error)
}

// ReadAll reads src in full into a fresh store that is then dropped, and
// returns the interactions on or after since: an IncrementalSource used as
// an InteractionSource.
func ReadAll(ctx context.Context, src IncrementalSource, since time.Time) ([]Interaction, error) {
	store := &MemItems{}
	if _, err := src.Update(ctx, store); err != nil {
		return nil, err
	}
	return src.Load(ctx, store, since)
}

// ItemStore keeps what incremental interaction sources read: per source,
// boxes (a mail folder, an mbox file, an export file), each with a cursor
// (what the box looked like when it was read) and items (what was read
// from each message or entry, by key). The daemon keeps it in the state
// database; it holds no secrets.
type ItemStore interface {
	// Cursors returns the cursor of each of source's boxes.
	Cursors(ctx context.Context, source string) (map[string]string, error)
	// Items returns a box's items: key → data.
	Items(ctx context.Context, source, box string) (map[string][]byte, error)
	// Update applies the changes to source's boxes in one transaction:
	// all of them or, on error, none.
	Update(ctx context.Context, source string, changes ...BoxChange) error
}

// BoxChange is a change to one box of an ItemStore.
type BoxChange struct {
	Box string
	// Drop removes the box: its cursor and items. The other fields are
	// ignored.
	Drop bool
	// Reset removes the box's items before Put is applied.
	Reset bool
	// Put adds or replaces items; Delete removes them.
	Put    map[string][]byte
	Delete []string
	// Cursor is the box's new cursor.
	Cursor string
}
